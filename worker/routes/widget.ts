import { graceCeiling } from '../../shared/entitlements';
import { graceState, withGraceNotes } from '../../shared/grace';
import { batchResultSchema, MAX_WIDGET_EVENT_AGE_MS, widgetEventsSchema, widgetStateQuerySchema, widgetStateSchema, type UserClaims, type WidgetEvent } from '../../shared/schemas';
import { annualSaving, billedAmount } from '../../shared/retention';
import { etag, RETAINED_304_HEADERS } from 'hono/etag';
import { compositeKey } from '../../shared/compositeKey';
import { accountQuery, countersQuery, snapshotOf, trialsQuery, type AccountState } from '../accounts';
import { scheduledChangeFrom, scheduledRowSql } from '../billing/retention';
import { withHotConfig } from '../configCache';
import { intervalOf } from '../billing/upgrade';
import { database } from '../db';
import { ApiError, notFound, type ErrorDetail } from '../errors';
import { dailyUsageQuery, withForecasts } from '../forecasts';
import { signServe, verifyServe } from '../serveToken';
import { applyExperiments, assignExperiments } from '../../shared/experiments';
import { exposedUnitsSql, recordExposures } from '../experiments';
import { checkEventTimes } from '../middleware/body';
import { openUpgradeRequestsSql, view } from '../upgradeRequests';
import { activationEventsSql, historyQuery, isActivated, lifetimeQuery, promptsFor, recordWidgetEvents } from '../prompts';
import { liveCounters, meterOf } from '../usage';
import { body, json, route, widgetRouter } from './groups';

const getState = route({
  method: 'get',
  path: '/state',
  summary: 'Everything the widget needs in one round trip (ETag; If-None-Match answers 304 without a body)',
  request: { query: widgetStateQuerySchema },
  // The ETag is the answer's own: a 304 keeps the CORS grant so the browser can read it.
  middleware: [etag({ retainedHeaders: [...RETAINED_304_HEADERS, 'access-control-allow-origin', 'access-control-expose-headers'] })] as const,
  responses: { 200: json(widgetStateSchema, 'The widget state'), 304: { description: 'Not modified (If-None-Match matched the ETag)' } },
  errors: ['account_not_found'],
});

const postEvents = route({
  method: 'post',
  path: '/events',
  summary: 'Prompt events (impression, click, dismiss, snooze, gate_hit, invite_sent)',
  request: { body: body(widgetEventsSchema) },
  responses: { 200: json(batchResultSchema, 'Recorded: events stored now and those seen before') },
});

/**
 * Widget routes (user token): the state in one D1 round trip on a warm isolate, with an ETag
 * (If-None-Match answers 304 without a body), and prompt events. Mounted at `/v1/widget`.
 */
export const widgetRoutes = widgetRouter()
  .openapi(getState, async (c) => {
    const { session } = c.req.valid('query');
    const user = c.get('user');
    const now = c.get('now');
    const meter = meterOf(c.env);
    const db = meter.db;
    // With LADDER_COUNTERS=durable_object the account's object holds the live counters: asked beside the batch.
    const live = liveCounters(meter, user.acct);
    live.catch(() => undefined); // awaited below; never an unhandled rejection if the batch fails first
    // One D1 round trip: the config (only when this isolate's copy is stale), the account, the
    // user's cap state, the scheduled change, an admin's open requests and which of the user's
    // units are already exposed to running experiments.
    const {
      config,
      results: [accountRows, storedCounters, trialRows, history, lifetime, activationEvents, scheduledRows, , requestRows, exposedRows, daily],
    } = await withHotConfig(db, [
      accountQuery(db, { id: user.acct }),
      countersQuery(db, { id: user.acct }),
      trialsQuery(db, { id: user.acct }),
      historyQuery(db, user.acct, user.sub, now, session),
      lifetimeQuery(db, user.acct, user.sub),
      activationEventsSql(user.acct),
      scheduledRowSql(user.acct),
      // admins see their members' open upgrade requests
      ...openUpgradeRequestsSql(user.acct, now, user.role === 'admin'),
      exposedUnitsSql(user),
      // the account's daily use over the forecast window
      dailyUsageQuery(db, user.acct, now),
    ]);
    const account = accountRows[0];
    if (!account) throw notFound('account', user.acct, 'account_id');
    const counters = (await live) ?? storedCounters;
    const state: AccountState = { account, catalog: config.catalog, counters, trials: trialRows, pqa: null };
    const scheduledChange = scheduledChangeFrom(scheduledRows[0]);
    const requests = user.role === 'admin' ? requestRows.map(view) : null;
    const snap = snapshotOf(state, now);
    const meters = withForecasts(snap.meters, daily, state.account.createdAt, now);
    const arms = assignExperiments(config.running, user);
    const engine = promptsFor({
      state,
      snap,
      user,
      sessionId: session,
      definitions: config.definitions,
      history,
      lifetime,
      activated: isActivated(state.account, config.activation, Number(activationEvents[0]?.n ?? 0), now),
      copyOverrides: arms.copyOverrides,
      forecasts: new Map(meters.map((m) => [m.metric, m.forecast])),
      now,
    });
    // Experiment prompts carry their variant; a holdout unit's are dropped, its exposure still recorded.
    const served = applyExperiments(engine.prompts, arms.byPrompt);
    // A unit's first exposure is written once (a second round trip, once per unit and experiment); known ones are skipped.
    const exposed = new Set(exposedRows.map((r) => compositeKey(String(r.experiment_id), String(r.unit_id))));
    await recordExposures(db, user.acct, served.exposures.filter((e) => !exposed.has(compositeKey(e.experimentId, e.unitId))), now);
    const plan = snap.plan;
    // Where the plan allows grace past a limit: on the meter, and in the 100% notice.
    const grace = Object.fromEntries(snap.meters.map((m) => [m.metric, graceState(m, graceCeiling(plan, m.metric, state.account))]));
    const units = Object.fromEntries(state.catalog.metrics.map((m) => [m.id, m.unit]));
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
      meters: meters.map((m) => (grace[m.metric] ? { ...m, grace: grace[m.metric] } : m)),
      features: snap.features,
      prompts: await Promise.all(
        withGraceNotes(served.prompts, grace, units, user.locale).map(async ({ definition_id: _, ...p }) => ({
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
    }, 200);
  })
  .openapi(postEvents, async (c) => {
    const { events } = c.req.valid('json');
    checkEventTimes(events, c.get('now'), MAX_WIDGET_EVENT_AGE_MS);
    await checkServed(c.env.LADDER_USER_TOKEN_SECRET, c.get('user'), events, c.get('now'));
    return c.json(await recordWidgetEvents(database(c.env.DB), c.get('user'), events, c.get('now')), 200);
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
  if (problems.length) throw new ApiError('validation_failed', 'The request is not valid; nothing was recorded.', problems.sort((a, b) => a.path.localeCompare(b.path, 'en', { numeric: true })));
}
