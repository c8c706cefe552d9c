import { describe, expect, it } from 'vitest';
import { MAX_BATCH } from '../../shared/schemas';
import { ADMIN, api, env, seedAccount, TAKEN, uid, userToken } from '../test/api';
import { DAY_MS } from '../../shared/time';

const MIN = 60_000;
const rows = async (table: string, acct: string) =>
  (await env.DB.prepare(`SELECT count(*) AS n FROM ${table} WHERE account_id = ?`).bind(acct).first<{ n: number }>())!.n;

describe('time bounds on every input', () => {
  it('a usage event more than 5 minutes in the future is 400 and the batch writes nothing (a future gauge set cannot freeze the gauge)', async () => {
    const acct = uid();
    await seedAccount(acct);
    const now = Date.now();
    const res = await api('POST', '/v1/usage', {
      body: { events: [
        { account_id: acct, metric: 'seats', value: 2, mode: 'set', idempotency_key: 'ok', timestamp: now },
        { account_id: acct, metric: 'seats', value: 1, mode: 'set', idempotency_key: 'future', timestamp: now + 365 * DAY_MS },
      ] },
    });
    expect(res.status).toBe(400);
    expect(res.json.error.details).toEqual([{ path: 'events.1.timestamp', message: 'more than 5 minutes in the future' }]);
    expect(await rows('usage_events', acct)).toBe(0);
    // Within the allowed skew it is accepted, and a later set still moves the gauge.
    const skewed = await api('POST', '/v1/usage', { body: { events: [{ account_id: acct, metric: 'seats', value: 3, mode: 'set', idempotency_key: 'skew', timestamp: now + 4 * MIN }] } });
    expect(skewed.status).toBe(TAKEN);
  });

  it('a track event more than 5 minutes in the future is 400', async () => {
    const acct = uid();
    await seedAccount(acct);
    const res = await api('POST', '/v1/track', { body: { events: [{ account_id: acct, event: 'user_active', user_id: 'u', idempotency_key: 'f', timestamp: new Date(Date.now() + 10 * MIN).toISOString() }] } });
    expect(res.status).toBe(400);
    expect(res.json.error.details[0].path).toBe('events.0.timestamp');
    expect(await rows('track_events', acct)).toBe(0);
  });

  it('widget events older than 24 hours or in the future are 400 and record nothing', async () => {
    const acct = uid();
    await seedAccount(acct);
    const token = await userToken({ acct });
    const event = (timestamp: number, key: string) => ({ type: 'gate_hit', feature_id: 'sso', session_id: 's', idempotency_key: key, timestamp });
    for (const [timestamp, message] of [[Date.now() - 25 * 3600_000, 'older than 24 hours'], [Date.now() + 6 * MIN, 'more than 5 minutes in the future']] as const) {
      const res = await api('POST', '/v1/widget/events', { token, body: { events: [event(Date.now(), `ok-${message}`), event(timestamp, `bad-${message}`)] } });
      expect(res.status, message).toBe(400);
      expect(res.json.error.details).toEqual([{ path: 'events.1.timestamp', message }]);
    }
    expect(await rows('prompt_events', acct)).toBe(0);
    expect((await api('POST', '/v1/widget/events', { token, body: { events: [event(Date.now() - 23 * 3600_000, 'recent')] } })).status).toBe(200);
  });

  it('query times outside 2000-01-01…2200-01-01 are 400 on every analytics view, never a 500', async () => {
    const views = ['/v1/admin/analytics/funnel', '/v1/admin/analytics/upgrades', '/v1/admin/analytics/revenue'];
    for (const view of views)
      for (const q of ['from=9999999999999999', 'to=9999999999999999', 'from=1999-12-31', 'to=2200-01-02T00:00:00Z', 'from=0']) {
        const res = await api('GET', `${view}?${q}`, { token: ADMIN });
        expect(res.status, `${view}?${q}`).toBe(400);
        expect(res.json.error.code).toBe('validation_failed');
      }
    expect((await api('GET', '/v1/admin/analytics/funnel?from=2026-01-01&to=2026-02-01', { token: ADMIN })).status).toBe(200);
  });
});

describe('counters', () => {
  it('never pass 2^53 − 1, however many maximal batches arrive', async () => {
    const acct = uid();
    await seedAccount(acct);
    const batch = (n: number) => Array.from({ length: MAX_BATCH }, (_, i) => ({ account_id: acct, metric: 'api_calls', value: 1e12, idempotency_key: `b${n}-${i}` }));
    for (let n = 0; n < 10; n++) expect((await api('POST', '/v1/usage', { body: { events: batch(n) } })).status).toBe(TAKEN);
    const { used } = (await api('GET', `/v1/accounts/${acct}`)).json.usage.api_calls;
    expect(used).toBe(Number.MAX_SAFE_INTEGER);
    expect(Number.isSafeInteger(used)).toBe(true);
  });
});
