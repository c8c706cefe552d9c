/**
 * The engine's input as the worker serves a widget state: which of a user's stored prompt
 * events the caps see (the last `HISTORY_DAYS`, newest `HISTORY_LIMIT`), the session's gate
 * hits and blocked invite read from those events, and the period each limit notice's `total`
 * counts in. The worker (`worker/prompts.ts`) and the rule simulator (`shared/simulator.ts`)
 * both build the input here, so a replay asks `eligiblePrompts` exactly what the worker asked.
 * Pure and zod-free.
 */
import { SEATS_METRIC, type EligiblePrompts, type FeatureInput, type MeterInput, type PlanRef, type PromptEngineInput, type PromptHistoryEvent } from './promptEngine';
import { eligiblePrompts } from './promptEngine';
import type { PromptCopy, PromptDefinition } from './prompts';
import type { Metric } from './schemas';
import { DAY_MS } from './time';

/** History older than this cannot affect any cap at its default (30-day cooldown, period totals). */
export const HISTORY_DAYS = 120;
/** A heavy user's newest events, so their latest dismissals are never cut off. */
export const HISTORY_LIMIT = 5000;

/**
 * The metric whose period a limit notice's `total` counts in: a counter's own usage period,
 * else (gauges, counters that never reset) the account's billing period.
 * @example capPeriodMetric({ kind: 'gauge', reset: 'billing_period' }) // { kind: 'counter', reset: 'billing_period' }
 */
export function capPeriodMetric(metric: Pick<Metric, 'kind' | 'reset'> | undefined): Readonly<Pick<Metric, 'kind' | 'reset'>> {
  return metric && metric.kind === 'counter' && metric.reset !== 'never' ? metric : BILLING_PERIOD;
}

const BILLING_PERIOD: Readonly<Pick<Metric, 'kind' | 'reset'>> = Object.freeze({ kind: 'counter', reset: 'billing_period' });

export interface ServeInput {
  now: number;
  session_id: string;
  user_id: string;
  role?: 'admin' | 'member';
  locale: string;
  activated: boolean;
  definitions: readonly PromptDefinition[];
  /** Each meter with the start of the period its limit notices' `total` counts in (see `capPeriodMetric`). */
  meters: readonly { metric: string; name: string; used: number; limit: number | null; cap_period_start: number; limit_at?: number | null; days_to_limit?: number | null }[];
  seats: { used: number; limit: number | null };
  features: Readonly<Record<string, FeatureInput>>;
  plan: PlanRef;
  next_plan: PlanRef | null;
  /** The user's stored prompt events (gate hits included), any order; those outside the window (`historyWindow`) are left out here. */
  history: readonly PromptHistoryEvent[];
  /** Impressions per prompt id this user has ever had. */
  lifetime: Readonly<Record<string, number>>;
  /**
   * The features of this session's gate hits in `history`, oldest first, when the caller keeps
   * them already (the rule simulator, which passes the caps' history to the engine grouped);
   * otherwise they are read from `history`.
   */
  session_gate_hits?: readonly string[];
  copy_overrides?: Readonly<Record<string, PromptCopy>>;
}

/**
 * The window of a user's events the caps see at `now`: the last `HISTORY_DAYS`, the newest
 * `HISTORY_LIMIT` of them (every type counts), oldest first. The worker's `historyQuery` reads
 * the same window but returns only the events the engine reads (no clicks, invites or other
 * sessions' gate hits), which changes no answer.
 */
export function historyWindow(events: readonly PromptHistoryEvent[], now: number): PromptHistoryEvent[] {
  const since = now - HISTORY_DAYS * DAY_MS;
  const kept = events.filter((e) => e.timestamp >= since).sort((a, b) => a.timestamp - b.timestamp);
  return kept.length > HISTORY_LIMIT ? kept.slice(kept.length - HISTORY_LIMIT) : kept;
}

/**
 * The engine input for one widget state. `history` must already be the window the worker
 * loads (`historyWindow`, or the query that does the same), oldest first. Given `into` (an
 * input this function built before, for the same meters), it is rewritten in place and
 * returned, its meter objects reused: the rule simulator asks the engine at every moment of a
 * replay and keeps one input per account instead of allocating one per moment.
 * @example servePrompts(engineInputFor({ now, session_id: 's1', user_id: 'u1', …, history, lifetime: {} }))
 */
export function engineInputFor(p: ServeInput, into?: PromptEngineInput): PromptEngineInput {
  const hits = p.session_gate_hits ?? p.history.filter((h) => h.type === 'gate_hit' && h.session_id === p.session_id && h.feature_id).map((h) => h.feature_id!);
  // distinct, oldest first (a list of one or none already is)
  const gateHits = hits.length < 2 ? hits : [...new Set(hits)];
  const seatsFull = p.seats.limit !== null && p.seats.used >= p.seats.limit;
  // Written field by field in one order, without spreading optional parts in.
  const input = into ?? ({} as PromptEngineInput);
  input.now = p.now;
  input.session_id = p.session_id;
  input.user_id = p.user_id;
  input.locale = p.locale;
  input.activated = p.activated;
  input.definitions = p.definitions;
  input.meters = meterInputs(p.meters, into?.meters);
  input.seats = p.seats;
  input.features = p.features;
  input.plan = p.plan;
  input.next_plan = p.next_plan;
  input.gate_hits_this_session = gateHits.includes(SEATS_METRIC) ? gateHits.filter((f) => f !== SEATS_METRIC) : gateHits;
  input.invite_blocked = seatsFull && gateHits.includes(SEATS_METRIC);
  input.history = p.history.length === 0 ? p.history : p.history.filter((h) => h.prompt_id !== '' || h.type === 'gate_hit');
  input.lifetime_impressions = p.lifetime;
  if (p.role) input.role = p.role;
  else if (into) delete input.role;
  if (p.copy_overrides) input.copy_overrides = p.copy_overrides;
  else if (into) delete input.copy_overrides;
  return input;
}

/** Each meter as the engine reads it, written into `reuse`'s objects when it has as many. */
function meterInputs(meters: ServeInput['meters'], reuse: readonly MeterInput[] | undefined): MeterInput[] {
  const out = reuse && reuse.length === meters.length ? (reuse as MeterInput[]) : meters.map(() => ({}) as MeterInput);
  for (let k = 0; k < meters.length; k++) {
    const m = meters[k]!;
    const meter = out[k]!;
    meter.metric = m.metric;
    meter.name = m.name;
    meter.used = m.used;
    meter.limit = m.limit;
    meter.period_start = m.cap_period_start;
    // a forecast prompt's trigger: when the limit is reached at the recent pace
    if (m.limit_at != null) {
      meter.limit_at = m.limit_at;
      meter.days_to_limit = m.days_to_limit ?? null;
    } else if ('limit_at' in meter) {
      delete meter.limit_at;
      delete meter.days_to_limit;
    }
  }
  return out;
}

/** The prompts the worker serves for this input. */
export const servePrompts = (p: ServeInput): EligiblePrompts => eligiblePrompts(engineInputFor(p));
