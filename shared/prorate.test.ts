import { describe, expect, it } from 'vitest';
import { calendarMonth, nextPeriod, prorate, subscriptionAmount, upgradeMessage } from './prorate';
import { DAY_MS } from './time';

const at = (iso: string) => Date.parse(iso);
const november = { periodStart: at('2026-11-01T00:00:00Z'), periodEnd: at('2026-12-01T00:00:00Z') };

describe('prorate', () => {
  it('charges $25 now for $50 → $100/month with 15 of 30 days left (the DESIGN.md example)', () => {
    const result = prorate({
      currentAmountCents: 5000,
      newAmountCents: 10000,
      ...november,
      prorationDate: at('2026-11-16T00:00:00Z'),
    });
    expect(result).toEqual({ amountDueNowCents: 2500, remainingSeconds: 15 * 86_400, periodSeconds: 30 * 86_400 });
  });

  it('charges $10 now for 5 → 8 seats at $10/seat with 10 of 30 days left', () => {
    const seats = (n: number) => subscriptionAmount({ priceCents: 0, seatPriceCents: 1000, seats: n });
    const result = prorate({
      currentAmountCents: seats(5),
      newAmountCents: seats(8),
      ...november,
      prorationDate: at('2026-11-21T00:00:00Z'),
    });
    expect(result.amountDueNowCents).toBe(1000);
  });

  it('prorates only the seat difference when the plan also has a base price', () => {
    const amount = (n: number) => subscriptionAmount({ priceCents: 5000, seatPriceCents: 1000, seats: n });
    const result = prorate({
      currentAmountCents: amount(5),
      newAmountCents: amount(8),
      ...november,
      prorationDate: at('2026-11-21T00:00:00Z'),
    });
    expect(result.amountDueNowCents).toBe(1000);
  });

  describe('to the second', () => {
    // A difference of 2,592,000 cents over a 2,592,000-second period is one cent per second.
    const perSecond = { currentAmountCents: 0, newAmountCents: 2_592_000, ...november };
    const midway = at('2026-11-16T00:00:00Z');

    it('one second later charges one cent less', () => {
      expect(prorate({ ...perSecond, prorationDate: midway }).amountDueNowCents).toBe(1_296_000);
      expect(prorate({ ...perSecond, prorationDate: midway + 1000 }).amountDueNowCents).toBe(1_295_999);
    });

    it('milliseconds within a second change nothing', () => {
      expect(prorate({ ...perSecond, prorationDate: midway + 999 })).toEqual(
        prorate({ ...perSecond, prorationDate: midway }),
      );
    });

    it('floors the period bounds to whole seconds as well', () => {
      const result = prorate({
        ...perSecond,
        periodStart: november.periodStart + 999,
        periodEnd: november.periodEnd + 999,
        prorationDate: midway + 500,
      });
      expect(result).toMatchObject({ remainingSeconds: 1_296_000, periodSeconds: 2_592_000 });
    });
  });

  describe('rounding to the nearest cent, halves away from zero', () => {
    const twoSeconds = { periodStart: 0, periodEnd: 2000, prorationDate: 1000 }; // half the period left

    it.each([
      [1, 1], // 0.5 → 1
      [3, 2], // 1.5 → 2
      [-1, -1], // −0.5 → −1
      [-3, -2], // −1.5 → −2
    ])('a difference of %i cents over half a period is %i', (difference, expected) => {
      const result = prorate({ currentAmountCents: 100, newAmountCents: 100 + difference, ...twoSeconds });
      expect(result.amountDueNowCents).toBe(expected);
    });

    it('rounds below a half down', () => {
      // 10 × 1/3 = 3.33 → 3; 20 × 2/3 = 13.33 → 13
      const third = { periodStart: 0, periodEnd: 3000 };
      expect(prorate({ currentAmountCents: 0, newAmountCents: 10, ...third, prorationDate: 2000 }).amountDueNowCents).toBe(3);
      expect(prorate({ currentAmountCents: 0, newAmountCents: 20, ...third, prorationDate: 1000 }).amountDueNowCents).toBe(13);
    });

    it('stays exact for amounts beyond floating-point precision', () => {
      // (2^53 − 1) ÷ 3 = 3,002,399,751,580,330.33…; floating point would give …330.5 and round up.
      const result = prorate({
        currentAmountCents: 0,
        newAmountCents: Number.MAX_SAFE_INTEGER,
        periodStart: 0,
        periodEnd: 3000,
        prorationDate: 2000,
      });
      expect(result.amountDueNowCents).toBe(3_002_399_751_580_330);
    });
  });

  describe('clamping the proration date into the period', () => {
    const upgrade = { currentAmountCents: 5000, newAmountCents: 10000, ...november };

    it('before the period charges the full difference', () => {
      const result = prorate({ ...upgrade, prorationDate: november.periodStart - 5 * DAY_MS });
      expect(result).toMatchObject({ amountDueNowCents: 5000, remainingSeconds: 2_592_000 });
    });

    it('at the period end and after it charges nothing', () => {
      expect(prorate({ ...upgrade, prorationDate: november.periodEnd }).amountDueNowCents).toBe(0);
      expect(prorate({ ...upgrade, prorationDate: november.periodEnd + DAY_MS })).toMatchObject({
        amountDueNowCents: 0,
        remainingSeconds: 0,
      });
    });
  });

  it('gives a credit, as a negative amount, for a cheaper price', () => {
    const result = prorate({
      currentAmountCents: 10000,
      newAmountCents: 5000,
      ...november,
      prorationDate: at('2026-11-16T00:00:00Z'),
    });
    expect(result.amountDueNowCents).toBe(-2500);
  });

  it('refuses an empty or reversed period and fractional cents', () => {
    const base = { currentAmountCents: 0, newAmountCents: 100, prorationDate: 0 };
    expect(() => prorate({ ...base, periodStart: 5000, periodEnd: 5999 })).toThrow(RangeError);
    expect(() => prorate({ ...base, periodStart: 5000, periodEnd: 1000 })).toThrow(RangeError);
    expect(() => prorate({ ...base, newAmountCents: 10.5, ...november })).toThrow(RangeError);
    expect(() => prorate({ ...base, ...november, prorationDate: Number.NaN })).toThrow(RangeError);
  });
});

describe('subscriptionAmount', () => {
  it('is the plan price plus the seat price times the seats', () => {
    expect(subscriptionAmount({ priceCents: 5000, seatPriceCents: 1200, seats: 3 })).toBe(8600);
    expect(subscriptionAmount({ priceCents: 5000, seatPriceCents: 0, seats: 40 })).toBe(5000);
  });

  it('refuses fractional or negative seats', () => {
    expect(() => subscriptionAmount({ priceCents: 0, seatPriceCents: 1000, seats: 2.5 })).toThrow(RangeError);
    expect(() => subscriptionAmount({ priceCents: 0, seatPriceCents: 1000, seats: -1 })).toThrow(RangeError);
  });
});

describe('upgradeMessage', () => {
  const december1 = at('2026-12-01T00:00:00Z');

  it('states the DESIGN.md sentence exactly', () => {
    const { amountDueNowCents } = prorate({
      currentAmountCents: 5000,
      newAmountCents: 10000,
      ...november,
      prorationDate: at('2026-11-16T00:00:00Z'),
    });
    expect(
      upgradeMessage({
        amountDueNowCents,
        nextAmountCents: 10000,
        currency: 'usd',
        interval: 'month',
        nextBillingDate: november.periodEnd,
      }),
    ).toBe(
      'You will be charged $25.00 now for the remainder of this billing period, then $100.00/month starting December 1, 2026.',
    );
  });

  it('says there is no charge now when the amount is 0', () => {
    expect(
      upgradeMessage({
        amountDueNowCents: 0,
        nextAmountCents: 10000,
        currency: 'usd',
        interval: 'month',
        nextBillingDate: december1,
      }),
    ).toBe('You will not be charged now; you will be charged $100.00/month starting December 1, 2026.');
  });

  it('says a negative amount is a credit', () => {
    expect(
      upgradeMessage({
        amountDueNowCents: -2500,
        nextAmountCents: 5000,
        currency: 'usd',
        interval: 'month',
        nextBillingDate: december1,
      }),
    ).toBe(
      'You will be credited $25.00 for the remainder of this billing period, then charged $50.00/month starting December 1, 2026.',
    );
  });

  it('names a yearly interval and formats thousands', () => {
    expect(
      upgradeMessage({
        amountDueNowCents: 123456,
        nextAmountCents: 240000,
        currency: 'USD',
        interval: 'year',
        nextBillingDate: at('2027-02-28T00:00:00Z'),
      }),
    ).toBe(
      'You will be charged $1,234.56 now for the remainder of this billing period, then $2,400.00/year starting February 28, 2027.',
    );
  });

  it('uses the UTC date, not the local one', () => {
    const message = upgradeMessage({
      amountDueNowCents: 100,
      nextAmountCents: 100,
      currency: 'usd',
      interval: 'month',
      nextBillingDate: december1 - 1,
    });
    expect(message).toMatch(/starting November 30, 2026\.$/);
  });

  it('reads amounts in the minor unit of the currency', () => {
    const message = upgradeMessage({
      amountDueNowCents: 2500,
      nextAmountCents: 10000,
      currency: 'jpy',
      interval: 'month',
      nextBillingDate: december1,
    });
    expect(message).toContain('charged ¥2,500 now');
    expect(message).toContain('then ¥10,000/month');
  });

  it('formats numbers and dates for the given locale', () => {
    const message = upgradeMessage({
      amountDueNowCents: 2500,
      nextAmountCents: 10000,
      currency: 'eur',
      interval: 'month',
      nextBillingDate: december1,
      locale: 'de-DE',
    });
    expect(message).toBe(
      'You will be charged 25,00\u00a0€ now for the remainder of this billing period, then 100,00\u00a0€/month starting 1. Dezember 2026.',
    );
  });
});

describe('nextPeriod', () => {
  const iso = (p: { start: number; end: number }) => [new Date(p.start).toISOString(), new Date(p.end).toISOString()];

  it('returns the period itself while it contains now', () => {
    const p = nextPeriod(november.periodStart, november.periodEnd, at('2026-11-30T23:59:59.999Z'));
    expect(p).toEqual({ start: november.periodStart, end: november.periodEnd });
  });

  it('rolls forward at the period end exactly', () => {
    expect(iso(nextPeriod(november.periodStart, november.periodEnd, november.periodEnd))).toEqual([
      '2026-12-01T00:00:00.000Z',
      '2027-01-01T00:00:00.000Z',
    ]);
  });

  it('returns the period unchanged when now is before it', () => {
    expect(nextPeriod(november.periodStart, november.periodEnd, november.periodStart - DAY_MS)).toEqual({
      start: november.periodStart,
      end: november.periodEnd,
    });
  });

  it('rolls across the year end', () => {
    const p = nextPeriod(at('2026-12-15T00:00:00Z'), at('2027-01-15T00:00:00Z'), at('2027-02-01T00:00:00Z'));
    expect(iso(p)).toEqual(['2027-01-15T00:00:00.000Z', '2027-02-15T00:00:00.000Z']);
  });

  it('keeps a 31st anchor through short months, like Stripe', () => {
    const start = at('2026-01-31T00:00:00Z');
    const end = at('2026-02-28T00:00:00Z');
    expect(iso(nextPeriod(start, end, at('2026-03-05T00:00:00Z')))).toEqual([
      '2026-02-28T00:00:00.000Z',
      '2026-03-31T00:00:00.000Z',
    ]);
    expect(iso(nextPeriod(start, end, at('2026-04-15T00:00:00Z')))).toEqual([
      '2026-03-31T00:00:00.000Z',
      '2026-04-30T00:00:00.000Z',
    ]);
    expect(iso(nextPeriod(start, end, at('2026-05-01T00:00:00Z')))).toEqual([
      '2026-04-30T00:00:00.000Z',
      '2026-05-31T00:00:00.000Z',
    ]);
  });

  it('recovers the 31st anchor from an already clamped period', () => {
    const p = nextPeriod(at('2026-02-28T00:00:00Z'), at('2026-03-31T00:00:00Z'), at('2026-04-05T00:00:00Z'));
    expect(iso(p)).toEqual(['2026-03-31T00:00:00.000Z', '2026-04-30T00:00:00.000Z']);
  });

  it('clamps into February over a year end and uses the 29th in a leap year', () => {
    const start = at('2026-12-31T00:00:00Z');
    const end = at('2027-01-31T00:00:00Z');
    expect(iso(nextPeriod(start, end, at('2027-02-10T00:00:00Z')))).toEqual([
      '2027-01-31T00:00:00.000Z',
      '2027-02-28T00:00:00.000Z',
    ]);
    expect(iso(nextPeriod(start, end, at('2028-02-10T00:00:00Z')))).toEqual([
      '2028-01-31T00:00:00.000Z',
      '2028-02-29T00:00:00.000Z',
    ]);
  });

  it('rolls a yearly period by twelve months, back to 29 February in leap years', () => {
    const start = at('2028-02-29T00:00:00Z');
    const end = at('2029-02-28T00:00:00Z');
    expect(iso(nextPeriod(start, end, at('2029-06-01T00:00:00Z')))).toEqual([
      '2029-02-28T00:00:00.000Z',
      '2030-02-28T00:00:00.000Z',
    ]);
    expect(iso(nextPeriod(start, end, at('2032-03-01T00:00:00Z')))).toEqual([
      '2032-02-29T00:00:00.000Z',
      '2033-02-28T00:00:00.000Z',
    ]);
  });

  it('keeps the time of day and jumps many periods at once', () => {
    const p = nextPeriod(at('2026-01-15T09:30:00Z'), at('2026-02-15T09:30:00Z'), at('2036-07-15T09:29:59.999Z'));
    expect(iso(p)).toEqual(['2036-06-15T09:30:00.000Z', '2036-07-15T09:30:00.000Z']);
  });

  it('refuses a period that is not a whole number of calendar months', () => {
    expect(() => nextPeriod(at('2026-11-01T00:00:00Z'), at('2026-11-15T00:00:00Z'), at('2026-12-01T00:00:00Z'))).toThrow(
      RangeError,
    );
    expect(() => nextPeriod(at('2026-01-10T00:00:00Z'), at('2026-02-20T00:00:00Z'), at('2026-03-01T00:00:00Z'))).toThrow(
      RangeError,
    );
  });
});

describe('calendarMonth', () => {
  it('is the UTC month containing now, half-open', () => {
    expect(calendarMonth(at('2026-02-14T09:00:00Z'))).toEqual({
      start: at('2026-02-01T00:00:00Z'),
      end: at('2026-03-01T00:00:00Z'),
    });
    expect(calendarMonth(at('2026-03-01T00:00:00Z')).start).toBe(at('2026-03-01T00:00:00Z'));
  });

  it('rolls over at the year end', () => {
    expect(calendarMonth(at('2026-12-31T23:59:59.999Z'))).toEqual({
      start: at('2026-12-01T00:00:00Z'),
      end: at('2027-01-01T00:00:00Z'),
    });
  });
});
