/**
 * POST /v1/usage round trips, counted on the D1 binding (never timed): one for a single event or
 * a batch on a warm isolate, the memory it used checked inside that same batch, so a plan, period
 * or catalog changed elsewhere is never applied stale.
 */
import { describe, expect, it } from 'vitest';
import { forgetAccounts } from '../accountCache';
import { forgetHotConfig } from '../configCache';
import { api, apiWith, DAY, env, OPTIONS, seedAccount, uid } from '../test/api';
import { countingD1 } from '../test/roundTrips';

const usage = (events: unknown[], d1 = countingD1(env.DB)) => apiWith({ DB: d1.db }, 'POST', '/v1/usage', { body: { events } });
const counter = async (acct: string, metric = 'api_calls') =>
  (await env.DB.prepare('SELECT used, period_start FROM usage_counters WHERE account_id = ? AND metric = ?').bind(acct, metric).first<{ used: number; period_start: number }>()) ?? null;
const stored = async (acct: string) => (await env.DB.prepare('SELECT count(*) AS n FROM usage_events WHERE account_id = ?').bind(acct).first<{ n: number }>())!.n;

// About the default path only (d1 counters, direct ingestion): skipped in the other combinations of
// vitest.config.ts's matrix, where POST /v1/usage queues or asks the account object instead; what
// those paths write to D1 per 1,000 events is measured by `npm run bench` (docs/scale.md).
const directD1 = OPTIONS.counters === 'd1' && OPTIONS.ingest === 'direct';
describe.skipIf(!directD1)('POST /v1/usage round trips (d1 counters and direct ingestion only: the other paths do not write from the route)', () => {
  it('a single event on a warm isolate is one round trip: the idempotency check, the insert and the counter update in one batch', async () => {
    const acct = uid();
    await seedAccount(acct);
    expect((await usage([{ account_id: acct, metric: 'api_calls', value: 1, idempotency_key: 'warm' }])).status).toBe(200);
    const d1 = countingD1(env.DB);
    const res = await usage([{ account_id: acct, metric: 'api_calls', value: 2, idempotency_key: 'one' }], d1);
    expect(res.json).toEqual({ accepted: 1, duplicates: 0 });
    expect(d1.log).toEqual([expect.stringMatching(/^batch of \d+$/)]);
    // The same key again: still one round trip, counted once.
    const again = countingD1(env.DB);
    expect((await usage([{ account_id: acct, metric: 'api_calls', value: 2, idempotency_key: 'one' }], again)).json).toEqual({ accepted: 0, duplicates: 1 });
    expect(again.count()).toBe(1);
    expect((await counter(acct))?.used).toBe(3);
  });

  it('a batch of 500 events over two accounts is one round trip, and a bad one still writes nothing', async () => {
    const a = uid();
    const b = uid();
    await seedAccount(a);
    await seedAccount(b);
    await usage([{ account_id: a, metric: 'seats', value: 1, mode: 'set', idempotency_key: 'w1' }, { account_id: b, metric: 'seats', value: 1, mode: 'set', idempotency_key: 'w2' }]);
    const events = Array.from({ length: 500 }, (_, i) => ({ account_id: i % 2 ? a : b, metric: 'api_calls', value: 1, idempotency_key: `e${i}` }));
    const d1 = countingD1(env.DB);
    expect((await usage(events, d1)).json).toEqual({ accepted: 500, duplicates: 0 });
    expect(d1.count()).toBe(1);
    expect([(await counter(a))?.used, (await counter(b))?.used]).toEqual([250, 250]);
    // All or nothing: one event naming a metric that does not exist refuses the batch.
    const bad = await usage([...events.map((e) => ({ ...e, idempotency_key: `x${e.idempotency_key}` })), { account_id: a, metric: 'nope', value: 1, idempotency_key: 'bad' }]);
    expect(bad.status).toBe(404);
    expect([await stored(a), await stored(b)]).toEqual([251, 251]);
  });

  it('a cold isolate reads the config and the accounts in one round trip, then writes in one', async () => {
    const acct = uid();
    await seedAccount(acct);
    forgetAccounts();
    forgetHotConfig();
    const d1 = countingD1(env.DB);
    expect((await usage([{ account_id: acct, metric: 'api_calls', value: 5, idempotency_key: 'cold' }], d1)).json).toEqual({ accepted: 1, duplicates: 0 });
    expect(d1.count()).toBe(2);
  });

  it('an account changed elsewhere (plan, period) is read afresh before anything is written, and the event counts once', async () => {
    const acct = uid();
    const now = Date.now();
    await seedAccount(acct);
    await usage([{ account_id: acct, metric: 'api_calls', value: 7000, idempotency_key: 'base' }]);
    // Another isolate moves the account to Pro and into a new billing period; this isolate still remembers Starter.
    await env.DB.prepare('UPDATE accounts SET plan_id = ?, period_start = ?, period_end = ? WHERE id = ?').bind('pro', now - DAY, now + 29 * DAY, acct).run();
    const d1 = countingD1(env.DB);
    expect((await usage([{ account_id: acct, metric: 'api_calls', value: 8000, idempotency_key: 'after' }], d1)).json).toEqual({ accepted: 1, duplicates: 0 });
    expect(d1.count()).toBe(3); // the guarded batch (refused, rolled back), the fresh read, the write
    const c = await counter(acct);
    expect(c).toEqual({ used: 8000, period_start: now - DAY }); // the new period, counted once
    // On Starter 8,000 of 10,000 would have crossed 75%; on Pro it is 16%: no crossing recorded.
    const highest = await env.DB.prepare('SELECT highest_threshold AS h FROM usage_counters WHERE account_id = ? AND metric = ?').bind(acct, 'api_calls').first<{ h: number | null }>();
    expect(highest?.h ?? null).toBeNull();
    expect(await stored(acct)).toBe(2);
    // A catalog change (the config token moves) is also caught: a lower Pro limit applies at once.
    const res = await api('GET', '/v1/catalog');
    const lowered = { ...res.json, plans: res.json.plans.map((p: { id: string; limits: Record<string, number | null> }) => (p.id === 'pro' ? { ...p, limits: { ...p.limits, api_calls: 10000 } } : p)) };
    expect((await api('PUT', '/v1/catalog', { body: lowered })).status).toBe(200);
    const after = countingD1(env.DB);
    await usage([{ account_id: acct, metric: 'api_calls', value: 1000, idempotency_key: 'lowered' }], after);
    expect(after.count()).toBeGreaterThanOrEqual(3);
    const h = await env.DB.prepare('SELECT highest_threshold AS h FROM usage_counters WHERE account_id = ? AND metric = ?').bind(acct, 'api_calls').first<{ h: number | null }>();
    expect(h?.h).toBe(90);
  });
});
