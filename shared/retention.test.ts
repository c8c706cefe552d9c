import { describe, expect, it } from 'vitest';
import {
  annualMessage,
  annualSaving,
  annualSwitch,
  billedAmount,
  chooseSaveOffer,
  DEFAULT_SAVE_OFFERS,
  downgradeLoss,
  downgradeMessage,
  monthsAfter,
  oneYearAfter,
  renewalCharge,
  savedMrr,
  savesByReason,
  type CancelFlow,
  type OfferContext,
} from './retention';
import { DAY_MS } from './time';

const NOV_1 = Date.UTC(2026, 10, 1);
const NOV_16 = Date.UTC(2026, 10, 16);
const DEC_1 = Date.UTC(2026, 11, 1);

const plan = (id: string, rank: number, price: number, extra: Record<string, unknown> = {}) => ({
  id, name: id[0]!.toUpperCase() + id.slice(1), rank, currency: 'usd', price_cents: price, interval: 'month' as const,
  seat_price_cents: 0, annual_price_cents: null as number | null, limits: {} as Record<string, number | null>, features: [] as string[], ...extra,
});
const starter = plan('starter', 1, 5000, { limits: { api_calls: 10_000, seats: 5, projects: 3 } });
const business = plan('business', 2, 10000, { annual_price_cents: 96000, limits: { api_calls: 100_000, seats: 20, projects: null }, features: ['sso', 'exports'] });

describe('renewal charges under a save offer', () => {
  const renewal = (periodStart: number, offer: { discountPercent?: number; discountEndsAt?: number; pausedUntil?: number } = {}) =>
    renewalCharge({ amountCents: 10000, periodStart, discountPercent: offer.discountPercent ?? null, discountEndsAt: offer.discountEndsAt ?? null, pausedUntil: offer.pausedUntil ?? null });

  it('25% off for the 3 months after the November period: $75.00 on December 1, January 1 and February 1, $100.00 on March 1', () => {
    const until = monthsAfter(DEC_1, 3);
    expect(until).toBe(Date.UTC(2027, 2, 1));
    const starts = [DEC_1, Date.UTC(2027, 0, 1), Date.UTC(2027, 1, 1), Date.UTC(2027, 2, 1)];
    expect(starts.map((t) => renewal(t, { discountPercent: 25, discountEndsAt: until }))).toEqual([
      { amountCents: 7500, discountCents: 2500, paused: false },
      { amountCents: 7500, discountCents: 2500, paused: false },
      { amountCents: 7500, discountCents: 2500, paused: false },
      { amountCents: 10000, discountCents: 0, paused: false },
    ]);
  });

  it('paused from November 16 for 3 months (until February 16): nothing on December 1, January 1, February 1; the full price on March 1', () => {
    const until = monthsAfter(NOV_16, 3);
    expect(until).toBe(Date.UTC(2027, 1, 16));
    expect([DEC_1, Date.UTC(2027, 0, 1), Date.UTC(2027, 1, 1), Date.UTC(2027, 2, 1)].map((t) => renewal(t, { pausedUntil: until }).amountCents)).toEqual([0, 0, 0, 10000]);
  });

  it('a pause wins over a discount, a discount rounds to the cent, and no offer charges the amount', () => {
    expect(renewal(DEC_1, { discountPercent: 25, discountEndsAt: DEC_1 + DAY_MS, pausedUntil: DEC_1 + DAY_MS })).toEqual({ amountCents: 0, discountCents: 0, paused: true });
    expect(renewalCharge({ amountCents: 999, periodStart: DEC_1, discountPercent: 33, discountEndsAt: DEC_1 + DAY_MS, pausedUntil: null })).toEqual({ amountCents: 669, discountCents: 330, paused: false });
    expect(renewal(DEC_1)).toEqual({ amountCents: 10000, discountCents: 0, paused: false });
    expect(() => renewalCharge({ amountCents: -1, periodStart: DEC_1, discountPercent: null, discountEndsAt: null, pausedUntil: null })).toThrow(RangeError);
  });

  it('months run by the calendar: January 31 plus one month is February 28', () => {
    expect(monthsAfter(Date.UTC(2027, 0, 31), 1)).toBe(Date.UTC(2027, 1, 28));
  });
});

describe('annual switch', () => {
  it('$100/month with 15 of 30 days left, moved to $960/year on November 16: credited $50.00, charged $910.00 now, next $960.00 on November 16, 2027', () => {
    const sw = annualSwitch({ currentAmountCents: 10000, annualAmountCents: 96000, periodStart: NOV_1, periodEnd: DEC_1, switchDate: NOV_16 });
    expect(sw).toEqual({ amountDueNowCents: 91000, annualAmountCents: 96000, creditCents: 5000, period: { start: NOV_16, end: Date.UTC(2027, 10, 16) } });
    expect(annualMessage({ ...sw, planName: 'Business', currency: 'usd' })).toBe(
      'You will be charged $910.00 now for a year of Business ($960.00 less $50.00 for the unused part of this billing period), then $960.00/year starting November 16, 2027.',
    );
  });

  it('credits the unused time to the second, as Stripe does: 9 days 3 h 17 s into a 30-day $50 period leaves $34.79', () => {
    const at = NOV_1 + 9 * DAY_MS + 3 * 3600_000 + 17_000;
    const sw = annualSwitch({ currentAmountCents: 5000, annualAmountCents: 48000, periodStart: NOV_1, periodEnd: DEC_1, switchDate: at });
    // 5000 × 1,803,583 s ÷ 2,592,000 s = 3479.1
    expect(sw.creditCents).toBe(3479);
    expect(sw.amountDueNowCents).toBe(48000 - 3479);
    expect(sw.period.start).toBe(at);
  });

  it('on the first second of the period the whole period is credited; at its end nothing is', () => {
    expect(annualSwitch({ currentAmountCents: 5000, annualAmountCents: 48000, periodStart: NOV_1, periodEnd: DEC_1, switchDate: NOV_1 }).creditCents).toBe(5000);
    expect(annualSwitch({ currentAmountCents: 5000, annualAmountCents: 48000, periodStart: NOV_1, periodEnd: DEC_1, switchDate: DEC_1 }).creditCents).toBe(0);
  });

  it('a year after 29 February 2028 is 28 February 2029', () => {
    expect(oneYearAfter(Date.UTC(2028, 1, 29, 10))).toBe(Date.UTC(2029, 1, 28, 10));
  });

  it('bills seats twelve months at a time and states the yearly saving', () => {
    const seated = { ...business, seat_price_cents: 1000 };
    expect(billedAmount(seated, 3, 'month')).toBe(13000);
    expect(billedAmount(seated, 3, 'year')).toBe(96000 + 36000);
    expect(annualSaving(seated, 3)).toBe(13000 * 12 - 132000); // $240 a year
    expect(annualSaving(starter, 0)).toBe(0);
    expect(billedAmount(starter, 0, 'year')).toBeNull();
  });
});

describe('what a downgrade takes away', () => {
  it('Business → Starter loses SSO and exports, lower limits, and names the metrics already over the new limit', () => {
    const loss = downgradeLoss({ from: business, to: starter, fromSeats: 0, toSeats: 0, used: { api_calls: 14_200, seats: 4, projects: 7 } });
    expect(loss).toEqual({
      features: ['sso', 'exports'],
      limits: { api_calls: { from: 100_000, to: 10_000 }, seats: { from: 20, to: 5 }, projects: { from: null, to: 3 } },
      over_limit: [
        { metric: 'api_calls', used: 14_200, limit: 10_000 },
        { metric: 'projects', used: 7, limit: 3 },
      ],
    });
    expect(
      downgradeMessage({ planName: 'Starter', effectiveAt: DEC_1, nextAmountCents: 5000, currency: 'usd', interval: 'month', loss, names: { sso: 'Single sign-on', exports: 'Exports', api_calls: 'API calls', seats: 'Seats', projects: 'Projects' } }),
    ).toBe(
      'Your plan changes to Starter on December 1, 2026, then $50.00/month; nothing is refused until then. You lose Single sign-on, Exports. ' +
        'API calls drop from 100,000 to 10,000 (you use 14,200 now, so new use is blocked until it is below the limit). Seats drop from 20 to 5. ' +
        'Projects drop from unlimited to 3 (you use 7 now, so new use is blocked until it is below the limit).',
    );
  });

  it('fewer seats bought lowers only the seat limit', () => {
    const seated = { ...starter, seat_price_cents: 1000 };
    expect(downgradeLoss({ from: seated, to: seated, fromSeats: 8, toSeats: 6, used: { seats: 7 } })).toEqual({
      features: [],
      limits: { seats: { from: 8, to: 6 } },
      over_limit: [{ metric: 'seats', used: 7, limit: 6 }],
    });
  });
});

describe('save offers', () => {
  const ctx = (extra: Partial<OfferContext> = {}): OfferContext => ({
    plan: business, seats: 0, interval: 'month', plans: [starter, business], lastOfferShownAt: null, now: NOV_16, ...extra,
  });

  it('answers each reason with its configured offer, made concrete for the account', () => {
    expect(chooseSaveOffer(DEFAULT_SAVE_OFFERS, 'too_expensive', ctx())).toEqual({
      kind: 'discount', percent_off: 25, months: 3, title: 'Stay for less', message: 'Keep Business at 25% off for the next 3 months.',
    });
    expect(chooseSaveOffer(DEFAULT_SAVE_OFFERS, 'not_using', ctx())).toMatchObject({ kind: 'downgrade', plan_id: 'starter', message: 'Move to Starter at $50.00/month and keep your data.' });
    expect(chooseSaveOffer(DEFAULT_SAVE_OFFERS, 'temporary', ctx())).toMatchObject({ kind: 'pause', pause_months: 3 });
    expect(chooseSaveOffer(DEFAULT_SAVE_OFFERS, 'switching', ctx())).toMatchObject({ kind: 'annual', message: 'Switch Business to yearly billing and save $240.00 a year.' });
    expect(chooseSaveOffer(DEFAULT_SAVE_OFFERS, 'missing_feature', ctx()).kind).toBe('none');
  });

  it('offers nothing it cannot do: no lower plan, already yearly, or no yearly price', () => {
    expect(chooseSaveOffer(DEFAULT_SAVE_OFFERS, 'not_using', ctx({ plan: starter })).kind).toBe('none');
    expect(chooseSaveOffer(DEFAULT_SAVE_OFFERS, 'switching', ctx({ interval: 'year' })).kind).toBe('none');
    expect(chooseSaveOffer(DEFAULT_SAVE_OFFERS, 'switching', ctx({ plan: starter })).kind).toBe('none');
  });

  it('shows an account at most one offer per 90 days', () => {
    expect(chooseSaveOffer(DEFAULT_SAVE_OFFERS, 'too_expensive', ctx({ lastOfferShownAt: NOV_16 - 89 * DAY_MS })).kind).toBe('none');
    expect(chooseSaveOffer(DEFAULT_SAVE_OFFERS, 'too_expensive', ctx({ lastOfferShownAt: NOV_16 - 90 * DAY_MS })).kind).toBe('discount');
  });

  it('counts the MRR an accepted offer keeps', () => {
    expect(savedMrr({ kind: 'discount', percent_off: 25 }, 10000, null)).toBe(7500);
    expect(savedMrr({ kind: 'downgrade' }, 10000, 5000)).toBe(5000);
    expect(savedMrr({ kind: 'pause' }, 10000, null)).toBe(10000);
    expect(savedMrr({ kind: 'none' }, 10000, null)).toBe(0);
  });

  it('reports per reason: started, shown, accepted, canceled, save rate and MRR saved', () => {
    const flows: CancelFlow[] = [
      { reason: 'too_expensive', offer_kind: 'discount', status: 'accepted', saved_mrr_cents: 7500 },
      { reason: 'too_expensive', offer_kind: 'discount', status: 'canceled', saved_mrr_cents: 0 },
      { reason: 'too_expensive', offer_kind: 'none', status: 'offered', saved_mrr_cents: 0 },
      { reason: 'temporary', offer_kind: 'pause', status: 'accepted', saved_mrr_cents: 10000 },
    ];
    const rows = savesByReason(flows);
    expect(rows.map((r) => r.reason)).toEqual(['too_expensive', 'not_using', 'missing_feature', 'switching', 'temporary', 'other']);
    expect(rows[0]).toEqual({ reason: 'too_expensive', cancel_started: 3, offers_shown: 2, offers_accepted: 1, canceled: 1, save_rate: 1 / 3, saved_mrr_cents: 7500 });
    expect(rows[1]).toMatchObject({ cancel_started: 0, save_rate: null });
    expect(rows[4]).toMatchObject({ offers_accepted: 1, save_rate: 1, saved_mrr_cents: 10000 });
  });
});
