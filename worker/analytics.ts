/**
 * The dashboard's analytics as data: prompt funnels, the self-serve upgrade rate over time,
 * revenue's self-serve counts, per-account prompt history and the accounts list with PQA.
 * Each function answers the response object (shared/analyticsSchemas.ts); the routes
 * (worker/routes/analytics.ts, worker/routes/revenue.ts) read the query, check the range and
 * pick JSON or CSV. Set-based SQL only: the overview reads the roll-ups of prompt events
 * (kept current by the cron, and brought up to date with any rest on each read) and
 * `mrr_ledger` by its time index.
 */
import { sql, type SQL } from 'drizzle-orm';
import type {
  AdminAccount,
  FunnelResponse,
  FunnelRow,
  PromptHistoryResponse,
  PromptHistoryRow,
  UpgradesByKind,
  UpgradesResponse,
} from '../shared/analyticsSchemas';
import { DAY_MS, isoOrNull, isoWeekStart, utcMonthStart, utcNextMonthStart } from '../shared/time';
import { parsePromptId } from '../shared/promptEngine';
import { revenueMetrics, selfServeUpgradeRate, type MrrChange } from '../shared/revenue';
import { loadCatalog } from './catalog';
import { routesOf, routingFrom, routingQuery, type AccountRouteRow } from './routing';
import { sqlBatch, type Db } from './db';

const ROLLUP = 'prompt_daily';
/** Source rows counted per roll-up statement, so a large backlog never makes one huge transaction. */
const ROLLUP_CHUNK = 100_000;
/** The most buckets one upgrade-rate answer has. */
export const MAX_BUCKETS = 1000;
const num = (v: unknown) => Number(v ?? 0);

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

// ---------------------------------------------------------------- roll-up

/**
 * Counts prompt events added since the last call into the roll-ups — `prompt_daily` (per
 * account), `prompt_day_totals` (the funnel's, without the account), `prompt_shown_days` (the
 * days each account was shown a prompt, any and per kind, with its previous such day) and
 * `prompt_shown_counts` (those rows counted per kind, day and previous day) — in rowid order, so
 * late (back-dated) events are counted too. Each chunk, its roll-ups and the watermark move in one
 * transaction. At most `maxChunks` chunks (the cron's bounded work per run); true when the
 * roll-ups are current.
 * @example await refreshPromptDaily(db)
 */
export async function refreshPromptDaily(db: Db, maxChunks = 1000): Promise<boolean> {
  const last = sql`(SELECT coalesce((SELECT last_rowid FROM rollup_state WHERE name = ${ROLLUP}), 0))`;
  const chunk = sql`e.rowid > ${last} AND e.rowid <= ${last} + ${ROLLUP_CHUNK}`;
  const counted = sql`e.prompt_id IS NOT NULL AND e.type IN ('impression', 'click', 'dismiss', 'snooze')`;
  // The UTC day, by integer division: a bound number reaches SQLite as a REAL and would divide exactly.
  const day = sql.raw(`(e.timestamp / ${DAY_MS}) * ${DAY_MS}`);
  const shownInChunk = sql`${chunk} AND e.prompt_id IS NOT NULL AND e.type = 'impression'`;
  // The (kind, account) pairs this chunk shows a prompt to, with their first day in it: their
  // prompt_shown_days rows from that day on are the ones whose previous day may move.
  const touched = sql`(
    SELECT '' AS kind, e.account_id AS account_id, min(${day}) AS m FROM prompt_events e WHERE ${shownInChunk} GROUP BY 2
    UNION ALL
    SELECT ${promptKind(sql`e.prompt_id`)}, e.account_id, min(${day}) FROM prompt_events e WHERE ${shownInChunk} GROUP BY 1, 2)`;
  const recount = (sign: SQL) => sql`
    INSERT INTO prompt_shown_counts (kind, day, prev_day, accounts)
    SELECT s.kind, s.day, s.prev_day, ${sign} * count(*)
    FROM ${touched} c JOIN prompt_shown_days s ON s.kind = c.kind AND s.account_id = c.account_id AND s.day >= c.m
    GROUP BY 1, 2, 3
    ON CONFLICT (kind, day, prev_day) DO UPDATE SET accounts = accounts + excluded.accounts`;
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
      // prompt_shown_counts: take the touched rows out, add the new days, fix their previous days, count them back in.
      recount(sql.raw('-1')),
      sql`
        INSERT INTO prompt_shown_days (kind, account_id, day, prev_day)
        SELECT kind, account_id, day, -1 FROM (
          SELECT '' AS kind, e.account_id AS account_id, ${day} AS day FROM prompt_events e WHERE ${shownInChunk}
          UNION
          SELECT ${promptKind(sql`e.prompt_id`)}, e.account_id, ${day} FROM prompt_events e WHERE ${shownInChunk}) WHERE true
        ON CONFLICT (kind, account_id, day) DO NOTHING`,
      sql`
        UPDATE prompt_shown_days AS s
        SET prev_day = coalesce((SELECT max(p.day) FROM prompt_shown_days p WHERE p.kind = s.kind AND p.account_id = s.account_id AND p.day < s.day), -1)
        FROM ${touched} AS c
        WHERE s.kind = c.kind AND s.account_id = c.account_id AND s.day >= c.m`,
      recount(sql.raw('1')),
      sql`DELETE FROM prompt_shown_counts WHERE accounts = 0`,
      sql`
        INSERT INTO rollup_state (name, last_rowid)
        SELECT ${ROLLUP}, max(${last}, min(${last} + ${ROLLUP_CHUNK}, (SELECT coalesce(max(rowid), 0) FROM prompt_events))) WHERE true
        ON CONFLICT (name) DO UPDATE SET last_rowid = excluded.last_rowid`,
      sql`SELECT (SELECT coalesce(max(rowid), 0) FROM prompt_events) > ${last} AS more`,
    ]);
    if (!num(results.at(-1)?.[0]?.more)) return true;
  }
  return false;
}

// ---------------------------------------------------------------- rules and buckets

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



const BY_KIND_RULE =
  'Per prompt kind: accounts that upgraded self-serve after clicking a prompt of that kind ÷ accounts shown a prompt of that kind in the period. no_prompt: self-serve upgrades with no prompt clicked before them.';

/** The playbooks' healthy self-serve upgrade rate: 3–7% of eligible accounts a month. A reference, not a target. */
const MONTHLY_BENCHMARK = { low: 0.03, high: 0.07, interval: 'month' as const };



/**
 * The bucket boundaries covering [from, to): UTC days, weeks from Monday, or calendar months;
 * the last entry is the end of the last bucket. Stops one past MAX_BUCKETS.
 * @example bucketStarts('month', Date.UTC(2026, 0, 15), Date.UTC(2026, 2, 2)) // [Jan 1, Feb 1, Mar 1, Apr 1]
 */
export function bucketStarts(interval: 'day' | 'week' | 'month', from: number, to: number): number[] {
  let t = interval === 'month' ? utcMonthStart(from) : interval === 'week' ? isoWeekStart(from) : from;
  const out = [t];
  while (t < to && out.length <= MAX_BUCKETS + 1) {
    t = interval === 'month' ? utcNextMonthStart(t) : t + (interval === 'week' ? 7 : 1) * DAY_MS;
    out.push(t);
  }
  return out;
}

// ---------------------------------------------------------------- funnel

/**
 * The prompt funnel over the whole UTC days [from, to): impressions → clicks → previews →
 * upgrades per prompt, experiment and variant, from the roll-ups (brought up to date first) and
 * the self-serve upgrades of the MRR ledger.
 * @example await promptFunnel(db, { from: Date.UTC(2026, 2, 2), to: Date.UTC(2026, 2, 4), promptId: null })
 */
export async function promptFunnel(db: Db, { from, to, promptId }: { from: number; to: number; promptId: string | null }): Promise<FunnelResponse> {
  await refreshPromptDaily(db);
  const prompt = promptId;
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
      const id = String(r.prompt_id);
      out = {
        prompt_id: id,
        kind: parsePromptId(id)?.kind ?? null,
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
  return { from: isoOrNull(from)!, to: isoOrNull(to)!, previews_rule: PREVIEWS_RULE, rates_rule: RATES_RULE, rows: list };
}

// ---------------------------------------------------------------- self-serve upgrade rate

/** A self-serve upgrade in the MRR ledger (alias `u`). */
const selfServeUpgrade = sql`u.source = 'self_serve' AND u.mrr_after_cents > u.mrr_before_cents`;

/**
 * The self-serve upgrade rate's one definition (DESIGN.md), as SQL over [lo, hi): the accounts
 * shown a prompt (an impression) in the period (`eligible`), and those of them that upgraded
 * self-serve in it (`upgraded`). The whole UTC days of the range read the roll-ups (current once
 * `refreshPromptDaily` has run): `prompt_shown_counts` counts each account once, on its first
 * day in the range; a part-day at either end reads that part's impressions (by prompt, through
 * the prompt index) and adds the accounts not already counted.
 */
function selfServeCountsSql(lo: number, hi: number): SQL {
  let dlo = Math.ceil(lo / DAY_MS) * DAY_MS;
  let dhi = Math.floor(hi / DAY_MS) * DAY_MS;
  if (dlo >= dhi) dlo = dhi = hi; // no whole day: the range is all part-day
  const part = (a: number, b: number) =>
    sql`SELECT e.account_id FROM prompt_events e
        WHERE e.prompt_id IN (SELECT DISTINCT prompt_id FROM prompt_day_totals WHERE day >= ${Math.floor(a / DAY_MS) * DAY_MS} AND day < ${b})
          AND e.type = 'impression' AND e.timestamp >= ${a} AND e.timestamp < ${b}`;
  // accounts shown a prompt in the part-days at the ends and not on a whole day of the range
  const parts = sql`SELECT account_id FROM (${part(lo, Math.min(dlo, hi))} UNION ${part(Math.max(dhi, lo), hi)}) x
    WHERE NOT EXISTS (SELECT 1 FROM prompt_shown_days d WHERE d.kind = '' AND d.account_id = x.account_id AND d.day >= ${dlo} AND d.day < ${dhi})`;
  return sql`
    WITH parts AS (${parts})
    SELECT (SELECT coalesce(sum(accounts), 0) FROM prompt_shown_counts WHERE kind = '' AND day >= ${dlo} AND day < ${dhi} AND prev_day < ${dlo})
             + (SELECT count(*) FROM parts) AS eligible,
           (SELECT count(DISTINCT u.account_id) FROM mrr_ledger u WHERE u.at >= ${lo} AND u.at < ${hi} AND ${selfServeUpgrade}
              AND (EXISTS (SELECT 1 FROM prompt_shown_days d WHERE d.kind = '' AND d.account_id = u.account_id AND d.day >= ${dlo} AND d.day < ${dhi})
                   OR u.account_id IN (SELECT account_id FROM parts))) AS upgraded`;
}

type SelfServeCounts = { upgraded_accounts: number; eligible_accounts: number; rate: number | null };
const selfServeFrom = (row: Record<string, unknown> | undefined): SelfServeCounts => {
  const upgraded = num(row?.upgraded);
  const eligible = num(row?.eligible);
  return { upgraded_accounts: upgraded, eligible_accounts: eligible, rate: selfServeUpgradeRate(upgraded, eligible) };
};

/**
 * The self-serve upgrade rate over [from, to): accounts shown a prompt in the period that
 * upgraded self-serve ÷ accounts shown a prompt. `GET /v1/admin/analytics/upgrades` (its total)
 * and `GET /v1/admin/analytics/revenue` (its `self_serve`) both answer this.
 * @example await selfServeCounts(db, Date.UTC(2026, 3, 6), Date.UTC(2026, 3, 9)) // { upgraded_accounts: 2, eligible_accounts: 3, rate: 0.67 }
 */
async function selfServeCounts(db: Db, from: number, to: number): Promise<SelfServeCounts> {
  await refreshPromptDaily(db);
  const [rows] = await sqlBatch(db, [selfServeCountsSql(from, to)]);
  return selfServeFrom(rows?.[0]);
}

/**
 * The self-serve upgrade rate per bucket (`bucketStarts`: UTC days, ISO weeks or calendar
 * months; the last entry ends the last bucket), its total over the whole range and per prompt kind.
 * @example await upgradeRates(db, 'day', bucketStarts('day', Date.UTC(2026, 3, 6), Date.UTC(2026, 3, 9)))
 */
export async function upgradeRates(db: Db, interval: 'day' | 'week' | 'month', starts: number[]): Promise<UpgradesResponse> {
  const from = starts[0]!;
  const to = starts.at(-1)!;
  await refreshPromptDaily(db);
  // The buckets as rows (b, lo, hi): calendar months are not all one length, so no arithmetic bucketing.
  const k = sql`(SELECT CAST(key AS INTEGER) AS b, json_extract(value, '$[0]') AS lo, json_extract(value, '$[1]') AS hi
                 FROM json_each(${JSON.stringify(starts.slice(0, -1).map((lo, i) => [lo, starts[i + 1]]))}))`;
  // An account counts as upgraded in a bucket when it upgraded self-serve and was shown a prompt in that bucket.
  const shown = (lo: SQL, hi: SQL) =>
    sql`EXISTS (SELECT 1 FROM prompt_shown_days d WHERE d.kind = '' AND d.account_id = u.account_id AND d.day >= ${lo} AND d.day < ${hi})`;
  // A bucket's eligible accounts: prompt_shown_days rows in it that are their account's first day in it, as counted.
  const [eligible = [], ups = [], totals = [], shownKinds = [], kinds = []] = await sqlBatch(db, [
    sql`
      SELECT k.b AS b, sum(c.accounts) AS n
      FROM ${k} k JOIN prompt_shown_counts c ON c.kind = '' AND c.day >= k.lo AND c.day < k.hi AND c.prev_day < k.lo GROUP BY k.b`,
    sql`
      SELECT k.b AS b, count(DISTINCT u.account_id) AS n
      FROM ${k} k JOIN mrr_ledger u ON u.at >= k.lo AND u.at < k.hi AND ${selfServeUpgrade}
      WHERE ${shown(sql`k.lo`, sql`k.hi`)}
      GROUP BY k.b`,
    selfServeCountsSql(from, to),
    sql`
      SELECT kind, sum(accounts) AS n FROM prompt_shown_counts
      WHERE kind <> '' AND day >= ${from} AND day < ${to} AND prev_day < ${from} GROUP BY kind`,
    sql`
      SELECT ${promptKind(sql`prompt_id`)} AS kind, count(*) AS n, count(DISTINCT account_id) AS accounts, sum(mrr_after_cents - mrr_before_cents) AS cents
      FROM mrr_ledger u WHERE at >= ${from} AND at < ${to} AND ${selfServeUpgrade} GROUP BY 1`,
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
  return {
    from: isoOrNull(from)!,
    to: isoOrNull(to)!,
    interval,
    series,
    total: selfServeFrom(totals[0]),
    by_kind: byKind,
    by_kind_rule: BY_KIND_RULE,
    benchmark: MONTHLY_BENCHMARK,
  };
}

// ---------------------------------------------------------------- revenue

/**
 * The ledger as `revenueMetrics` needs it for [from, to), read down indexes whatever the
 * ledger's size: every change inside the period (`mrr_ledger_at`), the last change before
 * `from` of each account that changed inside it (its starting MRR: the row whose `next_at` is in
 * the period, `mrr_ledger_next`), and, summed in SQL instead of sent row by row, the MRR of every
 * other account (the row before `from` that is its latest or whose next change came at or after
 * `to`: `mrr_ledger_latest`, `mrr_ledger_next`). At 100,000 accounts the rows sent are the
 * period's changes and one per changed account, not one per account.
 */
async function ledgerFor(db: Db, from: number, to: number): Promise<{ changes: MrrChange[]; unchangedMrrCents: number }> {
  // what revenueMetrics reads of a change (id orders ties), no more: at 100,000 accounts that is ~17,000 rows of JSON
  const columns = sql.raw('l.account_id, l.at, l.kind, l.mrr_before_cents, l.mrr_after_cents, l.source, l.id');
  const [changes, unchanged] = await Promise.all([
    db.all<MrrChange>(sql`
      SELECT ${columns} FROM mrr_ledger l WHERE l.at >= ${from} AND l.at < ${to}
      UNION ALL
      SELECT ${columns} FROM mrr_ledger l WHERE l.next_at >= ${from} AND l.next_at < ${to} AND l.at < ${from}
      ORDER BY at, id`),
    db.all<{ cents: number }>(sql`
      SELECT (SELECT coalesce(sum(mrr_after_cents), 0) FROM mrr_ledger WHERE next_at IS NULL AND at < ${from})
           + (SELECT coalesce(sum(mrr_after_cents), 0) FROM mrr_ledger WHERE next_at >= ${to} AND at < ${from}) AS cents`),
  ]);
  return { changes, unchangedMrrCents: Number(unchanged[0]?.cents ?? 0) };
}

/**
 * Revenue over [from, to) from the MRR ledger: starting MRR, expansion, contraction, churn,
 * NRR, GRR, expansion by source (shared/revenue.ts `revenueMetrics`), the MRR save offers kept
 * (`saved_mrr_cents`) and the self-serve upgrade rate (`selfServeCounts`).
 * @example await revenueReport(db, Date.UTC(2026, 10, 1), Date.UTC(2026, 11, 1))
 */
export async function revenueReport(db: Db, from: number, to: number) {
  const [ledger, selfServe, saved] = await Promise.all([
    ledgerFor(db, from, to),
    selfServeCounts(db, from, to),
    // MRR kept by save offers accepted in the period (shared/retention.ts `savedMrr`).
    db.all<{ cents: number | null }>(sql`SELECT sum(saved_mrr_cents) AS cents FROM cancel_flows WHERE status = 'accepted' AND resolved_at >= ${from} AND resolved_at < ${to}`),
  ]);
  return {
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
    ...revenueMetrics(ledger.changes, from, to, ledger.unchangedMrrCents),
    saved_mrr_cents: saved[0]?.cents ?? 0,
    self_serve: selfServe,
  };
}

// ---------------------------------------------------------------- accounts

const parseSignals = (v: unknown): string[] => {
  try {
    const parsed = typeof v === 'string' ? JSON.parse(v) : [];
    return Array.isArray(parsed) ? parsed.map(String) : [];
  } catch {
    return [];
  }
};

/**
 * Accounts with their PQA score and route, best score first: filtered by band, minimum score
 * and a text match on id or name. `reads` is the lagging-read handle, `db` the primary.
 * @example await adminAccounts(laggingReads(env.DB), database(env.DB), { band: 'sales_ready', limit: 50 })
 */
export async function adminAccounts(
  reads: Db,
  db: Db,
  q: { q?: string; band?: string; min_score?: number; limit: number },
): Promise<AdminAccount[]> {
  const like = q.q ? `%${q.q.replace(/[\\%_]/g, (m) => '\\' + m)}%` : null;
  const band = q.band ?? null;
  const min = q.min_score ?? null;
  const matches = sql`(${like} IS NULL OR a.id LIKE ${like} ESCAPE '\\' OR a.name LIKE ${like} ESCAPE '\\')`;
  // Scored accounts first, best score then id, walked down the pqa_scores_rank index so a page
  // reads its own rows, not every account; then, only if the page is not full and no score
  // filter excludes them, accounts not scored yet (new since the last scoring) by id.
  const scored = () =>
    reads.all<Record<string, unknown>>(sql`
    SELECT a.id, a.name, a.plan_id, a.status, a.seats, a.billing_interval, p.score, p.band, p.entered_band_at, p.top_signals, p.computed_at
    FROM pqa_scores p JOIN accounts a ON a.id = p.account_id
    WHERE (${band} IS NULL OR p.band = ${band}) AND (${min} IS NULL OR p.score >= ${min}) AND ${matches}
    ORDER BY p.score DESC, p.account_id
    LIMIT ${q.limit}`);
  const unscored = (limit: number) =>
    reads.all<Record<string, unknown>>(sql`
    SELECT a.id, a.name, a.plan_id, a.status, a.seats, a.billing_interval, NULL AS score, NULL AS band, NULL AS entered_band_at, NULL AS top_signals, NULL AS computed_at
    FROM accounts a
    WHERE NOT EXISTS (SELECT 1 FROM pqa_scores p WHERE p.account_id = a.id) AND ${matches}
    ORDER BY a.id
    LIMIT ${limit}`);
  const [first, [routingRows], catalog] = await Promise.all([scored(), sqlBatch(db, [routingQuery]), loadCatalog(db)]);
  const rows = first.length < q.limit && band === null && min === null ? [...first, ...(await unscored(q.limit - first.length))] : first;
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
  return rows.map((r) => ({
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
}

/**
 * One account's prompts over [from, to): per user and prompt the counts and first/last times,
 * and the latest `limit` prompt events. Null when the account does not exist.
 * @example await promptHistory(db, 'acme', { from: Date.now() - 90 * DAY_MS, to: Date.now(), limit: 100 })
 */
export async function promptHistory(
  db: Db,
  accountId: string,
  { from, to, limit }: { from: number; to: number; limit: number },
): Promise<PromptHistoryResponse | null> {
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
      LIMIT ${limit}`,
  ]);
  if (account.length === 0) return null;
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
  return {
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
}
