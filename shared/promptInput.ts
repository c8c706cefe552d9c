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
export function capPeriodMetric(metric: Pick<Metric, 'kind' | 'reset'> | undefined): Pick<Metric, 'kind' | 'reset'> {
  return metric && metric.kind === 'counter' && metric.reset !== 'never' ? metric : { kind: 'counter', reset: 'billing_period' };
}

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
  /** The user's stored prompt events (gate hits included), any order; those the worker would not load are left out here. */
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
 * The events the worker loads for a user at `now` (`historyQuery`): the last `HISTORY_DAYS`,
 * the newest `HISTORY_LIMIT` of them, oldest first.
 */
export function historyWindow(events: readonly PromptHistoryEvent[], now: number): PromptHistoryEvent[] {
  const since = now - HISTORY_DAYS * DAY_MS;
  const kept = events.filter((e) => e.timestamp >= since).sort((a, b) => a.timestamp - b.timestamp);
  return kept.length > HISTORY_LIMIT ? kept.slice(kept.length - HISTORY_LIMIT) : kept;
}

/**
 * The engine input for one widget state. `history` must already be the window the worker
 * loads (`historyWindow`, or the query that does the same), oldest first.
 * @example servePrompts(engineInputFor({ now, session_id: 's1', user_id: 'u1', …, history, lifetime: {} }))
 */
export function engineInputFor(p: ServeInput): PromptEngineInput {
  const gateHits = [
    ...new Set(p.session_gate_hits ?? p.history.filter((h) => h.type === 'gate_hit' && h.session_id === p.session_id && h.feature_id).map((h) => h.feature_id!)),
  ];
  const seatsFull = p.seats.limit !== null && p.seats.used >= p.seats.limit;
  // Built field by field, without spreading optional parts in: the rule simulator builds one per moment.
  const input: PromptEngineInput = {
    now: p.now,
    session_id: p.session_id,
    user_id: p.user_id,
    locale: p.locale,
    activated: p.activated,
    definitions: p.definitions,
    meters: p.meters.map((m) => {
      const meter: MeterInput = { metric: m.metric, name: m.name, used: m.used, limit: m.limit, period_start: m.cap_period_start };
      // a forecast prompt's trigger: when the limit is reached at the recent pace
      if (m.limit_at != null) {
        meter.limit_at = m.limit_at;
        meter.days_to_limit = m.days_to_limit ?? null;
      }
      return meter;
    }),
    seats: p.seats,
    features: p.features,
    plan: p.plan,
    next_plan: p.next_plan,
    gate_hits_this_session: gateHits.filter((f) => f !== SEATS_METRIC),
    invite_blocked: seatsFull && gateHits.includes(SEATS_METRIC),
    history: p.history.length === 0 ? p.history : p.history.filter((h) => h.prompt_id !== '' || h.type === 'gate_hit'),
    lifetime_impressions: p.lifetime,
  };
  if (p.role) input.role = p.role;
  if (p.copy_overrides) input.copy_overrides = p.copy_overrides;
  return input;
}

/** The prompts the worker serves for this input. */
export const servePrompts = (p: ServeInput): EligiblePrompts => eligiblePrompts(engineInputFor(p));
