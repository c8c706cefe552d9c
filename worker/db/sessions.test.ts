import { describe, expect, it } from 'vitest';
import { ADMIN, apiWith, env, seedAccount, uid } from '../test/api';

/** env.DB that notes each D1 session opened on it. */
function sessionsOf() {
  const opened: (string | undefined)[] = [];
  const DB = new Proxy(env.DB, {
    get(target, prop) {
      if (prop === 'withSession')
        return (constraint?: string) => {
          opened.push(constraint);
          return target.withSession(constraint);
        };
      const value = Reflect.get(target, prop);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { DB, opened };
}

describe('reads that may lag go through a D1 session', () => {
  it('GET /v1/pqa and the dashboard analytics read through a session that may start on a replica', async () => {
    const acct = uid();
    await seedAccount(acct);
    for (const [path, token] of [
      ['/v1/pqa?limit=5', undefined],
      ['/v1/admin/analytics/funnel', ADMIN],
      ['/v1/admin/analytics/upgrades', ADMIN],
      ['/v1/admin/analytics/revenue', ADMIN],
      ['/v1/admin/accounts', ADMIN],
    ] as const) {
      const { DB, opened } = sessionsOf();
      const res = await apiWith({ DB }, 'GET', path, token ? { token } : {});
      expect(res.status, path).toBe(200);
      expect(opened, path).toEqual(['first-unconstrained']);
    }
  });

  it('what must be current (an account, a check) reads the primary', async () => {
    const acct = uid();
    await seedAccount(acct);
    const { DB, opened } = sessionsOf();
    expect((await apiWith({ DB }, 'GET', `/v1/accounts/${acct}`)).status).toBe(200);
    expect((await apiWith({ DB }, 'POST', '/v1/check', { body: { account_id: acct, metric: 'projects', amount: 1, idempotency_key: 'p' } })).status).toBe(200);
    expect(opened).toEqual([]);
  });
});
