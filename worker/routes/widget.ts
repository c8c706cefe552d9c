import { Hono } from 'hono';
import { widgetStateQuerySchema } from '../../shared/schemas';
import { loadAccountState, snapshotOf } from '../accounts';
import { database } from '../db';
import type { AppEnv } from '../env';
import { readQuery } from '../middleware/body';

/** Widget routes (user token): everything the widget needs in one round trip. */
export const widgetRoutes = new Hono<AppEnv>().get('/state', async (c) => {
  readQuery(c, widgetStateQuerySchema);
  const user = c.get('user');
  const now = c.get('now');
  const state = await loadAccountState(database(c.env.DB), user.acct);
  const snap = snapshotOf(state, now);
  const plan = snap.plan;
  return c.json({
    account: {
      id: state.account.id,
      name: state.account.name,
      role: user.role,
      plan: { id: plan.id, name: plan.name, price_cents: plan.price_cents, currency: plan.currency, interval: plan.interval },
      seats: snap.seats,
    },
    meters: snap.meters,
    features: snap.features,
    prompts: [],
    upgrade_options: snap.upgradeOptions.map((p) => ({
      plan_id: p.id,
      name: p.name,
      rank: p.rank,
      price_cents: p.price_cents,
      currency: p.currency,
      interval: p.interval,
      limits: p.limits,
      features: p.features,
    })),
    caps: { session_prompts_left: 2 },
  });
});
