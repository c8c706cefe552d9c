import { Hono } from 'hono';
import { sql } from 'drizzle-orm';
import { trialStartSchema, upgradePreviewSchema, upgradeRequestSchema, upgradeSchema } from '../../shared/billingSchemas';
import { loadAccountState } from '../accounts';
import { billingProvider } from '../billing/provider';
import { confirmUpgrade, previewUpgrade } from '../billing/upgrade';
import { database, sqlBatch } from '../db';
import type { AppEnv } from '../env';
import { ApiError, notFound } from '../errors';
import { readJson } from '../middleware/body';

const DAY_MS = 86_400_000;

/**
 * Widget billing routes (user token): preview and confirm a plan or seat upgrade, ask the
 * admins for one, and start a feature trial. Mounted at `/v1/widget`.
 */
export const billingRoutes = new Hono<AppEnv>()
  .post('/upgrade/preview', async (c) => {
    const input = await readJson(c, upgradePreviewSchema);
    return c.json(await previewUpgrade(database(c.env.DB), billingProvider(c.env), c.get('user'), input, c.get('now')));
  })
  .post('/upgrade', async (c) => {
    const input = await readJson(c, upgradeSchema);
    return c.json(await confirmUpgrade(database(c.env.DB), billingProvider(c.env), c.get('user'), input, c.get('now')));
  })
  .post('/upgrade-requests', async (c) => {
    const input = await readJson(c, upgradeRequestSchema);
    const user = c.get('user');
    const now = c.get('now');
    const db = database(c.env.DB);
    const state = await loadAccountState(db, user.acct);
    const asked = input.plan_id === undefined ? undefined : state.catalog.plans.find((p) => p.id === input.plan_id);
    if (input.plan_id !== undefined && !asked) throw notFound('plan', input.plan_id, 'plan_id');
    if (asked?.hidden && asked.id !== state.account.planId)
      throw new ApiError(422, 'plan_not_offered', `${asked.name} is not offered: it is a hidden plan.`, [{ path: 'plan_id', message: 'a hidden plan is never offered' }]);
    const id = `upr_${crypto.randomUUID().replace(/-/g, '')}`;
    const request = {
      id,
      account_id: user.acct,
      user_id: user.sub,
      plan_id: input.plan_id ?? null,
      seats: input.seats ?? null,
      note: input.note ?? '',
      created_at: new Date(now).toISOString(),
    };
    const payload = JSON.stringify({
      event: 'upgrade.requested',
      account: { id: state.account.id, name: state.account.name, plan_id: state.account.planId, seats: state.account.seats },
      user: { id: user.sub, ...(user.name && { name: user.name }), ...(user.email && { email: user.email }) },
      request,
    });
    // The request and one outbox entry per enabled webhook subscribed to the event, in one batch.
    await sqlBatch(db, [
      sql`INSERT INTO upgrade_requests (id, account_id, user_id, plan_id, seats, note, created_at)
          VALUES (${id}, ${user.acct}, ${user.sub}, ${request.plan_id}, ${request.seats}, ${request.note}, ${now})`,
      sql`INSERT INTO webhook_outbox (id, webhook_id, event, dedupe_key, payload, attempts, next_attempt_at, created_at)
          SELECT ${id} || ':' || w.id, w.id, 'upgrade.requested', ${id}, ${payload}, 0, ${now}, ${now}
          FROM webhooks w
          WHERE w.enabled = 1 AND EXISTS (SELECT 1 FROM json_each(w.events) WHERE value = 'upgrade.requested')
          ON CONFLICT DO NOTHING`,
    ]);
    return c.json(request, 201);
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
