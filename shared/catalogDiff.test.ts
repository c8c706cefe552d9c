import { describe, expect, it } from 'vitest';
import { accountsOverNewLimits, catalogDiff, describeChange, isLowered } from './catalogDiff';
import { catalogSchema, type Catalog } from './schemas';
import { DAY_MS } from './time';

const nov1 = Date.UTC(2026, 10, 1);
const dec1 = Date.UTC(2026, 11, 1);

const before: Catalog = catalogSchema.parse({
  metrics: [
    { id: 'api_calls', name: 'API calls', unit: 'call', kind: 'counter' },
    { id: 'seats', name: 'Seats', unit: 'seat', kind: 'gauge' },
  ],
  features: [
    { id: 'sso', name: 'SSO', trial_days: 14 },
    { id: 'audit_log', name: 'Audit log' },
  ],
  plans: [
    { id: 'starter', name: 'Starter', rank: 1, currency: 'usd', price_cents: 5000, limits: { api_calls: 10000, seats: 5 }, features: [] },
    { id: 'pro', name: 'Pro', rank: 2, currency: 'usd', price_cents: 20000, limits: { api_calls: null, seats: 20 }, features: ['audit_log', 'sso'] },
  ],
});
const edit = (f: (c: Catalog) => void) => {
  const c = structuredClone(before);
  f(c);
  return c;
};

describe('catalog diff', () => {
  it('finds nothing between a catalog and itself, nor in a reordering', () => {
    expect(catalogDiff(before, before)).toEqual([]);
    expect(catalogDiff(before, edit((c) => c.plans.reverse() && c.metrics.reverse()))).toEqual([]);
  });

  it('names a lowered limit, a limit made unlimited and a price change by plan and metric', () => {
    const after = edit((c) => {
      c.plans[0]!.limits.api_calls = 5000;
      c.plans[0]!.price_cents = 6000;
      c.plans[1]!.limits.seats = null;
    });
    expect(catalogDiff(before, after)).toEqual([
      { kind: 'plan_changed', plan: 'starter', field: 'price_cents', from: 5000, to: 6000 },
      { kind: 'limit_changed', plan: 'starter', metric: 'api_calls', from: 10000, to: 5000 },
      { kind: 'limit_changed', plan: 'pro', metric: 'seats', from: 20, to: null },
    ]);
  });

  it('lists added and removed metrics, features and plans, and features a plan gains or loses', () => {
    const after = edit((c) => {
      c.metrics = [c.metrics[0]!, { id: 'projects', name: 'Projects', unit: '', kind: 'gauge', reset: 'billing_period' }];
      c.features = [c.features[0]!, { id: 'exports', name: 'Exports', description: '', trial_days: 0 }];
      c.features[0]!.trial_days = 7;
      for (const p of c.plans) p.limits = { api_calls: p.limits.api_calls!, projects: 3 };
      c.plans[1]!.features = ['sso', 'exports'];
      c.plans.push({ ...c.plans[1]!, id: 'legacy', name: 'Legacy', rank: 9, hidden: true });
      c.plans.shift();
    });
    expect(catalogDiff(before, after)).toEqual([
      { kind: 'metric_added', metric: 'projects' },
      { kind: 'metric_removed', metric: 'seats' },
      { kind: 'feature_changed', feature: 'sso', field: 'trial_days', from: 14, to: 7 },
      { kind: 'feature_added', feature: 'exports' },
      { kind: 'feature_removed', feature: 'audit_log' },
      { kind: 'plan_feature_added', plan: 'pro', feature: 'exports' },
      { kind: 'plan_feature_removed', plan: 'pro', feature: 'audit_log' },
      { kind: 'plan_added', plan: 'legacy' },
      { kind: 'plan_removed', plan: 'starter' },
    ]);
  });

  it('says when a plan is hidden, in words', () => {
    const changes = catalogDiff(before, edit((c) => void (c.plans[1]!.hidden = true)));
    expect(changes).toEqual([{ kind: 'plan_changed', plan: 'pro', field: 'hidden', from: false, to: true }]);
    expect(describeChange(changes[0]!)).toBe('Plan pro hidden (no longer offered)');
    expect(describeChange({ kind: 'limit_changed', plan: 'starter', metric: 'api_calls', from: 10000, to: 5000 })).toBe('Plan starter: api_calls limit 10,000 → 5,000 (lowered)');
    expect(describeChange({ kind: 'limit_changed', plan: 'pro', metric: 'seats', from: 20, to: null })).toBe('Plan pro: seats limit 20 → unlimited');
  });

  it('names the yearly prices and Stripe prices, and the grace at a limit; a field left out reads as null, so writing null is no change', () => {
    const yearly = edit((c) => {
      Object.assign(c.plans[1]!, { annual_price_cents: 192000, stripe_annual_price_id: 'price_pro_y', annual_seat_price_cents: 9600, stripe_annual_seat_price_id: 'price_seat_y' });
      c.plans[1]!.overage = { api_calls: { mode: 'grace', grace_pct: 20 } };
    });
    expect(catalogDiff(before, yearly)).toEqual([
      { kind: 'plan_changed', plan: 'pro', field: 'annual_price_cents', from: null, to: 192000 },
      { kind: 'plan_changed', plan: 'pro', field: 'stripe_annual_price_id', from: null, to: 'price_pro_y' },
      { kind: 'plan_changed', plan: 'pro', field: 'annual_seat_price_cents', from: null, to: 9600 },
      { kind: 'plan_changed', plan: 'pro', field: 'stripe_annual_seat_price_id', from: null, to: 'price_seat_y' },
      { kind: 'overage_changed', plan: 'pro', metric: 'api_calls', from: 0, to: 20 },
    ]);
    const cut = edit((c) => {
      Object.assign(c.plans[1]!, { annual_price_cents: 19200, stripe_annual_price_id: 'price_pro_y', annual_seat_price_cents: 9600, stripe_annual_seat_price_id: 'price_seat_y' });
      c.plans[1]!.overage = { api_calls: { mode: 'block', grace_pct: 20 } };
    });
    const changes = catalogDiff(yearly, cut);
    expect(changes).toEqual([
      { kind: 'plan_changed', plan: 'pro', field: 'annual_price_cents', from: 192000, to: 19200 },
      { kind: 'overage_changed', plan: 'pro', metric: 'api_calls', from: 20, to: 0 },
    ]);
    expect(changes.map(describeChange)).toEqual(['Plan pro: annual_price_cents 192000 → 19200', 'Plan pro: api_calls at the limit 20% grace → hard stop (lowered)']);
    expect(catalogDiff(before, edit((c) => Object.assign(c.plans[0]!, { annual_price_cents: null, stripe_annual_price_id: null })))).toEqual([]);
    expect(catalogDiff(before, edit((c) => void (c.plans[0]!.overage = { api_calls: { mode: 'grace', grace_pct: 0 } })))).toEqual([]);
  });

  it('refuses a yearly price (or yearly seat price) of 0 on a paid plan: that gives the year away', () => {
    const free = (over: object) => catalogSchema.safeParse(edit((c) => Object.assign(c.plans[1]!, over)));
    const paths = (r: ReturnType<typeof free>) => r.error?.issues.map((i) => i.path.join('.'));
    expect(paths(free({ annual_price_cents: 0 }))).toEqual(['plans.1.annual_price_cents']);
    expect(paths(free({ seat_price_cents: 1000, annual_seat_price_cents: 0 }))).toEqual(['plans.1.annual_seat_price_cents']);
    expect(free({ annual_price_cents: 192000, seat_price_cents: 0, annual_seat_price_cents: 0 }).success).toBe(true);
    expect(catalogSchema.safeParse(edit((c) => Object.assign(c.plans[0]!, { price_cents: 0, annual_price_cents: 0 }))).success).toBe(true);
  });

  it('counts going from unlimited to any number as lowering, and raising as not', () => {
    expect(isLowered(null, 1_000_000)).toBe(true);
    expect(isLowered(10, 5)).toBe(true);
    expect(isLowered(5, 10)).toBe(false);
    expect(isLowered(5, null)).toBe(false);
  });
});

describe('accounts over a new limit', () => {
  const account = (id: string, planId: string, seats = 0) => ({ id, name: id, planId, seats, createdAt: 0, periodStart: nov1, periodEnd: dec1, activatedAt: null });
  const now = nov1 + 10 * DAY_MS;
  const after = edit((c) => {
    c.plans[0]!.limits.api_calls = 5000; // lowered below some use
    c.plans[1]!.limits.api_calls = 100_000; // from unlimited
    c.plans[0]!.limits.seats = 3;
  });

  it('lists each account at or over a lowered limit with its use, and no one else', () => {
    const affected = accountsOverNewLimits({
      before,
      after,
      now,
      accounts: [account('over', 'starter'), account('at', 'starter'), account('under', 'starter'), account('big', 'pro'), account('stale', 'starter')],
      counters: [
        { accountId: 'over', metric: 'api_calls', periodStart: nov1, used: 7200, highestThreshold: null },
        { accountId: 'at', metric: 'api_calls', periodStart: nov1, used: 5000, highestThreshold: null },
        { accountId: 'under', metric: 'api_calls', periodStart: nov1, used: 4999, highestThreshold: null },
        { accountId: 'big', metric: 'api_calls', periodStart: nov1, used: 150_000, highestThreshold: null },
        { accountId: 'stale', metric: 'api_calls', periodStart: nov1 - 30 * DAY_MS, used: 9000, highestThreshold: null }, // an earlier period
      ],
    });
    expect(affected).toEqual([
      { account_id: 'over', metric: 'api_calls', used: 7200, new_limit: 5000 },
      { account_id: 'at', metric: 'api_calls', used: 5000, new_limit: 5000 },
      { account_id: 'big', metric: 'api_calls', used: 150_000, new_limit: 100_000 },
    ]);
  });

  it('reads seats as the larger of the plan’s and the seats bought', () => {
    const counters = [{ accountId: 'a', metric: 'seats', periodStart: 0, used: 4, highestThreshold: null }, { accountId: 'b', metric: 'seats', periodStart: 0, used: 4, highestThreshold: null }];
    const affected = accountsOverNewLimits({ before, after, now, accounts: [account('a', 'starter', 0), account('b', 'starter', 5)], counters });
    expect(affected).toEqual([{ account_id: 'a', metric: 'seats', used: 4, new_limit: 3 }]);
  });

  it('lists an account past its limit whose grace shrinks: the limit stays, what is refused comes down to it', () => {
    const graced = edit((c) => void (c.plans[0]!.overage = { api_calls: { mode: 'grace', grace_pct: 50 } }));
    const blocked = edit((c) => void (c.plans[0]!.overage = { api_calls: { mode: 'block', grace_pct: 50 } }));
    const less = edit((c) => void (c.plans[0]!.overage = { api_calls: { mode: 'grace', grace_pct: 10 } }));
    const counters = [
      { accountId: 'in-grace', metric: 'api_calls', periodStart: nov1, used: 12_000, highestThreshold: null },
      { accountId: 'under', metric: 'api_calls', periodStart: nov1, used: 9_000, highestThreshold: null },
    ];
    const accounts = [account('in-grace', 'starter'), account('under', 'starter')];
    expect(accountsOverNewLimits({ before: graced, after: blocked, now, accounts, counters })).toEqual([{ account_id: 'in-grace', metric: 'api_calls', used: 12_000, new_limit: 10_000 }]);
    expect(accountsOverNewLimits({ before: graced, after: less, now, accounts, counters })).toEqual([{ account_id: 'in-grace', metric: 'api_calls', used: 12_000, new_limit: 10_000 }]);
    // more grace, or the same, moves no one
    expect(accountsOverNewLimits({ before: blocked, after: graced, now, accounts, counters })).toEqual([]);
    expect(accountsOverNewLimits({ before: graced, after: graced, now, accounts, counters })).toEqual([]);
  });

  it('affects no one when limits only go up', () => {
    const raised = edit((c) => void (c.plans[0]!.limits.api_calls = 20000));
    const counters = [{ accountId: 'a', metric: 'api_calls', periodStart: nov1, used: 15000, highestThreshold: null }];
    expect(accountsOverNewLimits({ before, after: raised, now, accounts: [account('a', 'starter')], counters })).toEqual([]);
  });
});

describe('the omission rule', () => {
  it('refuses a plan that does not list a metric, naming the plan and the metric', () => {
    const raw = structuredClone(before) as any;
    delete raw.plans[1].limits.seats;
    const result = catalogSchema.safeParse(raw);
    expect(result.success).toBe(false);
    const issue = result.error!.issues.find((i) => i.path.join('.') === 'plans.1.limits.seats');
    expect(issue?.message).toBe('plan "pro" has no limit for metric "seats"; write a number, or null for unlimited');
  });

  it('refuses a plan with no limits at all once the catalog has metrics, one issue per metric', () => {
    const raw = { ...before, plans: [{ id: 'free', name: 'Free', rank: 0, currency: 'usd', price_cents: 0 }] };
    const result = catalogSchema.safeParse(raw);
    expect(result.error?.issues.map((i) => i.path.join('.'))).toEqual(['plans.0.limits.api_calls', 'plans.0.limits.seats']);
  });

  it('accepts null written out as unlimited, and a plan with no limits when there are no metrics', () => {
    expect(catalogSchema.safeParse(before).success).toBe(true);
    expect(catalogSchema.safeParse({ metrics: [], features: [], plans: [{ id: 'free', name: 'Free', rank: 0, currency: 'usd', price_cents: 0 }] }).success).toBe(true);
  });
});
