import { abortAllDurableObjects, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { api, apiWith, env, seedAccount, uid, userToken } from './test/api';

const ON = { LADDER_COUNTERS: 'durable_object' };
const usage = (events: unknown[], bindings: Record<string, unknown> = ON) => apiWith(bindings, 'POST', '/v1/usage', { body: { events } });
const objectOf = (acct: string) => env.ACCOUNT_COUNTERS!.get(env.ACCOUNT_COUNTERS!.idFromName(acct));
const inD1 = async (acct: string) => ({
  counter: await env.DB.prepare(`SELECT used FROM usage_counters WHERE account_id = ? AND metric = 'api_calls'`).bind(acct).first<{ used: number }>(),
  events: (await env.DB.prepare('SELECT count(*) AS n FROM usage_events WHERE account_id = ?').bind(acct).first<{ n: number }>())!.n,
});

describe('counters in a Durable Object per account', () => {
  it('answers from the object at once and reaches D1 on the alarm', async () => {
    const acct = uid();
    await seedAccount(acct);
    const events = Array.from({ length: 20 }, (_, i) => ({ account_id: acct, metric: 'api_calls', value: 5, idempotency_key: `e${i}` }));
    expect((await usage(events)).json).toEqual({ accepted: 20, duplicates: 0 });
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
    expect((await usage([{ account_id: acct, metric: 'api_calls', value: 7, idempotency_key: 'before' }])).json).toEqual({ accepted: 0, duplicates: 1 });
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
    await usage([{ account_id: acct, metric: 'api_calls', value: 9990, idempotency_key: 'old' }], {});
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
});
