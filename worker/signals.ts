/**
 * `usage.growth` signals: once a UTC day (the first cron run of the day) every counter with use
 * in the last 60 days is compared week over week and month over month from `usage_daily`, and
 * notable growth (WoW > 10% or MoM > 20%) is queued for the subscribed webhooks — at most once a
 * week per account and metric, per webhook. The same pass trims `usage_daily` to 70 days.
 */
import { DAY_MS } from '../shared/time';
import { sql } from 'drizzle-orm';
import { growthOf, isNotableGrowth } from '../shared/forecast';
import { dedupeKey } from '../shared/webhookSchemas';
import { sqlBatch, type Db } from './db';
import { subscribedWebhooks } from './webhooks';

const PASS_KEY = 'usage_growth_pass';
const PAGE_SIZE = 1000;
/** Days of `usage_daily` kept: the 60 month-over-month reads, and some slack. */
const USAGE_DAILY_RETENTION_DAYS = 70;

type PassState = { day: number; cursor: string; done: boolean };

/**
 * The daily growth pass; later runs of the same day do nothing, a pass cut short resumes from its cursor.
 * @example await runGrowthSignals(db, Date.now()) // { ran: true, signals: 3 }
 */
export async function runGrowthSignals(db: Db, now: number): Promise<{ ran: boolean; signals: number }> {
  const today = Math.floor(now / DAY_MS);
  const [rows] = await sqlBatch(db, [sql`SELECT value FROM settings WHERE key = ${PASS_KEY}`]);
  const state = rows?.[0] ? (JSON.parse(String(rows[0].value)) as PassState) : null;
  if (state && state.day === today && state.done) return { ran: false, signals: 0 };
  let cursor = state && state.day === today ? state.cursor : '';
  let signals = 0;
  for (;;) {
    const page = await growthPage(db, cursor, today, now);
    signals += page.signals;
    const done = page.last === null;
    if (!done) cursor = page.last!;
    await sqlBatch(db, [
      sql`INSERT INTO settings (key, value, updated_at) VALUES (${PASS_KEY}, ${JSON.stringify({ day: today, cursor, done })}, ${now})
          ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
      ...(done ? [sql`DELETE FROM usage_daily WHERE day < ${today - USAGE_DAILY_RETENTION_DAYS}`] : []),
    ]);
    if (done) return { ran: true, signals };
  }
}

/** One page of accounts after `after`: read their windows, queue the notable ones. `last` is null past the end. */
async function growthPage(db: Db, after: string, today: number, now: number): Promise<{ last: string | null; signals: number }> {
  const [accountRows = [], windows = []] = await sqlBatch(db, [
    sql`SELECT id FROM accounts WHERE id > ${after} ORDER BY id LIMIT ${PAGE_SIZE}`,
    sql`
      WITH chunk AS (SELECT id, name, plan_id FROM accounts WHERE id > ${after} ORDER BY id LIMIT ${PAGE_SIZE})
      SELECT c.id AS account_id, c.name AS name, c.plan_id AS plan_id, d.metric AS metric,
        SUM(CASE WHEN d.day >= ${today - 7} THEN d.used ELSE 0 END) AS last_7_days,
        SUM(CASE WHEN d.day >= ${today - 14} AND d.day < ${today - 7} THEN d.used ELSE 0 END) AS prior_7_days,
        SUM(CASE WHEN d.day >= ${today - 30} THEN d.used ELSE 0 END) AS last_30_days,
        SUM(CASE WHEN d.day < ${today - 30} THEN d.used ELSE 0 END) AS prior_30_days
      FROM chunk c JOIN usage_daily d ON d.account_id = c.id AND d.day >= ${today - 60} AND d.day < ${today}
      GROUP BY c.id, d.metric`,
  ]);
  const notable = windows
    .map((r) => {
      const sums = { last_7_days: Number(r.last_7_days), prior_7_days: Number(r.prior_7_days), last_30_days: Number(r.last_30_days), prior_30_days: Number(r.prior_30_days) };
      const account = String(r.account_id);
      const metric = String(r.metric);
      const growth = growthOf(sums);
      return {
        prefix: dedupeKey('usage.growth', account, metric, ''),
        key: dedupeKey('usage.growth', account, metric, today),
        notable: isNotableGrowth(growth),
        payload: { account_id: account, account_name: String(r.name), plan_id: String(r.plan_id), metric, ...growth, last_7_days: sums.last_7_days, last_30_days: sums.last_30_days },
      };
    })
    .filter((g) => g.notable);
  if (notable.length) {
    // A webhook that got this account and metric's growth in the last 7 days gets none today
    // (its keys end in the day they were queued; `~` sorts after every digit).
    await sqlBatch(db, [
      sql`
        INSERT INTO webhook_outbox (id, webhook_id, event, dedupe_key, payload, attempts, next_attempt_at, created_at)
        SELECT 'out_' || lower(hex(randomblob(12))), w.id, 'usage.growth', json_extract(g.value, '$.key'),
               json_extract(g.value, '$.payload'), 0, ${now}, ${now}
        FROM json_each(${JSON.stringify(notable)}) AS g JOIN (${subscribedWebhooks('usage.growth')}) AS w
        WHERE NOT EXISTS (
          SELECT 1 FROM webhook_outbox o
          WHERE o.webhook_id = w.id AND o.dedupe_key > json_extract(g.value, '$.prefix') AND o.dedupe_key < json_extract(g.value, '$.prefix') || '~'
            AND CAST(substr(o.dedupe_key, length(json_extract(g.value, '$.prefix')) + 1) AS INTEGER) > ${today - 7})
        ON CONFLICT DO NOTHING`,
    ]);
  }
  return { last: accountRows.length < PAGE_SIZE ? null : String(accountRows.at(-1)!.id), signals: notable.length };
}
