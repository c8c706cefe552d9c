import { Hono } from 'hono';
import { widgetEventsSchema, widgetStateQuerySchema } from '../../shared/schemas';
import { annualSaving, billedAmount } from '../../shared/retention';
import { loadAccountState, snapshotOf } from '../accounts';
import { scheduledChangeOf } from '../billing/retention';
import { intervalOf } from '../billing/upgrade';
import { database } from '../db';
import type { AppEnv } from '../env';
import { applyExperiments, assignExperiments, recordExposures, runningExperimentsQuery } from '../experiments';
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
    const [state, [definitionRows, history, activation, running], scheduledChange] = await Promise.all([
      loadAccountState(db, user.acct),
      db.batch([definitionsQuery(db), historyQuery(db, user.acct, user.sub, now), activationQuery(db), runningExperimentsQuery(db)]),
      scheduledChangeOf(db, user.acct),
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
    const interval = intervalOf(state.account, plan);
    const yearly = interval === 'month' ? billedAmount(plan, state.account.seats, 'year') : null;
    return c.json({
      account: {
        id: state.account.id,
        name: state.account.name,
        role: user.role,
        plan: {
          id: plan.id,
          name: plan.name,
          price_cents: plan.price_cents,
          currency: plan.currency,
          interval,
          // The yearly price (seats included) and its saving when the account can switch to yearly billing.
          ...(yearly !== null && { annual_amount_cents: yearly, annual_saving_cents: annualSaving(plan, state.account.seats) }),
        },
        seats: snap.seats,
      },
      scheduled_change: scheduledChange,
      // Lower plans an admin can move to at the period end (POST /v1/widget/downgrade), at the account's interval.
      ...(user.role === 'admin' && {
        downgrade_options: state.catalog.plans
          .filter((p) => p.rank < plan.rank && p.currency === plan.currency && billedAmount(p, state.account.seats, interval) !== null)
          .sort((a, b) => b.rank - a.rank)
          .map((p) => ({ plan_id: p.id, name: p.name, price_cents: billedAmount(p, p.seat_price_cents > 0 ? state.account.seats : 0, interval)!, currency: p.currency, interval })),
      }),
      meters: snap.meters,
      features: snap.features,
      prompts: served.prompts.map(({ definition_id: _, ...p }) => p),
      upgrade_options: snap.upgradeOptions.map((p) => ({
        plan_id: p.id,
        name: p.name,
        rank: p.rank,
        price_cents: p.price_cents,
        currency: p.currency,
        interval: p.interval,
        ...(p.annual_price_cents != null && { annual_price_cents: p.annual_price_cents }),
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
