/**
 * Retention: nothing Ladder stores grows without bound. The cron deletes rows past their age
 * here, a bounded number per run (`PAGE` rows a statement, `MAX_PAGES` statements a table), so
 * a backlog drains over a few runs without one run holding the database.
 *
 * The event tables (millions of rows, no index on their time: one would cost every insert)
 * are examined a window of `SCAN_ROWS` rows per run (counted in rowid order, so the gaps that
 * deleted rows leave cost nothing), from where the last run stopped (settings
 * `retention_scan`), starting over at the first row after the last: a run reads at most that
 * many rows of each whatever the table's size, and a row past its age goes within one sweep
 * (live rows ÷ SCAN_ROWS runs of the 15-minute cron: 10 M events in ~13 hours).
 *
 * Tables not listed are bounded by configuration or by the number of accounts (catalog,
 * accounts, counters, trials, PQA scores, billing state, settings, prompts, webhooks,
 * experiments) — or are financial records kept as long as the deployment lives (invoices,
 * the MRR ledger: NRR needs their whole history, and each row is a real billing change).
 * The README lists the same table.
 */
import { sql, type SQL } from 'drizzle-orm';
import { sqlBatch, type Db } from './db';
import { deleteEndedSessions } from './session';
import { DAY_MS } from '../shared/time';

const PAGE = 5_000;
const MAX_PAGES = 10;
/** Rows of an event table examined per run. */
const SCAN_ROWS = 200_000;
const SCAN_KEY = 'retention_scan';

export type RetentionRule = {
  table: string;
  /** How long a row is kept, in days. */
  keepDays: number;
  /** Why that long. */
  why: string;
  /** The rows past retention (`cutoff` is epoch ms); selects `rowid`. A rule with `sweep` looks only at rowids in `window`. */
  expired: (cutoff: number, window: Window) => SQL;
  /** Examined a window of rowids per run (the event tables), not whole. */
  sweep?: boolean;
};
type Window = { from: number; to: number };
const inWindow = (column: SQL, w: Window) => sql`${column} > ${w.from} AND ${column} <= ${w.to}`;

export const RETENTION: RetentionRule[] = [
  {
    table: 'usage_events',
    keepDays: 100,
    why: 'idempotency keys (at least 35 days) and the 90 days of daily usage forecasts and the rule simulator replay; counters hold the totals',
    sweep: true,
    expired: (cutoff, w) => sql`SELECT rowid FROM usage_events WHERE ${inWindow(sql`rowid`, w)} AND timestamp < ${cutoff} LIMIT ${PAGE}`,
  },
  {
    table: 'track_events',
    keepDays: 400,
    why: 'PQA signals of the last 13 months; the newest event of each kind per account is kept for good, so one-time behaviours (core feature activated, integration built) keep their points',
    sweep: true,
    expired: (cutoff, w) => sql`
      SELECT t.rowid FROM track_events t WHERE ${inWindow(sql`t.rowid`, w)} AND t.timestamp < ${cutoff}
        AND EXISTS (SELECT 1 FROM track_events n WHERE n.account_id = t.account_id AND n.event = t.event AND n.timestamp > t.timestamp)
      LIMIT ${PAGE}`,
  },
  {
    table: 'prompt_events',
    keepDays: 400,
    why: 'frequency caps (30-day suppressions, 120-day history) and 13 months of raw funnels; older funnels come from the daily roll-up',
    sweep: true,
    expired: (cutoff, w) => sql`SELECT rowid FROM prompt_events WHERE ${inWindow(sql`rowid`, w)} AND timestamp < ${cutoff} LIMIT ${PAGE}`,
  },
  {
    table: 'prompt_daily',
    keepDays: 3 * 366,
    why: 'three years of daily funnel and upgrade-rate roll-ups',
    expired: (cutoff) => sql`SELECT rowid FROM prompt_daily WHERE day < ${cutoff} LIMIT ${PAGE}`,
  },
  {
    table: 'prompt_day_totals',
    keepDays: 3 * 366,
    why: 'the funnel roll-up (prompt_daily without the account), kept as long as prompt_daily',
    expired: (cutoff) => sql`SELECT rowid FROM prompt_day_totals WHERE day < ${cutoff} LIMIT ${PAGE}`,
  },
  {
    table: 'prompt_shown_days',
    keepDays: 3 * 366,
    why: 'the upgrade rate roll-up (the days each account was shown a prompt, per kind), kept as long as prompt_daily',
    expired: (cutoff) => sql`SELECT rowid FROM prompt_shown_days WHERE day < ${cutoff} LIMIT ${PAGE}`,
  },
  {
    table: 'prompt_shown_counts',
    keepDays: 3 * 366,
    why: 'prompt_shown_days counted per kind, day and previous day, kept as long as prompt_daily',
    expired: (cutoff) => sql`SELECT rowid FROM prompt_shown_counts WHERE day < ${cutoff} LIMIT ${PAGE}`,
  },
  {
    table: 'stripe_events',
    keepDays: 90,
    why: 'Stripe retries a delivery for up to 3 days; ids are kept far longer so a replay is still recognised',
    expired: (cutoff) => sql`SELECT rowid FROM stripe_events WHERE received_at < ${cutoff} LIMIT ${PAGE}`,
  },
  {
    table: 'webhook_outbox',
    keepDays: 30,
    why: 'delivered rows for the delivery counts of the last month; a row still undelivered after 30 days is given up',
    expired: (cutoff) => sql`SELECT rowid FROM webhook_outbox WHERE created_at < ${cutoff} LIMIT ${PAGE}`,
  },
  {
    table: 'upgrades',
    keepDays: 400,
    why: 'idempotency of upgrade clicks (at least 35 days) and 13 months of upgrade history in the account view',
    expired: (cutoff) => sql`SELECT rowid FROM upgrades WHERE created_at < ${cutoff} LIMIT ${PAGE}`,
  },
  {
    table: 'upgrade_requests',
    keepDays: 400,
    why: '13 months of requests from members to their admins',
    expired: (cutoff) => sql`SELECT rowid FROM upgrade_requests WHERE created_at < ${cutoff} LIMIT ${PAGE}`,
  },
  {
    table: 'experiment_exposures',
    keepDays: 400,
    why: 'results of experiments of the last 13 months (exposures of experiments still running are kept)',
    expired: (cutoff) => sql`
      SELECT x.rowid FROM experiment_exposures x JOIN experiments e ON e.id = x.experiment_id
      WHERE x.first_exposed_at < ${cutoff} AND e.status != 'running' LIMIT ${PAGE}`,
  },
  {
    table: 'cancel_flows',
    keepDays: 2 * 366,
    why: 'two years of cancellations and save offers for the saves report (the 90-day offer cap reads far less)',
    expired: (cutoff) => sql`SELECT rowid FROM cancel_flows WHERE created_at < ${cutoff} LIMIT ${PAGE}`,
  },
  {
    table: 'catalog_versions',
    keepDays: 2 * 366,
    why: 'two years of catalog history; the newest version is always kept',
    expired: (cutoff) => sql`
      SELECT rowid FROM catalog_versions WHERE created_at < ${cutoff} AND version < (SELECT max(version) FROM catalog_versions) LIMIT ${PAGE}`,
  },
];

/** The rowid `rows` rows after `from` in `table` (the last rowid when fewer are left): one walk of the rowid index. */
async function windowEnd(db: Db, table: string, from: number, rows: number, last: number): Promise<number> {
  const [[row] = []] = await sqlBatch(db, [
    sql`SELECT rowid AS n FROM ${sql.raw(table)} WHERE rowid > ${from} ORDER BY rowid LIMIT 1 OFFSET ${rows - 1}`,
  ]);
  return row ? Number(row.n) : Math.max(last, from);
}

/**
 * Delete what is past retention at `now`; returns rows deleted per table (and ended dashboard sessions).
 * The event tables' sweep windows move on only once a window has nothing left to delete.
 * @example await enforceRetention(db, Date.now()) // { usage_events: 5000, …, admin_sessions: 2 }
 */
export async function enforceRetention(db: Db, now: number, scanRows = SCAN_ROWS): Promise<Record<string, number>> {
  const swept = RETENTION.filter((r) => r.sweep);
  const [stateRows = [], ...lastRows] = await sqlBatch(db, [
    sql`SELECT value FROM settings WHERE key = ${SCAN_KEY}`,
    ...swept.map((r) => sql`SELECT coalesce(max(rowid), 0) AS n FROM ${sql.raw(r.table)}`),
  ]);
  const marks = (stateRows[0] ? JSON.parse(String(stateRows[0].value)) : {}) as Record<string, number>;
  const deleted: Record<string, number> = {};
  for (const rule of RETENTION) {
    const cutoff = now - rule.keepDays * DAY_MS;
    const i = swept.indexOf(rule);
    const last = i >= 0 ? Number(lastRows[i]?.[0]?.n ?? 0) : 0;
    const from = i >= 0 && (marks[rule.table] ?? 0) < last ? (marks[rule.table] ?? 0) : 0;
    // The window ends `scanRows` rows on, not rowids: rowids only grow and deleted rows leave gaps,
    // so a window of rowids would examine ever emptier ranges as the deployment ages.
    const window = i >= 0 ? { from, to: await windowEnd(db, rule.table, from, scanRows, last) } : { from: 0, to: 0 };
    let total = 0;
    let drained = false;
    for (let page = 0; page < MAX_PAGES; page++) {
      const [rows = []] = await sqlBatch(db, [
        sql`DELETE FROM ${sql.raw(rule.table)} WHERE rowid IN (${rule.expired(cutoff, window)}) RETURNING 1 AS x`,
      ]);
      total += rows.length;
      if (rows.length < PAGE) {
        drained = true;
        break;
      }
    }
    // The next run goes on after this window, or from the first row once past the last.
    if (i >= 0 && drained) marks[rule.table] = window.to >= last ? 0 : window.to;
    else if (i >= 0) marks[rule.table] = window.from;
    deleted[rule.table] = total;
  }
  if (swept.length)
    await sqlBatch(db, [
      sql`INSERT INTO settings (key, value, updated_at) VALUES (${SCAN_KEY}, ${JSON.stringify(marks)}, ${now})
          ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
    ]);
  deleted.admin_sessions = await deleteEndedSessions(db, now);
  return deleted;
}
