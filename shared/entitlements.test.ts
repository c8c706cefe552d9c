import { describe, expect, it } from 'vitest';
import { accountSnapshot, metricLimit, metricPeriod, planAllowing, rollPeriod } from './entitlements';
import type { Catalog, Plan } from './schemas';
import { DAY_MS } from './time';

const catalog: Catalog = {
  metrics: [
    { id: 'api_calls', name: 'API calls', unit: 'call', kind: 'counter', reset: 'billing_period' },
    { id: 'seats', name: 'Seats', unit: 'seat', kind: 'gauge', reset: 'billing_period' },
  ],
  features: [{ id: 'sso', name: 'SSO', description: '', trial_days: 14 }],
  plans: [
    { id: 'starter', name: 'Starter', rank: 1, currency: 'usd', price_cents: 5000, interval: 'month', stripe_price_id: null, seat_price_cents: 0, stripe_seat_price_id: null, limits: { api_calls: 10000, seats: 5 }, features: [], hidden: false },
    { id: 'business', name: 'Business', rank: 3, currency: 'usd', price_cents: 80000, interval: 'month', stripe_price_id: null, seat_price_cents: 0, stripe_seat_price_id: null, limits: { api_calls: null, seats: 100 }, features: ['sso'], hidden: false },
    { id: 'pro', name: 'Pro', rank: 2, currency: 'usd', price_cents: 20000, interval: 'month', stripe_price_id: null, seat_price_cents: 0, stripe_seat_price_id: null, limits: { api_calls: 50000, seats: 20 }, features: [], hidden: false },
  ],
};
const nov1 = Date.UTC(2026, 10, 1);
const dec1 = Date.UTC(2026, 11, 1);
const account = { id: 'acme', name: 'Acme', planId: 'starter', seats: 0, createdAt: 0, periodStart: nov1, periodEnd: dec1, activatedAt: null };

describe('account snapshot', () => {
  it('shows meters with threshold, projection and period end', () => {
    const snap = accountSnapshot({ account, catalog, counters: [{ metric: 'api_calls', periodStart: nov1, used: 4650, highestThreshold: null }], trials: [], now: nov1 + 15 * DAY_MS });
    expect(snap.meters[0]).toMatchObject({ used: 4650, limit: 10000, pct: 46, threshold: null, period_end: '2026-12-01T00:00:00.000Z', projected_at_period_end: 9300 });
    expect(snap.upgradeOptions.map((p) => p.id)).toEqual(['pro', 'business']);
  });

  it('reads a counter of an earlier period as zero', () => {
    const snap = accountSnapshot({ account, catalog, counters: [{ metric: 'api_calls', periodStart: nov1, used: 9999, highestThreshold: 90 }], trials: [], now: dec1 });
    expect(snap.meters[0]!.used).toBe(0);
  });

  it('entitles a feature during its trial and offers a trial only once', () => {
    const now = nov1 + DAY_MS;
    const onTrial = accountSnapshot({ account, catalog, counters: [], trials: [{ featureId: 'sso', endsAt: now + 13 * DAY_MS }], now });
    expect(onTrial.features.sso).toEqual({ name: 'SSO', description: '', trial_days: 14, entitled: true, trial_available: false, trial_ends_at: new Date(now + 13 * DAY_MS).toISOString(), required_plan: 'business' });
    const after = accountSnapshot({ account, catalog, counters: [], trials: [{ featureId: 'sso', endsAt: now }], now });
    expect(after.features.sso).toEqual({ name: 'SSO', description: '', trial_days: 14, entitled: false, trial_available: false, trial_ends_at: null, required_plan: 'business' });
  });

  it('counts bought seats above the plan’s included seats', () => {
    const snap = accountSnapshot({ account: { ...account, seats: 8 }, catalog, counters: [{ metric: 'seats', periodStart: 0, used: 7, highestThreshold: null }], trials: [], now: nov1 });
    expect(snap.seats).toEqual({ used: 7, limit: 8 });
  });

  it('names the lowest plan whose limit allows the need', () => {
    expect(planAllowing(catalog, catalog.plans[0]!, 'api_calls', 60000, account)?.id).toBe('business');
    expect(planAllowing(catalog, catalog.plans[0]!, 'api_calls', 12000, account)?.id).toBe('pro');
  });

  it('never offers a hidden plan: not as an upgrade option, a feature’s plan, nor the plan that allows a need', () => {
    // Legacy ranks between Starter and Pro, is unlimited and has SSO, but is hidden.
    const [starter, business, pro] = catalog.plans as [Plan, Plan, Plan];
    const legacy: Plan = { ...pro, id: 'legacy', name: 'Legacy', rank: 2, limits: { api_calls: null, seats: 500 }, features: ['sso'], hidden: true };
    const withHidden: Catalog = { ...catalog, plans: [starter, legacy, { ...pro, rank: 4 }, { ...business, rank: 5 }] };
    const snap = accountSnapshot({ account, catalog: withHidden, counters: [], trials: [], now: nov1 });
    expect(snap.upgradeOptions.map((p) => p.id)).toEqual(['pro', 'business']);
    expect(snap.features.sso!.required_plan).toBe('business');
    expect(planAllowing(withHidden, withHidden.plans[0]!, 'api_calls', 60000, account)?.id).toBe('business');
    // An account on the hidden plan keeps it, and is offered the visible plans above.
    const kept = accountSnapshot({ account: { ...account, planId: 'legacy' }, catalog: withHidden, counters: [], trials: [], now: nov1 });
    expect(kept.plan.id).toBe('legacy');
    expect(kept.meters.map((m) => m.limit)).toEqual([null, 500]);
    expect(kept.upgradeOptions.map((p) => p.id)).toEqual(['pro', 'business']);
  });

  it('reads a limit the plan does not list as 0, never as unlimited', () => {
    const forgot = { ...catalog.plans[0]!, limits: { seats: 5 } };
    expect(metricLimit(forgot, 'api_calls', account)).toBe(0);
    expect(metricLimit(catalog.plans[1]!, 'api_calls', account)).toBeNull();
  });
});

describe('periods', () => {
  it('rolls a monthly period by calendar months and an odd one by its length', () => {
    expect(rollPeriod(nov1, dec1, Date.UTC(2027, 0, 15))).toEqual({ start: Date.UTC(2027, 0, 1), end: Date.UTC(2027, 1, 1) });
    expect(rollPeriod(0, 14 * DAY_MS, 30 * DAY_MS)).toEqual({ start: 28 * DAY_MS, end: 42 * DAY_MS });
  });

  it('counts a monthly-reset metric by calendar month and a gauge for all time', () => {
    expect(metricPeriod({ kind: 'counter', reset: 'month' }, account, Date.UTC(2026, 10, 20))).toEqual({ start: nov1, end: dec1 });
    expect(metricPeriod({ kind: 'gauge', reset: 'billing_period' }, account, nov1)).toEqual({ start: 0, end: null });
  });
});
