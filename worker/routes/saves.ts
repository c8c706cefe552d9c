import { sql } from 'drizzle-orm';
import { revenueQuerySchema, savesSchema } from '../../shared/billingSchemas';
import { savesByReason, type CancelFlow } from '../../shared/retention';
import { database } from '../db';
import { ApiError } from '../errors';
import { adminRouter, jsonOrCsv, route } from './groups';
import { toCsv } from '../../shared/csv';
import { DAY_MS } from '../../shared/time';

const DEFAULT_SPAN_MS = 30 * DAY_MS;

const getSaves = route({
  method: 'get',
  path: '/',
  summary: 'Per cancellation reason: started, offers shown and accepted, canceled, save rate and MRR saved (JSON, or CSV)',
  request: { query: revenueQuerySchema },
  responses: { 200: jsonOrCsv(savesSchema, 'The saves report of the period') },
});

/**
 * `GET /v1/admin/analytics/saves?from&to` (admin): per reason, the cancellations started in
 * the period, offers shown and accepted, cancellations, save rate and MRR saved; CSV with
 * `Accept: text/csv`. Mounted at `/v1/admin/analytics/saves`.
 */
export const savesRoutes = adminRouter().openapi(getSaves, async (c) => {
  const q = c.req.valid('query');
  const to = q.to ?? c.get('now');
  const from = q.from ?? to - DEFAULT_SPAN_MS;
  if (from > to) throw new ApiError('validation_failed', 'from must not be after to.', [{ path: 'from', message: 'after to' }]);
  const flows = await database(c.env.DB).all<CancelFlow>(sql`
    SELECT reason, offer_kind, status, saved_mrr_cents FROM cancel_flows WHERE created_at >= ${from} AND created_at < ${to}`);
  const reasons = savesByReason(flows);
  if ((c.req.header('accept') ?? '').includes('text/csv')) {
    const header = ['reason', 'cancel_started', 'offers_shown', 'offers_accepted', 'canceled', 'save_rate', 'saved_mrr_cents'] as const;
    const csv = toCsv(reasons, header);
    return c.body(csv, 200, { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': 'attachment; filename="saves.csv"' });
  }
  return c.json({ from: new Date(from).toISOString(), to: new Date(to).toISOString(), reasons }, 200);
});
