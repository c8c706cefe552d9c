import { Hono } from 'hono';
import { accountInputSchema, id } from '../../shared/schemas';
import { loadAccountState, snapshotOf, upsertAccount } from '../accounts';
import { loadCatalog } from '../catalog';
import { database } from '../db';
import type { AppEnv } from '../env';
import { validate } from '../errors';
import { readJson } from '../middleware/body';
import { liveCounters, meterOf } from '../usage';
import { isoOrNull } from '../../shared/time';


/** `PUT/GET /v1/accounts/:accountId` (secret key). */
export const accountRoutes = new Hono<AppEnv>()
  .put('/:accountId', async (c) => {
    const accountId = validate(id, c.req.param('accountId'), ['accountId']);
    const input = await readJson(c, accountInputSchema);
    const db = database(c.env.DB);
    await upsertAccount(db, accountId, input, await loadCatalog(db), c.get('now'));
    return c.json(await accountView(c.env, accountId, c.get('now')));
  })
  .get('/:accountId', async (c) => {
    const accountId = validate(id, c.req.param('accountId'), ['accountId']);
    return c.json(await accountView(c.env, accountId, c.get('now')));
  });

async function accountView(env: AppEnv['Bindings'], accountId: string, now: number) {
  const meter = meterOf(env);
  const state = await loadAccountState(meter.db, accountId, liveCounters(meter, accountId));
  const snap = snapshotOf(state, now);
  const a = state.account;
  return {
    id: a.id,
    name: a.name,
    plan_id: a.planId,
    seats: a.seats,
    status: a.status,
    created_at: isoOrNull(a.createdAt),
    activated_at: isoOrNull(a.activatedAt),
    stripe_customer_id: a.stripeCustomerId,
    stripe_subscription_id: a.stripeSubscriptionId,
    period_start: isoOrNull(a.periodStart),
    period_end: isoOrNull(a.periodEnd),
    usage: Object.fromEntries(snap.meters.map((m) => [m.metric, { used: m.used, limit: m.limit, pct: m.pct }])),
    entitlements: snap.entitlements,
    pqa: state.pqa ? { score: state.pqa.score, band: state.pqa.band } : { score: 0, band: 'nurture' },
  };
}
