import { describe, expect, it } from 'vitest';
import { api, seedAccount, uid } from '../test/api';

describe('accounts', () => {
  it('are created, updated and read with usage, entitlements and PQA', async () => {
    const acct = uid();
    const created = await seedAccount(acct, { stripe_customer_id: 'cus_1', created_at: '2026-01-01T00:00:00Z' });
    expect(created).toMatchObject({ id: acct, plan_id: 'starter', seats: 5, stripe_customer_id: 'cus_1', created_at: '2026-01-01T00:00:00.000Z' });
    expect(created.usage.api_calls).toEqual({ used: 0, limit: 10000, pct: 0 });
    expect(created.entitlements).toEqual({ sso: false, audit_log: false });
    expect(created.pqa).toEqual({ score: 0, band: 'nurture' });
    const moved = await api('PUT', `/v1/accounts/${acct}`, { body: { name: 'Renamed', plan_id: 'pro' } });
    expect(moved.json).toMatchObject({ name: 'Renamed', plan_id: 'pro', stripe_customer_id: 'cus_1', created_at: '2026-01-01T00:00:00.000Z' });
    expect(moved.json.entitlements.audit_log).toBe(true);
  });

  it('refuses an unknown plan (422) and bad fields (400), changing nothing', async () => {
    const acct = uid();
    await seedAccount(acct);
    const unknown = await api('PUT', `/v1/accounts/${acct}`, { body: { name: 'x', plan_id: 'platinum' } });
    expect(unknown.status).toBe(422);
    expect(unknown.json.error.details[0].path).toBe('plan_id');
    const cases: [unknown, string][] = [
      [{ name: 'x', plan_id: 'pro', seats: -2 }, 'seats'],
      [{ name: 'x', plan_id: 'pro', period_start: '2026-11-01T00:00:00Z' }, 'period_end'],
      [{ name: 'x', plan_id: 'pro', period_start: 2000, period_end: 1000 }, 'period_end'],
      [{ name: 'x', plan_id: 'pro', plan: 'pro' }, 'plan'],
      [{ name: '', plan_id: 'pro' }, 'name'],
    ];
    for (const [body, path] of cases) {
      const res = await api('PUT', `/v1/accounts/${acct}`, { body });
      expect(res.status, path).toBe(400);
      expect(res.json.error.details.map((d: { path: string }) => d.path)).toContain(path);
    }
    expect((await api('GET', `/v1/accounts/${acct}`)).json.plan_id).toBe('starter');
    expect((await api('PUT', '/v1/accounts/bad id!', { body: { name: 'x', plan_id: 'pro' } })).status).toBe(400);
  });

  it('an unknown account is 404 with the error body', async () => {
    const res = await api('GET', '/v1/accounts/nobody');
    expect(res.status).toBe(404);
    expect(res.json.error).toMatchObject({ code: 'account_not_found' });
  });
});
