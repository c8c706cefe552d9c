import { Hono } from 'hono';
import { sql } from 'drizzle-orm';
import { trialStartSchema, upgradePreviewSchema, upgradeRequestIdSchema, upgradeRequestSchema, upgradeSchema } from '../../shared/billingSchemas';
import { loadAccountState } from '../accounts';
import { billingProvider } from '../billing/configured';
import { confirmUpgrade, previewUpgrade } from '../billing/upgrade';
import { database } from '../db';
import type { AppEnv } from '../env';
import { ApiError, notFound, validate } from '../errors';
import { readJson } from '../middleware/body';
import { approveMetRequests, createUpgradeRequest, declineUpgradeRequest } from '../upgradeRequests';
import { DAY_MS } from '../../shared/time';

/**
 * Widget billing routes (user token): preview and confirm a plan or seat upgrade, ask the
 * admins for one (an admin may decline it), and start a feature trial. Mounted at `/v1/widget`.
 */
export const billingRoutes = new Hono<AppEnv>()
  .post('/upgrade/preview', async (c) => {
    const input = await readJson(c, upgradePreviewSchema);
    return c.json(await previewUpgrade(database(c.env.DB), billingProvider(c.env), c.get('user'), input, c.get('now')));
  })
  .post('/upgrade', async (c) => {
    const input = await readJson(c, upgradeSchema);
    const db = database(c.env.DB);
    const result = await confirmUpgrade(db, billingProvider(c.env), c.get('user'), input, c.get('now'));
    // members' requests this upgrade meets are approved
    if (result.status === 'succeeded') await approveMetRequests(db, c.get('user').acct, c.get('now'));
    return c.json(result);
  })
  .post('/upgrade-requests', async (c) => {
    const input = await readJson(c, upgradeRequestSchema);
    const user = c.get('user');
    const db = database(c.env.DB);
    const state = await loadAccountState(db, user.acct);
    const asked = input.plan_id === undefined ? undefined : state.catalog.plans.find((p) => p.id === input.plan_id);
    if (input.plan_id !== undefined && !asked) throw notFound('plan', input.plan_id, 'plan_id');
    if (asked?.hidden && asked.id !== state.account.planId)
      throw new ApiError(422, 'plan_not_offered', `${asked.name} is not offered: it is a hidden plan.`, [{ path: 'plan_id', message: 'a hidden plan is never offered' }]);
    const { request, created } = await createUpgradeRequest(db, user, state, input, c.get('now'));
    return c.json(request, created ? 201 : 200);
  })
  .post('/upgrade-requests/:id/decline', async (c) => {
    const id = validate(upgradeRequestIdSchema, c.req.param('id'), ['id']);
    return c.json(await declineUpgradeRequest(database(c.env.DB), c.get('user'), id, c.get('now')));
  })
  .post('/trials', async (c) => {
    const { feature_id } = await readJson(c, trialStartSchema);
    const user = c.get('user');
    const now = c.get('now');
    const db = database(c.env.DB);
    const state = await loadAccountState(db, user.acct);
    const feature = state.catalog.features.find((f) => f.id === feature_id);
    if (!feature) throw notFound('feature', feature_id, 'feature_id');
    const plan = state.catalog.plans.find((p) => p.id === state.account.planId);
    if (plan?.features.includes(feature_id))
      throw new ApiError(422, 'already_entitled', `${feature.name} is already in the ${plan.name} plan.`, [{ path: 'feature_id', message: 'in the current plan' }]);
    if (feature.trial_days <= 0)
      throw new ApiError(422, 'trial_not_available', `${feature.name} has no trial.`, [{ path: 'feature_id', message: 'trial_days is 0' }]);
    const endsAt = now + feature.trial_days * DAY_MS;
    const inserted = await db.all(sql`
      INSERT INTO trials (account_id, feature_id, started_at, ends_at) VALUES (${user.acct}, ${feature_id}, ${now}, ${endsAt})
      ON CONFLICT (account_id, feature_id) DO NOTHING RETURNING ends_at`);
    if (inserted.length === 0)
      throw new ApiError(409, 'trial_already_used', `This account has already had its ${feature.name} trial.`, [{ path: 'feature_id', message: 'trial already used' }]);
    return c.json({ feature_id, trial_ends_at: new Date(endsAt).toISOString() }, 201);
  });
