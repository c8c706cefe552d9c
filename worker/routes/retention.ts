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

