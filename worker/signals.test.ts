import { describe, expect, it } from 'vitest';
import { database } from './db';
import { runGrowthSignals } from './signals';
import { ADMIN, api, DAY, env, receiverUrl, seedAccount, uid } from './test/api';

const db = () => database(env.DB);

/** A JSON webhook subscribed to `events`, and a reader of what its outbox holds for one account. */
async function subscribe(events: string[]) {
  const id = uid('hook');
  const res = await api('PUT', `/v1/admin/webhooks/${id}`, { token: ADMIN, body: { url: receiverUrl(id), format: 'json', events, secret: 'whsec_test_0123456789abcdef' } });
  expect(res.status).toBe(201);
  return async (event: string, accountId: string) => {
    const { results } = await env.DB.prepare(`SELECT payload FROM webhook_outbox WHERE webhook_id = ? AND event = ? ORDER BY rowid`).bind(id, event).all<{ payload: string }>();
    return results.map((r) => JSON.parse(r.payload) as Record<string, unknown>).filter((p) => p.account_id === accountId);
  };
}

const usage = (acct: string, value: number, key: string, timestamp?: number) =>
  api('POST', '/v1/usage', { body: { events: [{ account_id: acct, metric: 'api_calls', value, idempotency_key: key, ...(timestamp && { timestamp }) }] } });

describe('outgoing usage and PQA signals', () => {
  it('usage.threshold_crossed is queued once per threshold per period, from usage and from checks', async () => {
    const outbox = await subscribe(['usage.threshold_crossed']);
    const acct = uid();
    await seedAccount(acct);
    await usage(acct, 6000, 'a'); // 60%
    await usage(acct, 500, 'b'); // 65%: nothing new
    await usage(acct, 500, 'b'); // a retry: nothing
    let rows = await outbox('usage.threshold_crossed', acct);
    expect(rows).toEqual([
      expect.objectContaining({ account_id: acct, plan_id: 'starter', metric: 'api_calls', threshold: 50, used: 6000, limit: 10000 }),
    ]);
    await usage(acct, 3000, 'c'); // 95%: 75 and 90 at once
    // Parallel checks up to the limit cross 100% once.
    await Promise.all(Array.from({ length: 10 }, (_, i) => api('POST', '/v1/check', { body: { account_id: acct, metric: 'api_calls', amount: 100, idempotency_key: `k${i}` } })));
    rows = await outbox('usage.threshold_crossed', acct);
    expect(rows.map((r) => r.threshold)).toEqual([50, 75, 90, 100]);
    expect(rows[3]).toMatchObject({ used: 10000, limit: 10000 });
  });

  it('usage.growth is queued when the last week grew more than 10%, at most once a week', async () => {
    const outbox = await subscribe(['usage.growth']);
    const now = Date.now();
    const acct = uid();
    await seedAccount(acct, { created_at: now - 90 * DAY });
    const steady = uid();
    await seedAccount(steady, { created_at: now - 90 * DAY });
    const today = Math.floor(now / DAY) * DAY;
    for (let back = 1; back <= 14; back++) {
      await usage(acct, back <= 7 ? 150 : 100, `d${back}`, today - back * DAY + 3_600_000);
      await usage(steady, 100, `d${back}`, today - back * DAY + 3_600_000);
    }
    expect((await runGrowthSignals(db(), now)).ran).toBe(true);
    expect(await outbox('usage.growth', acct)).toEqual([
      expect.objectContaining({ account_id: acct, metric: 'api_calls', wow_pct: 50, mom_pct: null, last_7_days: 1050 }),
    ]);
    expect(await outbox('usage.growth', steady)).toEqual([]);
    // Later runs of the day do nothing; the next days' passes find the same growth but it was sent this week.
    expect(await runGrowthSignals(db(), now + 60_000)).toEqual({ ran: false, signals: 0 });
    await usage(acct, 2000, 'today', now);
    expect((await runGrowthSignals(db(), now + DAY)).ran).toBe(true);
    expect((await runGrowthSignals(db(), now + 6 * DAY)).ran).toBe(true);
    expect(await outbox('usage.growth', acct)).toHaveLength(1);
  });

  it('pqa.band_changed says from, to and score each time the band changes', async () => {
    const outbox = await subscribe(['pqa.band_changed']);
    const acct = uid();
    await seedAccount(acct);
    const track = (event: string, key: string) => api('POST', '/v1/track', { body: { events: [{ account_id: acct, user_id: 'u1', event, idempotency_key: key }] } });
    await track('core_feature_activated', 'e1'); // 20: still nurture
    expect(await outbox('pqa.band_changed', acct)).toEqual([]);
    await track('api_integration_built', 'e2'); // 50: warm
    await track('api_integration_built', 'e3'); // rescored, still warm
    await track('limit_hit', 'e4'); // 75: sales-assist
    const rows = await outbox('pqa.band_changed', acct);
    expect(rows.map(({ from, to, score }) => ({ from, to, score }))).toEqual([
      { from: 'nurture', to: 'warm', score: 50 },
      { from: 'warm', to: 'sales_assist', score: 75 },
    ]);
  });

  it('pqa.band_changed of two accounts changing band in one write are two entries, even when one id extends the other past a separator', async () => {
    const outbox = await subscribe(['pqa.band_changed']);
    const x = uid('band');
    const ids = [x, `${x}:1`, `${x}:1:2`];
    for (const acct of ids) await seedAccount(acct);
    // one track batch for all three: one rescoring write, one `now`
    const events = ids.flatMap((acct, i) => ['core_feature_activated', 'api_integration_built'].map((event) => ({ account_id: acct, user_id: 'u1', event, idempotency_key: `${event}-${i}` })));
    expect((await api('POST', '/v1/track', { body: { events } })).status).toBeLessThan(300);
    for (const acct of ids) expect((await outbox('pqa.band_changed', acct)).map((r) => r.to), acct).toEqual(['warm']);
    const { results } = await env.DB.prepare(`SELECT dedupe_key FROM webhook_outbox WHERE event = 'pqa.band_changed' AND json_extract(payload, '$.account_id') IN (?, ?, ?)`)
      .bind(...ids).all<{ dedupe_key: string }>();
    expect(new Set(results.map((r) => r.dedupe_key)).size).toBe(ids.length); // one key per account (every subscribed webhook has each)
    for (const r of results) expect(r.dedupe_key).toMatch(new RegExp(`^pqa\\.band_changed:${x}(%3A1(%3A2)?)?:\\d+$`));
  });

  it('the new events are offered to webhooks and refused when misspelled', async () => {
    const id = uid('hook');
    const ok = await api('PUT', `/v1/admin/webhooks/${id}`, { token: ADMIN, body: { url: receiverUrl(id), format: 'slack', events: ['usage.threshold_crossed', 'usage.growth', 'pqa.band_changed'] } });
    expect(ok.status).toBe(201);
    const bad = await api('PUT', `/v1/admin/webhooks/${id}`, { token: ADMIN, body: { url: receiverUrl(id), format: 'slack', events: ['usage.grow'] } });
    expect(bad.status).toBe(400);
    const test = await api('POST', `/v1/admin/webhooks/${id}/test`, { token: ADMIN, body: { event: 'pqa.band_changed' } });
    expect(test.json).toMatchObject({ delivered: true, event: 'pqa.band_changed' });
  });
});
