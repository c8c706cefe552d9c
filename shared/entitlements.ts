/**
 * What an account may do right now: meters against its plan's limits, feature entitlements
 * (plan or trial), seats and the plans it can move up to. Pure: the worker loads the rows,
 * this decides.
 */
import { highestThreshold, projectUsage, usagePct } from './metering';
import { calendarMonth, nextPeriod } from './prorate';
import type { Catalog, Meter, Metric, Plan } from './schemas';
import { isoOrNull } from './time';

export const SEATS_METRIC = 'seats';

export type AccountRow = {
  id: string;
  name: string;
  planId: string;
  seats: number;
  createdAt: number;
  periodStart: number | null;
  periodEnd: number | null;
  activatedAt: number | null;
};
export type CounterRow = { metric: string; periodStart: number; used: number; highestThreshold: number | null };
export type TrialRow = { featureId: string; endsAt: number };

export type Period = { start: number; end: number | null };

/**
 * The period a metric counts in at time `at`: the account's billing period rolled forward,
 * the calendar month, or all time (`never`, and every gauge).
 * @example metricPeriod(apiCalls, account, Date.now()) // { start: 1793491200000, end: 1796083200000 }
 */
export function metricPeriod(metric: Pick<Metric, 'kind' | 'reset'>, account: Pick<AccountRow, 'periodStart' | 'periodEnd'>, at: number): Period {
  if (metric.kind === 'gauge' || metric.reset === 'never') return { start: 0, end: null };
  if (metric.reset === 'billing_period' && account.periodStart !== null && account.periodEnd !== null) {
    if (at < account.periodStart) return { start: at, end: account.periodStart }; // before anything we know: an old period
    return rollPeriod(account.periodStart, account.periodEnd, at);
  }
  return calendarMonth(at);
}

/**
 * The period containing `at`, rolled forward from a known one: by calendar months when the
 * period is a whole number of them (as Stripe bills), else by its fixed length.
 * @example rollPeriod(Date.UTC(2026, 9, 1), Date.UTC(2026, 10, 1), Date.UTC(2026, 10, 5)) // Nov 1 → Dec 1
 */
export function rollPeriod(start: number, end: number, at: number): { start: number; end: number } {
  try {
    return nextPeriod(start, end, at);
  } catch {
    const length = end - start;
    const skipped = Math.max(0, Math.floor((at - start) / length));
    return { start: start + skipped * length, end: end + skipped * length };
  }
}

/**
 * The limit of a metric on a plan for an account; seats are the larger of the plan's included
 * seats and the seats bought. `null` = unlimited, and only when the plan says so: a limit the
 * plan does not list reads as 0 (fail closed), since the catalog rule makes every plan list
 * every metric and an omission must never give the metric away.
 * @example metricLimit(starter, 'seats', { seats: 8 }) // 8 when Starter includes 5
 */
export function metricLimit(plan: Plan, metricId: string, account: Pick<AccountRow, 'seats'>): number | null {
  const limit = Object.hasOwn(plan.limits, metricId) ? plan.limits[metricId]! : 0;
  if (limit === null) return null;
  return metricId === SEATS_METRIC ? Math.max(limit, account.seats) : limit;
}

/**
 * How far past its limit a metric may go on a plan: the limit itself when the plan blocks
 * there (the default), else limit × (1 + grace_pct / 100) rounded down; `null` = unlimited.
 * @example graceCeiling({ …starter, overage: { api_calls: { mode: 'grace', grace_pct: 10 } } }, 'api_calls', account) // 11000
 */
export function graceCeiling(plan: Plan, metricId: string, account: Pick<AccountRow, 'seats'>): number | null {
  const limit = metricLimit(plan, metricId, account);
  const overage = plan.overage?.[metricId];
  if (limit === null || !overage || overage.mode !== 'grace') return limit;
  return Math.min(Math.floor((limit * (100 + overage.grace_pct)) / 100), Number.MAX_SAFE_INTEGER);
}

/**
 * The plans an account on `current` may be offered, lowest rank first: higher-ranked and not
 * hidden. A hidden plan keeps its accounts but is never offered.
 * @example offeredPlans(catalog, starter).map((p) => p.id) // ['pro', 'business']
 */
export function offeredPlans(catalog: Pick<Catalog, 'plans'>, current: Pick<Plan, 'rank'>): Plan[] {
  return [...catalog.plans].sort((a, b) => a.rank - b.rank).filter((pl) => pl.rank > current.rank && !pl.hidden);
}

/** Current use of a metric: a counter from an earlier period reads as zero. */
export function currentUse(metric: Metric, account: AccountRow, counter: CounterRow | undefined, now: number): number {
  if (!counter) return 0;
  return counter.periodStart === metricPeriod(metric, account, now).start ? counter.used : 0;
}

type FeatureState = {
  name: string;
  description: string;
  trial_days: number;
  entitled: boolean;
  trial_available: boolean;
  trial_ends_at: string | null;
  required_plan: string | null;
};

export type AccountSnapshot = {
  plan: Plan;
  meters: Meter[];
  features: Record<string, FeatureState>;
  entitlements: Record<string, boolean>;
  seats: { used: number; limit: number | null };
  upgradeOptions: Plan[];
};

/**
 * Everything the API says about an account's plan, usage and features at `now`.
 * @example accountSnapshot({ account, catalog, counters, trials, now: Date.now() }).meters[0].pct
 */
export function accountSnapshot(p: {
  account: AccountRow;
  catalog: Catalog;
  counters: CounterRow[];
  trials: TrialRow[];
  now: number;
}): AccountSnapshot {
  const { account, catalog, now } = p;
  const plan = catalog.plans.find((pl) => pl.id === account.planId);
  if (!plan) throw new Error(`account ${account.id} is on plan ${account.planId}, which is not in the catalog`);
  const counters = new Map(p.counters.map((c) => [c.metric, c]));
  const meters: Meter[] = catalog.metrics.map((metric) => {
    const used = currentUse(metric, account, counters.get(metric.id), now);
    const limit = metricLimit(plan, metric.id, account);
    const period = metricPeriod(metric, account, now);
    const projected =
      metric.kind === 'counter' && period.end !== null
        ? projectUsage({ used, periodStart: period.start, periodEnd: period.end, now })
        : null;
    return {
      metric: metric.id,
      name: metric.name,
      unit: metric.unit,
      kind: metric.kind,
      used,
      limit,
      pct: usagePct(used, limit),
      threshold: highestThreshold(used, limit),
      period_end: isoOrNull(period.end),
      projected_at_period_end: projected,
    };
  });
  const byRank = [...catalog.plans].sort((a, b) => a.rank - b.rank);
  const trials = new Map(p.trials.map((t) => [t.featureId, t.endsAt]));
  const features: Record<string, FeatureState> = {};
  const entitlements: Record<string, boolean> = {};
  for (const feature of catalog.features) {
    const trialEnds = trials.get(feature.id) ?? null;
    const onTrial = trialEnds !== null && trialEnds > now;
    const inPlan = plan.features.includes(feature.id);
    features[feature.id] = {
      name: feature.name,
      description: feature.description,
      trial_days: feature.trial_days,
      entitled: inPlan || onTrial,
      trial_available: !inPlan && feature.trial_days > 0 && trialEnds === null,
      trial_ends_at: !inPlan && onTrial ? isoOrNull(trialEnds) : null,
      required_plan: inPlan ? null : byRank.find((pl) => !pl.hidden && pl.features.includes(feature.id))?.id ?? null,
    };
    entitlements[feature.id] = inPlan || onTrial;
  }
  const seatMeter = meters.find((m) => m.metric === SEATS_METRIC);
  return {
    plan,
    meters,
    features,
    entitlements,
    seats: { used: seatMeter?.used ?? 0, limit: seatMeter ? seatMeter.limit : null },
    upgradeOptions: offeredPlans(catalog, plan),
  };
}

/**
 * The lowest-ranked plan offered above the current one whose limit allows `needed` of a metric.
 * @example planAllowing(catalog, starter, 'api_calls', 12000) // pro
 */
export function planAllowing(catalog: Catalog, current: Plan, metricId: string, needed: number, account: Pick<AccountRow, 'seats'>): Plan | null {
  return offeredPlans(catalog, current).find((pl) => (metricLimit(pl, metricId, account) ?? Infinity) >= needed) ?? null;
}

