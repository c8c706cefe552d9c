/**
 * The Cron Trigger (every 15 minutes, wrangler.toml): apply downgrades and cancellations due
 * at their period end, roll billing periods forward, the daily PQA recompute with decay,
 * bring the dashboard's roll-ups up to date (bounded per run), deliver the webhook outbox, then delete what is past its retention (worker/dataRetention.ts).
 * A production worker whose configuration is unsafe does nothing. Each step runs even if
 * an earlier one failed; a failure is logged and fails the run afterwards.
 */
import { sql } from 'drizzle-orm';
import { rollPeriod } from '../shared/entitlements';
import { database, sqlBatch, type Db } from './db';
import type { Env } from './env';
import { billingChoice, configProblems } from './config';
import { applyScheduledChanges } from './billing/retention';
import { localProvider, renewalInvoices, type RenewalAccount } from './billing/local';
import { stripeProvider } from './billing/stripe';
import { runDailyRecompute } from './pqa';
import { runGrowthSignals } from './signals';
import { enforceRetention } from './dataRetention';
import { deliverAllDue } from './webhooks';
import { refreshPromptDaily } from './analytics';

/** Prompt-event chunks (100,000 events each) the cron rolls up per run: bounded work, ahead of any read. */
const ROLLUP_CHUNKS_PER_RUN = 40;

const PAGE = 500;
/** Settings key of the last cron run's end mark (`{ started_at, finished_at, errors }`). */
const CRON_RUN_KEY = 'cron_run';

/**
 * Accounts whose period ended get the period containing `now` (`rollPeriod`: by calendar
 * months when the period is whole months, else by its length). With `invoiceLocally` (the
 * local billing provider), each period started records its renewal invoice in the same write
 * (worker/billing/local.ts `renewalInvoices`: a save offer's discount or pause lowers it). One
 * read and one write per 500 accounts; an account whose period changed meanwhile is left alone.
 * @example await rollAccountPeriods(db, Date.now(), { invoiceLocally: true }) // 12
 */
export async function rollAccountPeriods(db: Db, now: number, opts: { invoiceLocally?: boolean } = {}): Promise<number> {
  let rolled = 0;
  for (;;) {
    const [due = []] = await sqlBatch(db, [
      sql`SELECT a.id, a.period_start, a.period_end, a.seats, a.billing_interval, a.discount_percent, a.discount_ends_at, a.paused_until,
                 p.name AS plan_name, p.currency, p.price_cents, p.seat_price_cents, p.interval, p.annual_price_cents, p.annual_seat_price_cents
          FROM accounts a LEFT JOIN plans p ON p.id = a.plan_id
          WHERE a.period_end <= ${now} AND a.period_start IS NOT NULL AND a.period_end > a.period_start AND a.status != 'canceled'
          ORDER BY a.id LIMIT ${PAGE}`,
    ]);
    if (!due.length) return rolled;
    const next = due.map((r) => {
      const period = rollPeriod(Number(r.period_start), Number(r.period_end), now);
      return { id: String(r.id), old: Number(r.period_end), s: period.start, e: period.end };
    });
    const invoices = opts.invoiceLocally ? due.flatMap((r) => renewalInvoices(r as unknown as RenewalAccount, now)) : [];
    await sqlBatch(db, [
      ...(invoices.length
        ? [
            // Before the roll, guarded by the period it renews, so a run that lost the race writes none.
            sql`INSERT INTO invoices (id, account_id, provider, amount_cents, currency, status, description, proration_date, created_at)
                SELECT json_extract(r.value, '$.id'), json_extract(r.value, '$.account_id'), 'local', json_extract(r.value, '$.amount_cents'),
                       json_extract(r.value, '$.currency'), 'paid', json_extract(r.value, '$.description'), NULL, json_extract(r.value, '$.at')
                FROM json_each(${JSON.stringify(invoices)}) AS r
                WHERE EXISTS (SELECT 1 FROM accounts a WHERE a.id = json_extract(r.value, '$.account_id') AND a.period_end = json_extract(r.value, '$.renews'))
                ON CONFLICT (id) DO NOTHING`,
          ]
        : []),
      sql`UPDATE accounts SET period_start = json_extract(r.value, '$.s'), period_end = json_extract(r.value, '$.e'), updated_at = ${now}
          FROM json_each(${JSON.stringify(next)}) AS r
          WHERE accounts.id = json_extract(r.value, '$.id') AND accounts.period_end = json_extract(r.value, '$.old')`,
    ]);
    rolled += due.length;
    if (due.length < PAGE) return rolled;
  }
}

export type ScheduledReport = {
  scheduled_changes_applied: number;
  periods_rolled: number;
  pqa: { ran: boolean; scored: number; done: boolean };
  growth: { ran: boolean; signals: number };
  rollups_current: boolean;
  webhooks: { delivered: number; failed: number };
  retention: Record<string, number>;
  errors: string[];
};

/**
 * One cron run at `now`.
 * @example await runScheduled(env, Date.now())
 */
export async function runScheduled(env: Env, now: number): Promise<ScheduledReport> {
  const db = database(env.DB);
  const errors: string[] = [];
  const step = async <T>(name: string, fallback: T, run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (err) {
      console.error(`[ladder] scheduled ${name} failed`, err instanceof Error ? err.stack ?? err.message : err);
      errors.push(`${name}: ${err instanceof Error ? err.message : String(err)}`);
      return fallback;
    }
  };
  // An account billed by Stripe changes through Stripe; one without a subscription only in D1.
  const providerFor = (account: { stripeSubscriptionId: string | null }) =>
    env.STRIPE_SECRET_KEY && account.stripeSubscriptionId ? stripeProvider(env) : localProvider(env);
  const report: ScheduledReport = {
    // Before the periods roll, so a change due at the period end applies to the period it ends.
    scheduled_changes_applied: await step('scheduled changes', 0, () => applyScheduledChanges(db, providerFor, now)),
    periods_rolled: await step('periods', 0, () => rollAccountPeriods(db, now, { invoiceLocally: billingChoice(env) === 'local' })),
    pqa: await step('pqa', { ran: false, scored: 0, done: false }, () => runDailyRecompute(db, now)),
    growth: await step('growth', { ran: false, signals: 0 }, () => runGrowthSignals(db, now)),
    // The dashboard's roll-ups, so no read pays for a backlog (a read still counts whatever came since).
    rollups_current: await step('rollups', false, () => refreshPromptDaily(db, ROLLUP_CHUNKS_PER_RUN)),
    webhooks: await step('webhooks', { delivered: 0, failed: 0 }, () => deliverAllDue(db, now)),
    retention: await step('retention', {}, () => enforceRetention(db, now)),
    errors,
  };
  // The run's end mark: when it started and ended, and what failed (settings `cron_run`), so a
  // reader (the bench, an operator) knows the run is over and the database is the readers' again.
  await step('end mark', undefined, () =>
    sqlBatch(db, [
      sql`INSERT INTO settings (key, value, updated_at)
          VALUES (${CRON_RUN_KEY}, ${JSON.stringify({ started_at: now, finished_at: Date.now(), errors: errors.length })}, ${now})
          ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
    ]),
  );
  if (errors.length) throw new Error(`scheduled run had failures: ${errors.join('; ')}`);
  return report;
}

/** The `scheduled` export of the worker. */
export const scheduled = (_controller: unknown, env: Env, ctx: { waitUntil(p: Promise<unknown>): void }) => {
  const problems = configProblems(env);
  if (problems.length) {
    console.error(`[ladder] scheduled run skipped: the configuration is unsafe (${problems.join('; ')})`);
    return;
  }
  ctx.waitUntil(runScheduled(env, Date.now()));
};
