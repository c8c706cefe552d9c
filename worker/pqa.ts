/**
 * PQA scores in D1: set-based scoring of many accounts at once, used both when track
 * events arrive (the accounts of the batch) and by the daily cron (every account, page by
 * page). Per page: one D1 batch reads per-account aggregates from the PQA counters (kept by
 * triggers on `track_events`), the scores are computed in JS from those aggregates, and one D1 batch writes them back
 * (one statement through json_each) together with the `pqa.sales_ready` outbox rows of
 * accounts that just entered that band. The rule itself is `shared/pqaScore.ts`
 * (`pqaFromAggregate`); this module only reads the aggregates and writes the scores.
 */
import { sql, type SQL } from 'drizzle-orm';
import {
  defaultPqaConfig,
  pqaConfigSchema,
  pqaFromAggregate,
  type PqaAggregate,
  type PqaConfig,
  type PqaResult,
  type PqaSignalDetail,
} from '../shared/pqaScore';
import { compositeKey } from '../shared/compositeKey';
import { DAY_MS, isoTime, isoWeekStart, utcDay, utcMonthStart } from '../shared/time';
import type { RouteChoice } from '../shared/routing';
import { loadCatalog } from './catalog';
import { sqlBatch, type Db } from './db';
import { routesOf, routingFrom, routingQuery } from './routing';
import { subscribedWebhooks } from './webhooks';

/** The day length written into the SQL text: a bound parameter would be a REAL and divide exactly. */
const DAY_LITERAL = sql.raw(String(DAY_MS));
const CONFIG_KEY = 'pqa_config';
/** Progress of the daily recompute pass (see `runDailyRecompute`). */
const PASS_KEY = 'pqa_recompute';
/**
 * Accounts per page, and pages per cron run: 625,000 accounts in ~550 D1 calls, under the
 * per-invocation limit. Each D1 call costs more than the SQL of a page of counters (measured
 * locally: 100,000 accounts took 13.6 s in pages of 1,000, 7.6 s in pages of 2,500).
 */
const PAGE_SIZE = 2500;
/** Characters of JSON per write statement: at most ~800 KB in UTF-8, under D1's 1 MB per bound value. */
const WRITE_JSON_CHARS = 200_000;

/** `items` as JSON arrays of at most WRITE_JSON_CHARS characters each (an item alone may exceed it). */
function jsonChunks(items: unknown[]): string[] {
  const chunks: string[] = [];
  let chunk: string[] = [];
  let chars = 0;
  for (const item of items) {
    const json = JSON.stringify(item);
    if (chunk.length && chars + json.length > WRITE_JSON_CHARS) {
      chunks.push(`[${chunk.join(',')}]`);
      chunk = [];
      chars = 0;
    }
    chunk.push(json);
    chars += json.length + 1;
  }
  if (chunk.length) chunks.push(`[${chunk.join(',')}]`);
  return chunks;
}
const MAX_PAGES_PER_RUN = 250;

/** The points table in force: the stored one, or DESIGN.md's defaults. */
export async function loadPqaConfig(db: Db): Promise<PqaConfig> {
  const [rows] = await sqlBatch(db, [configQuery]);
  return configFrom(rows);
}

const configQuery = sql`SELECT value FROM settings WHERE key = ${CONFIG_KEY}`;
function configFrom(rows: Record<string, unknown>[] | undefined): PqaConfig {
  const raw = rows?.[0]?.value;
  if (typeof raw !== 'string') return defaultPqaConfig;
  const parsed = pqaConfigSchema.safeParse(JSON.parse(raw));
  return parsed.success ? parsed.data : defaultPqaConfig;
}

/**
 * Store a validated points table. Events scored from now on use it, and the next cron run
 * rescores every account with it (the daily pass starts again).
 */
export async function savePqaConfig(db: Db, config: PqaConfig, now: number): Promise<void> {
  await sqlBatch(db, [
    sql`INSERT INTO settings (key, value, updated_at) VALUES (${CONFIG_KEY}, ${JSON.stringify(config)}, ${now})
        ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
    sql`DELETE FROM settings WHERE key = ${PASS_KEY}`,
  ]);
}

/** One account's behaviour aggregate (`shared/pqaScore.ts`), with what the webhook payload names. */
export type PqaAccountAggregate = PqaAggregate & { account_id: string; name: string; plan_id: string };
export type PqaAccountScore = PqaResult & { account_id: string; name: string; plan_id: string; details: PqaSignalDetail[] };

/**
 * Score one account from its aggregate by the shared rule (`pqaFromAggregate`).
 * @example scoreAccount(aggregates[0], Date.now(), config).band // 'warm'
 */
export function scoreAccount(agg: PqaAccountAggregate, now: number, config: PqaConfig = defaultPqaConfig): PqaAccountScore {
  return { account_id: agg.account_id, name: agg.name, plan_id: agg.plan_id, ...pqaFromAggregate(agg, now, config) };
}

/** Accounts a points-table preview scores (the first this many by id). */
const PREVIEW_ACCOUNTS = 1000;

/**
 * How accounts would score and band under `proposed`, next to the table in force, without
 * saving anything: the band counts both ways and each account whose score or band changes.
 * Covers the first PREVIEW_ACCOUNTS accounts by id; custom events only the stored table names
 * count (others read as not sent yet).
 * @example await previewPqaConfig(db, { ...config, bands: { warm: 25, sales_assist: 50, sales_ready: 70 } }, Date.now())
 */
export async function previewPqaConfig(db: Db, proposed: PqaConfig, now: number) {
  const { config, aggregates } = await readAggregates(db, accountPage('', PREVIEW_ACCOUNTS), now);
  const bands = () => ({ nurture: 0, warm: 0, sales_assist: 0, sales_ready: 0 });
  const current = bands();
  const next = bands();
  const changed: { account_id: string; name: string; score: number; band: PqaResult['band']; current_score: number; current_band: PqaResult['band'] }[] = [];
  for (const agg of aggregates) {
    const was = pqaFromAggregate(agg, now, config);
    const will = pqaFromAggregate(agg, now, proposed);
    current[was.band] += 1;
    next[will.band] += 1;
    if (was.score !== will.score || was.band !== will.band)
      changed.push({ account_id: agg.account_id, name: agg.name, score: will.score, band: will.band, current_score: was.score, current_band: was.band });
  }
  changed.sort((a, b) => b.score - a.score || a.account_id.localeCompare(b.account_id));
  return { accounts_scored: aggregates.length, bands: next, current_bands: current, changed: changed.slice(0, 200), changed_total: changed.length };
}

/** Which accounts a scoring pass covers: a page of all accounts, or named ones. */
export type AccountSet = SQL;
const accountPage = (after: string, size: number): AccountSet =>
  sql`SELECT id, name, plan_id FROM accounts WHERE id > ${after} ORDER BY id LIMIT ${size}`;
export const accountsNamed = (ids: string[]): AccountSet =>
  sql`SELECT id, name, plan_id FROM accounts WHERE id IN (SELECT value FROM json_each(${JSON.stringify([...new Set(ids)])}))`;

/**
 * The points table in force and per-account aggregates for a set of accounts, in one D1
 * batch read from the PQA counters (`pqa_counters` and its three small tables, kept by
 * triggers on `track_events` with every insert and delete: migration 0020), so a page of
 * 1,000 accounts reads ~1,000 rows whatever the number of events. An account with an event
 * after `now` (its `max_at`; a clock moved back, a test) is read from its events instead
 * (`eventAggregates`, one more round trip only then), so the answer is always the aggregate
 * of exactly the events at or before `now`. Accounts without events are included (they score 0).
 */
export async function readAggregates(db: Db, accounts: AccountSet, now: number): Promise<{ config: PqaConfig; aggregates: PqaAccountAggregate[] }> {
  const rows = sql`
    WITH chunk AS (${accounts})
    SELECT c.id AS account_id, c.name AS name, c.plan_id AS plan_id, p.max_at AS max_at,
      p.core > 0 AS core, p.api > 0 AS api, p.admin > 0 AS admin, p.invites AS invites,
      p.limit_hit_at >= ${utcMonthStart(now)} AS limit_hit,
      p.gate_hit_at >= ${isoWeekStart(now)} AS gate,
      EXISTS (SELECT 1 FROM pqa_imports i WHERE i.account_id = c.id AND i.key = 'u') AS import_unsized,
      (SELECT max(i.rows_number) FROM pqa_imports i WHERE i.account_id = c.id) AS import_max_rows,
      (SELECT json_group_array(i.rows_text) FROM pqa_imports i WHERE i.account_id = c.id AND i.rows_text IS NOT NULL) AS import_text_rows,
      p.user_days AS user_days, p.users AS users, p.days AS days, p.active_at AS last_active_at
    FROM chunk c LEFT JOIN pqa_counters p ON p.account_id = c.id
    ORDER BY c.id`;
  const custom = sql`
    WITH chunk AS (${accounts})
    SELECT t.account_id AS account_id, t.event AS event, t.events AS n
    FROM chunk c JOIN pqa_custom_counts t ON t.account_id = c.id
      AND t.event IN (SELECT key FROM json_each((${configQuery}), '$.custom'))`;
  const [configRows, main = [], customRows = []] = await sqlBatch(db, [configQuery, rows, custom]);
  const aggregates = aggregatesFrom(main, customRows);
  const ahead = main.filter((r) => r.max_at !== null && r.max_at !== undefined && Number(r.max_at) > now).map((r) => String(r.account_id));
  if (ahead.length) {
    const exact = new Map((await eventAggregates(db, accountsNamed(ahead), now)).map((a) => [a.account_id, a]));
    for (let i = 0; i < aggregates.length; i++) aggregates[i] = exact.get(aggregates[i]!.account_id) ?? aggregates[i]!;
  }
  return { config: configFrom(configRows), aggregates };
}

/**
 * The same aggregates counted from the stored events themselves (two GROUP BY statements, the
 * second counting the custom events the stored table names): what the counters stand for, read
 * only for accounts with an event after `now`.
 */
async function eventAggregates(db: Db, accounts: AccountSet, now: number): Promise<PqaAccountAggregate[]> {
  const rows = sql`
    WITH chunk AS (${accounts})
    -- Days are integer division of the integer timestamps; a bound DAY would be a REAL and divide exactly.
    SELECT c.id AS account_id, c.name AS name, c.plan_id AS plan_id,
      MAX(t.event = 'core_feature_activated') AS core,
      MAX(t.event = 'api_integration_built') AS api,
      MAX(t.event = 'admin_settings_configured') AS admin,
      SUM(t.event = 'teammate_invited') AS invites,
      MAX(t.event = 'limit_hit' AND t.timestamp >= ${utcMonthStart(now)}) AS limit_hit,
      MAX(t.event = 'feature_gate_hit' AND t.timestamp >= ${isoWeekStart(now)}) AS gate,
      MAX(t.event = 'data_imported' AND coalesce(json_type(t.properties, '$.rows'), 'null') = 'null') AS import_unsized,
      MAX(CASE WHEN t.event = 'data_imported' AND json_type(t.properties, '$.rows') IN ('integer', 'real')
               THEN json_extract(t.properties, '$.rows') END) AS import_max_rows,
      json_group_array(DISTINCT CASE WHEN t.event = 'data_imported' AND json_type(t.properties, '$.rows') = 'text'
               THEN json_extract(t.properties, '$.rows') END) AS import_text_rows,
      COUNT(DISTINCT CASE WHEN t.event = 'user_active' THEN coalesce(t.user_id, '') || '|' || (t.timestamp / ${DAY_LITERAL}) END) AS user_days,
      COUNT(DISTINCT CASE WHEN t.event = 'user_active' THEN coalesce(t.user_id, '') END) AS users,
      COUNT(DISTINCT CASE WHEN t.event = 'user_active' THEN t.timestamp / ${DAY_LITERAL} END) AS days,
      MAX(CASE WHEN t.event = 'user_active' THEN t.timestamp END) AS last_active_at
    FROM chunk c LEFT JOIN track_events t ON t.account_id = c.id AND t.timestamp <= ${now}
    GROUP BY c.id ORDER BY c.id`;
  const custom = sql`
    WITH chunk AS (${accounts})
    SELECT t.account_id AS account_id, t.event AS event, count(*) AS n
    FROM chunk c JOIN track_events t ON t.account_id = c.id AND t.timestamp <= ${now}
      AND t.event IN (SELECT key FROM json_each((${configQuery}), '$.custom'))
    GROUP BY t.account_id, t.event`;
  const [main = [], customRows = []] = await sqlBatch(db, [rows, custom]);
  return aggregatesFrom(main, customRows);
}

function aggregatesFrom(main: Record<string, unknown>[], customRows: Record<string, unknown>[]): PqaAccountAggregate[] {
  const customByAccount = new Map<string, Record<string, number>>();
  for (const r of customRows) {
    const counts = customByAccount.get(String(r.account_id)) ?? {};
    counts[String(r.event)] = Number(r.n);
    customByAccount.set(String(r.account_id), counts);
  }
  return main.map((r) => ({
    account_id: String(r.account_id),
    name: String(r.name),
    plan_id: String(r.plan_id),
    core: Boolean(r.core),
    api: Boolean(r.api),
    admin: Boolean(r.admin),
    invites: Number(r.invites ?? 0),
    limit_hit: Boolean(r.limit_hit),
    gate: Boolean(r.gate),
    import_unsized: Boolean(r.import_unsized),
    import_max_rows: r.import_max_rows === null || r.import_max_rows === undefined ? null : Number(r.import_max_rows),
    import_text_rows: (JSON.parse(String(r.import_text_rows ?? '[]')) as unknown[]).filter((v): v is string => typeof v === 'string'),
    user_days: Number(r.user_days ?? 0),
    users: Number(r.users ?? 0),
    days: Number(r.days ?? 0),
    last_active_at: r.last_active_at === null || r.last_active_at === undefined ? null : Number(r.last_active_at),
    custom: customByAccount.get(String(r.account_id)) ?? {},
  }));
}

/**
 * Write scores back in one D1 batch: one upsert for all of them (a band change sets
 * `entered_band_at`; an older computation never overwrites a newer one), then one insert of
 * a `pqa.sales_ready` outbox row per subscribed webhook for each account that entered
 * sales-ready in this write. The dedupe key is account + entry time, so each entry is sent
 * once and leaving and re-entering counts again.
 */
async function writeScores(db: Db, scores: PqaAccountScore[], now: number): Promise<void> {
  if (!scores.length) return;
  // k: the `pqa.band_changed` dedupe key, one per account and write (its parts escaped, so no two accounts share one)
  const rows = scores.map((s) => ({ a: s.account_id, n: s.name, p: s.plan_id, s: s.score, b: s.band, t: s.top_signals, k: compositeKey('pqa.band_changed', s.account_id, now) }));
  const ready = scores.filter((s) => s.band === 'sales_ready');
  const routes = ready.length ? await salesReadyRoutes(db, ready.map((s) => s.account_id)) : new Map<string, RouteChoice>();
  const salesReady = ready.map((s) => {
    const r = routes.get(s.account_id);
    return {
      a: s.account_id,
      // the route's webhooks get the push; a route naming none sends to every subscribed webhook
      w: r?.webhook_ids ?? [],
      payload: {
        account_id: s.account_id,
        account_name: s.name,
        plan_id: s.plan_id,
        score: s.score,
        band: s.band,
        entered_band_at: isoTime(now),
        top_signals: s.top_signals,
        route: r?.route ?? 'self_serve',
      },
    };
  });
  const statementsFor = (json: string) => [
    // Before the upsert, while the stored band is still the one left: `pqa.band_changed` for each
    // account whose band this write changes (an account never scored before was in nurture).
    sql`
      INSERT INTO webhook_outbox (id, webhook_id, event, dedupe_key, payload, attempts, next_attempt_at, created_at)
      SELECT 'out_' || lower(hex(randomblob(12))), w.id, 'pqa.band_changed',
             json_extract(r.value, '$.k'),
             json_object('account_id', json_extract(r.value, '$.a'), 'account_name', json_extract(r.value, '$.n'),
                         'plan_id', json_extract(r.value, '$.p'), 'from', coalesce(p.band, 'nurture'),
                         'to', json_extract(r.value, '$.b'), 'score', json_extract(r.value, '$.s'),
                         'changed_at', ${new Date(now).toISOString()}),
             0, ${now}, ${now}
      FROM json_each(${json}) AS r
      LEFT JOIN pqa_scores p ON p.account_id = json_extract(r.value, '$.a')
      JOIN (${subscribedWebhooks('pqa.band_changed')}) AS w
      WHERE coalesce(p.band, 'nurture') != json_extract(r.value, '$.b') AND coalesce(p.computed_at, 0) <= ${now}
      ON CONFLICT DO NOTHING`,
    sql`
      INSERT INTO pqa_scores (account_id, score, band, entered_band_at, top_signals, computed_at)
      SELECT json_extract(r.value, '$.a'), json_extract(r.value, '$.s'), json_extract(r.value, '$.b'), ${now},
             json_extract(r.value, '$.t'), ${now}
      FROM json_each(${json}) AS r WHERE true
      ON CONFLICT (account_id) DO UPDATE SET
        score = excluded.score,
        band = excluded.band,
        entered_band_at = CASE WHEN pqa_scores.band = excluded.band THEN pqa_scores.entered_band_at ELSE excluded.entered_band_at END,
        top_signals = excluded.top_signals,
        computed_at = excluded.computed_at
      WHERE excluded.computed_at >= pqa_scores.computed_at`,
  ];
  // One round trip; a page's scores split over statements so no bound JSON nears D1's 1 MB per value.
  const statements = jsonChunks(rows).flatMap(statementsFor);
  for (const json of salesReady.length ? jsonChunks(salesReady) : []) {
    statements.push(sql`
      INSERT INTO webhook_outbox (id, webhook_id, event, dedupe_key, payload, attempts, next_attempt_at, created_at)
      SELECT 'out_' || lower(hex(randomblob(12))), w.id, 'pqa.sales_ready',
             'pqa.sales_ready:' || p.account_id || ':' || p.entered_band_at,
             json_extract(r.value, '$.payload'), 0, ${now}, ${now}
      FROM json_each(${json}) AS r
      JOIN pqa_scores p ON p.account_id = json_extract(r.value, '$.a')
      JOIN webhooks w ON w.enabled = 1 AND CASE
        WHEN json_array_length(r.value, '$.w') > 0 THEN w.id IN (SELECT value FROM json_each(r.value, '$.w'))
        ELSE w.id IN (${subscribedWebhooks('pqa.sales_ready')}) END
      WHERE p.band = 'sales_ready' AND p.entered_band_at = ${now} AND p.computed_at = ${now}
      ON CONFLICT DO NOTHING`);
  }
  await sqlBatch(db, statements);
}

/** The routes of accounts that are sales-ready now: their plan, seats and billing, the rules and the catalog. */
async function salesReadyRoutes(db: Db, accountIds: string[]): Promise<Map<string, RouteChoice>> {
  const [[accountRows = [], routingRows], catalog] = await Promise.all([
    sqlBatch(db, [sql`SELECT id, plan_id, seats, billing_interval FROM accounts WHERE id IN (SELECT value FROM json_each(${JSON.stringify(accountIds)}))`, routingQuery]),
    loadCatalog(db),
  ]);
  return routesOf(
    catalog,
    routingFrom(routingRows),
    accountRows.map((r) => ({
      account_id: String(r.id),
      band: 'sales_ready' as const,
      plan_id: String(r.plan_id),
      seats: Number(r.seats),
      billing_interval: r.billing_interval === 'year' || r.billing_interval === 'month' ? r.billing_interval : null,
    })),
  );
}

/**
 * Score the named accounts now and store the result (used right after track events land):
 * two D1 round trips.
 * @example await rescoreAccounts(db, ['acme', 'globex'], Date.now())
 */
export async function rescoreAccounts(db: Db, accountIds: string[], now: number): Promise<PqaAccountScore[]> {
  if (!accountIds.length) return [];
  const { config, aggregates } = await readAggregates(db, accountsNamed(accountIds), now);
  const scores = aggregates.map((a) => scoreAccount(a, now, config));
  await writeScores(db, scores, now);
  return scores;
}

/**
 * Recompute every account's score (decay and resets included), one page of accounts at a
 * time: two D1 round trips per page whatever the number of events. Resumable from `after`.
 * @example await recomputeAllScores(db, Date.now()) // { scored: 1200, cursor: 'zeta', done: true }
 */
async function recomputeAllScores(
  db: Db,
  now: number,
  opts: { after?: string; pageSize?: number; maxPages?: number; onPage?: (cursor: string, page: number) => Promise<void> } = {},
): Promise<{ scored: number; cursor: string; done: boolean }> {
  const pageSize = opts.pageSize ?? PAGE_SIZE;
  let cursor = opts.after ?? '';
  let scored = 0;
  for (let page = 0; page < (opts.maxPages ?? Infinity); page++) {
    const { config, aggregates } = await readAggregates(db, accountPage(cursor, pageSize), now);
    const scores = aggregates.map((a) => scoreAccount(a, now, config));
    await writeScores(db, scores, now);
    scored += scores.length;
    if (aggregates.length < pageSize) return { scored, cursor, done: true };
    cursor = aggregates[aggregates.length - 1]!.account_id;
    await opts.onPage?.(cursor, page);
  }
  return { scored, cursor, done: false };
}

// ---------------------------------------------------------------- the daily pass

type PassState = { day: number; cursor: string; done: boolean };

/**
 * The cron's daily recompute: the first run of each UTC day scores every account; a pass
 * cut short (a crash, a time limit, more than 250 pages) resumes from its saved cursor on
 * the next run. Later runs of the same day do nothing. Saving a new points table starts a
 * new pass.
 * @example await runDailyRecompute(db, Date.now()) // { ran: true, scored: 1200, done: true }
 */
export async function runDailyRecompute(db: Db, now: number, pageSize?: number): Promise<{ ran: boolean; scored: number; done: boolean }> {
  const today = utcDay(now);
  const [rows] = await sqlBatch(db, [sql`SELECT value FROM settings WHERE key = ${PASS_KEY}`]);
  const state = rows?.[0] ? (JSON.parse(String(rows[0].value)) as PassState) : null;
  if (state && state.day === today && state.done) return { ran: false, scored: 0, done: true };
  const save = (s: PassState) =>
    sqlBatch(db, [
      sql`INSERT INTO settings (key, value, updated_at) VALUES (${PASS_KEY}, ${JSON.stringify(s)}, ${now})
          ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
    ]);
  const result = await recomputeAllScores(db, now, {
    after: state && state.day === today ? state.cursor : '',
    pageSize: pageSize ?? PAGE_SIZE,
    maxPages: MAX_PAGES_PER_RUN,
    onPage: async (cursor, page) => {
      if (page % 5 === 4) await save({ day: today, cursor, done: false });
    },
  });
  await save({ day: today, cursor: result.cursor, done: result.done });
  return { ran: true, scored: result.scored, done: result.done };
}
