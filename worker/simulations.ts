/**
 * Rule simulations: loads the last days of history from D1 — usage per account and day, the
 * users' prompt events, activation events, attributed upgrades — for a bounded sample of
 * accounts, and replays it through `shared/simulator.ts` under the rules in force and under a
 * proposal. Work per request is bounded: above `MAX_SIMULATED_ACCOUNTS` accounts or
 * `MAX_SIMULATED_EVENTS` prompt events in the window, a deterministic sample (lowest hash of the
 * account id) is simulated and the answer says so.
 */
import { sql } from 'drizzle-orm';
import { murmurHash3 } from '../shared/bucketing';
import { promptDefinitionSchema, type PromptDefinition } from '../shared/prompts';
import type { PromptHistoryEvent } from '../shared/promptEngine';
import {
  DAY,
  REPRODUCTION_NOTE,
  simulate,
  type DailyUsage,
  type SimulatedAccount,
  type SimulationResult,
} from '../shared/simulator';
import type { simulationRequestSchema, SimulationResponse, SimulationRun } from '../shared/simulationSchemas';
import { projectUpgrades, promptGroup, type ObservedPrompt } from '../shared/upgradeProjection';
import { catalogQueries, toCatalog } from './catalog';
import { sqlBatch, type Db } from './db';
import { ApiError, validate } from './errors';
import { shippedDefinition } from '../shared/experiments';
import { armCounts, getExperiment } from './experiments';
import { activationQuery, activationRuleFrom, definitionsQuery, mergeDefinitions } from './prompts';
import { HISTORY_DAYS } from '../shared/promptInput';
import type { z } from 'zod';

/** Accounts replayed per request at most; above it a deterministic sample is. */
export const MAX_SIMULATED_ACCOUNTS = 2_000;
/** History loaded before the window: what the worker's caps read at the window's first moment (`HISTORY_DAYS`). */
const LOOKBACK_DAYS = HISTORY_DAYS;
/**
 * Prompt events in the window replayed per request at most (each is a moment the engine may be
 * asked, twice: current and proposed); about 0.4 ms per event and rule in workerd here, so a
 * request stays under ten seconds or so.
 */
export const MAX_SIMULATED_EVENTS = 10_000;
/** A safety net on prompt events read per request, lookback included; the sample keeps it far away in practice. */
const MAX_EVENTS = 400_000;
const CORE_EVENT = 'core_feature_activated';

const PROJECTION_BASIS =
  'Upgrades = accounts the rule shows each prompt group (kind and threshold) × the self-serve upgrade rate observed for that group over the window, ' +
  'with its 95% Wilson interval as the low and high ends; a group never shown borrows the pooled rate of its kind, then of all prompts. ' +
  'Expansion MRR = upgrades × the observed expansion per upgrade. The ranges of the groups are added, so the total covers at least 95%.';

type Request = z.output<typeof simulationRequestSchema>;
const num = (v: unknown) => Number(v ?? 0);
const iso = (ms: number) => new Date(ms).toISOString();

/** The definitions in force with the proposal's ids replaced or added (a shipped variant's definition first, the request's over it). */
function proposedDefinitions(current: readonly PromptDefinition[], proposal: Request['definitions'], shipped: PromptDefinition | null = null): PromptDefinition[] {
  const named = Object.entries(proposal).map(([id, input]) => validate(promptDefinitionSchema, { ...input, id }, ['definitions', id]));
  const proposed = shipped && !named.some((d) => d.id === shipped.id) ? [shipped, ...named] : named;
  const byId = new Map(proposed.map((d) => [d.id, d]));
  return [...current.map((d) => byId.get(d.id) ?? d), ...proposed.filter((d) => !current.some((c) => c.id === d.id))];
}

/**
 * The accounts to replay: all with prompt history in the window, or — above
 * `MAX_SIMULATED_ACCOUNTS` accounts or `MAX_SIMULATED_EVENTS` events — the accounts with the
 * lowest hash of their id, taken in that order while both budgets last (the same ones every time).
 */
async function sampleAccounts(db: Db, from: number, to: number) {
  const rows = await db.all<{ account_id: string; n: number }>(sql`
    SELECT account_id, count(*) AS n FROM prompt_events WHERE timestamp >= ${from} AND timestamp < ${to} GROUP BY account_id`);
  const events = rows.reduce((s, r) => s + num(r.n), 0);
  if (rows.length <= MAX_SIMULATED_ACCOUNTS && events <= MAX_SIMULATED_EVENTS)
    return { ids: rows.map((r) => r.account_id), total: rows.length, sampled: false };
  const ranked = rows
    .map((r) => ({ hash: murmurHash3(`simulation:${r.account_id}`), id: r.account_id, n: num(r.n) }))
    .sort((a, b) => a.hash - b.hash || a.id.localeCompare(b.id));
  const ids: string[] = [];
  let budget = MAX_SIMULATED_EVENTS;
  for (const r of ranked) {
    if (ids.length >= MAX_SIMULATED_ACCOUNTS || (r.n > budget && ids.length > 0)) break;
    ids.push(r.id);
    budget -= r.n;
  }
  return { ids, total: rows.length, sampled: true };
}

/**
 * Replay the window under the rules in force and under the proposal, with projected upgrades.
 * @example await runSimulation(db, { definitions: { 'limit-90': { … } }, window_days: 90 }, Date.now())
 */
export async function runSimulation(db: Db, request: Request, now: number): Promise<SimulationResponse> {
  const to = Math.floor(now / DAY) * DAY + DAY;
  const from = to - request.window_days * DAY;
  const since = from - LOOKBACK_DAYS * DAY;

  const [definitionRows, activationRows, [metricRows, featureRows, planRows]] = await Promise.all([
    definitionsQuery(db),
    activationQuery(db),
    db.batch([...catalogQueries(db)]),
  ]);
  const catalog = toCatalog({ metrics: metricRows, features: featureRows, plans: planRows });
  const currentDefinitions: PromptDefinition[] = mergeDefinitions(definitionRows).map(({ updated_at: _u, builtin: _b, ...d }) => d);
  const variant = request.variant ? await variantToShip(db, currentDefinitions, request.variant) : null;
  const rules = {
    current: { definitions: currentDefinitions, activation: activationRuleFrom(activationRows) },
    proposed: {
      definitions: proposedDefinitions(currentDefinitions, request.definitions, variant?.definition ?? null),
      activation: request.activation ?? activationRuleFrom(activationRows),
    },
  };

  const sample = await sampleAccounts(db, from, to);
  const ids = JSON.stringify(sample.ids);
  const inSample = sql`account_id IN (SELECT value FROM json_each(${ids}))`;
  const activationEvents = JSON.stringify([...new Set([...rules.current.activation.events, ...rules.proposed.activation.events])]);
  const firstK = Math.max(rules.current.activation.min_events, rules.proposed.activation.min_events, 1);
  const [accountRows = [], eventRows = [], added = [], sets = [], setsBefore = [], activations = [], upgrades = [], lifetimes = []] = await sqlBatch(db, [
    sql`SELECT id, plan_id, seats, created_at, period_start, period_end, activated_at FROM accounts WHERE id IN (SELECT value FROM json_each(${ids}))`,
    sql`
      SELECT account_id, user_id, session_id, type, prompt_id, feature_id, timestamp FROM prompt_events
      WHERE ${inSample} AND timestamp >= ${since} AND timestamp < ${to}
      ORDER BY timestamp LIMIT ${MAX_EVENTS}`,
    sql`
      SELECT account_id, metric, period_start, CAST(timestamp / ${DAY} AS INTEGER) * ${DAY} AS day, sum(value) AS added FROM usage_events
      WHERE ${inSample} AND mode = 'increment' AND timestamp >= ${since} AND timestamp < ${to}
      GROUP BY account_id, metric, period_start, day`,
    // The last value set each day (SQLite takes the bare column from the row holding max()).
    sql`
      SELECT account_id, metric, CAST(timestamp / ${DAY} AS INTEGER) * ${DAY} AS day, value, max(timestamp) AS at FROM usage_events
      WHERE ${inSample} AND mode = 'set' AND timestamp >= ${since} AND timestamp < ${to}
      GROUP BY account_id, metric, day`,
    sql`
      SELECT account_id, metric, value, max(timestamp) AS at FROM usage_events
      WHERE ${inSample} AND mode = 'set' AND timestamp < ${since}
      GROUP BY account_id, metric`,
    sql`
      SELECT account_id, event, timestamp FROM (
        SELECT account_id, event, timestamp, row_number() OVER (PARTITION BY account_id, event ORDER BY timestamp) AS n
        FROM track_events WHERE ${inSample} AND event IN (SELECT value FROM json_each(${activationEvents})) AND timestamp < ${to})
      WHERE n <= ${firstK}`,
    sql`
      SELECT prompt_id, count(DISTINCT account_id) AS upgrades, sum(mrr_after_cents - mrr_before_cents) AS cents FROM mrr_ledger
      WHERE ${inSample} AND at >= ${from} AND at < ${to} AND source = 'self_serve' AND mrr_after_cents > mrr_before_cents AND prompt_id IS NOT NULL
      GROUP BY prompt_id`,
    // Impressions per user and prompt ever (what the caps that hold for good count), less those loaded below.
    sql`SELECT account_id, user_id, prompt_id, impressions FROM user_prompt_caps WHERE ${inSample}`,
  ]);

  const group = <T>(rows: Record<string, unknown>[], map: (r: Record<string, unknown>) => T) => {
    const out = new Map<string, T[]>();
    for (const r of rows) {
      const key = String(r.account_id);
      const list = out.get(key);
      if (list) list.push(map(r));
      else out.set(key, [map(r)]);
    }
    return out;
  };
  const events = group<PromptHistoryEvent>(eventRows, (r) => ({
    prompt_id: (r.prompt_id as string | null) ?? '',
    type: String(r.type) as PromptHistoryEvent['type'],
    session_id: String(r.session_id),
    user_id: String(r.user_id),
    feature_id: (r.feature_id as string | null) ?? null,
    timestamp: num(r.timestamp),
  }));
  const usage = group<DailyUsage>([...added, ...sets, ...setsBefore], (r) => ({
    metric: String(r.metric),
    day: r.day === undefined ? Math.floor(num(r.at) / DAY) * DAY : num(r.day),
    period_start: num(r.period_start),
    added: r.added === undefined ? 0 : num(r.added),
    set: r.added === undefined ? num(r.value) : null,
  }));
  const activation = group(activations, (r) => ({ event: String(r.event), timestamp: num(r.timestamp) }));
  const loadedImpressions = new Map<string, number>();
  for (const [account, list] of events)
    for (const e of list) if (e.type === 'impression') loadedImpressions.set(`${account}\u0000${e.user_id}\u0000${e.prompt_id}`, (loadedImpressions.get(`${account}\u0000${e.user_id}\u0000${e.prompt_id}`) ?? 0) + 1);
  const lifetimeBefore = new Map<string, Record<string, Record<string, number>>>();
  for (const r of lifetimes) {
    const [account, user, prompt] = [String(r.account_id), String(r.user_id), String(r.prompt_id)];
    const loaded = loadedImpressions.get(`${account}\u0000${user}\u0000${prompt}`) ?? 0;
    const byUser = lifetimeBefore.get(account) ?? {};
    byUser[user] = { ...byUser[user], [prompt]: Math.max(0, num(r.impressions) - loaded) };
    lifetimeBefore.set(account, byUser);
  }

  const accounts: SimulatedAccount[] = accountRows.map((a) => {
    const id = String(a.id);
    const activatedAt = a.activated_at === null ? null : num(a.activated_at);
    const tracked = activation.get(id) ?? [];
    // The account's first core event, kept on the account beyond the events' retention; counted once.
    const kept = activatedAt !== null && !tracked.some((e) => e.event === CORE_EVENT && e.timestamp <= activatedAt);
    return {
      id,
      plan_id: String(a.plan_id),
      seats: num(a.seats),
      created_at: num(a.created_at),
      period_start: a.period_start === null ? null : num(a.period_start),
      period_end: a.period_end === null ? null : num(a.period_end),
      usage: usage.get(id) ?? [],
      // The account's stored activation time is its first core event, even where that event is not kept.
      activation_events: [...tracked, ...(kept ? [{ event: CORE_EVENT, timestamp: activatedAt }] : [])],
      events: events.get(id) ?? [],
      lifetime_before: lifetimeBefore.get(id) ?? {},
    };
  });
  const history = { from, to, catalog, accounts };

  // What happened: per prompt, stored impressions, clicks and accounts shown in the window, and attributed upgrades.
  const observed = new Map<string, ObservedPrompt & { accounts: Set<string> }>();
  for (const [accountId, list] of events) {
    for (const e of list) {
      if (e.timestamp < from || !e.prompt_id || (e.type !== 'impression' && e.type !== 'click')) continue;
      const o = observed.get(e.prompt_id) ?? { prompt_id: e.prompt_id, impressions: 0, clicks: 0, accounts_shown: 0, upgrades: 0, expansion_mrr_cents: 0, accounts: new Set<string>() };
      if (e.type === 'impression') {
        o.impressions += 1;
        o.accounts.add(accountId);
      } else o.clicks += 1;
      observed.set(e.prompt_id, o);
    }
  }
  for (const u of upgrades) {
    const id = String(u.prompt_id);
    const o = observed.get(id) ?? { prompt_id: id, impressions: 0, clicks: 0, accounts_shown: 0, upgrades: 0, expansion_mrr_cents: 0, accounts: new Set<string>() };
    o.upgrades = num(u.upgrades);
    o.expansion_mrr_cents = num(u.cents);
    observed.set(id, o);
  }
  const observedRows: ObservedPrompt[] = [...observed.values()].map(({ accounts: shown, ...o }) => ({ ...o, accounts_shown: shown.size }));

  const toRun = (result: SimulationResult, observedFor: ObservedPrompt[] = observedRows): SimulationRun => ({
    totals: result.totals,
    definitions: result.definitions,
    prompts: result.prompts,
    days: result.days.map((d) => ({ ...d, day: iso(d.day) })),
    prompt_days: result.prompt_days.map((d) => ({ ...d, day: iso(d.day) })),
    thresholds: result.thresholds.map((t) => ({ ...t, daily: t.daily.map((d) => ({ ...d, day: iso(d.day) })) })),
    projection: projectUpgrades(observedFor, result.prompts),
  });
  const current = simulate(history, rules.current);
  const proposed = simulate(history, rules.proposed);
  const proposedObserved = variant ? withVariantRate(observedRows, proposed, variant) : observedRows;

  return {
    from: iso(from),
    to: iso(to),
    window_days: request.window_days,
    sampling: {
      sampled: sample.sampled,
      accounts_with_history: sample.total,
      accounts_simulated: accounts.length,
      users_simulated: current.users,
      events_truncated: eventRows.length >= MAX_EVENTS,
      method: sample.sampled
        ? `${accounts.length} of ${sample.total} accounts with prompt history in the window, chosen by the lowest hash of their id (the same ones every time) ` +
          `while at most ${MAX_SIMULATED_ACCOUNTS} accounts and ${MAX_SIMULATED_EVENTS} prompt events last; counts are for the sample, not scaled up.`
        : `Every one of the ${sample.total} accounts with prompt history in the window (up to ${MAX_SIMULATED_ACCOUNTS} accounts and ${MAX_SIMULATED_EVENTS} prompt events are replayed whole; above that a deterministic sample is).`,
    },
    tolerance: REPRODUCTION_NOTE,
    projection_basis: PROJECTION_BASIS,
    activation: { current: rules.current.activation, proposed: rules.proposed.activation },
    variant: variant && {
      experiment_id: variant.experimentId,
      variant_id: variant.variantId,
      prompt_id: variant.promptId,
      unit: variant.unit,
      exposed: variant.exposed,
      conversions: variant.conversions,
    },
    current: toRun(current),
    proposed: toRun(proposed, proposedObserved),
  };
}

interface VariantToShip {
  experimentId: string;
  variantId: string;
  /** The experiment's prompt: a definition id or one rendered prompt id. */
  promptId: string;
  unit: 'account' | 'user';
  /** The definition with the variant's copy, as shipping it would store. */
  definition: PromptDefinition;
  exposed: number;
  conversions: number;
}

/** The variant to preview shipping: its definition and what its arm observed (404 for an unknown experiment, 400 for an unknown variant). */
async function variantToShip(db: Db, definitions: PromptDefinition[], v: NonNullable<Request['variant']>): Promise<VariantToShip> {
  const experiment = await getExperiment(db, v.experiment_id);
  const chosen = experiment.variants.find((x) => x.id === v.variant_id);
  if (!chosen)
    throw new ApiError(400, 'validation_failed', 'The request is not valid.', [
      { path: 'variant.variant_id', message: `experiment "${experiment.id}" has no variant "${v.variant_id}" (it has ${experiment.variants.map((x) => x.id).join(', ')})` },
    ]);
  const definition = shippedDefinition(definitions, experiment.promptId, chosen.copy as PromptDefinition['copy']);
  if (!definition)
    throw new ApiError(400, 'validation_failed', 'The request is not valid.', [
      { path: 'variant.experiment_id', message: `experiment "${experiment.id}" is on prompt "${experiment.promptId}", which no definition serves` },
    ]);
  const arm = (await armCounts(db, experiment)).find((a) => a.variant_id === chosen.id);
  return {
    experimentId: experiment.id,
    variantId: chosen.id,
    promptId: experiment.promptId,
    unit: experiment.unit,
    definition,
    exposed: arm?.exposed ?? 0,
    conversions: arm?.conversions ?? 0,
  };
}

/**
 * The observed rates with the variant's arm in place of what the experiment's prompts observed:
 * per prompt group (kind and threshold) the experiment covers, the arm's exposed units and
 * conversions are counted once (on the group's first covered prompt) and the covered prompts'
 * own upgrades dropped; a group's other prompts keep theirs. Expansion per upgrade stays the
 * one observed for the prompt.
 */
function withVariantRate(observed: ObservedPrompt[], proposed: SimulationResult, variant: VariantToShip): ObservedPrompt[] {
  const covered = new Set(proposed.prompts.filter((p) => p.definition_id === variant.definition.id || p.prompt_id === variant.promptId).map((p) => p.prompt_id));
  const byId = new Map(observed.map((o) => [o.prompt_id, o]));
  const counted = new Set<string>();
  const out = observed.filter((o) => !covered.has(o.prompt_id));
  for (const id of covered) {
    const o = byId.get(id) ?? { prompt_id: id, impressions: 0, clicks: 0, accounts_shown: 0, upgrades: 0, expansion_mrr_cents: 0 };
    const group = promptGroup(id);
    const first = !counted.has(group);
    counted.add(group);
    const perUpgrade = o.upgrades > 0 ? o.expansion_mrr_cents / o.upgrades : 0;
    out.push({
      ...o,
      accounts_shown: first ? variant.exposed : 0,
      upgrades: first ? variant.conversions : 0,
      expansion_mrr_cents: first ? Math.round(variant.conversions * perUpgrade) : 0,
    });
  }
  return out;
}
