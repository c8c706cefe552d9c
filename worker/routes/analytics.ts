/**
 * Admin analytics for the dashboard: prompt funnels, the self-serve upgrade rate over time,
 * per-account prompt history and the accounts list with PQA. Each answers JSON, or CSV with
 * `Accept: text/csv`. Set-based SQL only: the overview reads the roll-ups of prompt events
 * (kept current by the cron, and brought up to date with any rest on each read) and `mrr_ledger` by its time index.
 */
import { sql, type SQL } from 'drizzle-orm';
import { Hono, type Context } from 'hono';
import {
  accountIdParam,
  adminAccountsQuerySchema,
  funnelQuerySchema,
  promptHistoryQuerySchema,
  upgradesQuerySchema,
  type AdminAccount,
  type FunnelResponse,
  type FunnelRow,
  type PromptHistoryResponse,
  type PromptHistoryRow,
  type UpgradesByKind,
  type UpgradesResponse,
} from '../../shared/analyticsSchemas';
import { DAY_MS, isoOrNull, isoWeekStart, utcMonthStart, utcNextMonthStart } from '../../shared/time';
import { toCsv } from '../../shared/csv';
import { parsePromptId } from '../../shared/promptEngine';
import { loadCatalog } from '../catalog';
import { routesOf, routingFrom, routingQuery, type AccountRouteRow } from '../routing';
import { selfServeUpgradeRate } from '../../shared/revenue';
import { database, laggingReads, sqlBatch, type Db } from '../db';
import type { AppEnv } from '../env';
import { ApiError, notFound, validate } from '../errors';
import { readQuery } from '../middleware/body';

const ROLLUP = 'prompt_daily';
/** Source rows counted per roll-up statement, so a large backlog never makes one huge transaction. */
const ROLLUP_CHUNK = 100_000;
const MAX_BUCKETS = 1000;
const num = (v: unknown) => Number(v ?? 0);

// ---------------------------------------------------------------- roll-up

/**
 * Counts prompt events added since the last call into the roll-ups — `prompt_daily` (per
 * account), `prompt_day_totals` (the funnel's, without the account) and `prompt_account_days`
 * (accounts shown a prompt per day) — in rowid order, so late (back-dated) events are counted
 * too. Each chunk, its three roll-ups and the watermark move in one transaction. At most
 * `maxChunks` chunks (the cron's bounded work per run); true when the roll-ups are current.
 * @example await refreshPromptDaily(db)
 */
export async function refreshPromptDaily(db: Db, maxChunks = 1000): Promise<boolean> {
  const last = sql`(SELECT coalesce((SELECT last_rowid FROM rollup_state WHERE name = ${ROLLUP}), 0))`;
  const chunk = sql`e.rowid > ${last} AND e.rowid <= ${last} + ${ROLLUP_CHUNK}`;
  const counted = sql`e.prompt_id IS NOT NULL AND e.type IN ('impression', 'click', 'dismiss', 'snooze')`;
  // The UTC day, by integer division: a bound number reaches SQLite as a REAL and would divide exactly.
  const day = sql.raw(`(e.timestamp / ${DAY_MS}) * ${DAY_MS}`);
  for (let i = 0; i < maxChunks; i++) {
    const results = await sqlBatch(db, [
      sql`
        INSERT INTO prompt_daily (day, prompt_id, experiment_id, variant_id, account_id, impressions, clicks, dismisses, snoozes)
        SELECT ${day}, e.prompt_id, coalesce(e.experiment_id, ''), coalesce(e.variant_id, ''), e.account_id,
               sum(e.type = 'impression'), sum(e.type = 'click'), sum(e.type = 'dismiss'), sum(e.type = 'snooze')
        FROM prompt_events e
        WHERE ${chunk} AND ${counted}
        GROUP BY 1, 2, 3, 4, 5
        ON CONFLICT (day, prompt_id, experiment_id, variant_id, account_id) DO UPDATE SET
          impressions = impressions + excluded.impressions,
          clicks = clicks + excluded.clicks,
          dismisses = dismisses + excluded.dismisses,
          snoozes = snoozes + excluded.snoozes`,
      sql`
        INSERT INTO prompt_day_totals (day, prompt_id, experiment_id, variant_id, impressions, clicks, dismisses, snoozes)
        SELECT ${day}, e.prompt_id, coalesce(e.experiment_id, ''), coalesce(e.variant_id, ''),
               sum(e.type = 'impression'), sum(e.type = 'click'), sum(e.type = 'dismiss'), sum(e.type = 'snooze')
        FROM prompt_events e
        WHERE ${chunk} AND ${counted}
        GROUP BY 1, 2, 3, 4
        ON CONFLICT (day, prompt_id, experiment_id, variant_id) DO UPDATE SET
          impressions = impressions + excluded.impressions,
          clicks = clicks + excluded.clicks,
          dismisses = dismisses + excluded.dismisses,
          snoozes = snoozes + excluded.snoozes`,
      sql`
        INSERT INTO prompt_account_days (day, account_id, impressions)
        SELECT ${day}, e.account_id, count(*)
        FROM prompt_events e
        WHERE ${chunk} AND e.prompt_id IS NOT NULL AND e.type = 'impression'
        GROUP BY 1, 2
        ON CONFLICT (day, account_id) DO UPDATE SET impressions = impressions + excluded.impressions`,
      sql`
        INSERT INTO rollup_state (name, last_rowid)
        SELECT ${ROLLUP}, max(${last}, min(${last} + ${ROLLUP_CHUNK}, (SELECT coalesce(max(rowid), 0) FROM prompt_events))) WHERE true
        ON CONFLICT (name) DO UPDATE SET last_rowid = excluded.last_rowid`,
      sql`SELECT (SELECT coalesce(max(rowid), 0) FROM prompt_events) > ${last} AS more`,
    ]);
    if (!num(results[4]?.[0]?.more)) return true;
  }
  return false;
}

// ---------------------------------------------------------------- ranges and CSV

/** The query's [from, to) widened to whole UTC days (default: the 30 days up to now). */
function dayRange(q: { from?: number; to?: number }, now: number, defaultDays = 30): { from: number; to: number } {
  const to = Math.ceil((q.to ?? now + 1) / DAY_MS) * DAY_MS;
  const from = Math.floor((q.from ?? to - defaultDays * DAY_MS) / DAY_MS) * DAY_MS;
  if (from >= to)
    throw new ApiError(400, 'validation_failed', 'The request is not valid.', [{ path: 'from', message: 'must be before to' }]);
  return { from, to };
}

const wantsCsv = (c: Context) => (c.req.header('accept') ?? '').toLowerCase().includes('text/csv');

/** JSON, or the rows as CSV when the client accepts `text/csv`. */
export function respond<T extends object>(c: Context, body: unknown, rows: readonly T[], columns: readonly (keyof T & string)[], name: string) {
  c.header('Cache-Control', 'no-store');
  if (!wantsCsv(c)) return c.json(body);
  return c.body(toCsv(rows, columns), 200, {
    'Content-Type': 'text/csv; charset=utf-8',
    'Content-Disposition': `attachment; filename="${name}.csv"`,
  });
}

// ---------------------------------------------------------------- funnel

/** Prompt kinds whose call to action opens the upgrade dialog, so a click there is an upgrade preview. */
function opensUpgrade(promptId: string): boolean {
  const p = parsePromptId(promptId);
  if (!p) return false;
  return p.kind === 'limit_notice' || p.kind === 'forecast' || p.kind === 'feature_gate' || (p.kind === 'invite' && p.blocking);
}
const rate = (n: number, d: number) => (d > 0 ? n / d : null);

const RATES_RULE =
  'click_rate = clicks ÷ impressions; preview_rate = previews ÷ clicks; upgrades_per_preview = upgrades ÷ previews — steps of this funnel, not the self-serve upgrade rate (accounts that upgraded ÷ accounts shown a prompt).';

const PREVIEWS_RULE =
  'Clicks on prompts whose call to action opens the upgrade dialog (limit notices, forecast prompts, feature-gate previews, the blocking invite prompt); other prompts have no preview step.';

const funnelColumns = ['prompt_id', 'kind', 'experiment_id', 'variant_id', 'impressions', 'clicks', 'previews', 'upgrades', 'expansion_mrr_cents', 'click_rate', 'preview_rate', 'upgrades_per_preview'] as const;

const upgradeColumns = ['start', 'eligible_accounts', 'upgraded_accounts', 'rate'] as const;
const byKindColumns = ['kind', 'accounts_shown', 'upgraded_accounts', 'rate', 'upgrades', 'expansion_mrr_cents'] as const;

const BY_KIND_RULE =
  'Per prompt kind: accounts that upgraded self-serve after clicking a prompt of that kind ÷ accounts shown a prompt of that kind in the period. no_prompt: self-serve upgrades with no prompt clicked before them.';

/** The playbooks' healthy self-serve upgrade rate: 3–7% of eligible accounts a month. A reference, not a target. */
const MONTHLY_BENCHMARK = { low: 0.03, high: 0.07, interval: 'month' as const };

/**
 * The kind of a prompt id in SQL, as `parsePromptId` (shared/promptEngine.ts) reads it; a NULL
 * prompt is `no_prompt`.
 */
const promptKind = (col: SQL) => sql`CASE
  WHEN ${col} IS NULL THEN 'no_prompt'
  WHEN ${col} IN ('invite-seats', 'invite-seats-blocked') THEN 'invite'
  WHEN substr(${col}, 1, 5) = 'gate-' AND length(${col}) > 5 THEN 'feature_gate'
  WHEN substr(${col}, 1, 6) = 'limit-' THEN 'limit_notice'
  WHEN substr(${col}, 1, 10) = 'milestone-' THEN 'milestone'
  ELSE 'other' END`;


/**
 * The bucket boundaries covering [from, to): UTC days, weeks from Monday, or calendar months;
 * the last entry is the end of the last bucket. Stops one past MAX_BUCKETS.
 * @example bucketStarts('month', Date.UTC(2026, 0, 15), Date.UTC(2026, 2, 2)) // [Jan 1, Feb 1, Mar 1, Apr 1]
 */
function bucketStarts(interval: 'day' | 'week' | 'month', from: number, to: number): number[] {
  let t = interval === 'month' ? utcMonthStart(from) : interval === 'week' ? isoWeekStart(from) : from;
  const out = [t];
  while (t < to && out.length <= MAX_BUCKETS + 1) {
    t = interval === 'month' ? utcNextMonthStart(t) : t + (interval === 'week' ? 7 : 1) * DAY_MS;
    out.push(t);
  }
  return out;
}

/** `GET /v1/admin/analytics/funnel` and `GET /v1/admin/analytics/upgrades`. */
export const analyticsRoutes = new Hono<AppEnv>()
  .get('/funnel', async (c) => {
    const q = readQuery(c, funnelQuerySchema);
    const { from, to } = dayRange(q, c.get('now'));
    const db = laggingReads(c.env.DB);
    await refreshPromptDaily(db);
    const prompt = q.prompt_id ?? null;
    const [events = [], upgrades = []] = await sqlBatch(db, [
      sql`
        SELECT prompt_id, experiment_id, variant_id, sum(impressions) AS impressions, sum(clicks) AS clicks
        FROM prompt_day_totals
        WHERE day >= ${from} AND day < ${to} AND (${prompt} IS NULL OR prompt_id = ${prompt})
        GROUP BY prompt_id, experiment_id, variant_id`,
      sql`
        SELECT prompt_id, coalesce(experiment_id, '') AS experiment_id, coalesce(variant_id, '') AS variant_id,
               count(*) AS upgrades, sum(mrr_after_cents - mrr_before_cents) AS cents
        FROM mrr_ledger
        WHERE at >= ${from} AND at < ${to} AND source = 'self_serve' AND mrr_after_cents > mrr_before_cents
          AND prompt_id IS NOT NULL AND (${prompt} IS NULL OR prompt_id = ${prompt})
        GROUP BY 1, 2, 3`,
    ]);
    const key = (r: Record<string, unknown>) => `${r.prompt_id}\u0000${r.experiment_id}\u0000${r.variant_id}`;
    const rows = new Map<string, FunnelRow>();
    const row = (r: Record<string, unknown>) => {
      const k = key(r);
      let out = rows.get(k);
      if (!out) {
        const promptId = String(r.prompt_id);
        out = {
          prompt_id: promptId,
          kind: parsePromptId(promptId)?.kind ?? null,
          experiment_id: (r.experiment_id as string) || null,
          variant_id: (r.variant_id as string) || null,
          impressions: 0,
          clicks: 0,
          previews: 0,
          upgrades: 0,
          expansion_mrr_cents: 0,
          click_rate: null,
          preview_rate: null,
          upgrades_per_preview: null,
        };
        rows.set(k, out);
      }
      return out;
    };
    for (const r of events) Object.assign(row(r), { impressions: num(r.impressions), clicks: num(r.clicks) });
    for (const r of upgrades) Object.assign(row(r), { upgrades: num(r.upgrades), expansion_mrr_cents: num(r.cents) });
    for (const r of rows.values()) {
      r.previews = opensUpgrade(r.prompt_id) ? r.clicks : 0;
      r.click_rate = rate(r.clicks, r.impressions);
      r.preview_rate = rate(r.previews, r.clicks);
      r.upgrades_per_preview = rate(r.upgrades, r.previews);
    }
    const list = [...rows.values()].sort(
      (a, b) => b.impressions - a.impressions || a.prompt_id.localeCompare(b.prompt_id) || (a.variant_id ?? '').localeCompare(b.variant_id ?? ''),
    );
    const body: FunnelResponse = { from: isoOrNull(from)!, to: isoOrNull(to)!, previews_rule: PREVIEWS_RULE, rates_rule: RATES_RULE, rows: list };
    return respond(c, body, list, funnelColumns, 'funnel');
  })
  .get('/upgrades', async (c) => {
    const q = readQuery(c, upgradesQuerySchema);
    const days = dayRange(q, c.get('now'), q.interval === 'month' ? 365 : q.interval === 'week' ? 12 * 7 : 30);
    const starts = bucketStarts(q.interval, days.from, days.to);
    if (starts.length - 1 > MAX_BUCKETS)
      throw new ApiError(400, 'validation_failed', 'The request is not valid.', [{ path: 'from', message: `at most ${MAX_BUCKETS} ${q.interval}s` }]);
    const from = starts[0]!;
    const to = starts.at(-1)!;
    const db = laggingReads(c.env.DB);
    await refreshPromptDaily(db);
    const upgraded = sql`source = 'self_serve' AND mrr_after_cents > mrr_before_cents`;
    // The buckets as rows (b, lo, hi): calendar months are not all one length, so no arithmetic bucketing.
    const k = sql`(SELECT CAST(key AS INTEGER) AS b, json_extract(value, '$[0]') AS lo, json_extract(value, '$[1]') AS hi
                   FROM json_each(${JSON.stringify(starts.slice(0, -1).map((lo, i) => [lo, starts[i + 1]]))}))`;
    // An account counts as upgraded in a bucket when it upgraded self-serve and was shown a prompt in that bucket.
    // prompt_account_days has one row per day and account, so a day's eligible accounts are its rows.
    const shown = (lo: SQL, hi: SQL) =>
      sql`EXISTS (SELECT 1 FROM prompt_account_days d WHERE d.account_id = u.account_id AND d.day >= ${lo} AND d.day < ${hi})`;
    const [eligible = [], ups = [], totals = [], shownKinds = [], kinds = []] = await sqlBatch(db, [
      sql`
        SELECT k.b AS b, count(DISTINCT d.account_id) AS n
        FROM ${k} k JOIN prompt_account_days d ON d.day >= k.lo AND d.day < k.hi GROUP BY k.b`,
      sql`
        SELECT k.b AS b, count(DISTINCT u.account_id) AS n
        FROM ${k} k JOIN mrr_ledger u ON u.at >= k.lo AND u.at < k.hi AND ${upgraded}
        WHERE ${shown(sql`k.lo`, sql`k.hi`)}
        GROUP BY k.b`,
      sql`
        SELECT (SELECT count(DISTINCT account_id) FROM prompt_account_days WHERE day >= ${from} AND day < ${to}) AS eligible,
               (SELECT count(DISTINCT u.account_id) FROM mrr_ledger u WHERE at >= ${from} AND at < ${to} AND ${upgraded}
                  AND ${shown(sql`${from}`, sql`${to}`)}) AS upgraded`,
      sql`
        SELECT ${promptKind(sql`prompt_id`)} AS kind, count(DISTINCT account_id) AS n
        FROM prompt_daily WHERE day >= ${from} AND day < ${to} AND impressions > 0 GROUP BY 1`,
      sql`
        SELECT ${promptKind(sql`prompt_id`)} AS kind, count(*) AS n, count(DISTINCT account_id) AS accounts, sum(mrr_after_cents - mrr_before_cents) AS cents
        FROM mrr_ledger WHERE at >= ${from} AND at < ${to} AND ${upgraded} GROUP BY 1`,
    ]);
    const byBucket = (rows: Record<string, unknown>[]) => new Map(rows.map((r) => [num(r.b), num(r.n)]));
    const e = byBucket(eligible);
    const u = byBucket(ups);
    const series = starts.slice(0, -1).map((start, i) => {
      const eligible_accounts = e.get(i) ?? 0;
      const upgraded_accounts = u.get(i) ?? 0;
      return { start: isoOrNull(start)!, eligible_accounts, upgraded_accounts, rate: selfServeUpgradeRate(upgraded_accounts, eligible_accounts) };
    });
    const shownBy = new Map(shownKinds.map((r) => [String(r.kind), num(r.n)]));
    const byKind: UpgradesByKind[] = [...new Set([...shownBy.keys(), ...kinds.map((r) => String(r.kind))])].map((kind) => {
      const r = kinds.find((x) => String(x.kind) === kind) ?? {};
      const accounts_shown = kind === 'no_prompt' ? null : (shownBy.get(kind) ?? 0);
      const upgraded_accounts = num(r.accounts);
      return {
        kind,
        accounts_shown,
        upgraded_accounts,
        rate: accounts_shown === null ? null : selfServeUpgradeRate(upgraded_accounts, accounts_shown),
        upgrades: num(r.n),
        expansion_mrr_cents: num(r.cents),
      };
    });
    byKind.sort((a, b) => b.upgrades - a.upgrades || b.expansion_mrr_cents - a.expansion_mrr_cents || a.kind.localeCompare(b.kind));
    const t = totals[0] ?? {};
    const body: UpgradesResponse = {
      from: isoOrNull(from)!,
      to: isoOrNull(to)!,
      interval: q.interval,
      series,
      total: { eligible_accounts: num(t.eligible), upgraded_accounts: num(t.upgraded), rate: selfServeUpgradeRate(num(t.upgraded), num(t.eligible)) },
      by_kind: byKind,
      by_kind_rule: BY_KIND_RULE,
      benchmark: MONTHLY_BENCHMARK,
    };
    if (q.by === 'kind') return respond(c, body, byKind, byKindColumns, `upgrades-by-kind`);
    return respond(c, body, series, upgradeColumns, `upgrades-${q.interval}`);
  });

// ---------------------------------------------------------------- accounts

const historyColumns = ['user_id', 'prompt_id', 'kind', 'impressions', 'clicks', 'dismisses', 'snoozes', 'first_seen_at', 'last_seen_at', 'last_event_at'] as const;
const accountColumns = ['account_id', 'name', 'plan_id', 'status', 'seats', 'score', 'band', 'entered_band_at', 'top_signals', 'computed_at', 'route'] as const;

const parseSignals = (v: unknown): string[] => {
  try {
    const parsed = typeof v === 'string' ? JSON.parse(v) : [];
    return Array.isArray(parsed) ? parsed.map(String) : [];
  } catch {
    return [];
  }
};

/** `GET /v1/admin/accounts` (with PQA) and `GET /v1/admin/accounts/:id/prompt-history`. */
export const adminAccountRoutes = new Hono<AppEnv>()
  .get('/', async (c) => {
    const q = readQuery(c, adminAccountsQuerySchema);
    const like = q.q ? `%${q.q.replace(/[\\%_]/g, (m) => '\\' + m)}%` : null;
    const band = q.band ?? null;
    const min = q.min_score ?? null;
    const db = database(c.env.DB);
    const [rows, [routingRows], catalog] = await Promise.all([
      laggingReads(c.env.DB).all<Record<string, unknown>>(sql`
      SELECT a.id, a.name, a.plan_id, a.status, a.seats, a.billing_interval, p.score, p.band, p.entered_band_at, p.top_signals, p.computed_at
      FROM accounts a LEFT JOIN pqa_scores p ON p.account_id = a.id
      WHERE (${band} IS NULL OR p.band = ${band}) AND (${min} IS NULL OR p.score >= ${min})
        AND (${like} IS NULL OR a.id LIKE ${like} ESCAPE '\\' OR a.name LIKE ${like} ESCAPE '\\')
      ORDER BY coalesce(p.score, -1) DESC, a.id
      LIMIT ${q.limit}`),
      sqlBatch(db, [routingQuery]),
      loadCatalog(db),
    ]);
    // each account's route under the routing rules (GET /v1/pqa shows the same)
    const routes = routesOf(
      catalog,
      routingFrom(routingRows),
      rows.map((r) => ({
        account_id: String(r.id),
        band: ((r.band as string | null) ?? 'nurture') as AccountRouteRow['band'],
        plan_id: String(r.plan_id),
        seats: num(r.seats),
        billing_interval: r.billing_interval === 'year' || r.billing_interval === 'month' ? r.billing_interval : null,
      })),
    );
    const accounts: AdminAccount[] = rows.map((r) => ({
      account_id: String(r.id),
      name: String(r.name),
      plan_id: String(r.plan_id),
      status: String(r.status),
      seats: num(r.seats),
      score: r.score === null ? null : num(r.score),
      band: (r.band as AdminAccount['band']) ?? null,
      entered_band_at: isoOrNull(r.entered_band_at as number | null),
      top_signals: parseSignals(r.top_signals),
      computed_at: isoOrNull(r.computed_at as number | null),
      route: routes.get(String(r.id))!.route,
    }));
    return respond(c, { accounts }, accounts, accountColumns, 'accounts');
  })
  .get('/:id/prompt-history', async (c) => {
    const accountId = validate(accountIdParam, c.req.param('id'), ['id']);
    const q = readQuery(c, promptHistoryQuerySchema);
    const now = c.get('now');
    const to = q.to ?? now + 1;
    const from = q.from ?? to - 90 * DAY_MS;
    if (from >= to) throw new ApiError(400, 'validation_failed', 'The request is not valid.', [{ path: 'from', message: 'must be before to' }]);
    const db = laggingReads(c.env.DB);
    const [account = [], summary = [], events = []] = await sqlBatch(db, [
      sql`SELECT id FROM accounts WHERE id = ${accountId}`,
      sql`
        SELECT user_id, prompt_id,
               sum(type = 'impression') AS impressions, sum(type = 'click') AS clicks,
               sum(type = 'dismiss') AS dismisses, sum(type = 'snooze') AS snoozes,
               min(CASE WHEN type = 'impression' THEN timestamp END) AS first_seen,
               max(CASE WHEN type = 'impression' THEN timestamp END) AS last_seen,
               max(timestamp) AS last_event
        FROM prompt_events
        WHERE account_id = ${accountId} AND timestamp >= ${from} AND timestamp < ${to} AND prompt_id IS NOT NULL
        GROUP BY user_id, prompt_id
        ORDER BY last_event DESC, user_id, prompt_id`,
      sql`
        SELECT timestamp, user_id, session_id, type, prompt_id, variant_id, experiment_id, feature_id
        FROM prompt_events
        WHERE account_id = ${accountId} AND timestamp >= ${from} AND timestamp < ${to}
        ORDER BY timestamp DESC, idempotency_key
        LIMIT ${q.limit}`,
    ]);
    if (account.length === 0) throw notFound('account', accountId, 'id');
    const prompts: PromptHistoryRow[] = summary.map((r) => ({
      user_id: String(r.user_id),
      prompt_id: String(r.prompt_id),
      kind: parsePromptId(String(r.prompt_id))?.kind ?? null,
      impressions: num(r.impressions),
      clicks: num(r.clicks),
      dismisses: num(r.dismisses),
      snoozes: num(r.snoozes),
      first_seen_at: isoOrNull(r.first_seen as number | null),
      last_seen_at: isoOrNull(r.last_seen as number | null),
      last_event_at: isoOrNull(num(r.last_event))!,
    }));
    const body: PromptHistoryResponse = {
      account_id: accountId,
      from: isoOrNull(from)!,
      to: isoOrNull(to)!,
      prompts,
      events: events.map((e) => ({
        timestamp: isoOrNull(num(e.timestamp))!,
        user_id: String(e.user_id),
        session_id: String(e.session_id),
        type: String(e.type),
        prompt_id: (e.prompt_id as string | null) ?? null,
        variant_id: (e.variant_id as string | null) ?? null,
        experiment_id: (e.experiment_id as string | null) ?? null,
        feature_id: (e.feature_id as string | null) ?? null,
      })),
    };
    return respond(c, body, prompts, historyColumns, `prompt-history-${accountId}`);
  });
