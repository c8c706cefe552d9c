import { Hono } from 'hono';
import { graceCeiling } from '../../shared/entitlements';
import { graceState, withGraceNotes } from '../../shared/grace';
import { MAX_WIDGET_EVENT_AGE_MS, widgetEventsSchema, widgetStateQuerySchema } from '../../shared/schemas';
import { loadAccountState, snapshotOf } from '../accounts';
import { database } from '../db';
import type { AppEnv } from '../env';
import { dailyUsageQuery, withForecasts } from '../forecasts';
import { applyExperiments, assignExperiments, recordExposures, runningExperimentsQuery } from '../experiments';
import { checkEventTimes, readJson, readQuery } from '../middleware/body';
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
    const [state, [definitionRows, history, activation, running, daily]] = await Promise.all([
      loadAccountState(db, user.acct),
      db.batch([definitionsQuery(db), historyQuery(db, user.acct, user.sub, now), activationQuery(db), runningExperimentsQuery(db), dailyUsageQuery(db, user.acct, now)]),
    ]);
    const snap = snapshotOf(state, now);
    const rule = (activation[0]?.value as ActivationRule | undefined) ?? defaultActivation;
    const arms = assignExperiments(running, user);
    const engine = promptsFor({
      state,
      snap,
      user,
      sessionId: session,
      definitions: mergeDefinitions(definitionRows),
      history,
      activated: isActivated(state.account, rule, now),
      copyOverrides: arms.copyOverrides,
      now,
    });
    // Experiment prompts carry their variant; a holdout unit's are dropped, its exposure still recorded.
    const served = applyExperiments(engine.prompts, arms.byPrompt);
    await recordExposures(db, user.acct, served.exposures, now);
    const plan = snap.plan;
    // Where the plan allows grace past a limit: on the meter, and in the 100% notice.
    const grace = Object.fromEntries(snap.meters.map((m) => [m.metric, graceState(m, graceCeiling(plan, m.metric, state.account))]));
    const units = Object.fromEntries(state.catalog.metrics.map((m) => [m.id, m.unit]));
    return c.json({
      account: {
        id: state.account.id,
        name: state.account.name,
        role: user.role,
        plan: { id: plan.id, name: plan.name, price_cents: plan.price_cents, currency: plan.currency, interval: plan.interval },
        seats: snap.seats,
      },
      meters: withForecasts(snap.meters, daily, state.account.createdAt, now).map((m) => (grace[m.metric] ? { ...m, grace: grace[m.metric] } : m)),
      features: snap.features,
      prompts: withGraceNotes(served.prompts, grace, units, user.locale).map(({ definition_id: _, ...p }) => p),
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
    checkEventTimes(events, c.get('now'), MAX_WIDGET_EVENT_AGE_MS);
    return c.json(await recordWidgetEvents(database(c.env.DB), c.get('user'), events, c.get('now')));
  });
