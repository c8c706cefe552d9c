import { abortAllDurableObjects, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { database } from './db';
import { runGrowthSignals } from './signals';
import { ADMIN, api, apiWith, DAY, env, receiverUrl, seedAccount, taken, uid, userToken } from './test/api';

const ON = { LADDER_COUNTERS: 'durable_object' };
/** Counters in D1, named, since the suite also runs with LADDER_COUNTERS=durable_object in force (vitest.config.ts). */
const OFF = { LADDER_COUNTERS: 'd1' };
const usage = (events: unknown[], bindings: Record<string, unknown> = ON) => apiWith(bindings, 'POST', '/v1/usage', { body: { events } });
const objectOf = (acct: string) => env.ACCOUNT_COUNTERS!.get(env.ACCOUNT_COUNTERS!.idFromName(acct));
const inD1 = async (acct: string) => ({
  counter: await env.DB.prepare(`SELECT used FROM usage_counters WHERE account_id = ? AND metric = 'api_calls'`).bind(acct).first<{ used: number }>(),
  events: (await env.DB.prepare('SELECT count(*) AS n FROM usage_events WHERE account_id = ?').bind(acct).first<{ n: number }>())!.n,
});

/** A webhook subscribed to `events`, and what its outbox holds for one account (payloads, oldest first). */
async function subscribe(events: string[]) {
  const id = uid('hook');
  expect((await api('PUT', `/v1/admin/webhooks/${id}`, { token: ADMIN, body: { url: receiverUrl(id), format: 'json', events, secret: 'whsec_test_0123456789abcdef' } })).status).toBe(201);
  return async (event: string, accountId: string) => {
    const { results } = await env.DB.prepare(`SELECT payload FROM webhook_outbox WHERE webhook_id = ? AND event = ? ORDER BY rowid`).bind(id, event).all<{ payload: string }>();
    return results.map((r) => JSON.parse(r.payload) as Record<string, unknown>).filter((p) => p.account_id === accountId);
  };
}
const daily = async (acct: string) =>
  (await env.DB.prepare(`SELECT metric, day, used FROM usage_daily WHERE account_id = ? ORDER BY metric, day`).bind(acct).all<{ metric: string; day: number; used: number }>()).results;
const limitHits = async (acct: string) =>
  (await env.DB.prepare(`SELECT count(*) AS n FROM track_events WHERE account_id = ? AND event = 'limit_hit'`).bind(acct).first<{ n: number }>())!.n;
const forecastOf = async (acct: string, bindings: Record<string, unknown>) => {
  const state = await apiWith(bindings, 'GET', '/v1/widget/state?session=s1', { token: await userToken({ acct }) });
  return state.json.meters.find((m: { metric: string }) => m.metric === 'api_calls').forecast as { limit_at: string | null; days_to_limit: number | null };
};
/** As if the object never heard D1's answer to its flushes: everything unflushed again, and an alarm set. */
const forgetFlushes = (acct: string) =>
  runInDurableObject(objectOf(acct), async (_, state) => {
    state.storage.sql.exec('UPDATE events SET flushed = 0');
    state.storage.sql.exec('UPDATE counters SET flushed_version = 0');
    state.storage.sql.exec('UPDATE crossings SET flushed = 0');
    await state.storage.setAlarm(Date.now() + 3_600_000);
  });

describe('counters in a Durable Object per account', () => {
  it('answers from the object at once and reaches D1 on the alarm', async () => {
    const acct = uid();
    await seedAccount(acct);
    const events = Array.from({ length: 20 }, (_, i) => ({ account_id: acct, metric: 'api_calls', value: 5, idempotency_key: `e${i}` }));
    expect((await usage(events)).json).toEqual(taken(20));
    // Not in D1 yet: the numbers the widget and /v1/check see are the object's.
    expect(await inD1(acct)).toEqual({ counter: null, events: 0 });
    expect((await apiWith(ON, 'GET', `/v1/accounts/${acct}`)).json.usage.api_calls.used).toBe(100);
    const widget = await apiWith(ON, 'GET', '/v1/widget/state?session=s1', { token: await userToken({ acct }) });
    expect(widget.json.meters.find((m: { metric: string }) => m.metric === 'api_calls').used).toBe(100);
    expect(await runDurableObjectAlarm(objectOf(acct))).toBe(true);
    expect(await inD1(acct)).toEqual({ counter: { used: 100 }, events: 20 });
    // D1 now agrees, so a deployment reading it (or switched back to d1) sees the same.
    expect((await api('GET', `/v1/accounts/${acct}`)).json.usage.api_calls.used).toBe(100);
  });

  it('an object evicted between a write and its flush loses nothing', async () => {
    const acct = uid();
    await seedAccount(acct);
    await usage([{ account_id: acct, metric: 'api_calls', value: 7, idempotency_key: 'before' }]);
    const check = await apiWith(ON, 'POST', '/v1/check', { body: { account_id: acct, metric: 'api_calls', amount: 3, idempotency_key: 'chk' } });
    expect(check.json).toMatchObject({ allowed: true, used: 10 });
    await abortAllDurableObjects(); // the instance is gone; only what its storage committed survives
    expect(await inD1(acct)).toEqual({ counter: null, events: 0 });
    // A fresh instance still knows the keys (a retry changes nothing) and the total…
    expect((await usage([{ account_id: acct, metric: 'api_calls', value: 7, idempotency_key: 'before' }])).json).toEqual(taken(0, 1));
    expect((await apiWith(ON, 'GET', `/v1/accounts/${acct}`)).json.usage.api_calls.used).toBe(10);
    // …and its alarm, stored with the write, flushes everything.
    expect(await runDurableObjectAlarm(objectOf(acct))).toBe(true);
    expect(await inD1(acct)).toEqual({ counter: { used: 10 }, events: 2 });
  });

  it('a flush repeated after D1 applied it (its answer lost) changes nothing', async () => {
    const acct = uid();
    await seedAccount(acct);
    await usage([
      { account_id: acct, metric: 'api_calls', value: 40, idempotency_key: 'a' },
      { account_id: acct, metric: 'seats', value: 3, mode: 'set', idempotency_key: 'b' },
    ]);
    await runDurableObjectAlarm(objectOf(acct));
    // As if the object never heard D1's answer: everything is unflushed again.
    await runInDurableObject(objectOf(acct), async (_, state) => {
      state.storage.sql.exec('UPDATE events SET flushed = 0');
      state.storage.sql.exec('UPDATE counters SET flushed_version = 0');
      await state.storage.setAlarm(Date.now() + 3_600_000);
    });
    expect(await runDurableObjectAlarm(objectOf(acct))).toBe(true);
    expect(await inD1(acct)).toEqual({ counter: { used: 40 }, events: 2 });
    const seats = await env.DB.prepare(`SELECT used FROM usage_counters WHERE account_id = ? AND metric = 'seats'`).bind(acct).first<{ used: number }>();
    expect(seats?.used).toBe(3);
  });

  it('switching a deployment from d1 keeps the counts it had', async () => {
    const acct = uid();
    await seedAccount(acct);
    await usage([{ account_id: acct, metric: 'api_calls', value: 9990, idempotency_key: 'old' }], OFF);
    const checks = await Promise.all(
      Array.from({ length: 20 }, (_, i) => apiWith(ON, 'POST', '/v1/check', { body: { account_id: acct, metric: 'api_calls', amount: 1, idempotency_key: `c${i}` } })),
    );
    expect(checks.filter((r) => r.json.allowed).length).toBe(10);
    await runDurableObjectAlarm(objectOf(acct));
    expect((await inD1(acct)).counter).toEqual({ used: 10000 });
  });

  it('a misconfigured counter store refuses to serve, naming the setting', async () => {
    const missing = await apiWith({ LADDER_COUNTERS: 'durable_object', ACCOUNT_COUNTERS: undefined }, 'GET', '/v1/health');
    expect(missing.status).toBe(503);
    expect(missing.json.error).toMatchObject({ code: 'misconfigured', message: expect.stringContaining('ACCOUNT_COUNTERS') });
    const unknown = await apiWith({ LADDER_COUNTERS: 'redis' }, 'POST', '/v1/usage', { body: { events: [] } });
    expect(unknown.status).toBe(503);
    expect(unknown.json.error.message).toContain('LADDER_COUNTERS must be "d1" or "durable_object"');
  });

  it('the flush writes the daily roll-up and the threshold webhooks as d1 does, once, even after an eviction and a repeated flush', async () => {
    const outbox = await subscribe(['usage.threshold_crossed', 'usage.growth']);
    const now = Date.now();
    const today = Math.floor(now / DAY) * DAY;
    const [inD1Acct, inObject] = [uid(), uid()];
    const stores = [
      { acct: inD1Acct, bindings: OFF },
      { acct: inObject, bindings: ON },
    ];
    for (const { acct, bindings } of stores) {
      await seedAccount(acct, { created_at: now - 60 * DAY });
      // 600 a day last week, 400 the week before: 7,000 of 10,000 (70%), growing 50% week over week.
      const events = Array.from({ length: 14 }, (_, i) => ({ account_id: acct, metric: 'api_calls', value: i < 7 ? 600 : 400, idempotency_key: `d${i}`, timestamp: today - (i + 1) * DAY + 3_600_000 }));
      expect((await usage(events, bindings)).json).toEqual(taken(14));
    }
    // Nothing reaches D1 before the flush; an eviction now loses none of it.
    expect(await daily(inObject)).toEqual([]);
    expect(await outbox('usage.threshold_crossed', inObject)).toEqual([]);
    await abortAllDurableObjects();
    expect(await runDurableObjectAlarm(objectOf(inObject))).toBe(true);

    const days = (rows: { day: number; used: number }[]) => rows.map(({ day, used }) => ({ day, used }));
    expect(await daily(inD1Acct)).toHaveLength(14);
    expect(days(await daily(inObject))).toEqual(days(await daily(inD1Acct)));
    const f = await forecastOf(inObject, ON);
    expect(f.limit_at).not.toBeNull();
    expect(f.days_to_limit).toBe((await forecastOf(inD1Acct, OFF)).days_to_limit);
    expect((await runGrowthSignals(database(env.DB), now)).ran).toBe(true);
    for (const { acct } of stores) expect(await outbox('usage.growth', acct)).toEqual([expect.objectContaining({ metric: 'api_calls', wow_pct: 50, last_7_days: 4200 })]);

    // 90% through a check, then 100% through usage: the thresholds cross once each, at the same use.
    for (const { acct, bindings } of stores) {
      expect((await apiWith(bindings, 'POST', '/v1/check', { body: { account_id: acct, metric: 'api_calls', amount: 2000, idempotency_key: 'chk' } })).json).toMatchObject({ allowed: true, used: 9000 });
      await usage([{ account_id: acct, metric: 'api_calls', value: 1000, idempotency_key: 'last' }], bindings);
      await usage([{ account_id: acct, metric: 'api_calls', value: 1000, idempotency_key: 'last' }], bindings); // a retry
    }
    await abortAllDurableObjects();
    expect(await runDurableObjectAlarm(objectOf(inObject))).toBe(true);
    // Each account's own name and period (seeded a moment apart); the rest alike.
    const crossed = async (acct: string) => (await outbox('usage.threshold_crossed', acct)).map(({ account_id: _, account_name: __, period_start: ___, ...p }) => p);
    expect((await crossed(inObject)).map((p) => [p.threshold, p.used])).toEqual([[50, 7000], [75, 9000], [90, 9000], [100, 10000]]);
    expect(await crossed(inObject)).toEqual(await crossed(inD1Acct));
    const period = await env.DB.prepare(`SELECT period_start FROM usage_counters WHERE account_id = ? AND metric = 'api_calls'`).bind(inObject).first<{ period_start: number }>();
    expect((await outbox('usage.threshold_crossed', inObject))[3]).toMatchObject({
      account_id: inObject,
      account_name: inObject,
      plan_id: 'starter',
      limit: 10000,
      period_start: new Date(period!.period_start).toISOString(),
    });
    expect(await limitHits(inObject)).toBe(1);
    // The limit hit rescored the account from the flush, as the d1 path does at once.
    const score = await env.DB.prepare('SELECT score FROM pqa_scores WHERE account_id = ?').bind(inObject).first<{ score: number }>();
    expect(score?.score).toBeGreaterThan(0);
    expect(days(await daily(inObject))).toEqual(days(await daily(inD1Acct)));
    expect((await daily(inObject)).find((r) => r.day === today / DAY)?.used).toBe(3000);

    // A flush repeated after D1 applied it adds nothing: no day counted twice, no second webhook or limit hit.
    const before = { daily: await daily(inObject), crossed: await crossed(inObject) };
    await forgetFlushes(inObject);
    expect(await runDurableObjectAlarm(objectOf(inObject))).toBe(true);
    expect({ daily: await daily(inObject), crossed: await crossed(inObject) }).toEqual(before);
    expect(await limitHits(inObject)).toBe(1);
    expect(await runDurableObjectAlarm(objectOf(inObject))).toBe(false); // nothing left to flush
  });
});

