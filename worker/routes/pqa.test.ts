import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { defaultPqaConfig } from '../../shared/pqaScore';
import { database } from '../db';
import { ADMIN, DAY, api, env, flushCounters, received, receiverUrl, seedAccount, uid, userToken } from '../test/api';
import { deliverDue } from '../webhooks';

const T0 = Date.parse('2026-03-20T12:00:00Z');
const track = (events: unknown[]) => api('POST', '/v1/track', { body: { events } });
/** Send `events` (names) for a fresh account; returns its id. */
async function accountWith(events: string[], prefix = 'acct') {
  const acct = uid(prefix);
  await seedAccount(acct);
  if (events.length) await track(events.map((event, i) => ({ account_id: acct, event, idempotency_key: `e${i}` })));
  return acct;
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(T0);
});
afterEach(() => vi.useRealTimers());

describe('GET /v1/pqa', () => {
  it('lists accounts of a band by score, highest first, with their top signals', async () => {
    const ready90 = await accountWith(['core_feature_activated', 'api_integration_built', 'admin_settings_configured', 'limit_hit']);
    const ready100 = await accountWith(['core_feature_activated', 'api_integration_built', 'admin_settings_configured', 'limit_hit', 'teammate_invited']);
    const warm = await accountWith(['core_feature_activated', 'teammate_invited']);
    const nurture = await accountWith([]);

    const res = await api('GET', '/v1/pqa?band=sales_ready&limit=50');
    expect(res.status).toBe(200);
    const ids = res.json.accounts.map((a: { account_id: string }) => a.account_id);
    expect(ids.indexOf(ready100)).toBeLessThan(ids.indexOf(ready90));
    expect(res.json.accounts.every((a: { band: string }) => a.band === 'sales_ready')).toBe(true);
    expect(res.json.accounts.find((a: { account_id: string }) => a.account_id === ready90)).toEqual({
      account_id: ready90,
      score: 90,
      band: 'sales_ready',
      entered_band_at: new Date(T0).toISOString(),
      top_signals: ['API integration built (+30)', 'Usage limit hit this month (+25)', 'Core feature activated (+20)'],
      // Starter → Pro adds $150 a month: self-serve under the default routing
      route: 'self_serve',
    });
    const scores = res.json.accounts.map((a: { score: number }) => a.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));

    const warmList = await api('GET', '/v1/pqa?band=warm');
    expect(warmList.json.accounts.map((a: { account_id: string }) => a.account_id)).toContain(warm);
    expect(warmList.json.accounts.map((a: { account_id: string }) => a.account_id)).not.toContain(ready90);
    const nurtureList = await api('GET', '/v1/pqa?band=nurture');
    expect(nurtureList.json.accounts.map((a: { account_id: string }) => a.account_id)).toContain(nurture);

    const top = await api('GET', '/v1/pqa?limit=1');
    expect(top.json.accounts).toHaveLength(1);
    expect(top.json.accounts[0].score).toBe(100);
  });

  it('refuses a bad band, limit or parameter, and callers without the secret key', async () => {
    for (const q of ['band=hot', 'limit=0', 'limit=abc', 'limit=5000', 'sort=score']) expect((await api('GET', `/v1/pqa?${q}`)).status, q).toBe(400);
    expect((await api('GET', '/v1/pqa', { token: null })).status).toBe(401);
    expect((await api('GET', '/v1/pqa', { token: await userToken({ acct: 'x' }) })).status).toBe(401);
  });
});

describe('expansion readiness', () => {
  it('shows the score as of now with every signal, seat and usage utilisation and days since activation', async () => {
    const acct = uid();
    await seedAccount(acct);
    await api('POST', '/v1/usage', {
      body: { events: [{ account_id: acct, metric: 'api_calls', value: 9100, idempotency_key: 'u1' }, { account_id: acct, metric: 'seats', value: 4, mode: 'set', idempotency_key: 'u2' }] },
    });
    await track([
      { account_id: acct, event: 'core_feature_activated', idempotency_key: 'a', timestamp: T0 - 12 * DAY },
      { account_id: acct, user_id: 'ann', event: 'user_active', idempotency_key: 'b', timestamp: T0 - 3 * DAY },
      { account_id: acct, user_id: 'bob', event: 'user_active', idempotency_key: 'c', timestamp: T0 - 3 * DAY },
      { account_id: acct, event: 'teammate_invited', idempotency_key: 'd', timestamp: T0 - 5 * DAY },
    ]);
    await flushCounters(acct); // the readiness view reads D1: with account objects, after the object's flush
    vi.setSystemTime(T0 + 2 * DAY); // two more inactive days since the stored score
    const res = await api('GET', `/v1/accounts/${acct}/readiness`);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      account_id: acct,
      plan: { id: 'starter', name: 'Starter', price_cents: 5000 },
      next_plan: { id: 'pro', name: 'Pro', price_cents: 20000 },
      seats: { used: 4, limit: 5, pct: 80 },
      activated_at: new Date(T0 - 12 * DAY).toISOString(),
      days_since_activation: 14,
      pqa: {
        // core 20 + invite 15 + 2 user-days × 2 = 4, minus 4 inactive days (capped at the 4 active points) = 35
        score: 35,
        band: 'warm',
        entered_band_at: new Date(T0).toISOString(),
        last_active_at: new Date(T0 - 3 * DAY).toISOString(),
        computed_at: new Date(T0 + 2 * DAY).toISOString(),
      },
    });
    expect(res.json.pqa.signals).toEqual([
      { signal: 'core_feature_activated', points: 20, label: 'Core feature activated (+20)' },
      { signal: 'teammate_invited', points: 15, label: '1 teammate invited (+15)' },
      { signal: 'user_active', points: 4, label: '2 users active on 1 day (+4)' },
      { signal: 'user_inactive', points: -4, label: '4 days without an active user (-4)' },
    ]);
    expect(res.json.usage).toEqual([
      expect.objectContaining({ metric: 'api_calls', used: 9100, limit: 10000, pct: 91, threshold: 90 }),
      expect.objectContaining({ metric: 'projects', used: 0, limit: 3 }),
    ]);
    expect((await api('GET', '/v1/accounts/ghost/readiness')).status).toBe(404);
    expect((await api('GET', `/v1/accounts/${acct}/readiness`, { token: null })).status).toBe(401);
  });
});

describe('admin PQA configuration', () => {
  it('reads the defaults, refuses an invalid table and scores new events with a saved one', async () => {
    const res = await api('GET', '/v1/admin/pqa/config', { token: ADMIN });
    expect(res.json).toEqual(defaultPqaConfig);
    const bad = await api('PUT', '/v1/admin/pqa/config', { token: ADMIN, body: { ...defaultPqaConfig, bands: { warm: 50, sales_assist: 40, sales_ready: 80 } } });
    expect(bad.status).toBe(400);
    expect(bad.json.error.details[0].path).toBe('bands');
    const unknown = await api('PUT', '/v1/admin/pqa/config', { token: ADMIN, body: { ...defaultPqaConfig, limit_hit: { points: 25, extra: 1 } } });
    expect(unknown.status).toBe(400);
    expect((await api('PUT', '/v1/admin/pqa/config', { body: defaultPqaConfig })).status).toBe(401);

    const saved = await api('PUT', '/v1/admin/pqa/config', { token: ADMIN, body: { ...defaultPqaConfig, api_integration_built: { points: 70 }, bands: { warm: 20, sales_assist: 50, sales_ready: 70 } } });
    expect(saved.status).toBe(200);
    expect((await api('GET', '/v1/admin/pqa/config', { token: ADMIN })).json.api_integration_built).toEqual({ points: 70 });
    const acct = await accountWith(['api_integration_built']);
    expect((await api('GET', `/v1/accounts/${acct}`)).json.pqa).toEqual({ score: 70, band: 'sales_ready' });
    await api('PUT', '/v1/admin/pqa/config', { token: ADMIN, body: defaultPqaConfig });
  });
});

describe('previewing a points table before saving it', () => {
  it('?dry_run=true answers how accounts would band under the proposed edges and points, and saves nothing', async () => {
    const a65 = await accountWith(['core_feature_activated', 'api_integration_built', 'admin_settings_configured']); // 20 + 30 + 15
    const a30 = await accountWith(['api_integration_built']);
    const before = await api('GET', '/v1/admin/pqa/config', { token: ADMIN });
    const proposed = { ...defaultPqaConfig, api_integration_built: { points: 40 }, bands: { warm: 25, sales_assist: 50, sales_ready: 75 } };
    const res = await api('PUT', '/v1/admin/pqa/config?dry_run=true', { token: ADMIN, body: proposed });
    expect(res.status).toBe(200);
    expect(res.json.config).toEqual(proposed);
    // Independently: the same accounts scored by the shared rule under each table.
    const scored = res.json.accounts_scored;
    expect(scored).toBeGreaterThanOrEqual(2);
    const sum = (b: Record<string, number>) => Object.values(b).reduce((x, y) => x + y, 0);
    expect(sum(res.json.bands)).toBe(scored);
    expect(sum(res.json.current_bands)).toBe(scored);
    const mine = Object.fromEntries(res.json.changed.filter((c: any) => c.account_id === a65 || c.account_id === a30).map((c: any) => [c.account_id, c]));
    expect(mine[a65]).toMatchObject({ current_score: 65, current_band: 'sales_assist', score: 75, band: 'sales_ready' });
    expect(mine[a30]).toMatchObject({ current_score: 30, current_band: 'nurture', score: 40, band: 'warm' });
    // Nothing was saved or rescored.
    expect((await api('GET', '/v1/admin/pqa/config', { token: ADMIN })).json).toEqual(before.json);
    expect((await api('GET', `/v1/accounts/${a65}`)).json.pqa).toEqual({ score: 65, band: 'sales_assist' });
    // A bad table is the same 400 as a save, naming the field.
    const bad = await api('PUT', '/v1/admin/pqa/config?dry_run=true', { token: ADMIN, body: { ...proposed, bands: { warm: 60, sales_assist: 50, sales_ready: 75 } } });
    expect(bad.status).toBe(400);
    expect(bad.json.error.details[0]).toMatchObject({ path: 'bands', message: 'band edges must rise: warm < sales_assist < sales_ready' });
    expect((await api('PUT', '/v1/admin/pqa/config?dry_run=maybe', { token: ADMIN, body: proposed })).status).toBe(400);
  });
});

describe('sales-ready within one cron interval, not a day', () => {
  it('an account pushed over 80 by the limit_hit the worker records itself is delivered by the next webhook run', async () => {
    const hook = uid('hook');
    await api('PUT', `/v1/admin/webhooks/${hook}`, {
      token: ADMIN,
      body: { url: receiverUrl(hook), format: 'json', events: ['pqa.sales_ready'], secret: 'whsec_test_0123456789abcdef' },
    });
    const acct = await accountWith(['core_feature_activated', 'api_integration_built', 'admin_settings_configured']);
    expect((await api('GET', `/v1/accounts/${acct}`)).json.pqa).toEqual({ score: 65, band: 'sales_assist' });
    await api('POST', '/v1/usage', { body: { events: [{ account_id: acct, metric: 'api_calls', value: 10_000, idempotency_key: 'all' }] } });
    await flushCounters(acct); // with account objects, the limit hit reaches D1 and PQA on the object's flush
    expect((await api('GET', `/v1/accounts/${acct}`)).json.pqa).toEqual({ score: 90, band: 'sales_ready' });
    // the daily pass already ran today, so only the delivery step of the cron has work to do
    await env.DB.prepare(`UPDATE webhook_outbox SET next_attempt_at = 9e15 WHERE webhook_id != ? AND delivered_at IS NULL`).bind(hook).run();
    await deliverDue(database(env.DB), Date.now());
    const got = (await received(hook)).map((r) => JSON.parse(r.body));
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ type: 'pqa.sales_ready', data: { account_id: acct, score: 90, band: 'sales_ready' } });
  });

  it('a gate hit from the widget rescores the account in the same request', async () => {
    const acct = await accountWith(['core_feature_activated', 'api_integration_built', 'admin_settings_configured']);
    const token = await userToken({ acct, sub: 'ana' });
    await api('POST', '/v1/widget/events', { token, body: { events: [{ type: 'gate_hit', feature_id: 'sso', session_id: 's1', idempotency_key: 'g1' }] } });
    expect((await api('GET', `/v1/accounts/${acct}`)).json.pqa).toEqual({ score: 75, band: 'sales_assist' });
  });
});
