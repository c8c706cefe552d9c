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
import { eligiblePrompts, type PromptHistoryEvent, type RenderedPrompt } from './promptEngine';
import { metricLimit, metricPeriod, SEATS_METRIC, type Period } from './entitlements';
import { capPeriodMetric, engineInputFor, HISTORY_DAYS, HISTORY_LIMIT } from './promptInput';
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

interface DayTotals {
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
    const sorted = [...usage].sort((a, b) => a.day - b.day);
    for (const u of sorted) {
      if (this.metrics.get(u.metric)?.kind === 'gauge') {
        const list = this.gauges.get(u.metric) ?? [];
        const last = list.at(-1);
        const value = (u.set ?? last?.[2] ?? 0) + u.added;
        if (last?.[0] === u.day) last[2] = value;
        else list.push([u.day, last?.[2] ?? 0, value]);
        this.gauges.set(u.metric, list);
      } else {
        const periods = this.counters.get(u.metric) ?? new Map<number, DayEntry[]>();
        const list = periods.get(u.period_start) ?? [];
        const last = list.at(-1);
        if (last?.[0] === u.day) last[2] += u.added;
        else list.push([u.day, last?.[2] ?? 0, (last?.[2] ?? 0) + u.added]);
        periods.set(u.period_start, list);
        this.counters.set(u.metric, periods);
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
    const length = end - start;
    let best: number | null = null;
    for (const ps of this.counters.get(metric.id)?.keys() ?? []) if (ps <= t && t - ps < length && (best === null || ps > best)) best = ps;
    return best ?? t;
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
    let best: number | null = null;
    for (const [id, periods] of this.counters) {
      if (this.metrics.get(id)?.reset !== 'billing_period') continue;
      for (const ps of periods.keys()) if (ps <= t && t - ps < length && (best === null || ps > best)) best = ps;
    }
    return best ?? start - Math.ceil((start - t) / length) * length;
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

/** Counters keyed by a string, each counting distinct members (accounts, users, sessions). */
class Tally {
  private sets = new Map<string, Set<string>>();
  add(key: string, member: string) {
    const s = this.sets.get(key);
    if (s) s.add(member);
    else this.sets.set(key, new Set([member]));
  }
  count(key: string): number {
    return this.sets.get(key)?.size ?? 0;
  }
}

type PromptMeta = Pick<PromptCounts, 'prompt_id' | 'definition_id' | 'kind' | 'metric' | 'threshold' | 'feature_id'>;

const NO_BUDGET = { max_soft_per_session: Number.POSITIVE_INFINITY, max_feature_per_session: Number.POSITIVE_INFINITY };

/**
 * Replay the history under the rules: what they would have shown, held back and suppressed,
 * per prompt and per day, and which accounts crossed each limit threshold.
 * @example simulate(history, { definitions: defaultPrompts, activation: { events: ['core_feature_activated'], min_events: 1, min_age_days: 0 } }).totals.impressions // 412
 */
export function simulate(history: SimulationHistory, rules: SimulationRules): SimulationResult {
  const { from, to, catalog } = history;
  const byRank = [...catalog.plans].sort((a, b) => a.rank - b.rank);
  // The replay counts prompts and never reads their copy: plain copy skips formatting numbers.
  const plainCopy = Object.fromEntries(rules.definitions.map((d) => [d.id, { title: d.id, body: d.id, cta_label: '', secondary_label: '' }]));
  const meta = new Map<string, PromptMeta>();
  const impressions = new Map<string, number>();
  const shownAccounts = new Tally(); // `${prompt}|${day}` and `${prompt}` → accounts
  const shownUsers = new Tally(); // the same → users
  const held = new Tally(); // `${prompt}|${day}` → sessions
  const suppressed = new Tally();
  const sessions = new Tally(); // `${day}` → sessions; 'cap|day' → sessions at cap
  const dayAccounts = new Tally(); // `${day}` and 'all' → accounts shown anything
  const dayUsers = new Tally();
  let users = 0;
  let accounts = 0;

  const note = (p: RenderedPrompt) => {
    if (meta.has(p.id)) return;
    meta.set(p.id, {
      prompt_id: p.id,
      definition_id: p.definition_id,
      kind: p.kind,
      metric: p.metric ?? null,
      threshold: p.threshold ?? null,
      feature_id: p.feature_id ?? null,
    });
  };

  for (const account of history.accounts) {
    const plan = catalog.plans.find((p) => p.id === account.plan_id);
    if (!plan) continue;
    accounts += 1;
    const book = new UsageBook(account.usage, catalog, account);
    const activeFrom = activatedAt(rules.activation, account);
    const base = baseInput(catalog, byRank, plan);
    const byUser = new Map<string, PromptHistoryEvent[]>();
    for (const e of account.events) {
      const list = byUser.get(e.user_id);
      if (list) list.push(e);
      else byUser.set(e.user_id, [e]);
    }

    for (const [userId, stored] of byUser) {
      stored.sort((a, b) => a.timestamp - b.timestamp);
      if (stored.some((e) => e.timestamp >= from && e.timestamp < to)) users += 1;
      // What the caps see, oldest first: stored events before the window as they happened, then
      // the user's own gate hits and the replay's impressions and reactions.
      const replayed: PromptHistoryEvent[] = [];
      let oldest = 0; // the first replayed event within HISTORY_DAYS of the moment
      const lifetime: Record<string, number> = { ...account.lifetime_before?.[userId] };
      const record = (h: PromptHistoryEvent) => {
        replayed.push(h);
        if (h.type === 'impression' && h.prompt_id) lifetime[h.prompt_id] = (lifetime[h.prompt_id] ?? 0) + 1;
      };
      const shownIn = new Set<string>(); // `${session}|${prompt}`
      // Reactions stored before the replay showed their prompt in that session: they happen when it does.
      const pending = new Map<string, PromptHistoryEvent[]>();
      const countedIn = new Set<string>(); // `${kind}|${session}|${prompt}`: each hold-back once per session
      const seenSessions = new Set<string>();
      let evaluatedAt = '';

      for (const e of stored) {
        if (e.timestamp < from) {
          // Before the window the history is what happened.
          record(e);
          continue;
        }
        if (e.timestamp >= to) break;
        const day = dayOf(e.timestamp);
        const firstInSession = !seenSessions.has(e.session_id);
        if (firstInSession) {
          seenSessions.add(e.session_id);
          sessions.add(String(day), `${userId}|${e.session_id}`);
        }
        if (e.type === 'gate_hit') record(e);
        if (e.type === 'click' || e.type === 'dismiss' || e.type === 'snooze' || e.type === 'invite_sent') {
          const key = `${e.session_id}|${e.prompt_id}`;
          if (shownIn.has(key)) record(e);
          else pending.set(key, [...(pending.get(key) ?? []), e]);
          continue;
        }
        const moment = `${e.session_id}|${e.timestamp}`;
        if (!(firstInSession || e.type === 'impression' || e.type === 'gate_hit') || moment === evaluatedAt) continue;
        evaluatedAt = moment;

        // The events the worker would load now (historyWindow, on a list already in time order).
        const since = e.timestamp - HISTORY_DAYS * DAY_MS;
        while (oldest < replayed.length && replayed[oldest]!.timestamp < since) oldest += 1;
        const seen = replayed.slice(Math.max(oldest, replayed.length - HISTORY_LIMIT));
        const input = engineInputFor({
          ...base,
          now: e.timestamp,
          session_id: e.session_id,
          user_id: userId,
          locale: 'en-US',
          activated: activeFrom !== null && activeFrom <= e.timestamp,
          definitions: rules.definitions,
          copy_overrides: plainCopy,
          meters: catalog.metrics.map((m) => ({
            metric: m.id,
            name: m.name,
            used: book.used(m.id, e.timestamp),
            limit: metricLimit(plan, m.id, account),
            cap_period_start: book.capPeriodStartAt(m, e.timestamp),
          })),
          seats: seatsAt(book, plan, account, e.timestamp, catalog),
          history: seen,
          lifetime,
        });
        const budgeted = eligiblePrompts(input);
        const result = budgeted.prompts;
        // Nothing can be held back while soft budget is left and no feature prompt competes for its own.
        const maybeCapped = budgeted.session_prompts_left === 0 || input.gate_hits_this_session.length > 0;
        const unbudgeted = maybeCapped ? eligiblePrompts({ ...input, global: NO_BUDGET }).prompts : result;
        const dismissed = seen.some((h) => h.type === 'dismiss');
        const undismissed = dismissed
          ? eligiblePrompts({ ...input, global: NO_BUDGET, history: input.history.filter((h) => h.type !== 'dismiss') }).prompts
          : unbudgeted;

        const ids = new Set(result.map((p) => p.id));
        const unbudgetedIds = new Set(unbudgeted.map((p) => p.id));
        let capped = false;
        for (const p of unbudgeted) {
          if (ids.has(p.id)) continue;
          capped = true;
          note(p);
          const once = `cap|${e.session_id}|${p.id}`;
          if (!countedIn.has(once)) {
            countedIn.add(once);
            held.add(`${p.id}|${day}`, `${userId}|${e.session_id}`);
          }
        }
        if (capped) sessions.add(`cap|${day}`, `${userId}|${e.session_id}`);
        for (const p of undismissed) {
          if (unbudgetedIds.has(p.id)) continue;
          note(p);
          const once = `dismiss|${e.session_id}|${p.id}`;
          if (!countedIn.has(once)) {
            countedIn.add(once);
            suppressed.add(`${p.id}|${day}`, `${userId}|${e.session_id}`);
          }
        }
        for (const p of result) {
          const key = `${e.session_id}|${p.id}`;
          if (shownIn.has(key)) continue;
          shownIn.add(key);
          note(p);
          record({ prompt_id: p.id, type: 'impression', session_id: e.session_id, user_id: userId, timestamp: e.timestamp });
          for (const r of pending.get(key) ?? []) record({ ...r, timestamp: e.timestamp });
          pending.delete(key);
          impressions.set(`${p.id}|${day}`, (impressions.get(`${p.id}|${day}`) ?? 0) + 1);
          for (const k of [`${p.id}|${day}`, p.id, `definition|${p.definition_id}`]) {
            shownAccounts.add(k, account.id);
            shownUsers.add(k, `${account.id}|${userId}`);
          }
          for (const k of [String(day), 'all']) {
            dayAccounts.add(k, account.id);
            dayUsers.add(k, `${account.id}|${userId}`);
          }
        }
      }
    }
  }

  const allDays: number[] = [];
  for (let d = from; d < to; d += DAY_MS) allDays.push(d);

  const promptDays: SimulationResult['prompt_days'] = [];
  const totalsByPrompt = new Map<string, PromptCounts>();
  for (const [id, m] of [...meta].sort(([a], [b]) => a.localeCompare(b))) {
    const total: PromptCounts = { ...m, impressions: 0, accounts_shown: 0, users_shown: 0, held_by_session_cap: 0, suppressed_by_dismissals: 0 };
    for (const day of allDays) {
      const k = `${id}|${day}`;
      const row = {
        day,
        ...m,
        impressions: impressions.get(k) ?? 0,
        accounts_shown: shownAccounts.count(k),
        users_shown: shownUsers.count(k),
        held_by_session_cap: held.count(k),
        suppressed_by_dismissals: suppressed.count(k),
      };
      total.impressions += row.impressions;
      total.held_by_session_cap += row.held_by_session_cap;
      total.suppressed_by_dismissals += row.suppressed_by_dismissals;
      if (row.impressions + row.held_by_session_cap + row.suppressed_by_dismissals > 0) promptDays.push(row);
    }
    total.accounts_shown = shownAccounts.count(id);
    total.users_shown = shownUsers.count(id);
    totalsByPrompt.set(id, total);
  }
  promptDays.sort((a, b) => a.day - b.day || a.prompt_id.localeCompare(b.prompt_id));

  const days: DayTotals[] = allDays.map((day) => {
    const rows = promptDays.filter((r) => r.day === day);
    return {
      day,
      sessions: sessions.count(String(day)),
      sessions_at_cap: sessions.count(`cap|${day}`),
      impressions: rows.reduce((s, r) => s + r.impressions, 0),
      accounts_shown: dayAccounts.count(String(day)),
      users_shown: dayUsers.count(String(day)),
      suppressed_by_dismissals: rows.reduce((s, r) => s + r.suppressed_by_dismissals, 0),
    };
  });

  return {
    from,
    to,
    accounts,
    users,
    totals: {
      sessions: days.reduce((s, d) => s + d.sessions, 0),
      sessions_at_cap: days.reduce((s, d) => s + d.sessions_at_cap, 0),
      impressions: days.reduce((s, d) => s + d.impressions, 0),
      accounts_shown: dayAccounts.count('all'),
      users_shown: dayUsers.count('all'),
      suppressed_by_dismissals: days.reduce((s, d) => s + d.suppressed_by_dismissals, 0),
    },
    definitions: definitionCounts(rules.definitions, [...totalsByPrompt.values()], shownAccounts, shownUsers),
    prompts: [...totalsByPrompt.values()].sort((a, b) => b.impressions - a.impressions || a.prompt_id.localeCompare(b.prompt_id)),
    days,
    prompt_days: promptDays,
    thresholds: thresholdCrossings(history, rules),
  };
}

function definitionCounts(definitions: readonly PromptDefinition[], prompts: readonly PromptCounts[], accounts: Tally, users: Tally): DefinitionCounts[] {
  return definitions
    .map((d) => ({
      definition_id: d.id,
      kind: d.kind,
      impressions: prompts.filter((p) => p.definition_id === d.id).reduce((s, p) => s + p.impressions, 0),
      accounts_shown: accounts.count(`definition|${d.id}`),
      users_shown: users.count(`definition|${d.id}`),
    }))
    .sort((a, b) => b.impressions - a.impressions || a.definition_id.localeCompare(b.definition_id));
}

/** The parts of the engine's input that do not change within an account's replay. */
function baseInput(catalog: Catalog, byRank: Plan[], plan: Plan) {
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

function seatsAt(book: UsageBook, plan: Plan, account: SimulatedAccount, t: number, catalog: Catalog) {
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
 * Accounts crossing each threshold per day: a day whose closing use is at or above the
 * threshold while the day before (in the same period) was below it.
 */
function thresholdCrossings(history: SimulationHistory, rules: SimulationRules): ThresholdCrossings[] {
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
