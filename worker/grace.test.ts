import { runDurableObjectAlarm } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { api, apiWith, catalog, COUNTERS, env, seedAccount, uid, userToken } from './test/api';

/** The test catalog with Starter allowing 10% grace on API calls (10,000 → 11,000). */
const graceCatalog = {
  ...catalog,
  plans: catalog.plans.map((p) => (p.id === 'starter' ? { ...p, overage: { api_calls: { mode: 'grace', grace_pct: 10 } } } : p)),
};

describe.each(COUNTERS)('grace at the limit with LADDER_COUNTERS=$LADDER_COUNTERS', (counters) => {
  const check = (acct: string, key: string, amount = 1) => apiWith(counters, 'POST', '/v1/check', { body: { account_id: acct, metric: 'api_calls', amount, idempotency_key: key } });
  const api = (method: string, path: string, init?: Parameters<typeof apiWith>[3]) => apiWith(counters, method, path, init);
  const flushed = async (acct: string) => {
    if (counters.LADDER_COUNTERS === 'durable_object') await runDurableObjectAlarm(env.ACCOUNT_COUNTERS!.get(env.ACCOUNT_COUNTERS!.idFromName(acct)));
  };

  it('50 parallel checks past the limit never go beyond limit × (1 + grace_pct/100), and answer in_grace', async () => {
    const acct = uid();
    await seedAccount(acct);
    expect((await api('PUT', '/v1/catalog', { body: graceCatalog })).status).toBe(200);
    await api('POST', '/v1/usage', { body: { events: [{ account_id: acct, metric: 'api_calls', value: 10980, idempotency_key: 'base' }] } });
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => check(acct, `g${i}`)));
    const allowed = results.filter((r) => r.json.allowed);
    expect(allowed).toHaveLength(20);
    for (const r of allowed) expect(r.json).toMatchObject({ in_grace: true, limit: 10000, remaining: 0, grace_limit: 11000 });
    const denied = results.find((r) => !r.json.allowed)!;
    expect(denied.json).toMatchObject({ allowed: false, used: 11000, limit: 10000, in_grace: true, grace_remaining: 0, required_plan: 'pro' });
    expect((await api('GET', `/v1/accounts/${acct}`)).json.usage.api_calls.used).toBe(11000);
    // Grace use counts as a limit hit for PQA.
    const hit = await env.DB.prepare(`SELECT count(*) AS n FROM track_events WHERE account_id = ? AND event = 'limit_hit'`).bind(acct).first<{ n: number }>();
    expect(hit!.n).toBe(1);
    // A retried check answers as first recorded; what reaches D1 is the same 11,000 from 21 events.
    expect((await check(acct, 'g0')).json).toMatchObject({ allowed: true, used: 11000 });
    await flushed(acct);
    const stored = await env.DB.prepare(`SELECT count(*) AS n, sum(value) AS total FROM usage_events WHERE account_id = ?`).bind(acct).first<{ n: number; total: number }>();
    expect(stored).toEqual({ n: 21, total: 11000 });
    const counter = await env.DB.prepare(`SELECT used FROM usage_counters WHERE account_id = ? AND metric = 'api_calls'`).bind(acct).first<{ used: number }>();
    expect(counter!.used).toBe(11000);
  });

  it('parallel checks of different sizes across the limit fill the grace exactly and never past it', async () => {
    const acct = uid();
    await seedAccount(acct);
    await api('PUT', '/v1/catalog', { body: graceCatalog });
    await api('POST', '/v1/usage', { body: { events: [{ account_id: acct, metric: 'api_calls', value: 9900, idempotency_key: 'base' }] } });
    // 60 checks of 37, 53 and 71 (3,220 in all) race for the last 1,100 (100 under the limit, 1,000 of grace).
    const sizes = Array.from({ length: 60 }, (_, i) => [37, 53, 71][i % 3]!);
    const results = await Promise.all(sizes.map((n, i) => check(acct, `r${i}`, n)));
    const granted = results.reduce((sum, r, i) => sum + (r.json.allowed ? sizes[i]! : 0), 0);
    expect(9900 + granted).toBeLessThanOrEqual(11000);
    // The 71s alone ask for more than is left, so one was refused: less than 71 of grace stays unused.
    expect(9900 + granted).toBeGreaterThan(11000 - 71);
    expect(results.filter((r) => r.json.allowed).every((r) => r.json.used <= 11000)).toBe(true);
    // Every refusal was a check that would have gone past the ceiling at the time it was answered.
    for (const [i, r] of results.entries()) if (!r.json.allowed) expect(r.json.used + sizes[i]!).toBeGreaterThan(11000);
    expect(Math.max(...results.map((r) => r.json.used))).toBe(9900 + granted);
    expect((await api('GET', `/v1/accounts/${acct}`)).json.usage.api_calls.used).toBe(9900 + granted);
    await flushed(acct);
    const counter = await env.DB.prepare(`SELECT used FROM usage_counters WHERE account_id = ? AND metric = 'api_calls'`).bind(acct).first<{ used: number }>();
    expect(counter!.used).toBe(9900 + granted);
  });

  it('below the limit a grace plan answers in_grace false with the grace left; a blocking plan stops at the limit', async () => {
    const acct = uid();
    await seedAccount(acct);
    await api('PUT', '/v1/catalog', { body: graceCatalog });
    expect((await check(acct, 'a', 9000)).json).toEqual({ allowed: true, used: 9000, limit: 10000, remaining: 1000, in_grace: false, grace_limit: 11000, grace_remaining: 2000 });
    expect((await check(acct, 'b', 1500)).json).toMatchObject({ allowed: true, used: 10500, in_grace: true, grace_remaining: 500 });
    const blocked = uid();
    await seedAccount(blocked); // the catalog without grace again
    expect((await check(blocked, 'a', 10000)).json).toEqual({ allowed: true, used: 10000, limit: 10000, remaining: 0 });
    expect((await check(blocked, 'b', 1)).json).toMatchObject({ allowed: false, used: 10000 });
  });

  it('the widget shows the grace left on the meter and in the 100% notice, and the account view shows grace use', async () => {
    const acct = uid();
    await seedAccount(acct);
    await api('PUT', '/v1/catalog', { body: graceCatalog });
    expect((await check(acct, 'a', 10400)).json).toMatchObject({ allowed: true, in_grace: true, grace_remaining: 600 });
    const state = (await api('GET', '/v1/widget/state?session=s1', { token: await userToken({ acct }) })).json;
    expect(state.meters[0]).toMatchObject({ used: 10400, limit: 10000, pct: 104, grace: { limit: 11000, remaining: 600, in_grace: true } });
    expect(state.meters.find((m: { metric: string }) => m.metric === 'seats').grace).toBeUndefined();
    const notice = state.prompts.find((p: { id: string }) => p.id === 'limit-api_calls-100');
    expect(notice.body).toContain('You have 600 calls of grace left.');
    expect(notice.blocking).toBe(false);
    await flushed(acct); // the account view reads D1, which has the object's numbers after its flush
    const view = (await api('GET', `/v1/accounts/${acct}/readiness`)).json;
    expect(view.usage.find((u: { metric: string }) => u.metric === 'api_calls')).toMatchObject({ used: 10400, grace: { limit: 11000, remaining: 600, in_grace: true } });
  });
});

describe('grace in the catalog', () => {
  it('the catalog keeps overage per plan and refuses an unknown metric or mode', async () => {
    await seedAccount(uid());
    await api('PUT', '/v1/catalog', { body: graceCatalog });
    const plans = (await api('GET', '/v1/catalog')).json.plans;
    expect(plans[0].overage).toEqual({ api_calls: { mode: 'grace', grace_pct: 10 } });
    expect(plans[1].overage).toBeUndefined();
    const withOverage = (overage: unknown) => ({ ...catalog, plans: catalog.plans.map((p, i) => (i === 0 ? { ...p, overage } : p)) });
    const unknown = await api('PUT', '/v1/catalog', { body: withOverage({ nope: { mode: 'grace', grace_pct: 10 } }) });
    expect(unknown.status).toBe(400);
    expect(unknown.json.error.details[0].path).toBe('plans.0.overage.nope');
    expect((await api('PUT', '/v1/catalog', { body: withOverage({ api_calls: { mode: 'soft', grace_pct: 10 } }) })).status).toBe(400);
  });

});
