import { describe, expect, it } from 'vitest';
import { LadderError, LadderServer } from './server';
import { api, request, seedAccount, SECRET, taken, TOKEN_SECRET, uid } from './test/api';

/** The client's requests go through the real worker app, in workerd, on this file's D1 (queued batches applied before the answer: test/api.ts). */
const viaWorker = (fail: { times: number } = { times: 0 }): typeof fetch => async (input, init) => {
  const res = await request(String(input), init as RequestInit);
  if (fail.times-- > 0) return new Response('{"error":{"code":"internal","message":"flaky"}}', { status: 503 });
  return res;
};

describe('ladder/server client', () => {
  it('records usage and retries with the same idempotency key, so a lost answer never counts twice', async () => {
    const acct = uid();
    await seedAccount(acct);
    // The first attempt is applied by the worker but its answer is lost (503); the retry is a duplicate.
    const ladder = new LadderServer({ baseUrl: 'http://ladder.test', secretKey: SECRET, fetch: viaWorker({ times: 1 }) });
    const result = await ladder.usage([{ account_id: acct, metric: 'api_calls', value: 7 }]);
    expect(result).toEqual(taken(0, 1));
    expect((await api('GET', `/v1/accounts/${acct}`)).json.usage.api_calls.used).toBe(7);
  });

  it('checks, tracks, reads entitlements and signs user tokens the worker accepts', async () => {
    const acct = uid();
    await seedAccount(acct);
    const ladder = new LadderServer({ baseUrl: 'http://ladder.test/', secretKey: SECRET, userTokenSecret: TOKEN_SECRET, fetch: viaWorker() });
    expect(await ladder.check({ account_id: acct, metric: 'projects', amount: 2 })).toMatchObject({ allowed: true, used: 2, limit: 3 });
    expect(await ladder.check({ account_id: acct, feature: 'sso' })).toEqual({ allowed: false, required_plan: 'business' });
    expect(await ladder.track([{ account_id: acct, user_id: 'u1', event: 'teammate_invited' }])).toEqual(taken(1));
    expect(await ladder.entitlement(acct, 'projects')).toMatchObject({ remaining: 1 });
    const token = await ladder.signUserToken({ user_id: 'u1', account_id: acct, role: 'member' });
    expect((await api('GET', '/v1/widget/state?session=s', { token })).json.account.role).toBe('member');
  });

  it('surfaces refusals as LadderError with the API code and field paths, without retrying', async () => {
    let calls = 0;
    const counting: typeof fetch = async (i, init) => (calls++, viaWorker()(i, init));
    const ladder = new LadderServer({ baseUrl: 'http://ladder.test', secretKey: SECRET, fetch: counting });
    const err = await ladder.usage([{ account_id: 'ghost', metric: 'api_calls', value: 1 }]).catch((e) => e);
    expect(err).toBeInstanceOf(LadderError);
    expect(err).toMatchObject({ status: 404, details: [{ path: 'events.0.account_id' }] });
    expect(calls).toBe(1);
    expect(() => ladder.usage([{ account_id: 'a', metric: 'api_calls', value: -1 }])).toThrow();
  });
});
