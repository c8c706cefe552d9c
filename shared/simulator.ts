/**
 * The rule simulator: replays stored history — usage per account and day, and each user's
 * sessions and prompt events — through the prompt engine (`eligiblePrompts`, the same code
 * the worker serves prompts with) under a set of definitions and an activation rule, and
 * counts per prompt and per UTC day what that rule would have shown. Pure: the worker loads
 * the history, this replays it.
 *
 * How a replay works, per user in time order:
 * - A session is a stored `session_id`. The engine is asked at the session's first event, at
 *   each gate hit and at each stored impression (the moments the widget had fresh state).
 * - Each prompt the engine returns counts one impression per session, as the widget records it.
 * - The user's stored clicks, dismissals and snoozes of a prompt in a session are replayed only
 *   if the replay showed that prompt in that session; history before the window is kept as stored.
 * - "Held by the session cap": prompts the engine would also return with no per-session budget.
 *   "Suppressed by dismissals": prompts it would also return if the user had never dismissed.
 *   Both are answered by asking the engine again with that one input changed, never by
 *   re-implementing a cap here.
 *
 * Speed: each user's history is carried forward as the caps read it (`UserHistory`) rather than
 * rebuilt at every moment, a moment's candidates (`promptCandidates`) serve both the budgeted and
 * the unbudgeted answer, the engine is asked again without dismissals only when it read a cap
 * group holding one (`CapsRead`), one engine input per account is rewritten at each moment,
 * threshold crossings are counted on the replay's own usage book, and no copy is rendered. `simulateByReplay` (shared/simulatorReplay.ts)
 * is the straightforward replay this must equal exactly (simulator.test.ts).
 *
 * The engine's input is built by `engineInputFor` (shared/promptInput.ts), the function the
 * worker builds it with: the same history window (the last 120 days, newest 5,000 events), the
 * session's gate hits read from that history, lifetime impression counts for the caps that hold
 * for good, and each meter's cap period (a counter's own period, else the billing period, for
 * gauges too). Given the use the worker saw, a replay under the rules in force reproduces every
 * stored impression exactly (simulator.test.ts proves it on generated history).
 *
 * Reproduction tolerance: from stored history, under the definitions in force, the replay
 * reproduces the stored impressions over the window within ±5% per prompt with at least 200
 * impressions in the window, and in total and in accounts shown. Measured on generated history
 * (8 histories of 100 accounts over 45 days, and the test's 200): at most 3.2% on prompts with
 * 200 or more impressions, 1.2% in total, accounts shown exact; prompts with fewer impressions
 * are off by the same few sessions, which is more in percent (up to 8% at 50–100 impressions).
 * It is not zero because the stored history is coarser than what the engine saw live:
 * - usage is stored per day, so within a day the replay spreads a counter's increments evenly
 *   and switches a gauge at midday; on the day an account crosses a threshold, a session just
 *   before or after the crossing can land on the other side of it (bursty usage does worse).
 *   Since a metric's soft notices share one `total` per period across thresholds, a session
 *   on the other side also moves which threshold's notice uses up the cap, so the error shows
 *   per prompt (75% vs 90%) more than in total;
 * - sessions in which nothing was recorded (no prompt shown, no gate hit) are invisible, so a
 *   rule that shows more cannot show it in them (the replay under-counts looser rules there,
 *   and slightly under-counts a threshold whose lower neighbour was capped: about −2% on the
 *   90% notice in the measurements above);
 * - a prompt newly shown under a proposal gets no click, dismissal or snooze (we cannot know
 *   one), so dismissal suppression is only what stored dismissals cause; a stored reaction
 *   is replayed when the replay shows its prompt in the same session;
 * - plan changes inside the window are not in the history: accounts replay on their current
 *   plan and limits, features as the plan has them (trials are not replayed); experiment
 *   holdouts (who were shown nothing) replay as shown.
 */
import { DefinitionIndex, promptCandidates, withinSessionBudget, type PromptEngineInput, type PromptHistoryEvent, type RenderedPrompt } from './promptEngine';
import { metricLimit, metricPeriod, SEATS_METRIC, type Period } from './entitlements';
import { capPeriodMetric, engineInputFor, HISTORY_DAYS, HISTORY_LIMIT, type ServeInput } from './promptInput';
import { THRESHOLDS, usagePct } from './metering';
import type { PromptDefinition, PromptKind } from './prompts';
import type { Catalog, Plan } from './schemas';
import { DAY_MS } from './time';

export { DAY_MS as DAY };


/** Largest relative difference between replayed and stored impressions per prompt, under the rules in force. */
export const REPRODUCTION_TOLERANCE = 0.05;
/** The tolerance speaks of prompts with at least this many stored impressions in the window (below it, a few sessions are more than 5%). */
export const REPRODUCTION_MIN_IMPRESSIONS = 200;

/** The tolerance and why it is not zero, in the words the API answers with. */
export const REPRODUCTION_NOTE =
  'Under the rules in force the replay reproduces stored impressions within ±5% per prompt with at least 200 impressions in the window, and in total ' +
  '(tested on generated history; a prompt with fewer impressions is off by the same few sessions, more in percent). Given the use the worker saw it ' +
  'is exact; not from stored history, because usage is stored per day (spread evenly over the day in the replay), sessions with nothing recorded ' +
  'are invisible, prompts newly shown get no click or dismissal, and accounts replay on their current plan.';

/** What makes an account activated: `min_events` events named in `events`, and `min_age_days` of age. */
export interface ActivationRule {
  events: string[];
  min_events: number;
  min_age_days: number;
}

/** One metric of one account on one UTC day. */
export interface DailyUsage {
  metric: string;
  /** UTC midnight, epoch ms. */
  day: number;
  /** The period the day's increments count in (as stored with each usage event); 0 for gauges. */
  period_start: number;
  /** Sum of the day's increments. */
  added: number;
  /** The last value set that day (gauges), or null. */
  set: number | null;
}

export interface SimulatedAccount {
  id: string;
  plan_id: string;
  /** Seats bought. */
  seats: number;
  created_at: number;
  period_start: number | null;
  period_end: number | null;
  usage: readonly DailyUsage[];
  /** Events an activation rule may count, oldest first (only the first few of each name are needed). */
  activation_events: readonly { event: string; timestamp: number }[];
  /**
   * The prompt events of the account's users, stored before and during the window (gate hits
   * carry `feature_id`); at least the `HISTORY_DAYS` before the window, which the worker's caps read.
   */
  events: readonly PromptHistoryEvent[];
  /** Per user, impressions per prompt id before the oldest of `events` (the lifetime counts `total` holds against for good). */
  lifetime_before?: Readonly<Record<string, Readonly<Record<string, number>>>>;
}

export interface SimulationHistory {
  /** The window [from, to), UTC midnights. */
  from: number;
  to: number;
  catalog: Catalog;
  accounts: readonly SimulatedAccount[];
}

export interface SimulationRules {
  definitions: readonly PromptDefinition[];
  activation: ActivationRule;
}

/** One prompt on one day (or over the whole window). */
export interface PromptCounts {
  prompt_id: string;
  definition_id: string;
  kind: PromptKind;
  metric: string | null;
  threshold: number | null;
  feature_id: string | null;
  impressions: number;
  accounts_shown: number;
  users_shown: number;
  /** Sessions in which the global per-session budget held this prompt back. */
  held_by_session_cap: number;
  /** Sessions in which the user's earlier dismissals held this prompt back. */
  suppressed_by_dismissals: number;
}

export interface DayTotals {
  day: number;
  sessions: number;
  /** Sessions in which the global per-session budget held at least one prompt back. */
  sessions_at_cap: number;
  impressions: number;
  accounts_shown: number;
  users_shown: number;
  suppressed_by_dismissals: number;
}

export interface ThresholdCrossings {
  metric: string;
  threshold: number;
  /** Accounts that crossed it at least once in the window (a new period counts anew). */
  accounts: number;
  /** Crossings per day, days with none left out. */
  daily: { day: number; accounts: number }[];
}

/** What one definition showed over the window, across the prompts it rendered. */
export interface DefinitionCounts {
  definition_id: string;
  kind: PromptKind;
  impressions: number;
  accounts_shown: number;
  users_shown: number;
}

export interface SimulationResult {
  from: number;
  to: number;
  accounts: number;
  users: number;
  totals: Omit<DayTotals, 'day'>;
  definitions: DefinitionCounts[];
  prompts: PromptCounts[];
  days: DayTotals[];
  /** One row per prompt and day with any impression, hold-back or suppression. */
  prompt_days: (PromptCounts & { day: number })[];
  thresholds: ThresholdCrossings[];
}

const dayOf = (t: number) => Math.floor(t / DAY_MS) * DAY_MS;
const billingPeriod = (a: Pick<SimulatedAccount, 'period_start' | 'period_end'>) => ({ periodStart: a.period_start, periodEnd: a.period_end });

/**
 * When an account met an activation rule (its `min_events`-th counted event, and its minimum
 * age), or null if it has not.
 * @example activatedAt({ events: ['core_feature_activated'], min_events: 1, min_age_days: 0 }, account) // 1793491200000
 */
export function activatedAt(rule: ActivationRule, account: Pick<SimulatedAccount, 'created_at' | 'activation_events'>): number | null {
  const aged = account.created_at + rule.min_age_days * DAY_MS;
  if (rule.min_events <= 0) return aged;
  const counted = account.activation_events.filter((e) => rule.events.includes(e.event)).map((e) => e.timestamp).sort((a, b) => a - b);
  const reached = counted[rule.min_events - 1];
  return reached === undefined ? null : Math.max(reached, aged);
}

/** [UTC day, value at the day's start, value at its end]. */
type DayEntry = [number, number, number];

/**
 * Usage of each metric through the day, looked up by time. Only daily totals are stored, so
 * within a day a counter's increments are spread evenly over it, and a gauge takes the day's
 * value from midday: the unbiased guess when the time of day is unknown.
 */
export class UsageBook {
  /** metric → period start → days ascending. */
  private counters = new Map<string, Map<number, DayEntry[]>>();
  private gauges = new Map<string, DayEntry[]>();
  private metrics: Map<string, Catalog['metrics'][number]>;
  /** The last billing period looked up per metric, since most lookups fall in the same one. */
  private periods = new Map<string, Period>();
  /** The last billing period looked up. */
  private billing: Period | null = null;

  constructor(usage: readonly DailyUsage[], catalog: Catalog, private account: SimulatedAccount) {
    this.metrics = new Map(catalog.metrics.map((m) => [m.id, m]));
    // days ascending, in stored order within a day (usage as loaded usually is already)
    const sorted = usage.every((u, k) => k === 0 || usage[k - 1]!.day <= u.day) ? usage : [...usage].sort((a, b) => a.day - b.day);
    for (const u of sorted) {
      if (this.metrics.get(u.metric)?.kind === 'gauge') {
        let list = this.gauges.get(u.metric);
        if (!list) this.gauges.set(u.metric, (list = []));
        const last = list[list.length - 1];
        const value = (u.set ?? last?.[2] ?? 0) + u.added;
        if (last?.[0] === u.day) last[2] = value;
        else list.push([u.day, last?.[2] ?? 0, value]);
      } else {
        let periods = this.counters.get(u.metric);
        if (!periods) this.counters.set(u.metric, (periods = new Map<number, DayEntry[]>()));
        let list = periods.get(u.period_start);
        if (!list) periods.set(u.period_start, (list = []));
        const last = list[list.length - 1];
        if (last?.[0] === u.day) last[2] += u.added;
        else list.push([u.day, last?.[2] ?? 0, (last?.[2] ?? 0) + u.added]);
      }
    }
  }

  /**
   * The start of the period a counter counts in at `t`. From the account's known billing
   * period onwards that is `metricPeriod`; before it (the account row holds only the current
   * period) it is the latest period the stored usage names that can still be running at `t`.
   */
  periodStartAt(metric: Catalog['metrics'][number], t: number): number {
    const { period_start: start, period_end: end } = this.account;
    if (metric.kind === 'gauge' || metric.reset !== 'billing_period' || start === null || end === null || t >= start) {
      const cached = this.periods.get(metric.id);
      if (cached && cached.start <= t && (cached.end === null || t < cached.end)) return cached.start;
      const period = metricPeriod(metric, billingPeriod(this.account), t);
      this.periods.set(metric.id, period);
      return period.start;
    }
    const starts = this.startLists.get(metric.id) ?? this.starts(metric.id, () => [...(this.counters.get(metric.id)?.keys() ?? [])]);
    return latestRunning(starts, t, end - start) ?? t;
  }

  /** Period starts named by stored usage, ascending, per metric (or '' for every billing-period counter). */
  private startLists = new Map<string, number[]>();
  private starts(key: string, list: () => number[]): number[] {
    let sorted = this.startLists.get(key);
    if (!sorted) this.startLists.set(key, (sorted = list().sort((a, b) => a - b)));
    return sorted;
  }

  /**
   * The start of the period a limit notice's `total` counts in at `t`, as the worker reads it
   * (`capPeriodMetric`): a counter's own period, else the account's billing period. Before the
   * account's known period, the billing period is the latest one stored usage names, else the
   * known one stepped back by its length.
   */
  capPeriodStartAt(metric: Catalog['metrics'][number] | undefined, t: number): number {
    const counted = capPeriodMetric(metric);
    if (metric && counted === metric) return this.periodStartAt(metric, t);
    const { period_start: start, period_end: end } = this.account;
    if (start === null || end === null || t >= start) {
      const cached = this.billing;
      if (cached && cached.start <= t && (cached.end === null || t < cached.end)) return cached.start;
      this.billing = metricPeriod(counted, billingPeriod(this.account), t);
      return this.billing.start;
    }
    const length = end - start;
    const all = this.startLists.get('') ?? this.starts('', () => [...this.counters].filter(([id]) => this.metrics.get(id)?.reset === 'billing_period').flatMap(([, periods]) => [...periods.keys()]));
    return latestRunning(all, t, length) ?? start - Math.ceil((start - t) / length) * length;
  }

  /** The metric's use at `t`. */
  used(metricId: string, t: number): number {
    const metric = this.metrics.get(metricId);
    if (!metric) return 0;
    const list = metric.kind === 'gauge' ? this.gauges.get(metricId) : this.counters.get(metricId)?.get(this.periodStartAt(metric, t));
    const entry = list && lastOnOrBefore(list, dayOf(t));
    if (!entry) return 0;
    const [day, start, end] = entry;
    if (day < dayOf(t)) return end;
    const fraction = (t - day) / DAY_MS;
    if (metric.kind === 'gauge') return fraction < 0.5 ? start : end;
    return Math.round(start + (end - start) * fraction);
  }

  /** The metric's use when the UTC day starting at `day` closes. */
  closing(metricId: string, day: number): number {
    const metric = this.metrics.get(metricId);
    if (!metric) return 0;
    const list = metric.kind === 'gauge' ? this.gauges.get(metricId) : this.counters.get(metricId)?.get(this.periodStartAt(metric, day + DAY_MS - 1));
    return (list && lastOnOrBefore(list, day)?.[2]) ?? 0;
  }
}

/**
 * Of period starts (ascending), the latest one at or before `t` whose period of `length` still
 * runs at `t`, or null: only the latest start at or before `t` can be (binary search).
 */
function latestRunning(starts: readonly number[], t: number, length: number): number | null {
  let lo = 0;
  let hi = starts.length - 1;
  let found: number | null = null;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (starts[mid]! <= t) {
      found = starts[mid]!;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found !== null && t - found < length ? found : null;
}

/** The last entry on or before `day` (binary search). */
function lastOnOrBefore(list: readonly DayEntry[], day: number): DayEntry | undefined {
  let lo = 0;
  let hi = list.length - 1;
  let found: DayEntry | undefined;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const entry = list[mid]!;
    if (entry[0] <= day) {
      found = entry;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

type PromptMeta = Pick<PromptCounts, 'prompt_id' | 'definition_id' | 'kind' | 'metric' | 'threshold' | 'feature_id'>;

const NO_BUDGET = { max_soft_per_session: Number.POSITIVE_INFINITY, max_feature_per_session: Number.POSITIVE_INFINITY };

/**
 * Distinct members per slot, for members that arrive in runs (all of one account's, or one
 * user's, counts before the next's): remembering the last member of each slot is enough.
 */
class Distinct {
  readonly counts: Int32Array;
  private last: Int32Array;
  constructor(slots: number) {
    this.counts = new Int32Array(slots);
    this.last = new Int32Array(slots).fill(-1);
  }
  add(slot: number, member: number) {
    if (this.last[slot] === member) return;
    this.last[slot] = member;
    this.counts[slot]! += 1;
  }
}

/** One prompt's counts: per window day, and over the window in slot `days`. */
interface PromptTally {
  meta: PromptMeta;
  impressions: Int32Array;
  held: Int32Array;
  suppressed: Int32Array;
  accounts: Distinct;
  users: Distinct;
}

/** Events in the order they were replayed, with their place in the user's replayed history. */
interface Trail<T> {
  items: T[];
  at: number[];
}

const trailOf = <T>(): Trail<T> => ({ items: [], at: [] });

/** Drops the items replayed before `lo` (the front of the history the worker loads). */
function trim<T>(trail: Trail<T>, lo: number) {
  let k = 0;
  while (k < trail.at.length && trail.at[k]! < lo) k += 1;
  if (k === 0) return;
  trail.items.splice(0, k);
  trail.at.splice(0, k);
}

/**
 * One user's replayed history as the engine reads it at each moment, carried forward event by
 * event: the events each cap counts together (`capKeyOf`), the same without dismissals (for
 * "suppressed by dismissals"), and each session's impressions and gate hits. An event leaves
 * them when it leaves the window the worker loads (`HISTORY_DAYS`, newest `HISTORY_LIMIT`).
 */
class UserHistory {
  /** Timestamps of every replayed event, oldest first (the window is cut on these). */
  private times: number[] = [];
  private oldest = 0;
  private trimmedTo = 0;
  readonly caps = new Map<string, PromptHistoryEvent[]>();
  readonly capsUndismissed = new Map<string, PromptHistoryEvent[]>();
  /** Per cap group: its events in both maps above (the same arrays), with their places in `times`. */
  private groups = new Map<string, CapGroup>();
  private impressions = new Map<string, Trail<string>>();
  private gateHits = new Map<string, Trail<string>>();
  /** The first replayed event the worker would load at the last `windowAt`. */
  private lo = 0;
  /** `caps` as handed to the engine: notes whether the engine read a group holding a dismissal. */
  readonly capsRead: CapsRead;

  constructor(private capKey: (promptId: string) => string | null) {
    this.capsRead = new CapsRead(this.caps, this.capsUndismissed);
  }

  record(h: PromptHistoryEvent) {
    const i = this.times.length;
    this.times.push(h.timestamp);
    if (h.type === 'gate_hit' && h.feature_id) push(this.gateHits, h.session_id, h.feature_id, i);
    // engineInputFor hands the engine no event without a prompt id but gate hits, and the caps count only these three kinds
    if (h.prompt_id === '' || (h.type !== 'impression' && h.type !== 'dismiss' && h.type !== 'snooze')) return;
    if (h.type === 'impression') push(this.impressions, h.session_id, h.prompt_id, i);
    const key = this.capKey(h.prompt_id);
    if (key === null) return;
    let group = this.groups.get(key);
    if (!group) {
      this.groups.set(key, (group = { all: trailOf(), undismissed: trailOf() }));
      this.caps.set(key, group.all.items);
      this.capsUndismissed.set(key, group.undismissed.items);
    }
    group.all.items.push(h);
    group.all.at.push(i);
    if (h.type !== 'dismiss') {
      group.undismissed.items.push(h);
      group.undismissed.at.push(i);
    }
  }

  /** Moves the window to what the worker loads at `now` (`historyWindow`); `now` never goes back. */
  windowAt(now: number) {
    const since = now - HISTORY_DAYS * DAY_MS;
    while (this.oldest < this.times.length && this.times[this.oldest]! < since) this.oldest += 1;
    this.lo = Math.max(this.oldest, this.times.length - HISTORY_LIMIT);
    if (this.lo === this.trimmedTo) return;
    this.trimmedTo = this.lo;
    for (const group of this.groups.values()) {
      trim(group.all, this.lo);
      trim(group.undismissed, this.lo);
    }
  }

  /** The session's impressions (prompt ids) in the window. */
  sessionImpressions(session: string): readonly string[] {
    return inWindow(this.impressions.get(session), this.lo);
  }

  /** The features of the session's gate hits in the window, oldest first. */
  sessionGateHits(session: string): readonly string[] {
    return inWindow(this.gateHits.get(session), this.lo);
  }
}

/**
 * A user's cap groups as the engine reads them (`CapHistory.eventsByCapKey`), noting whether
 * any group it read holds a dismissal in the window, i.e. differs from the same group without
 * dismissals. The engine is pure and reads the groups only through this map, so if it read none
 * that differs, asking it again without dismissals reads the same events at every step and
 * answers the same: that second call is skipped. Any read other than `get`/`has` of one group
 * counts as reading one that differs.
 */
class CapsRead implements ReadonlyMap<string, readonly PromptHistoryEvent[]> {
  /** Set when the engine read a group holding a dismissal since the last `reset`. */
  readDismissal = false;

  constructor(
    private caps: ReadonlyMap<string, readonly PromptHistoryEvent[]>,
    private undismissed: ReadonlyMap<string, readonly PromptHistoryEvent[]>,
  ) {}

  reset() {
    this.readDismissal = false;
  }

  get(key: string): readonly PromptHistoryEvent[] | undefined {
    const events = this.caps.get(key);
    if (events && events.length !== (this.undismissed.get(key)?.length ?? 0)) this.readDismissal = true;
    return events;
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  get size(): number {
    this.readDismissal = true;
    return this.caps.size;
  }

  forEach(f: (value: readonly PromptHistoryEvent[], key: string, map: ReadonlyMap<string, readonly PromptHistoryEvent[]>) => void, thisArg?: unknown): void {
    this.readDismissal = true;
    this.caps.forEach((v, k) => f.call(thisArg, v, k, this));
  }

  entries() {
    this.readDismissal = true;
    return this.caps.entries();
  }

  keys() {
    this.readDismissal = true;
    return this.caps.keys();
  }

  values() {
    this.readDismissal = true;
    return this.caps.values();
  }

  [Symbol.iterator]() {
    return this.entries();
  }
}

function push(map: Map<string, Trail<string>>, key: string, item: string, i: number) {
  let trail = map.get(key);
  if (!trail) map.set(key, (trail = trailOf<string>()));
  trail.items.push(item);
  trail.at.push(i);
}

/** One cap group's events, and the same without dismissals (an empty list reads as no list). */
interface CapGroup {
  all: Trail<PromptHistoryEvent>;
  undismissed: Trail<PromptHistoryEvent>;
}

const NONE: readonly string[] = [];

/**
 * A user's lifetime impression counts as the engine reads them (`lifetime_impressions[id]`),
 * kept in a Map: adding a user's prompt ids to a plain object in whatever order they come gives
 * every user's object its own shape, which made counting them a tenth of the replay.
 */
function lifetimeView(counts: ReadonlyMap<string, number>): Readonly<Record<string, number>> {
  return new Proxy(Object.create(null) as Record<string, number>, {
    get: (_, id) => (typeof id === 'string' ? counts.get(id) : undefined),
    has: (_, id) => typeof id === 'string' && counts.has(id),
    ownKeys: () => [...counts.keys()],
    getOwnPropertyDescriptor: (_, id) =>
      typeof id === 'string' && counts.has(id) ? { value: counts.get(id), writable: false, enumerable: true, configurable: true } : undefined,
  });
}

const hasPrompt = (prompts: readonly RenderedPrompt[], id: string) => prompts.some((p) => p.id === id);

function inWindow(trail: Trail<string> | undefined, lo: number): readonly string[] {
  if (!trail) return NONE;
  return trail.at[0]! >= lo ? trail.items : trail.items.filter((_, k) => trail.at[k]! >= lo);
}

/**
 * Replay the history under the rules: what they would have shown, held back and suppressed,
 * per prompt and per day, and which accounts crossed each limit threshold. A session is one
 * account's user's `session_id`. Gives exactly what the straightforward replay
 * (`simulateByReplay`, shared/simulatorReplay.ts) gives, without rebuilding each user's
 * history at every moment: the caps' events are carried forward per user (`UserHistory`),
 * the engine's candidates are computed once per moment for the budgeted and unbudgeted
 * answers, and copy is never rendered.
 * @example simulate(history, { definitions: defaultPrompts, activation: { events: ['core_feature_activated'], min_events: 1, min_age_days: 0 } }).totals.impressions // 412
 */
export function simulate(history: SimulationHistory, rules: SimulationRules): SimulationResult {
  const { from, to, catalog } = history;
  const { metrics } = catalog;
  const byRank = [...catalog.plans].sort((a, b) => a.rank - b.rank);
  const dayCount = Math.max(0, Math.ceil((to - from) / DAY_MS));
  const index = new DefinitionIndex(rules.definitions);
  const capKey = (promptId: string) => index.capKey(promptId);
  const unlimited = { index, global: NO_BUDGET };
  const prompts = new Map<string, PromptTally>();
  const definitionShown = new Map<string, { accounts: Distinct; users: Distinct }>();
  // per window day, and over the window in slot `dayCount`
  const sessions = new Int32Array(dayCount);
  const sessionsAtCap = new Int32Array(dayCount);
  const dayAccounts = new Distinct(dayCount + 1);
  const dayUsers = new Distinct(dayCount + 1);
  let users = 0;
  let accounts = 0;
  let userOrdinal = 0;
  const crossings = new CrossingTally(history, rules);

  const tallyOf = (p: RenderedPrompt): PromptTally => {
    let t = prompts.get(p.id);
    if (t) return t;
    t = {
      meta: { prompt_id: p.id, definition_id: p.definition_id, kind: p.kind, metric: p.metric ?? null, threshold: p.threshold ?? null, feature_id: p.feature_id ?? null },
      impressions: new Int32Array(dayCount),
      held: new Int32Array(dayCount),
      suppressed: new Int32Array(dayCount),
      accounts: new Distinct(dayCount + 1),
      users: new Distinct(dayCount + 1),
    };
    prompts.set(p.id, t);
    if (!definitionShown.has(p.definition_id)) definitionShown.set(p.definition_id, { accounts: new Distinct(1), users: new Distinct(1) });
    return t;
  };

  for (const account of history.accounts) {
    const plan = catalog.plans.find((p) => p.id === account.plan_id);
    if (!plan) continue;
    const accountOrdinal = accounts;
    accounts += 1;
    const book = new UsageBook(account.usage, catalog, account);
    const activeFrom = activatedAt(rules.activation, account);
    const base = baseInput(catalog, byRank, plan);
    const limits = catalog.metrics.map((m) => metricLimit(plan, m.id, account));
    crossings.add(book, limits, accountOrdinal);
    // What the engine is asked with, rewritten at each moment (the input too, once built).
    const seatsIndex = metrics.findIndex((m) => m.id === SEATS_METRIC);
    const serve: ServeInput & { meters: { used: number; cap_period_start: number }[] } = {
      plan: base.plan,
      next_plan: base.next_plan,
      features: base.features,
      now: 0,
      session_id: '',
      user_id: '',
      locale: 'en-US',
      activated: false,
      definitions: rules.definitions,
      meters: metrics.map((m, k) => ({ metric: m.id, name: m.name, used: 0, limit: limits[k]!, cap_period_start: 0 })),
      seats: { used: 0, limit: seatsIndex >= 0 ? limits[seatsIndex]! : null },
      history: [],
      session_gate_hits: NONE,
      lifetime: {},
    };
    let engineInput: PromptEngineInput | undefined;
    const byUser = new Map<string, PromptHistoryEvent[]>();
    for (const e of account.events) {
      const list = byUser.get(e.user_id);
      if (list) list.push(e);
      else byUser.set(e.user_id, [e]);
    }

    for (const [userId, stored] of byUser) {
      stored.sort((a, b) => a.timestamp - b.timestamp);
      if (stored.some((e) => e.timestamp >= from && e.timestamp < to)) users += 1;
      const user = userOrdinal++;
      const seen = new UserHistory(capKey);
      const lifetime = new Map<string, number>(Object.entries(account.lifetime_before?.[userId] ?? {}));
      serve.user_id = userId;
      serve.lifetime = lifetimeView(lifetime);
      const record = (h: PromptHistoryEvent) => {
        seen.record(h);
        if (h.type === 'impression' && h.prompt_id) lifetime.set(h.prompt_id, (lifetime.get(h.prompt_id) ?? 0) + 1);
      };
      const shownIn = new Map<string, string[]>(); // session → prompts the replay showed in it (a few)
      // Reactions stored before the replay showed their prompt in that session: they happen when it does.
      const pending = new Map<string, PromptHistoryEvent[]>();
      const countedIn = new Set<string>(); // `${kind}|${session}|${prompt}`: each hold-back once per session
      const cappedOn = new Map<string, number>(); // session → the last day it was counted at the cap
      let evaluatedSession: string | null = null;
      let evaluatedAt = 0;

      for (const e of stored) {
        if (e.timestamp < from) {
          // Before the window the history is what happened.
          record(e);
          continue;
        }
        if (e.timestamp >= to) break;
        const d = Math.floor((dayOf(e.timestamp) - from) / DAY_MS);
        let shown = shownIn.get(e.session_id);
        const firstInSession = !shown;
        if (!shown) {
          shownIn.set(e.session_id, (shown = []));
          sessions[d]! += 1;
        }
        if (e.type === 'gate_hit') record(e);
        if (e.type === 'click' || e.type === 'dismiss' || e.type === 'snooze' || e.type === 'invite_sent') {
          const key = `${e.session_id}|${e.prompt_id}`;
          if (shown.includes(e.prompt_id)) record(e);
          else pending.set(key, [...(pending.get(key) ?? []), e]);
          continue;
        }
        if (!(firstInSession || e.type === 'impression' || e.type === 'gate_hit') || (e.session_id === evaluatedSession && e.timestamp === evaluatedAt)) continue;
        evaluatedSession = e.session_id;
        evaluatedAt = e.timestamp;

        seen.windowAt(e.timestamp);
        const t = e.timestamp;
        for (let k = 0; k < metrics.length; k++) {
          const m = metrics[k]!;
          const meter = serve.meters[k]!;
          meter.used = book.used(m.id, t);
          meter.cap_period_start = book.capPeriodStartAt(m, t);
        }
        // seatsAt: the seats meter's use, under its limit
        if (seatsIndex >= 0) serve.seats.used = serve.meters[seatsIndex]!.used;
        serve.now = t;
        serve.session_id = e.session_id;
        serve.activated = activeFrom !== null && activeFrom <= t;
        serve.session_gate_hits = seen.sessionGateHits(e.session_id);
        const input = (engineInput = engineInputFor(serve, engineInput));
        const sessionImpressions = seen.sessionImpressions(e.session_id);
        seen.capsRead.reset();
        const candidates = promptCandidates(input, { eventsByCapKey: seen.capsRead }, { copy: false, index });
        const budgeted = withinSessionBudget(input, candidates, sessionImpressions, { index });
        const result = budgeted.prompts;
        // Nothing can be held back while soft budget is left and no feature prompt competes for its own.
        const maybeCapped = budgeted.session_prompts_left === 0 || input.gate_hits_this_session.length > 0;
        const unbudgeted = maybeCapped ? withinSessionBudget(input, candidates, sessionImpressions, unlimited).prompts : result;
        // Without dismissals the engine would answer the same unless it read a group that holds one.
        const undismissed = seen.capsRead.readDismissal
          ? withinSessionBudget(input, promptCandidates(input, { eventsByCapKey: seen.capsUndismissed }, { copy: false, index }), sessionImpressions, unlimited).prompts
          : unbudgeted;

        let capped = false;
        if (unbudgeted !== result) {
          for (const p of unbudgeted) {
            if (hasPrompt(result, p.id)) continue;
            capped = true;
            const t = tallyOf(p);
            const once = `cap|${e.session_id}|${p.id}`;
            if (!countedIn.has(once)) {
              countedIn.add(once);
              t.held[d]! += 1;
            }
          }
        }
        if (capped && cappedOn.get(e.session_id) !== d) {
          cappedOn.set(e.session_id, d);
          sessionsAtCap[d]! += 1;
        }
        if (undismissed !== unbudgeted) {
          for (const p of undismissed) {
            if (hasPrompt(unbudgeted, p.id)) continue;
            const t = tallyOf(p);
            const once = `dismiss|${e.session_id}|${p.id}`;
            if (!countedIn.has(once)) {
              countedIn.add(once);
              t.suppressed[d]! += 1;
            }
          }
        }
        for (const p of result) {
          if (shown.includes(p.id)) continue;
          shown.push(p.id);
          const t = tallyOf(p);
          record({ prompt_id: p.id, type: 'impression', session_id: e.session_id, user_id: userId, timestamp: e.timestamp });
          const key = pending.size === 0 ? '' : `${e.session_id}|${p.id}`;
          const reactions = pending.size === 0 ? undefined : pending.get(key);
          if (reactions) {
            for (const r of reactions) record({ ...r, timestamp: e.timestamp });
            pending.delete(key);
          }
          t.impressions[d]! += 1;
          t.accounts.add(d, accountOrdinal);
          t.accounts.add(dayCount, accountOrdinal);
          t.users.add(d, user);
          t.users.add(dayCount, user);
          const shownBy = definitionShown.get(p.definition_id)!;
          shownBy.accounts.add(0, accountOrdinal);
          shownBy.users.add(0, user);
          dayAccounts.add(d, accountOrdinal);
          dayAccounts.add(dayCount, accountOrdinal);
          dayUsers.add(d, user);
          dayUsers.add(dayCount, user);
        }
      }
    }
  }

  const promptDays: SimulationResult['prompt_days'] = [];
  const totals: PromptCounts[] = [];
  const dayImpressions = new Int32Array(dayCount);
  const daySuppressed = new Int32Array(dayCount);
  for (const [id, t] of [...prompts].sort(([a], [b]) => a.localeCompare(b))) {
    const total: PromptCounts = { ...t.meta, impressions: 0, accounts_shown: t.accounts.counts[dayCount]!, users_shown: t.users.counts[dayCount]!, held_by_session_cap: 0, suppressed_by_dismissals: 0 };
    for (let d = 0; d < dayCount; d++) {
      const impressions = t.impressions[d]!;
      const held = t.held[d]!;
      const suppressed = t.suppressed[d]!;
      total.impressions += impressions;
      total.held_by_session_cap += held;
      total.suppressed_by_dismissals += suppressed;
      dayImpressions[d]! += impressions;
      daySuppressed[d]! += suppressed;
      if (impressions + held + suppressed > 0) {
        promptDays.push({
          day: from + d * DAY_MS,
          ...t.meta,
          impressions,
          accounts_shown: t.accounts.counts[d]!,
          users_shown: t.users.counts[d]!,
          held_by_session_cap: held,
          suppressed_by_dismissals: suppressed,
        });
      }
    }
    void id;
    totals.push(total);
  }
  promptDays.sort((a, b) => a.day - b.day || a.prompt_id.localeCompare(b.prompt_id));

  const days: DayTotals[] = [];
  for (let d = 0; d < dayCount; d++) {
    days.push({
      day: from + d * DAY_MS,
      sessions: sessions[d]!,
      sessions_at_cap: sessionsAtCap[d]!,
      impressions: dayImpressions[d]!,
      accounts_shown: dayAccounts.counts[d]!,
      users_shown: dayUsers.counts[d]!,
      suppressed_by_dismissals: daySuppressed[d]!,
    });
  }

  const definitions: DefinitionCounts[] = rules.definitions
    .map((def) => ({
      definition_id: def.id,
      kind: def.kind,
      impressions: totals.filter((p) => p.definition_id === def.id).reduce((s, p) => s + p.impressions, 0),
      accounts_shown: definitionShown.get(def.id)?.accounts.counts[0] ?? 0,
      users_shown: definitionShown.get(def.id)?.users.counts[0] ?? 0,
    }))
    .sort((a, b) => b.impressions - a.impressions || a.definition_id.localeCompare(b.definition_id));

  return {
    from,
    to,
    accounts,
    users,
    totals: {
      sessions: days.reduce((s, d) => s + d.sessions, 0),
      sessions_at_cap: days.reduce((s, d) => s + d.sessions_at_cap, 0),
      impressions: days.reduce((s, d) => s + d.impressions, 0),
      accounts_shown: dayAccounts.counts[dayCount]!,
      users_shown: dayUsers.counts[dayCount]!,
      suppressed_by_dismissals: days.reduce((s, d) => s + d.suppressed_by_dismissals, 0),
    },
    definitions,
    prompts: totals.sort((a, b) => b.impressions - a.impressions || a.prompt_id.localeCompare(b.prompt_id)),
    days,
    prompt_days: promptDays,
    thresholds: crossings.result(),
  };
}

/** The parts of the engine's input that do not change within an account's replay. */
export function baseInput(catalog: Catalog, byRank: Plan[], plan: Plan) {
  const next = byRank.find((p) => p.rank > plan.rank) ?? null;
  const planName = (id: string | null) => catalog.plans.find((p) => p.id === id)?.name ?? null;
  return {
    locale: 'en-US',
    plan: { id: plan.id, name: plan.name },
    next_plan: next && { id: next.id, name: next.name },
    features: Object.fromEntries(
      catalog.features.map((f) => {
        const inPlan = plan.features.includes(f.id);
        const required = inPlan ? null : (byRank.find((p) => p.features.includes(f.id))?.id ?? null);
        return [f.id, { name: f.name, entitled: inPlan, required_plan: required, required_plan_name: planName(required) }];
      }),
    ),
  };
}

export function seatsAt(book: UsageBook, plan: Plan, account: SimulatedAccount, t: number, catalog: Catalog) {
  if (!catalog.metrics.some((m) => m.id === SEATS_METRIC)) return { used: 0, limit: null };
  return { used: book.used(SEATS_METRIC, t), limit: metricLimit(plan, SEATS_METRIC, account) };
}

/** The limit-notice thresholds the rules name, plus the design's four. */
function thresholdsOf(definitions: readonly PromptDefinition[]): number[] {
  const set = new Set<number>(THRESHOLDS);
  for (const d of definitions) if (d.kind === 'limit_notice') for (const t of d.trigger.thresholds) set.add(t);
  return [...set].sort((a, b) => a - b);
}

/**
 * `thresholdCrossings` counted account by account on the replay's own usage books, giving
 * exactly what it gives: each day's closing use and period are those the previous day was
 * compared with, so they are looked up once, and counts are kept per metric and threshold
 * instead of in sets of account ids (an account's days come in one run).
 */
class CrossingTally {
  private thresholds: number[];
  private metrics: Catalog['metrics'];
  private from: number;
  private to: number;
  private dayCount: number;
  /** Per metric and threshold (`metric * thresholds + threshold`): accounts, the last account counted, crossings per day. */
  private accounts: Int32Array;
  private lastAccount: Int32Array;
  private daily: Int32Array;

  constructor(history: SimulationHistory, rules: SimulationRules) {
    this.thresholds = thresholdsOf(rules.definitions);
    this.metrics = history.catalog.metrics;
    this.from = history.from;
    this.to = history.to;
    this.dayCount = Math.max(0, Math.ceil((history.to - history.from) / DAY_MS));
    const slots = this.metrics.length * this.thresholds.length;
    this.accounts = new Int32Array(slots);
    this.lastAccount = new Int32Array(slots).fill(-1);
    this.daily = new Int32Array(slots * this.dayCount);
  }

  /** One account's crossings; `limits` per catalog metric, in its order. */
  add(book: UsageBook, limits: readonly (number | null)[], account: number) {
    const { thresholds, from, to } = this;
    const count = thresholds.length;
    for (let k = 0; k < this.metrics.length; k++) {
      const metric = this.metrics[k]!;
      const limit = limits[k]!;
      if (limit === null) continue;
      // the day before the window, as thresholdCrossings reads it for the first day
      let previousClosing = book.closing(metric.id, from - DAY_MS);
      let previousPeriod = book.periodStartAt(metric, from - 1);
      for (let day = from, d = 0; day < to; day += DAY_MS, d++) {
        const closing = book.closing(metric.id, day);
        const period = book.periodStartAt(metric, day + DAY_MS - 1);
        const pct = usagePct(closing, limit) ?? 0;
        const before = previousPeriod === period ? (usagePct(previousClosing, limit) ?? 0) : 0;
        previousClosing = closing;
        previousPeriod = period;
        if (pct <= before) continue;
        for (let j = 0; j < count; j++) {
          const t = thresholds[j]!;
          if (pct >= t && before < t) {
            const slot = k * count + j;
            if (this.lastAccount[slot] !== account) {
              this.lastAccount[slot] = account;
              this.accounts[slot]! += 1;
            }
            this.daily[slot * this.dayCount + d]! += 1;
          }
        }
      }
    }
  }

  result(): ThresholdCrossings[] {
    const out: ThresholdCrossings[] = [];
    const count = this.thresholds.length;
    for (let k = 0; k < this.metrics.length; k++) {
      for (let j = 0; j < count; j++) {
        const slot = k * count + j;
        if (this.accounts[slot] === 0) continue;
        const daily: ThresholdCrossings['daily'] = [];
        for (let d = 0; d < this.dayCount; d++) {
          const accounts = this.daily[slot * this.dayCount + d]!;
          if (accounts > 0) daily.push({ day: this.from + d * DAY_MS, accounts });
        }
        out.push({ metric: this.metrics[k]!.id, threshold: this.thresholds[j]!, accounts: this.accounts[slot]!, daily });
      }
    }
    return out.sort((a, b) => a.metric.localeCompare(b.metric) || a.threshold - b.threshold);
  }
}

/**
 * Accounts crossing each threshold per day: a day whose closing use is at or above the
 * threshold while the day before (in the same period) was below it.
 */
export function thresholdCrossings(history: SimulationHistory, rules: SimulationRules): ThresholdCrossings[] {
  const { from, to, catalog } = history;
  const thresholds = thresholdsOf(rules.definitions);
  const out = new Map<string, { accounts: Set<string>; daily: Map<number, number> }>();
  for (const account of history.accounts) {
    const plan = catalog.plans.find((p) => p.id === account.plan_id);
    if (!plan) continue;
    const book = new UsageBook(account.usage, catalog, account);
    for (const metric of catalog.metrics) {
      const limit = metricLimit(plan, metric.id, account);
      if (limit === null) continue;
      for (let day = from; day < to; day += DAY_MS) {
        const end = day + DAY_MS - 1;
        const pct = usagePct(book.closing(metric.id, day), limit) ?? 0;
        const samePeriod = book.periodStartAt(metric, day - 1) === book.periodStartAt(metric, end);
        const before = samePeriod ? (usagePct(book.closing(metric.id, day - DAY_MS), limit) ?? 0) : 0;
        for (const t of thresholds) {
          if (pct >= t && before < t) {
            const key = `${metric.id}|${t}`;
            const entry = out.get(key) ?? { accounts: new Set<string>(), daily: new Map<number, number>() };
            entry.accounts.add(account.id);
            entry.daily.set(day, (entry.daily.get(day) ?? 0) + 1);
            out.set(key, entry);
          }
        }
      }
    }
  }
  return [...out]
    .map(([key, v]) => {
      const [metric = '', t = '0'] = key.split('|');
      return {
        metric,
        threshold: Number(t),
        accounts: v.accounts.size,
        daily: [...v.daily].sort(([a], [b]) => a - b).map(([day, accounts]) => ({ day, accounts })),
      };
    })
    .sort((a, b) => a.metric.localeCompare(b.metric) || a.threshold - b.threshold);
}
