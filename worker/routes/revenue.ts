import { Hono } from 'hono';
import { sql } from 'drizzle-orm';
import { revenueQuerySchema } from '../../shared/billingSchemas';
import { revenueMetrics, selfServeUpgradeRate, type MrrChange } from '../../shared/revenue';
import { laggingReads, type Db } from '../db';
import type { AppEnv } from '../env';
import { ApiError } from '../errors';
import { readQuery } from '../middleware/body';
import { refreshPromptDaily } from './analytics';
import { DAY_MS } from '../../shared/time';
import { toCsv } from '../../shared/csv';

const DEFAULT_SPAN_MS = 30 * DAY_MS;

/**
 * The ledger rows `revenueMetrics` needs for [from, to): each account's last change before
 * `from` (its starting MRR) and every change inside the period.
 */
async function ledgerFor(db: Db, from: number, to: number): Promise<MrrChange[]> {
  return db.all<MrrChange>(sql`
    SELECT account_id, at, kind, mrr_before_cents, mrr_after_cents, source, prompt_id, variant_id FROM mrr_ledger l
    WHERE (at >= ${from} AND at < ${to})
       OR (at < ${from} AND id = (SELECT id FROM mrr_ledger p WHERE p.account_id = l.account_id AND p.at < ${from} ORDER BY p.at DESC, p.id DESC LIMIT 1))
    ORDER BY at, id`);
}

/**
 * Accounts shown a prompt in [from, to), and those of them that upgraded self-serve. A range of
 * whole UTC days (as the dashboard asks) reads the roll-up of accounts shown a prompt per day,
 * brought up to date first; any other range reads the events.
 */
async function selfServeCounts(db: Db, from: number, to: number) {
  const wholeDays = from % DAY_MS === 0 && to % DAY_MS === 0;
  if (wholeDays) await refreshPromptDaily(db);
  const eligible = wholeDays
    ? sql`SELECT DISTINCT account_id FROM prompt_account_days WHERE day >= ${from} AND day < ${to}`
    : sql`SELECT DISTINCT account_id FROM prompt_events WHERE type = 'impression' AND timestamp >= ${from} AND timestamp < ${to}`;
  const rows = await db.all<{ eligible: number; upgraded: number }>(sql`
    WITH eligible AS (${eligible})
    SELECT
      (SELECT count(*) FROM eligible) AS eligible,
      (SELECT count(DISTINCT l.account_id) FROM mrr_ledger l JOIN eligible e ON e.account_id = l.account_id
        WHERE l.source = 'self_serve' AND l.mrr_after_cents > l.mrr_before_cents AND l.at >= ${from} AND l.at < ${to}) AS upgraded`);
  return rows[0] ?? { eligible: 0, upgraded: 0 };
}

/**
 * `GET /v1/admin/analytics/revenue?from&to` (admin): starting MRR, expansion, contraction,
 * churn, NRR, GRR, expansion by source, the MRR save offers kept and the self-serve upgrade rate, from the MRR
 * ledger; as CSV (a header and one row) with `Accept: text/csv`. Mounted at `/v1/admin/analytics`.
 */
export const revenueRoutes = new Hono<AppEnv>().get('/revenue', async (c) => {
  const q = readQuery(c, revenueQuerySchema);
  const to = q.to ?? c.get('now');
  const from = q.from ?? to - DEFAULT_SPAN_MS;
  if (from > to) throw new ApiError(400, 'validation_failed', 'from must not be after to.', [{ path: 'from', message: 'after to' }]);
  const db = laggingReads(c.env.DB);
  const [ledger, counts, saved] = await Promise.all([
    ledgerFor(db, from, to),
    selfServeCounts(db, from, to),
    // MRR kept by save offers accepted in the period (shared/retention.ts `savedMrr`).
    db.all<{ cents: number | null }>(sql`SELECT sum(saved_mrr_cents) AS cents FROM cancel_flows WHERE status = 'accepted' AND resolved_at >= ${from} AND resolved_at < ${to}`),
  ]);
  const m = revenueMetrics(ledger, from, to);
  const savedMrrCents = saved[0]?.cents ?? 0;
  const body = {
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
    ...m,
    saved_mrr_cents: savedMrrCents,
    self_serve: { upgraded_accounts: counts.upgraded, eligible_accounts: counts.eligible, rate: selfServeUpgradeRate(counts.upgraded, counts.eligible) },
  };
  if ((c.req.header('accept') ?? '').includes('text/csv')) {
    const row: Record<string, unknown> = {
      from: body.from,
      to: body.to,
      starting_mrr_cents: m.starting_mrr_cents,
      expansion_cents: m.expansion_cents,
      contraction_cents: m.contraction_cents,
      churn_cents: m.churn_cents,
      new_cents: m.new_cents,
      reactivation_cents: m.reactivation_cents,
      ending_mrr_cents: m.ending_mrr_cents,
      nrr: m.nrr,
      grr: m.grr,
      expansion_self_serve_cents: m.expansion_by_source.self_serve,
      expansion_sales_cents: m.expansion_by_source.sales,
      expansion_webhook_cents: m.expansion_by_source.webhook,
      saved_mrr_cents: savedMrrCents,
      self_serve_upgraded_accounts: counts.upgraded,
      self_serve_eligible_accounts: counts.eligible,
      self_serve_upgrade_rate: body.self_serve.rate,
    };
    const csv = toCsv([row], Object.keys(row));
    return c.body(csv, 200, { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': 'attachment; filename="revenue.csv"' });
  }
  return c.json(body);
});
