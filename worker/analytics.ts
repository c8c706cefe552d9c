/**
 * Admin analytics in D1: the `prompt_daily` roll-up, prompt funnels, the self-serve upgrade
 * rate over time, the accounts list with PQA and per-account prompt history. Set-based SQL
 * only: the overview reads the `prompt_daily` roll-up (brought up to date from `prompt_events`
 * on each read) and `mrr_ledger` by its time index. The HTTP side is `routes/analytics.ts`.
 */
import { sql, type SQL } from 'drizzle-orm';
import type { z } from 'zod';
import {
  type AdminAccount,
  type adminAccountsQuerySchema,
  type FunnelResponse,
  type FunnelRow,
  type PromptHistoryResponse,
  type PromptHistoryRow,
  type UpgradesResponse,
} from '../shared/analyticsSchemas';
import { DAY_MS, startOfUtcDay } from '../shared/time';
import { parsePromptId } from '../shared/promptEngine';
import { selfServeUpgradeRate } from '../shared/revenue';
import { sqlBatch, type Db } from './db';
import { isoOrNull } from '../shared/time';

const ROLLUP = 'prompt_daily';
/** Source rows counted per roll-up statement, so a large backlog never makes one huge transaction. */
const ROLLUP_CHUNK = 100_000;
const num = (v: unknown) => Number(v ?? 0);

// ---------------------------------------------------------------- roll-up

/**
 * Counts prompt events added since the last call into `prompt_daily`, in rowid order, so late
 * (back-dated) events are counted too. Each chunk and the watermark move in one transaction.
 * @example await refreshPromptDaily(db)
 */
async function refreshPromptDaily(db: Db): Promise<void> {
  const last = sql`(SELECT coalesce((SELECT last_rowid FROM rollup_state WHERE name = ${ROLLUP}), 0))`;
  for (let i = 0; i < 1000; i++) {
    const results = await sqlBatch(db, [
      sql`
        INSERT INTO prompt_daily (day, prompt_id, experiment_id, variant_id, account_id, impressions, clicks, dismisses, snoozes)
        SELECT (e.timestamp / ${DAY_MS}) * ${DAY_MS}, e.prompt_id, coalesce(e.experiment_id, ''), coalesce(e.variant_id, ''), e.account_id,
               sum(e.type = 'impression'), sum(e.type = 'click'), sum(e.type = 'dismiss'), sum(e.type = 'snooze')
        FROM prompt_events e
        WHERE e.rowid > ${last} AND e.rowid <= ${last} + ${ROLLUP_CHUNK}
          AND e.prompt_id IS NOT NULL AND e.type IN ('impression', 'click', 'dismiss', 'snooze')
        GROUP BY 1, 2, 3, 4, 5
        ON CONFLICT (day, prompt_id, experiment_id, variant_id, account_id) DO UPDATE SET
          impressions = impressions + excluded.impressions,
          clicks = clicks + excluded.clicks,
          dismisses = dismisses + excluded.dismisses,
          snoozes = snoozes + excluded.snoozes`,
      sql`
        INSERT INTO rollup_state (name, last_rowid)
        SELECT ${ROLLUP}, max(${last}, min(${last} + ${ROLLUP_CHUNK}, (SELECT coalesce(max(rowid), 0) FROM prompt_events))) WHERE true
        ON CONFLICT (name) DO UPDATE SET last_rowid = excluded.last_rowid`,
      sql`SELECT (SELECT coalesce(max(rowid), 0) FROM prompt_events) > ${last} AS more`,
    ]);
    if (!num(results[2]?.[0]?.more)) return;
  }
}

// ---------------------------------------------------------------- funnel

/** Prompt kinds whose call to action opens the upgrade dialog, so a click there is an upgrade preview. */
function opensUpgrade(promptId: string): boolean {
  const p = parsePromptId(promptId);
  if (!p) return false;
  return p.kind === 'limit_notice' || p.kind === 'feature_gate' || (p.kind === 'invite' && p.blocking);
}
const rate = (n: number, d: number) => (d > 0 ? n / d : null);

const PREVIEWS_RULE =
  'Clicks on prompts whose call to action opens the upgrade dialog (limit notices, feature-gate previews, the blocking invite prompt); other prompts have no preview step.';

/**
 * The prompt funnel over [from, to) (whole UTC days), per prompt and variant.
 * @example await promptFunnel(db, { from, to, promptId: null })
 */
export async function promptFunnel(db: Db, range: { from: number; to: number; promptId: string | null }): Promise<FunnelResponse> {
  const { from, to } = range;
  await refreshPromptDaily(db);
  const prompt = range.promptId;
  const [events = [], upgrades = []] = await sqlBatch(db, [
    sql`
      SELECT prompt_id, experiment_id, variant_id, sum(impressions) AS impressions, sum(clicks) AS clicks
      FROM prompt_daily
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
        upgrade_rate: null,
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
    r.upgrade_rate = rate(r.upgrades, r.previews);
  }
  const list = [...rows.values()].sort(
    (a, b) => b.impressions - a.impressions || a.prompt_id.localeCompare(b.prompt_id) || (a.variant_id ?? '').localeCompare(b.variant_id ?? ''),
  );
  return { from: isoOrNull(from)!, to: isoOrNull(to)!, previews_rule: PREVIEWS_RULE, rows: list };
}

// ---------------------------------------------------------------- self-serve upgrade rate

/** A self-serve upgrade: an MRR increase the account made itself (no sales, no webhook). */
const upgraded = sql`source = 'self_serve' AND mrr_after_cents > mrr_before_cents`;
/** Ledger row `u`'s account was shown a prompt on a day in [lo, hi). */
const shown = (lo: SQL, hi: SQL) =>
  sql`EXISTS (SELECT 1 FROM prompt_daily d WHERE d.account_id = u.account_id AND d.impressions > 0 AND d.day >= ${lo} AND d.day < ${hi})`;

/**
 * The self-serve upgrade rate's counts (DESIGN.md "Revenue metrics"), the one definition the
 * analytics and revenue answers share: eligible = accounts shown a prompt in the period;
 * upgraded = those of them that upgraded self-serve in the period. Read from the
 * `prompt_daily` roll-up, so the period is whole UTC days (`from` down, `to` up to midnight).
 */
function selfServeTotals(from: number, to: number): SQL {
  const lo = startOfUtcDay(from);
  const hi = Math.ceil(to / DAY_MS) * DAY_MS;
  return sql`
    SELECT (SELECT count(DISTINCT account_id) FROM prompt_daily WHERE day >= ${lo} AND day < ${hi} AND impressions > 0) AS eligible,
           (SELECT count(DISTINCT u.account_id) FROM mrr_ledger u WHERE at >= ${lo} AND at < ${hi} AND ${upgraded}
              AND ${shown(sql`${lo}`, sql`${hi}`)}) AS upgraded`;
}

/**
 * Accounts shown a prompt in the whole UTC days covering [from, to), those of them that
 * upgraded self-serve, and the rate (null with no eligible account).
 * @example await selfServeUpgrades(db, from, to) // { eligible_accounts: 400, upgraded_accounts: 12, rate: 0.03 }
 */
export async function selfServeUpgrades(db: Db, from: number, to: number): Promise<UpgradesResponse['total']> {
  await refreshPromptDaily(db);
  const [rows = []] = await sqlBatch(db, [selfServeTotals(from, to)]);
  const eligible = num(rows[0]?.eligible);
  const upgradedAccounts = num(rows[0]?.upgraded);
  return { eligible_accounts: eligible, upgraded_accounts: upgradedAccounts, rate: selfServeUpgradeRate(upgradedAccounts, eligible) };
}

/**
 * The self-serve upgrade rate per bucket of `step` ms over [from, to), its total, and upgrades by prompt kind.
 * @example await upgradeRate(db, { from, to, step: DAY_MS, buckets: 30, interval: 'day' })
 */
export async function upgradeRate(
  db: Db,
  range: { from: number; to: number; step: number; buckets: number; interval: UpgradesResponse['interval'] },
): Promise<UpgradesResponse> {
  const { from, to, step, buckets } = range;
  await refreshPromptDaily(db);
  const [eligible = [], ups = [], totals = [], kinds = []] = await sqlBatch(db, [
    sql`
      SELECT CAST((day - ${from}) / ${step} AS INTEGER) AS b, count(DISTINCT account_id) AS n
      FROM prompt_daily WHERE day >= ${from} AND day < ${to} AND impressions > 0 GROUP BY b`,
    sql`
      SELECT u.b, count(DISTINCT u.account_id) AS n
      FROM (SELECT account_id, CAST((at - ${from}) / ${step} AS INTEGER) AS b FROM mrr_ledger WHERE at >= ${from} AND at < ${to} AND ${upgraded}) u
      WHERE ${shown(sql`${from} + u.b * ${step}`, sql`${from} + (u.b + 1) * ${step}`)}
      GROUP BY u.b`,
    selfServeTotals(from, to),
    sql`
      SELECT prompt_id, count(*) AS n, sum(mrr_after_cents - mrr_before_cents) AS cents
      FROM mrr_ledger WHERE at >= ${from} AND at < ${to} AND ${upgraded} GROUP BY prompt_id`,
  ]);
  const byBucket = (rows: Record<string, unknown>[]) => new Map(rows.map((r) => [num(r.b), num(r.n)]));
  const e = byBucket(eligible);
  const u = byBucket(ups);
  const series = Array.from({ length: buckets }, (_, i) => {
    const eligible_accounts = e.get(i) ?? 0;
    const upgraded_accounts = u.get(i) ?? 0;
    return { start: isoOrNull(from + i * step)!, eligible_accounts, upgraded_accounts, rate: selfServeUpgradeRate(upgraded_accounts, eligible_accounts) };
  });
  const byKind = new Map<string, { kind: string; upgrades: number; expansion_mrr_cents: number }>();
  for (const r of kinds) {
    const kind = r.prompt_id === null ? 'no_prompt' : (parsePromptId(String(r.prompt_id))?.kind ?? 'other');
    const k = byKind.get(kind) ?? { kind, upgrades: 0, expansion_mrr_cents: 0 };
    k.upgrades += num(r.n);
    k.expansion_mrr_cents += num(r.cents);
    byKind.set(kind, k);
  }
  const t = totals[0] ?? {};
  return {
    from: isoOrNull(from)!,
    to: isoOrNull(to)!,
    interval: range.interval,
    series,
    total: { eligible_accounts: num(t.eligible), upgraded_accounts: num(t.upgraded), rate: selfServeUpgradeRate(num(t.upgraded), num(t.eligible)) },
    by_kind: [...byKind.values()].sort((a, b) => b.upgrades - a.upgrades || b.expansion_mrr_cents - a.expansion_mrr_cents),
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
 * Accounts with their PQA, best score first, filtered by band, minimum score and a name/id search.
 * @example await adminAccounts(db, { band: 'hot', limit: 100 })
 */
export async function adminAccounts(db: Db, q: z.output<typeof adminAccountsQuerySchema>): Promise<AdminAccount[]> {
  const like = q.q ? `%${q.q.replace(/[\\%_]/g, (m) => '\\' + m)}%` : null;
  const band = q.band ?? null;
  const min = q.min_score ?? null;
  const rows = await db.all<Record<string, unknown>>(sql`
    SELECT a.id, a.name, a.plan_id, a.status, a.seats, p.score, p.band, p.entered_band_at, p.top_signals, p.computed_at
    FROM accounts a LEFT JOIN pqa_scores p ON p.account_id = a.id
    WHERE (${band} IS NULL OR p.band = ${band}) AND (${min} IS NULL OR p.score >= ${min})
      AND (${like} IS NULL OR a.id LIKE ${like} ESCAPE '\\' OR a.name LIKE ${like} ESCAPE '\\')
    ORDER BY coalesce(p.score, -1) DESC, a.id
    LIMIT ${q.limit}`);
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
  }));
}

/**
 * One account's prompt history over [from, to): a summary per user and prompt, and the latest events.
 * Null when the account does not exist.
 * @example await promptHistory(db, 'acme', { from, to, limit: 200 })
 */
export async function promptHistory(
  db: Db,
  accountId: string,
  range: { from: number; to: number; limit: number },
): Promise<PromptHistoryResponse | null> {
  const { from, to } = range;
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
      LIMIT ${range.limit}`,
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
