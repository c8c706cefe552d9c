import {
  acceptResultSchema,
  cancelAcceptSchema,
  cancelOfferResultSchema,
  cancelOfferSchema,
  cancelSchema,
  downgradePreviewResultSchema,
  downgradePreviewSchema,
  downgradeSchema,
  scheduledResultSchema,
  undoResultSchema,
} from '../../shared/billingSchemas';
import type { ErrorCode } from '../../shared/errors';
import { billingProvider } from '../billing/configured';
import { acceptOffer, cancelAtPeriodEnd, cancelOffer, previewDowngrade, requireAdmin, scheduleDowngrade, undoScheduledChange } from '../billing/retention';
import { database } from '../db';
import { body, json, route, widgetRouter } from './groups';

/** What a downgrade can refuse: a member asking, and a plan or seat count that is not lower. */
const DOWNGRADE_ERRORS: ErrorCode[] = ['admin_required', 'account_not_found', 'plan_not_found', 'unknown_plan', 'plan_not_offered', 'not_a_downgrade', 'already_on_plan', 'seats_not_sold'];
/** What a provider call can answer. */
const PROVIDER_ERRORS: ErrorCode[] = ['billing_provider_failed', 'no_subscription', 'not_billable', 'account_not_linked'];

const downgradePreviewRoute = route({
  method: 'post',
  path: '/downgrade/preview',
  summary: 'What a downgrade takes away (features, lower limits, metrics over the new limit) and when it takes effect (admins only)',
  request: { body: body(downgradePreviewSchema) },
  responses: { 200: json(downgradePreviewResultSchema, 'What the account loses, from the period end') },
  errors: DOWNGRADE_ERRORS,
});

const downgradeRoute = route({
  method: 'post',
  path: '/downgrade',
  summary: 'Schedule a downgrade for the period end, undoable until then (admins only; once per idempotency key)',
  request: { body: body(downgradeSchema) },
  responses: { 200: json(scheduledResultSchema, 'The downgrade, scheduled') },
  errors: [...DOWNGRADE_ERRORS, 'change_already_scheduled', 'already_canceled', 'idempotency_key_reused'],
});

const undoRoute = route({
  method: 'delete',
  path: '/scheduled-change',
  summary: 'Undo the scheduled downgrade or cancellation (admins only)',
  responses: { 200: json(undoResultSchema, 'Undone, or nothing was scheduled') },
  errors: ['admin_required', 'account_not_found', ...PROVIDER_ERRORS],
});

const offerRoute = route({
  method: 'post',
  path: '/cancel/offer',
  summary: 'Start a cancellation with its reason; answers the save offer for that reason (admins only)',
  request: { body: body(cancelOfferSchema) },
  responses: { 200: json(cancelOfferResultSchema, 'The save offer (kind none when there is none)') },
  errors: ['admin_required', 'account_not_found'],
});

const acceptRoute = route({
  method: 'post',
  path: '/cancel/accept',
  summary: 'Accept a save offer: discount, pause, downgrade or yearly billing (admins only; once per offer)',
  request: { body: body(cancelAcceptSchema) },
  responses: { 200: json(acceptResultSchema, 'The offer applied (or failed, with the reason)') },
  errors: [
    'admin_required',
    'account_not_found',
    'offer_not_found',
    'offer_already_accepted',
    'offer_closed',
    'offer_expired',
    'no_offer',
    'change_already_scheduled',
    'plan_not_found',
    'not_a_downgrade',
    'already_on_plan',
    'idempotency_key_reused',
    'upgrade_in_progress',
    ...PROVIDER_ERRORS,
  ],
});

const cancelRoute = route({
  method: 'post',
  path: '/cancel',
  summary: 'Cancel at the period end, undoable until then (admins only; once per idempotency key)',
  request: { body: body(cancelSchema) },
  responses: { 200: json(scheduledResultSchema, 'The cancellation, scheduled') },
  errors: ['admin_required', 'account_not_found', 'already_canceled', 'change_already_scheduled', 'idempotency_key_reused', ...PROVIDER_ERRORS],
});

/**
 * Widget routes that keep customers (admin user token; a member gets 403 `admin_required`):
 * downgrade preview and schedule, undo of the scheduled change, and cancel with a save offer.
 * Mounted at `/v1/widget`.
 */
export const retentionRoutes = widgetRouter()
  .openapi(downgradePreviewRoute, async (c) => {
    requireAdmin(c.get('user'));
    return c.json(await previewDowngrade(database(c.env.DB), c.get('user'), c.req.valid('json'), c.get('now')), 200);
  })
  .openapi(downgradeRoute, async (c) => c.json(await scheduleDowngrade(database(c.env.DB), c.get('user'), c.req.valid('json'), c.get('now')), 200))
  .openapi(undoRoute, async (c) => c.json(await undoScheduledChange(database(c.env.DB), billingProvider(c.env), c.get('user'), c.get('now')), 200))
  .openapi(offerRoute, async (c) => c.json(await cancelOffer(database(c.env.DB), c.get('user'), c.req.valid('json'), c.get('now')), 200))
  .openapi(acceptRoute, async (c) => c.json(await acceptOffer(database(c.env.DB), billingProvider(c.env), c.get('user'), c.req.valid('json'), c.get('now')), 200))
  .openapi(cancelRoute, async (c) => c.json(await cancelAtPeriodEnd(database(c.env.DB), billingProvider(c.env), c.get('user'), c.req.valid('json'), c.get('now')), 200));
