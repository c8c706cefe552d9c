import { Hono } from 'hono';
import { MAX_WIDGET_EVENT_AGE_MS, widgetEventsSchema, widgetStateQuerySchema, type UserClaims, type WidgetEvent } from '../../shared/schemas';
import { annualSaving, billedAmount } from '../../shared/retention';
import { loadAccountState, snapshotOf } from '../accounts';
import { scheduledChangeOf } from '../billing/retention';
import { intervalOf } from '../billing/upgrade';
import { database, sqlBatch } from '../db';
import type { AppEnv } from '../env';
import { ApiError, type ErrorDetail } from '../errors';
import { signServe, verifyServe } from '../serveToken';
import { applyExperiments, assignExperiments, recordExposures, runningExperimentsQuery } from '../experiments';
import { checkEventTimes, readJson, readQuery } from '../middleware/body';
import { openUpgradeRequests } from '../upgradeRequests';
import {
  activationEventsSql,
  activationQuery,
  activationRuleFrom,
  definitionsQuery,
  historyQuery,
  isActivated,
  lifetimeQuery,
  mergeDefinitions,
  promptsFor,
  recordWidgetEvents,
} from '../prompts';

/** Widget routes (user token): the state in one round trip, and prompt events. */
export const widgetRoutes = new Hono<AppEnv>()
  .get('/state', async (c) => {
    const { session } = readQuery(c, widgetStateQuerySchema);
    const user = c.get('user');
    const now = c.get('now');
    const db = database(c.env.DB);
    const [state, [definitionRows, history, lifetime, activation, running], [activationEvents], requests, scheduledChange] = await Promise.all([
      loadAccountState(db, user.acct),
      db.batch([
        definitionsQuery(db),
        historyQuery(db, user.acct, user.sub, now),
        lifetimeQuery(db, user.acct, user.sub),
        activationQuery(db),
        runningExperimentsQuery(db),
      ]),
      sqlBatch(db, [activationEventsSql(user.acct)]),
      // admins see their members' open upgrade requests
      user.role === 'admin' ? openUpgradeRequests(db, user.acct, now) : null,
      scheduledChangeOf(db, user.acct),
    ]);
    const snap = snapshotOf(state, now);
    const rule = activationRuleFrom(activation);
    const arms = assignExperiments(running, user);
    const engine = promptsFor({
      state,
      snap,
      user,
      sessionId: session,
      definitions: mergeDefinitions(definitionRows),
      history,
      lifetime,
      activated: isActivated(state.account, rule, Number(activationEvents?.[0]?.n ?? 0), now),
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
          .filter((p) => p.rank < plan.rank && !p.hidden && p.currency === plan.currency && billedAmount(p, state.account.seats, interval) !== null)
          .sort((a, b) => b.rank - a.rank)
          .map((p) => ({ plan_id: p.id, name: p.name, price_cents: billedAmount(p, p.seat_price_cents > 0 ? state.account.seats : 0, interval)!, currency: p.currency, interval })),
        // Extra seats bought on a plan that sells them: an admin may drop some at the period end (POST /v1/widget/downgrade { seats }).
        ...(plan.seat_price_cents > 0 && state.account.seats > 0 && { seats_bought: state.account.seats }),
      }),
      meters: snap.meters,
      features: snap.features,
      prompts: await Promise.all(
        served.prompts.map(async ({ definition_id: _, ...p }) => ({
          ...p,
          serve_token: await signServe(c.env.LADDER_USER_TOKEN_SECRET, { acct: user.acct, sub: user.sub, prompt_id: p.id, variant_id: p.variant_id, experiment_id: p.experiment_id }, now),
        })),
      ),
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
      ...(requests && {
        upgrade_requests: requests.map(({ id, user_id, user_name, plan_id, seats, note, created_at }) => ({ id, user_id, user_name, plan_id, seats, note, created_at })),
      }),
    });
  })
  .post('/events', async (c) => {
    const { events } = await readJson(c, widgetEventsSchema);
    checkEventTimes(events, c.get('now'), MAX_WIDGET_EVENT_AGE_MS);
    await checkServed(c.env.LADDER_USER_TOKEN_SECRET, c.get('user'), events, c.get('now'));
    return c.json(await recordWidgetEvents(database(c.env.DB), c.get('user'), events, c.get('now')));
  });

/**
 * Refuse (400, naming each) prompt events that do not carry the serve token of a prompt, variant
 * and experiment served to this user; an event without a prompt may not name a variant or experiment.
 */
async function checkServed(secret: string, user: UserClaims, events: WidgetEvent[], now: number): Promise<void> {
  const problems: ErrorDetail[] = [];
  await Promise.all(
    events.map(async (e, i) => {
      if (!e.prompt_id) {
        if (e.variant_id || e.experiment_id) problems.push({ path: `events.${i}.prompt_id`, message: 'required with a variant_id or experiment_id' });
        return;
      }
      const served = { acct: user.acct, sub: user.sub, prompt_id: e.prompt_id, variant_id: e.variant_id, experiment_id: e.experiment_id };
      if (!(await verifyServe(secret, e.serve_token, served, now)))
        problems.push({ path: `events.${i}.serve_token`, message: e.serve_token ? 'does not match a prompt served to this user' : 'required with a prompt_id (the serve_token of the prompt in the widget state)' });
    }),
  );
  if (problems.length) throw new ApiError(400, 'validation_failed', 'The request is not valid; nothing was recorded.', problems.sort((a, b) => a.path.localeCompare(b.path, 'en', { numeric: true })));
}
