/**
 * Prorated upgrades and billing periods: what an upgrade costs now, the sentence that
 * says so, and how periods roll forward. Pure: plain data in, plain data out, time
 * passed in as epoch milliseconds, calendar arithmetic in UTC.
 */

export type Proration = {
  /** Negative when the change lowers the price (a credit). */
  amountDueNowCents: number;
  remainingSeconds: number;
  periodSeconds: number;
};

export type Period = { start: number; end: number };

/**
 * What a price change costs now: (new − current) × (seconds remaining ÷ seconds in the
 * period). Times are floored to whole seconds, `prorationDate` is clamped into the period,
 * and the amount is rounded to the nearest cent, halves away from zero. Computed in
 * integers, so large amounts and long periods stay exact.
 * @example
 * prorate({ currentAmountCents: 5000, newAmountCents: 10000, periodStart: Date.UTC(2026, 10, 1),
 *           periodEnd: Date.UTC(2026, 11, 1), prorationDate: Date.UTC(2026, 10, 16) })
 * // { amountDueNowCents: 2500, remainingSeconds: 1296000, periodSeconds: 2592000 }
 */
export function prorate(p: {
  currentAmountCents: number;
  newAmountCents: number;
  periodStart: number;
  periodEnd: number;
  prorationDate: number;
}): Proration {
  requireCents('currentAmountCents', p.currentAmountCents);
  requireCents('newAmountCents', p.newAmountCents);
  for (const key of ['periodStart', 'periodEnd', 'prorationDate'] as const) {
    if (!Number.isFinite(p[key])) throw new RangeError(`${key} must be a finite epoch-millisecond time`);
  }
  const start = Math.floor(p.periodStart / 1000);
  const end = Math.floor(p.periodEnd / 1000);
  const at = Math.min(Math.max(Math.floor(p.prorationDate / 1000), start), end);
  const periodSeconds = end - start;
  if (periodSeconds <= 0) throw new RangeError('periodEnd must be at least one second after periodStart');
  const remainingSeconds = end - at;

  const numerator = (BigInt(p.newAmountCents) - BigInt(p.currentAmountCents)) * BigInt(remainingSeconds);
  const denominator = BigInt(periodSeconds);
  const magnitude = numerator < 0n ? -numerator : numerator;
  const rounded = (2n * magnitude + denominator) / (2n * denominator);
  const amountDueNowCents = Number(numerator < 0n ? -rounded : rounded);
  return { amountDueNowCents, remainingSeconds, periodSeconds };
}

/**
 * The recurring amount of a subscription: the plan price plus the price of each seat.
 * Prorate a seat change by passing the amounts before and after to `prorate`.
 * @example subscriptionAmount({ priceCents: 0, seatPriceCents: 1000, seats: 8 }) // 8000
 */
export function subscriptionAmount(s: { priceCents: number; seatPriceCents: number; seats: number }): number {
  requireCents('priceCents', s.priceCents);
  requireCents('seatPriceCents', s.seatPriceCents);
  if (!Number.isSafeInteger(s.seats) || s.seats < 0) throw new RangeError('seats must be a whole number ≥ 0');
  return s.priceCents + s.seatPriceCents * s.seats;
}

/**
 * The sentence the upgrade preview shows. Amounts are in the currency's minor unit (cents
 * for USD, yen for JPY); the date is the UTC calendar date of `nextBillingDate`.
 * @example
 * upgradeMessage({ amountDueNowCents: 2500, nextAmountCents: 10000, currency: 'usd', interval: 'month',
 *                  nextBillingDate: Date.UTC(2026, 11, 1) })
 * // 'You will be charged $25.00 now for the remainder of this billing period, then $100.00/month starting December 1, 2026.'
 */
export function upgradeMessage(m: {
  amountDueNowCents: number;
  nextAmountCents: number;
  currency: string;
  interval: 'month' | 'year';
  nextBillingDate: number;
  locale?: string;
}): string {
  const locale = m.locale ?? 'en-US';
  const money = new Intl.NumberFormat(locale, { style: 'currency', currency: m.currency });
  const minorUnits = 10 ** (money.resolvedOptions().maximumFractionDigits ?? 2);
  const format = (minor: number) => money.format(minor / minorUnits);
  const date = new Intl.DateTimeFormat(locale, { dateStyle: 'long', timeZone: 'UTC' }).format(m.nextBillingDate);
  const recurring = `${format(m.nextAmountCents)}/${m.interval} starting ${date}`;

  if (m.amountDueNowCents > 0) {
    return `You will be charged ${format(m.amountDueNowCents)} now for the remainder of this billing period, then ${recurring}.`;
  }
  if (m.amountDueNowCents < 0) {
    return `You will be credited ${format(-m.amountDueNowCents)} for the remainder of this billing period, then charged ${recurring}.`;
  }
  return `You will not be charged now; you will be charged ${recurring}.`;
}

/**
 * The billing period that contains `now`, found by rolling the given period forward by its
 * own length in whole calendar months. Each roll counts from the original start and keeps
 * its day of month, clamped to short months as Stripe does (31 Jan → 28 Feb → 31 Mar).
 * Half-open: a period contains its start, not its end. When `now` is before the given
 * period, that period is returned unchanged.
 * @example
 * nextPeriod(Date.UTC(2026, 0, 31), Date.UTC(2026, 1, 28), Date.UTC(2026, 2, 5))
 * // { start: Date.UTC(2026, 1, 28), end: Date.UTC(2026, 2, 31) }
 */
export function nextPeriod(periodStart: number, periodEnd: number, now: number): Period {
  if (![periodStart, periodEnd, now].every(Number.isFinite)) {
    throw new RangeError('periodStart, periodEnd and now must be finite epoch-millisecond times');
  }
  const s = new Date(periodStart);
  const e = new Date(periodEnd);
  const months = monthIndex(e) - monthIndex(s);
  const anchorDay = Math.max(s.getUTCDate(), e.getUTCDate());
  const shifted = (k: number) => addMonths(s, k * months, anchorDay);
  if (months < 1 || shifted(0) !== periodStart || shifted(1) !== periodEnd) {
    throw new RangeError('period must span a whole number of calendar months');
  }
  if (now < periodEnd) return { start: periodStart, end: periodEnd };

  const n = new Date(now);
  let k = Math.max(0, Math.floor((monthIndex(n) - monthIndex(s)) / months) - 1);
  while (shifted(k + 1) <= now) k += 1;
  return { start: shifted(k), end: shifted(k + 1) };
}

/**
 * The UTC calendar month containing `now`, half-open.
 * @example calendarMonth(Date.UTC(2026, 1, 14, 9)) // { start: Date.UTC(2026, 1, 1), end: Date.UTC(2026, 2, 1) }
 */
export function calendarMonth(now: number): Period {
  if (!Number.isFinite(now)) throw new RangeError('now must be a finite epoch-millisecond time');
  const d = new Date(now);
  return {
    start: Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1),
    end: Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1),
  };
}

function requireCents(name: string, value: number): void {
  if (!Number.isSafeInteger(value)) throw new RangeError(`${name} must be a whole number of minor units`);
}

function monthIndex(d: Date): number {
  return d.getUTCFullYear() * 12 + d.getUTCMonth();
}

/** `from` moved by `months`, on `anchorDay` or the last day of a shorter month, same time of day. */
function addMonths(from: Date, months: number, anchorDay: number): number {
  const year = from.getUTCFullYear();
  const month = from.getUTCMonth() + months;
  const daysInMonth = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  return Date.UTC(
    year,
    month,
    Math.min(anchorDay, daysInMonth),
    from.getUTCHours(),
    from.getUTCMinutes(),
    from.getUTCSeconds(),
    from.getUTCMilliseconds(),
  );
}
