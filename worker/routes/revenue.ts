import { Hono } from 'hono';
import { revenueQuerySchema } from '../../shared/billingSchemas';
import { DAY_MS } from '../../shared/time';
import { toCsv } from '../../shared/csv';
import { revenueReport } from '../analytics';
import { laggingReads } from '../db';
import type { AppEnv } from '../env';
import { ApiError } from '../errors';
import { readQuery } from '../middleware/body';

const DEFAULT_SPAN_MS = 30 * DAY_MS;

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
  const body = await revenueReport(laggingReads(c.env.DB), from, to);
  if ((c.req.header('accept') ?? '').includes('text/csv')) {
    const row: Record<string, unknown> = {
      from: body.from,
      to: body.to,
      starting_mrr_cents: body.starting_mrr_cents,
      expansion_cents: body.expansion_cents,
      contraction_cents: body.contraction_cents,
      churn_cents: body.churn_cents,
      new_cents: body.new_cents,
      reactivation_cents: body.reactivation_cents,
      ending_mrr_cents: body.ending_mrr_cents,
      nrr: body.nrr,
      grr: body.grr,
      expansion_self_serve_cents: body.expansion_by_source.self_serve,
      expansion_sales_cents: body.expansion_by_source.sales,
      expansion_webhook_cents: body.expansion_by_source.webhook,
      saved_mrr_cents: body.saved_mrr_cents,
      self_serve_upgraded_accounts: body.self_serve.upgraded_accounts,
      self_serve_eligible_accounts: body.self_serve.eligible_accounts,
      self_serve_upgrade_rate: body.self_serve.rate,
    };
    const csv = toCsv([row], Object.keys(row));
    return c.body(csv, 200, { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': 'attachment; filename="revenue.csv"' });
  }
  return c.json(body);
});
