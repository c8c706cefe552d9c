import { describe, expect, it } from 'vitest';
import { accountSnapshot, metricPeriod, planAllowing, rollPeriod } from './entitlements';
import type { Catalog } from './schemas';

const DAY = 86_400_000;
const catalog: Catalog = {
  metrics: [
    { id: 'api_calls', name: 'API calls', unit: 'call', kind: 'counter', reset: 'billing_period' },
    { id: 'seats', name: 'Seats', unit: 'seat', kind: 'gauge', reset: 'billing_period' },
  ],
  features: [{ id: 'sso', name: 'SSO', description: '', trial_days: 14 }],
  plans: [
    { id: 'starter', name: 'Starter', rank: 1, currency: 'usd', price_cents: 5000, interval: 'month', stripe_price_id: null, seat_price_cents: 0, stripe_seat_price_id: null, limits: { api_calls: 10000, seats: 5 }, features: [] },
    { id: 'business', name: 'Business', rank: 3, currency: 'usd', price_cents: 80000, interval: 'month', stripe_price_id: null, seat_price_cents: 0, stripe_seat_price_id: null, limits: { api_calls: null, seats: 100 }, features: ['sso'] },
    { id: 'pro', name: 'Pro', rank: 2, currency: 'usd', price_cents: 20000, interval: 'month', stripe_price_id: null, seat_price_cents: 0, stripe_seat_price_id: null, limits: { api_calls: 50000, seats: 20 }, features: [] },
  ],
};
const nov1 = Date.UTC(2026, 10, 1);
const dec1 = Date.UTC(2026, 11, 1);
const account = { id: 'acme', name: 'Acme', planId: 'starter', seats: 0, createdAt: 0, periodStart: nov1, periodEnd: dec1, activatedAt: null };

describe('account snapshot', () => {
  it('shows meters with threshold, projection and period end', () => {
    const snap = accountSnapshot({ account, catalog, counters: [{ metric: 'api_calls', periodStart: nov1, used: 4650, highestThreshold: null }], trials: [], now: nov1 + 15 * DAY });
    expect(snap.meters[0]).toMatchObject({ used: 4650, limit: 10000, pct: 46, threshold: null, period_end: '2026-12-01T00:00:00.000Z', projected_at_period_end: 9300 });
    expect(snap.upgradeOptions.map((p) => p.id)).toEqual(['pro', 'business']);
  });

  it('reads a counter of an earlier period as zero', () => {
    const snap = accountSnapshot({ account, catalog, counters: [{ metric: 'api_calls', periodStart: nov1, used: 9999, highestThreshold: 90 }], trials: [], now: dec1 });
    expect(snap.meters[0]!.used).toBe(0);
  });

  it('entitles a feature during its trial and offers a trial only once', () => {
    const now = nov1 + DAY;
    const onTrial = accountSnapshot({ account, catalog, counters: [], trials: [{ featureId: 'sso', endsAt: now + 13 * DAY }], now });
    expect(onTrial.features.sso).toEqual({ name: 'SSO', description: '', trial_days: 14, entitled: true, trial_available: false, trial_ends_at: new Date(now + 13 * DAY).toISOString(), required_plan: 'business' });
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
});

describe('periods', () => {
  it('rolls a monthly period by calendar months and an odd one by its length', () => {
    expect(rollPeriod(nov1, dec1, Date.UTC(2027, 0, 15))).toEqual({ start: Date.UTC(2027, 0, 1), end: Date.UTC(2027, 1, 1) });
    expect(rollPeriod(0, 14 * DAY, 30 * DAY)).toEqual({ start: 28 * DAY, end: 42 * DAY });
  });

  it('counts a monthly-reset metric by calendar month and a gauge for all time', () => {
    expect(metricPeriod({ kind: 'counter', reset: 'month' }, account, Date.UTC(2026, 10, 20))).toEqual({ start: nov1, end: dec1 });
    expect(metricPeriod({ kind: 'gauge', reset: 'billing_period' }, account, nov1)).toEqual({ start: 0, end: null });
  });
});
