import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { upgradeRequestViewSchema } from '../../shared/analyticsSchemas';
import {
  trialStartedSchema,
  trialStartSchema,
  upgradePreviewAnswerSchema,
  upgradePreviewSchema,
  upgradeRequestIdSchema,
  upgradeRequestSchema,
  upgradeResultSchema,
  upgradeSchema,
} from '../../shared/billingSchemas';
import type { ErrorCode } from '../../shared/errors';
import { loadAccountState } from '../accounts';
import { billingProvider } from '../billing/configured';
import { confirmUpgrade, previewUpgrade } from '../billing/upgrade';
import { database } from '../db';
import { ApiError, notFound } from '../errors';
import { approveMetRequests, createUpgradeRequest, declineUpgradeRequest } from '../upgradeRequests';
import { DAY_MS } from '../../shared/time';
import { body, json, route, widgetRouter } from './groups';

/** What a quote can refuse: the plan or seats asked for, and an account the billing provider cannot charge. */
const QUOTE_ERRORS: ErrorCode[] = ['account_not_found', 'plan_not_found', 'unknown_plan', 'plan_not_offered', 'not_an_upgrade', 'already_on_plan', 'seats_not_sold', 'not_billable', 'no_subscription', 'account_not_linked', 'talk_to_sales', 'billing_provider_failed'];

const previewRoute = route({
  method: 'post',
  path: '/upgrade/preview',
  summary: 'Quote a plan or seat upgrade: amount now, next amount and date, and the sentence (routed to sales: no charge)',
  request: { body: body(upgradePreviewSchema) },
  responses: { 200: json(upgradePreviewAnswerSchema, 'The quote, or the sales route with no charge') },
  errors: QUOTE_ERRORS,
});

const upgradeRoute = route({
  method: 'post',
  path: '/upgrade',
  summary: 'Confirm a previewed upgrade (admins only; once per idempotency key)',
  request: { body: body(upgradeSchema) },
  responses: { 200: json(upgradeResultSchema, 'The upgrade: succeeded, needs the customer (requires_action) or failed') },
  errors: [...QUOTE_ERRORS, 'admin_required', 'preview_expired', 'idempotency_key_reused', 'upgrade_in_progress', 'billing_provider_failed'],
});

const askRoute = route({
  method: 'post',
  path: '/upgrade-requests',
  summary: "Ask the account's admins for a plan or seats (the same ask within 24 hours answers 200 with the open request)",
  request: { body: body(upgradeRequestSchema) },
  responses: { 201: json(upgradeRequestViewSchema, 'The request, created'), 200: json(upgradeRequestViewSchema, 'The same open request, asked again within 24 hours') },
  errors: ['account_not_found', 'plan_not_found', 'plan_not_offered'],
});

const declineRoute = route({
  method: 'post',
  path: '/upgrade-requests/{id}/decline',
  summary: "An admin declines a member's open upgrade request",
  request: { params: z.strictObject({ id: upgradeRequestIdSchema }) },
  responses: { 200: json(upgradeRequestViewSchema, 'The request, declined') },
  errors: ['admin_required', 'not_found', 'already_resolved'],
});

const trialRoute = route({
  method: 'post',
  path: '/trials',
  summary: "Start a feature's trial, once per account",
  request: { body: body(trialStartSchema) },
  responses: { 201: json(trialStartedSchema, 'The trial, started') },
  errors: ['account_not_found', 'feature_not_found', 'already_entitled', 'trial_not_available', 'trial_already_used'],
});

/**
 * Widget billing routes (user token): preview and confirm a plan or seat upgrade, ask the
 * admins for one (an admin may decline it), and start a feature trial. Mounted at `/v1/widget`.
 */
export const billingRoutes = widgetRouter()
  .openapi(previewRoute, async (c) => c.json(await previewUpgrade(database(c.env.DB), billingProvider(c.env), c.get('user'), c.req.valid('json'), c.get('now')), 200))
  .openapi(upgradeRoute, async (c) => {
    const db = database(c.env.DB);
    const result = await confirmUpgrade(db, billingProvider(c.env), c.get('user'), c.req.valid('json'), c.get('now'));
    // members' requests this upgrade meets are approved
    if (result.status === 'succeeded') await approveMetRequests(db, c.get('user').acct, c.get('now'));
    return c.json(result, 200);
  })
  .openapi(askRoute, async (c) => {
    const input = c.req.valid('json');
    const user = c.get('user');
    const db = database(c.env.DB);
    const state = await loadAccountState(db, user.acct);
    const asked = input.plan_id === undefined ? undefined : state.catalog.plans.find((p) => p.id === input.plan_id);
    if (input.plan_id !== undefined && !asked) throw notFound('plan', input.plan_id, 'plan_id');
    if (asked?.hidden && asked.id !== state.account.planId)
      throw new ApiError('plan_not_offered', `${asked.name} is not offered: it is a hidden plan.`, [{ path: 'plan_id', message: 'a hidden plan is never offered' }]);
    const { request, created } = await createUpgradeRequest(db, user, state, input, c.get('now'));
    return created ? c.json(request, 201) : c.json(request, 200);
  })
  .openapi(declineRoute, async (c) => c.json(await declineUpgradeRequest(database(c.env.DB), c.get('user'), c.req.valid('param').id, c.get('now')), 200))
  .openapi(trialRoute, async (c) => {
    const { feature_id } = c.req.valid('json');
    const user = c.get('user');
    const now = c.get('now');
    const db = database(c.env.DB);
    const state = await loadAccountState(db, user.acct);
    const feature = state.catalog.features.find((f) => f.id === feature_id);
    if (!feature) throw notFound('feature', feature_id, 'feature_id');
    const plan = state.catalog.plans.find((p) => p.id === state.account.planId);
    if (plan?.features.includes(feature_id))
      throw new ApiError('already_entitled', `${feature.name} is already in the ${plan.name} plan.`, [{ path: 'feature_id', message: 'in the current plan' }]);
    if (feature.trial_days <= 0)
      throw new ApiError('trial_not_available', `${feature.name} has no trial.`, [{ path: 'feature_id', message: 'trial_days is 0' }]);
    const endsAt = now + feature.trial_days * DAY_MS;
    const inserted = await db.all(sql`
      INSERT INTO trials (account_id, feature_id, started_at, ends_at) VALUES (${user.acct}, ${feature_id}, ${now}, ${endsAt})
      ON CONFLICT (account_id, feature_id) DO NOTHING RETURNING ends_at`);
    if (inserted.length === 0)
      throw new ApiError('trial_already_used', `This account has already had its ${feature.name} trial.`, [{ path: 'feature_id', message: 'trial already used' }]);
    return c.json({ feature_id, trial_ends_at: new Date(endsAt).toISOString() }, 201);
  });
