import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { defaultPqaConfig, pqaAggregate, pqaScore, type PqaConfig, type PqaEvent } from '../shared/pqaScore';
import { database } from './db';
import { accountsNamed, readAggregates, runDailyRecompute } from './pqa';
import { runScheduled } from './scheduled';
import { ADMIN, DAY, api, env, receiverUrl, seedAccount, TAKEN, uid } from './test/api';
import { prng } from './test/prng';

const T0 = Date.parse('2026-03-20T12:00:00Z'); // a Friday; the ISO week began Monday 16 March
const track = (events: unknown[]) => api('POST', '/v1/track', { body: { events } });

/** Behaviour of one synthetic account: every built-in event, odd `rows` values, custom events. */
function behaviour(accountId: string, rand: () => number): Record<string, unknown>[] {
  const events: Record<string, unknown>[] = [];
  const pick = <T>(list: T[]) => list[Math.floor(rand() * list.length)]!;
  const at = () => T0 - Math.floor(rand() * 70 * DAY);
  const add = (event: string, extra: Record<string, unknown> = {}) =>
    events.push({ account_id: accountId, event, idempotency_key: `${accountId}-${events.length}`, timestamp: at(), ...extra });
  for (const [event, p] of [['core_feature_activated', 0.5], ['api_integration_built', 0.3], ['admin_settings_configured', 0.3]] as const)
    while (rand() < p) add(event);
  const rowsValues = [undefined, null, 5000, 10, 999.5, 1000, '2000', ' ', 'abc', '1e3', true, 'Infinity'];
  while (rand() < 0.4) {
    const rows = pick(rowsValues);
    add('data_imported', rows === undefined ? (rand() < 0.5 ? {} : { properties: { source: 'csv' } }) : { properties: { rows } });
  }
  for (let i = Math.floor(rand() * 4); i > 0; i--) add('teammate_invited', { user_id: 'admin' });
  for (let i = Math.floor(rand() * 3); i > 0; i--) add('limit_hit');
  for (let i = Math.floor(rand() * 3); i > 0; i--) add('feature_gate_hit');
  const users = Array.from({ length: Math.floor(rand() * 5) }, (_, i) => (rand() < 0.15 ? null : `u${i}`));
  const lastDay = T0 - Math.floor(rand() * 30) * DAY;
  for (const user of users) {
    for (let d = Math.floor(rand() * 15); d > 0; d--) {
      const t = lastDay - Math.floor(rand() * 20) * DAY - Math.floor(rand() * 8) * 3_600_000;
      events.push({ account_id: accountId, user_id: user, event: 'user_active', idempotency_key: `${accountId}-${events.length}`, timestamp: t });
    }
  }
  for (let i = Math.floor(rand() * 5); i > 0; i--) add('report_exported');
  for (let i = Math.floor(rand() * 2); i > 0; i--) add('sso_enabled');
  for (let i = Math.floor(rand() * 2); i > 0; i--) add('something_unconfigured');
  return events;
}

/** Each account's stored events, as the pure `shared/pqaScore.ts` reads them. */
async function storedEvents(accountIds: string[]) {
  const { results } = await env.DB.prepare(
    `SELECT account_id, user_id, event, timestamp, properties FROM track_events WHERE account_id IN (SELECT value FROM json_each(?))`,
  )
    .bind(JSON.stringify(accountIds))
    .all<{ account_id: string; user_id: string | null; event: string; timestamp: number; properties: string | null }>();
  const byAccount = new Map<string, PqaEvent[]>(accountIds.map((a) => [a, []]));
  for (const r of results) byAccount.get(r.account_id)!.push({ event: r.event, user_id: r.user_id, timestamp: r.timestamp, properties: r.properties ? JSON.parse(r.properties) : null });
  return byAccount;
}

async function storedScores(accountIds: string[]) {
  const { results } = await env.DB.prepare(`SELECT * FROM pqa_scores WHERE account_id IN (SELECT value FROM json_each(?))`)
    .bind(JSON.stringify(accountIds))
    .all<{ account_id: string; score: number; band: string; entered_band_at: number; top_signals: string; computed_at: number }>();
  return new Map(results.map((r) => [r.account_id, { ...r, top_signals: JSON.parse(r.top_signals) as string[] }]));
}

async function insertAccounts(ids: string[]) {
  await seedAccount(ids[0]!);
  await env.DB.prepare(
    `INSERT INTO accounts (id, name, plan_id, seats, created_at, updated_at)
     SELECT value, 'Account ' || value, 'starter', 5, ?, ? FROM json_each(?) WHERE true ON CONFLICT DO NOTHING`,
  )
    .bind(T0 - 100 * DAY, T0 - 100 * DAY, JSON.stringify(ids))
    .run();
}

beforeEach(async () => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(T0);
  await api('PUT', '/v1/admin/pqa/config', { token: ADMIN, body: defaultPqaConfig });
});
afterEach(() => vi.useRealTimers());

describe('PQA scores in D1', () => {
  it('over 300 accounts the SQL aggregates equal the pure pqaAggregate of their events, and the stored scores equal pqaScore, on arrival and after decay and resets', async () => {
    const config: PqaConfig = {
      ...defaultPqaConfig,
      teammate_invited: { points: 12 },
      user_active: { points_per_user_day: 3, decay_per_inactive_day: 2 },
      custom: { report_exported: { points: 4, mode: 'each' }, sso_enabled: { points: 11, mode: 'once' } },
    };
    expect((await api('PUT', '/v1/admin/pqa/config', { token: ADMIN, body: config })).status).toBe(200);
    const rand = prng(20260320);
    const ids = Array.from({ length: 300 }, (_, i) => `bulk-${String(i).padStart(3, '0')}`);
    await insertAccounts(ids);
    const events = ids.flatMap((a) => behaviour(a, rand));
    for (let i = 0; i < events.length; i += 1000) expect((await track(events.slice(i, i + 1000))).status).toBe(TAKEN);

    const check = async (now: number) => {
      const [events, stored] = await Promise.all([storedEvents(ids), storedScores(ids)]);
      const reference = new Map(ids.map((a) => [a, pqaScore(events.get(a)!, now, config)]));
      const { config: inForce, aggregates } = await readAggregates(database(env.DB), accountsNamed(ids), now);
      expect(inForce).toEqual(config);
      expect(aggregates).toHaveLength(300);
      for (const { account_id, name: _name, plan_id: _plan, ...agg } of aggregates) {
        const ref = reference.get(account_id)!;
        const pure = pqaAggregate(events.get(account_id)!, now, config);
        expect({ id: account_id, ...agg, import_text_rows: [...agg.import_text_rows].sort() }).toEqual({
          id: account_id, ...pure, import_text_rows: [...pure.import_text_rows].sort(),
        });
        const row = stored.get(account_id)!;
        expect({ id: account_id, score: row.score, band: row.band, top: row.top_signals, at: row.computed_at }).toEqual({
          id: account_id, score: ref.score, band: ref.band, top: ref.top_signals, at: now,
        });
      }
      return [...reference.values()];
    };

    // On arrival, every account in the batches was scored at T0.
    const atArrival = await check(T0);
    expect(new Set(atArrival.map((r) => r.band)).size).toBeGreaterThanOrEqual(3);
    const seen = new Set(atArrival.flatMap((r) => r.signals.map((s) => s.signal)));
    for (const signal of ['user_active', 'user_inactive', 'data_imported', 'limit_hit', 'feature_gate_hit', 'report_exported', 'sso_enabled'])
      expect(seen, signal).toContain(signal);

    // The next day's cron: a day of decay.
    vi.setSystemTime(T0 + DAY);
    const report = await runScheduled(env, T0 + DAY);
    expect(report.pqa).toMatchObject({ ran: true, done: true });
    expect(report.pqa.scored).toBeGreaterThanOrEqual(300);
    await check(T0 + DAY);

    // 40 days on, in pages of 37 accounts: March's limit hits and the week's gate hits no longer count.
    vi.setSystemTime(T0 + 40 * DAY);
    expect(await runDailyRecompute(database(env.DB), T0 + 40 * DAY, 37)).toMatchObject({ ran: true, done: true });
    const later = await check(T0 + 40 * DAY);
    expect(later.filter((r) => r.signals.some((s) => s.signal === 'limit_hit'))).toEqual([]);
  });

  it('a page whose scores are more JSON than one statement should bind is written whole, over several statements of one batch', async () => {
    const ids = Array.from({ length: 1500 }, (_, i) => `long-${String(i).padStart(4, '0')}`);
    await insertAccounts(ids);
    await env.DB.prepare(`UPDATE accounts SET name = ? WHERE id LIKE 'long-%'`).bind('N'.repeat(200)).run();
    await env.DB.prepare(`DELETE FROM settings WHERE key = 'pqa_recompute'`).run();
    expect(await runDailyRecompute(database(env.DB), T0)).toMatchObject({ ran: true, done: true });
    const scored = await env.DB.prepare(`SELECT count(*) AS n FROM pqa_scores WHERE account_id LIKE 'long-%' AND computed_at = ?`).bind(T0).first<{ n: number }>();
    expect(scored!.n).toBe(1500);
  });

  it('track events rescore only the accounts in the batch', async () => {
    const [a, b] = [uid(), uid()];
    await seedAccount(a);
    await seedAccount(b);
    await track([{ account_id: a, event: 'api_integration_built', idempotency_key: 'k1' }]);
    expect((await api('GET', `/v1/accounts/${a}`)).json.pqa).toEqual({ score: 30, band: 'nurture' });
    expect((await storedScores([b])).size).toBe(0);
    vi.setSystemTime(T0 + 60_000);
    await track([
      { account_id: a, event: 'core_feature_activated', idempotency_key: 'k2' },
      { account_id: a, event: 'limit_hit', idempotency_key: 'k3' },
    ]);
    expect((await api('GET', `/v1/accounts/${a}`)).json.pqa).toEqual({ score: 75, band: 'sales_assist' });
    const row = (await storedScores([a])).get(a)!;
    expect(row.entered_band_at).toBe(T0 + 60_000);
    expect(row.top_signals).toEqual(['API integration built (+30)', 'Usage limit hit this month (+25)', 'Core feature activated (+20)']);
  });

  it('entering sales-ready queues pqa.sales_ready once per entry for each subscribed, enabled webhook; re-entry queues again', async () => {
    const hook = (id: string, events: string[], enabled = true) =>
      api('PUT', `/v1/admin/webhooks/${id}`, { token: ADMIN, body: { url: receiverUrl(id), format: 'json', events, secret: 'whsec_0123456789abcdef', enabled } });
    await hook('entry-crm', ['pqa.sales_ready']);
    await hook('entry-billing-only', ['upgrade.succeeded']);
    await hook('entry-off', ['pqa.sales_ready'], false);
    const acct = uid();
    await seedAccount(acct);
    const outbox = async () =>
      (
        await env.DB.prepare(`SELECT webhook_id, dedupe_key, payload FROM webhook_outbox WHERE event = 'pqa.sales_ready' AND dedupe_key LIKE ? ORDER BY created_at`)
          .bind(`%:${acct}:%`)
          .all<{ webhook_id: string; dedupe_key: string; payload: string }>()
      ).results;

    // core 20 + API 30 + admin 15 = 65 (sales-assist), then a limit hit this month: 90.
    await track(['core_feature_activated', 'api_integration_built', 'admin_settings_configured'].map((event, i) => ({ account_id: acct, event, idempotency_key: `a${i}` })));
    expect(await outbox()).toEqual([]);
    vi.setSystemTime(T0 + 3_600_000);
    await track([{ account_id: acct, event: 'limit_hit', idempotency_key: 'hit-1' }]);
    const first = await outbox();
    expect(first.map((r) => r.webhook_id)).toEqual(['entry-crm']);
    expect(first[0]!.dedupe_key).toBe(`pqa.sales_ready:${acct}:${T0 + 3_600_000}`);
    expect(JSON.parse(first[0]!.payload)).toMatchObject({ account_id: acct, account_name: acct, plan_id: 'starter', score: 90, band: 'sales_ready', entered_band_at: new Date(T0 + 3_600_000).toISOString() });

    // Staying sales-ready (another hit, a retried batch, the day's cron) queues nothing more.
    vi.setSystemTime(T0 + 2 * 3_600_000);
    await track([{ account_id: acct, event: 'limit_hit', idempotency_key: 'hit-2' }]);
    await track([{ account_id: acct, event: 'limit_hit', idempotency_key: 'hit-1' }]);
    await runScheduled(env, T0 + 2 * 3_600_000);
    expect(await outbox()).toHaveLength(1);

    // In May the March limit hits no longer count: 65, sales-assist — leaving queues nothing.
    const may = Date.parse('2026-05-04T09:00:00Z');
    vi.setSystemTime(may);
    await runScheduled(env, may);
    expect((await api('GET', `/v1/accounts/${acct}`)).json.pqa).toEqual({ score: 65, band: 'sales_assist' });
    // Nothing new is queued; the March row itself is gone, past the outbox's 30-day retention (worker/dataRetention.ts).
    expect(await outbox()).toEqual([]);

    // A new limit hit in May: sales-ready again, a second entry, a second delivery.
    vi.setSystemTime(may + 60_000);
    await track([{ account_id: acct, event: 'limit_hit', idempotency_key: 'hit-may' }]);
    const again = await outbox();
    expect(again.map((r) => r.dedupe_key)).toEqual([`pqa.sales_ready:${acct}:${may + 60_000}`]);
    expect(new Set(again.map((r) => r.webhook_id))).toEqual(new Set(['entry-crm']));
  });
});
