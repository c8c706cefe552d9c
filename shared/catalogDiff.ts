/**
 * What a catalog change changes, and whom it hurts. Pure: the worker loads the catalogs,
 * accounts and counters; this compares them. Used by `PUT /v1/catalog?dry_run=true` (to show
 * a PM the effect before applying), by catalog versions (each stored with its diff) and by
 * the dashboard's catalog history (the sentences).
 */
import { currentUse, graceCeiling, metricLimit, type AccountRow, type CounterRow } from './entitlements';
import type { Catalog, Feature, Metric, Plan } from './schemas';

type Scalar = string | number | boolean | null;
type Limit = number | null;

/** One change between two catalogs; `from`/`to` are the old and new values of `field`. */
export type CatalogChange =
  | { kind: 'metric_added' | 'metric_removed'; metric: string }
  | { kind: 'metric_changed'; metric: string; field: MetricField; from: Scalar; to: Scalar }
  | { kind: 'feature_added' | 'feature_removed'; feature: string }
  | { kind: 'feature_changed'; feature: string; field: FeatureField; from: Scalar; to: Scalar }
  | { kind: 'plan_added' | 'plan_removed'; plan: string }
  | { kind: 'plan_changed'; plan: string; field: PlanField; from: Scalar; to: Scalar }
  | { kind: 'limit_changed'; plan: string; metric: string; from: Limit; to: Limit }
  /** The grace above the limit, in percent (0 = a hard stop: `block`, or `grace` with 0%). */
  | { kind: 'overage_changed'; plan: string; metric: string; from: number; to: number }
  | { kind: 'plan_feature_added' | 'plan_feature_removed'; plan: string; feature: string };

const METRIC_FIELDS = ['name', 'unit', 'kind', 'reset'] as const satisfies readonly (keyof Metric)[];
const FEATURE_FIELDS = ['name', 'description', 'trial_days'] as const satisfies readonly (keyof Feature)[];
/** Every scalar field of a plan (its limits, overage and features are compared one by one below). */
const PLAN_FIELDS = [
  'name', 'rank', 'hidden', 'currency', 'price_cents', 'interval', 'stripe_price_id', 'seat_price_cents', 'stripe_seat_price_id',
  'annual_price_cents', 'stripe_annual_price_id', 'annual_seat_price_cents', 'stripe_annual_seat_price_id',
] as const satisfies readonly (keyof Plan)[];
type MetricField = (typeof METRIC_FIELDS)[number];
type FeatureField = (typeof FEATURE_FIELDS)[number];
type PlanField = (typeof PLAN_FIELDS)[number];

/** A plan's written limit for a metric; one it does not list reads as 0, as `metricLimit` does. */
const limitOf = (plan: Plan, metric: string): Limit => (Object.hasOwn(plan.limits, metric) ? plan.limits[metric]! : 0);

/** A metric's grace above the limit on a plan, in percent; 0 is a hard stop. */
const graceOf = (plan: Plan, metric: string) => {
  const o = plan.overage?.[metric];
  return o?.mode === 'grace' ? o.grace_pct : 0;
};

/** Whether `to` allows less than `from` (`null` = unlimited). */
export const isLowered = (from: Limit, to: Limit) => to !== null && (from === null || to < from);

/**
 * Every change from `before` to `after`: metrics, then features, then plans with their
 * fields, limits and features, each in the new catalog's order with removals last. Order
 * of the lists alone is not a change. An empty list means the catalogs say the same.
 * @example catalogDiff(current, proposed) // [{ kind: 'limit_changed', plan: 'starter', metric: 'api_calls', from: 10000, to: 5000 }]
 */
export function catalogDiff(before: Catalog, after: Catalog): CatalogChange[] {
  const changes: CatalogChange[] = [];
  const fieldChanges = <T, F extends keyof T & string>(a: T, b: T, fields: readonly F[], make: (field: F, from: Scalar, to: Scalar) => CatalogChange) => {
    // an optional field left out reads as null (as the stored catalog gives it back)
    for (const field of fields) {
      const from = (a[field] ?? null) as Scalar;
      const to = (b[field] ?? null) as Scalar;
      if (from !== to) changes.push(make(field, from, to));
    }
  };

  const oldMetrics = new Map(before.metrics.map((m) => [m.id, m]));
  const newMetrics = new Set(after.metrics.map((m) => m.id));
  for (const m of after.metrics) {
    const old = oldMetrics.get(m.id);
    if (!old) changes.push({ kind: 'metric_added', metric: m.id });
    else fieldChanges(old, m, METRIC_FIELDS, (field, from, to) => ({ kind: 'metric_changed', metric: m.id, field, from, to }));
  }
  for (const m of before.metrics) if (!newMetrics.has(m.id)) changes.push({ kind: 'metric_removed', metric: m.id });

  const oldFeatures = new Map(before.features.map((f) => [f.id, f]));
  const newFeatures = new Set(after.features.map((f) => f.id));
  for (const f of after.features) {
    const old = oldFeatures.get(f.id);
    if (!old) changes.push({ kind: 'feature_added', feature: f.id });
    else fieldChanges(old, f, FEATURE_FIELDS, (field, from, to) => ({ kind: 'feature_changed', feature: f.id, field, from, to }));
  }
  for (const f of before.features) if (!newFeatures.has(f.id)) changes.push({ kind: 'feature_removed', feature: f.id });

  const oldPlans = new Map(before.plans.map((p) => [p.id, p]));
  const newPlans = new Set(after.plans.map((p) => p.id));
  for (const p of after.plans) {
    const old = oldPlans.get(p.id);
    if (!old) {
      changes.push({ kind: 'plan_added', plan: p.id });
      continue;
    }
    fieldChanges(old, p, PLAN_FIELDS, (field, from, to) => ({ kind: 'plan_changed', plan: p.id, field, from, to }));
    // Limits of metrics in both catalogs; an added metric is one change, not one per plan.
    for (const m of after.metrics) {
      if (!oldMetrics.has(m.id)) continue;
      const from = limitOf(old, m.id);
      const to = limitOf(p, m.id);
      if (from !== to) changes.push({ kind: 'limit_changed', plan: p.id, metric: m.id, from, to });
      const [graceFrom, graceTo] = [graceOf(old, m.id), graceOf(p, m.id)];
      if (graceFrom !== graceTo) changes.push({ kind: 'overage_changed', plan: p.id, metric: m.id, from: graceFrom, to: graceTo });
    }
    for (const f of p.features) if (!old.features.includes(f)) changes.push({ kind: 'plan_feature_added', plan: p.id, feature: f });
    for (const f of old.features) if (!p.features.includes(f)) changes.push({ kind: 'plan_feature_removed', plan: p.id, feature: f });
  }
  for (const p of before.plans) if (!newPlans.has(p.id)) changes.push({ kind: 'plan_removed', plan: p.id });
  return changes;
}

export type AffectedAccount = { account_id: string; metric: string; used: number; new_limit: number };

/**
 * The accounts a new catalog puts at or over a limit that it lowers: for each account on a
 * plan of `after`, each metric whose limit goes down (or from unlimited to a number), or whose
 * grace past the limit shrinks, with current use at or above the new limit — blocked at 100%
 * (or past the smaller grace) once applied. Use is read as the
 * account sees it now, under `before`. Seats count the seats bought, as `metricLimit` does.
 * @example accountsOverNewLimits({ before, after, accounts, counters, now }) // [{ account_id: 'acme', metric: 'api_calls', used: 7200, new_limit: 5000 }]
 */
export function accountsOverNewLimits(p: {
  before: Catalog;
  after: Catalog;
  accounts: AccountRow[];
  counters: (CounterRow & { accountId: string })[];
  now: number;
}): AffectedAccount[] {
  const oldPlans = new Map(p.before.plans.map((pl) => [pl.id, pl]));
  const newPlans = new Map(p.after.plans.map((pl) => [pl.id, pl]));
  const oldMetrics = new Map(p.before.metrics.map((m) => [m.id, m]));
  const counters = new Map(p.counters.map((c) => [`${c.accountId}\u0000${c.metric}`, c]));
  const affected: AffectedAccount[] = [];
  for (const account of p.accounts) {
    const plan = newPlans.get(account.planId);
    if (!plan) continue;
    const oldPlan = oldPlans.get(account.planId);
    for (const metric of p.after.metrics) {
      const newLimit = metricLimit(plan, metric.id, account);
      const oldMetric = oldMetrics.get(metric.id);
      // A metric the old catalog did not have was unlimited (nothing counted against it).
      const oldLimit = oldPlan && oldMetric ? metricLimit(oldPlan, metric.id, account) : null;
      // Where the plan allows grace past its limit, what is refused is past the grace: less grace lowers it too.
      const oldCeiling = oldPlan && oldMetric ? graceCeiling(oldPlan, metric.id, account) : null;
      if (newLimit === null || !(isLowered(oldLimit, newLimit) || isLowered(oldCeiling, graceCeiling(plan, metric.id, account)))) continue;
      const used = currentUse(oldMetric ?? metric, account, counters.get(`${account.id}\u0000${metric.id}`), p.now);
      if (used > 0 && used >= newLimit) affected.push({ account_id: account.id, metric: metric.id, used, new_limit: newLimit });
    }
  }
  return affected;
}

export type FeatureLoss = { account_id: string; plan_id: string; feature: string };

/**
 * The accounts a new catalog takes a feature away from: each account on a plan that had the
 * feature under `before` and does not under `after` (the plan drops it, or the feature is
 * removed). Ladder does not see which features an account exercises, so every account
 * entitled to it through its plan counts as using it.
 * @example accountsLosingFeatures({ before, after, accounts }) // [{ account_id: 'acme', plan_id: 'pro', feature: 'audit_log' }]
 */
export function accountsLosingFeatures(p: { before: Catalog; after: Catalog; accounts: Pick<AccountRow, 'id' | 'planId'>[] }): FeatureLoss[] {
  const newPlans = new Map(p.after.plans.map((pl) => [pl.id, pl]));
  const lost = new Map<string, string[]>();
  for (const old of p.before.plans) {
    const next = newPlans.get(old.id);
    if (next) lost.set(old.id, old.features.filter((f) => !next.features.includes(f)));
  }
  return p.accounts.flatMap((a) => (lost.get(a.planId) ?? []).map((feature) => ({ account_id: a.id, plan_id: a.planId, feature })));
}

const shown = (v: Scalar) => (v === null ? 'none' : typeof v === 'string' ? `"${v}"` : String(v));
const limitText = (v: Limit) => (v === null ? 'unlimited' : v.toLocaleString('en-US'));

/**
 * One change as a sentence for people (the dashboard's catalog history).
 * @example describeChange({ kind: 'limit_changed', plan: 'starter', metric: 'api_calls', from: 10000, to: 5000 }) // 'Plan starter: api_calls limit 10,000 → 5,000 (lowered)'
 */
export function describeChange(c: CatalogChange): string {
  switch (c.kind) {
    case 'metric_added': return `Metric ${c.metric} added`;
    case 'metric_removed': return `Metric ${c.metric} removed`;
    case 'metric_changed': return `Metric ${c.metric}: ${c.field} ${shown(c.from)} → ${shown(c.to)}`;
    case 'feature_added': return `Feature ${c.feature} added`;
    case 'feature_removed': return `Feature ${c.feature} removed`;
    case 'feature_changed': return `Feature ${c.feature}: ${c.field} ${shown(c.from)} → ${shown(c.to)}`;
    case 'plan_added': return `Plan ${c.plan} added`;
    case 'plan_removed': return `Plan ${c.plan} removed`;
    case 'plan_changed':
      if (c.field === 'hidden') return `Plan ${c.plan} ${c.to ? 'hidden (no longer offered)' : 'offered again'}`;
      return `Plan ${c.plan}: ${c.field} ${shown(c.from)} → ${shown(c.to)}`;
    case 'limit_changed':
      return `Plan ${c.plan}: ${c.metric} limit ${limitText(c.from)} → ${limitText(c.to)}${isLowered(c.from, c.to) ? ' (lowered)' : ''}`;
    case 'overage_changed': {
      const grace = (v: number) => (v ? `${v}% grace` : 'hard stop');
      return `Plan ${c.plan}: ${c.metric} at the limit ${grace(c.from)} → ${grace(c.to)}${c.to < c.from ? ' (lowered)' : ''}`;
    }
    case 'plan_feature_added': return `Plan ${c.plan} gains feature ${c.feature}`;
    case 'plan_feature_removed': return `Plan ${c.plan} loses feature ${c.feature}`;
  }
}
