import { Hono } from 'hono';
import { sql } from 'drizzle-orm';
import {
  cancelAcceptSchema,
  cancelOfferSchema,
  cancelSchema,
  downgradePreviewSchema,
  downgradeSchema,
  saveOffersSchema,
  revenueQuerySchema,
} from '../../shared/billingSchemas';
import { savesByReason, type CancelFlow } from '../../shared/retention';
import { billingProvider } from '../billing/configured';
import {
  acceptOffer,
  cancelAtPeriodEnd,
  cancelOffer,
  previewDowngrade,
  putSaveOffers,
  requireAdmin,
  saveOffers,
  scheduleDowngrade,
  undoScheduledChange,
} from '../billing/retention';
import { database } from '../db';
import type { AppEnv } from '../env';
import { ApiError } from '../errors';
import { readJson, readQuery } from '../middleware/body';
import { toCsv } from '../../shared/csv';
import { DAY_MS } from '../../shared/time';

const DEFAULT_SPAN_MS = 30 * DAY_MS;

/**
 * Widget routes that keep customers (admin user token; a member gets 403 `admin_required`):
 * downgrade preview and schedule, undo of the scheduled change, and cancel with a save offer.
 * Mounted at `/v1/widget`.
 */
export const retentionRoutes = new Hono<AppEnv>()
  .post('/downgrade/preview', async (c) => {
    const input = await readJson(c, downgradePreviewSchema);
    requireAdmin(c.get('user'));
    return c.json(await previewDowngrade(database(c.env.DB), c.get('user'), input, c.get('now')));
  })
  .post('/downgrade', async (c) => {
    const input = await readJson(c, downgradeSchema);
    return c.json(await scheduleDowngrade(database(c.env.DB), c.get('user'), input, c.get('now')));
  })
  .delete('/scheduled-change', async (c) =>
    c.json(await undoScheduledChange(database(c.env.DB), billingProvider(c.env), c.get('user'), c.get('now'))),
  )
  .post('/cancel/offer', async (c) => {
    const input = await readJson(c, cancelOfferSchema);
    return c.json(await cancelOffer(database(c.env.DB), c.get('user'), input, c.get('now')));
  })
  .post('/cancel/accept', async (c) => {
    const input = await readJson(c, cancelAcceptSchema);
    return c.json(await acceptOffer(database(c.env.DB), billingProvider(c.env), c.get('user'), input, c.get('now')));
  })
  .post('/cancel', async (c) => {
    const input = await readJson(c, cancelSchema);
    return c.json(await cancelAtPeriodEnd(database(c.env.DB), billingProvider(c.env), c.get('user'), input, c.get('now')));
  });

/** `GET`/`PUT /v1/admin/save-offers` (admin): the save offer per cancellation reason. Mounted at `/v1/admin/save-offers`. */
export const saveOfferRoutes = new Hono<AppEnv>()
  .get('/', async (c) => c.json(await saveOffers(database(c.env.DB))))
  .put('/', async (c) => {
    const input = await readJson(c, saveOffersSchema);
    return c.json(await putSaveOffers(database(c.env.DB), input, c.get('now')));
  });

/**
 * `GET /v1/admin/analytics/saves?from&to` (admin): per reason, the cancellations started in
 * the period, offers shown and accepted, cancellations, save rate and MRR saved; CSV with
 * `Accept: text/csv`. Mounted at `/v1/admin/analytics`.
 */
export const savesRoutes = new Hono<AppEnv>().get('/saves', async (c) => {
  const q = readQuery(c, revenueQuerySchema);
  const to = q.to ?? c.get('now');
  const from = q.from ?? to - DEFAULT_SPAN_MS;
  if (from > to) throw new ApiError(400, 'validation_failed', 'from must not be after to.', [{ path: 'from', message: 'after to' }]);
  const flows = await database(c.env.DB).all<CancelFlow>(sql`
    SELECT reason, offer_kind, status, saved_mrr_cents FROM cancel_flows WHERE created_at >= ${from} AND created_at < ${to}`);
  const reasons = savesByReason(flows);
  if ((c.req.header('accept') ?? '').includes('text/csv')) {
    const header = ['reason', 'cancel_started', 'offers_shown', 'offers_accepted', 'canceled', 'save_rate', 'saved_mrr_cents'] as const;
    const csv = toCsv(reasons, header);
    return c.body(csv, 200, { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': 'attachment; filename="saves.csv"' });
  }
  return c.json({ from: new Date(from).toISOString(), to: new Date(to).toISOString(), reasons });
});
