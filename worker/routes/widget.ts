import { Hono } from 'hono';
import { widgetEventsSchema, widgetStateQuerySchema } from '../../shared/schemas';
import { loadAccountState, snapshotOf } from '../accounts';
import { database } from '../db';
import type { AppEnv } from '../env';
import { readJson, readQuery } from '../middleware/body';
import {
  activationQuery,
  defaultActivation,
  definitionsQuery,
  historyQuery,
  isActivated,
  mergeDefinitions,
  promptsFor,
  recordWidgetEvents,
  type ActivationRule,
} from '../prompts';

/** Widget routes (user token): the state in one round trip, and prompt events. */
export const widgetRoutes = new Hono<AppEnv>()
  .get('/state', async (c) => {
    const { session } = readQuery(c, widgetStateQuerySchema);
    const user = c.get('user');
    const now = c.get('now');
    const db = database(c.env.DB);
    const [state, [definitionRows, history, activation]] = await Promise.all([
      loadAccountState(db, user.acct),
      db.batch([definitionsQuery(db), historyQuery(db, user.acct, user.sub, now), activationQuery(db)]),
    ]);
    const snap = snapshotOf(state, now);
    const rule = (activation[0]?.value as ActivationRule | undefined) ?? defaultActivation;
    const engine = promptsFor({
      state,
      snap,
      user,
      sessionId: session,
      definitions: mergeDefinitions(definitionRows),
      history,
      activated: isActivated(state.account, rule, now),
      now,
    });
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
      prompts: engine.prompts.map(({ definition_id: _, ...p }) => ({ ...p, variant_id: null, experiment_id: null })),
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
      caps: { session_prompts_left: engine.session_prompts_left },
    });
  })
  .post('/events', async (c) => {
    const { events } = await readJson(c, widgetEventsSchema);
    return c.json(await recordWidgetEvents(database(c.env.DB), c.get('user'), events, c.get('now')));
  });
