/**
 * Keeping customers: the annual switch (what it costs now, what it saves a year), what a
 * downgrade takes away, which save offer a cancellation reason gets, and the saves report.
 * Pure: plain data in, plain data out, time passed in as epoch milliseconds (UTC).
 */
import { prorate, subscriptionAmount } from './prorate';
import type { Plan } from './schemas';
import { DAY_MS } from './time';

export type Interval = 'month' | 'year';

export const CANCEL_REASONS = ['too_expensive', 'not_using', 'missing_feature', 'switching', 'temporary', 'other'] as const;
export type CancelReason = (typeof CANCEL_REASONS)[number];

export const OFFER_KINDS = ['discount', 'downgrade', 'pause', 'annual', 'none'] as const;
type OfferKind = (typeof OFFER_KINDS)[number];

/** An admin's save offer for one reason (`PUT /v1/admin/save-offers`). */
export type SaveOfferConfig = {
  kind: OfferKind;
  percent_off?: number | undefined;
  months?: number | undefined;
  plan_id?: string | undefined;
  pause_months?: number | undefined;
  copy: { title: string; body: string };
};

/** How often an account may be shown a save offer. */
const OFFER_COOLDOWN_MS = 90 * DAY_MS;

/**
 * The offers Ladder makes until an admin configures its own: a price-driven cancellation gets
 * 25% off for 3 months, an unused account the next lower plan, a seasonal one a pause.
 */
export const DEFAULT_SAVE_OFFERS: Record<CancelReason, SaveOfferConfig> = {
  too_expensive: { kind: 'discount', percent_off: 25, months: 3, copy: { title: 'Stay for less', body: 'Keep {plan} at {percent_off}% off for the next {months} months.' } },
  not_using: { kind: 'downgrade', copy: { title: 'Pay for what you use', body: 'Move to {offer_plan} at {offer_price} and keep your data.' } },
  missing_feature: { kind: 'none', copy: { title: '', body: '' } },
  switching: { kind: 'annual', copy: { title: 'Save with a yearly plan', body: 'Switch {plan} to yearly billing and save {annual_saving} a year.' } },
  temporary: { kind: 'pause', pause_months: 3, copy: { title: 'Take a break instead', body: 'Pause billing for {pause_months} months; your account and data stay as they are.' } },
  other: { kind: 'none', copy: { title: '', body: '' } },
};

/**
 * The amount billed each `interval` for `plan` with `seats` bought: the plan's own price, or —
 * for a monthly plan billed yearly — its `annual_price_cents` plus a year of each seat
 * (`annual_seat_price_cents`, else twelve months of `seat_price_cents`).
 * `null` when the plan is not sold that way.
 * @example billedAmount({ price_cents: 10000, annual_price_cents: 96000, seat_price_cents: 1000, interval: 'month' }, 2, 'year') // 120000
 */
export function billedAmount(
  plan: Pick<Plan, 'price_cents' | 'seat_price_cents' | 'interval'> & { annual_price_cents?: number | null; annual_seat_price_cents?: number | null },
  seats: number,
  interval: Interval,
): number | null {
  if (interval === plan.interval) return subscriptionAmount({ priceCents: plan.price_cents, seatPriceCents: plan.seat_price_cents, seats });
  if (interval === 'year' && plan.annual_price_cents != null)
    return subscriptionAmount({ priceCents: plan.annual_price_cents, seatPriceCents: plan.annual_seat_price_cents ?? plan.seat_price_cents * 12, seats });
  return null;
}

/**
 * What a year on the annual price saves against twelve monthly payments (0 when it saves nothing).
 * @example annualSaving({ price_cents: 10000, annual_price_cents: 96000, seat_price_cents: 0, interval: 'month' }, 0) // 24000
 */
export function annualSaving(plan: Parameters<typeof billedAmount>[0], seats: number): number {
  const monthly = billedAmount(plan, seats, 'month');
  const annual = billedAmount(plan, seats, 'year');
  if (monthly === null || annual === null || plan.interval !== 'month') return 0;
  return Math.max(0, monthly * 12 - annual);
}

/**
 * The same moment one calendar year later (29 February → 28 February), UTC.
 * @example oneYearAfter(Date.UTC(2026, 10, 16)) // Date.UTC(2027, 10, 16)
 */
export function oneYearAfter(at: number): number {
  const d = new Date(at);
  const year = d.getUTCFullYear() + 1;
  const days = new Date(Date.UTC(year, d.getUTCMonth() + 1, 0)).getUTCDate();
  return Date.UTC(year, d.getUTCMonth(), Math.min(d.getUTCDate(), days), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds());
}

export type AnnualSwitch = {
  /** The annual amount less the credit; negative when the credit is larger (left as account credit). */
  amountDueNowCents: number;
  annualAmountCents: number;
  /** The unused part of the current period, to the second, as Stripe credits it. */
  creditCents: number;
  /** The new yearly period: from the switch (whole seconds) to one year later. */
  period: { start: number; end: number };
};

/**
 * A switch to yearly billing at `switchDate`: the year is charged now, less the unused part
 * of the current period (current amount × seconds left ÷ seconds in the period, rounded to
 * the cent), and the billing year starts at the switch.
 * Worked example: $100/month with 15 of 30 days left, moved to $960/year, is credited $50.00
 * and charged $910.00 on November 16, 2026; the next charge is $960.00 on November 16, 2027.
 * @example
 * annualSwitch({ currentAmountCents: 10000, annualAmountCents: 96000, periodStart: Date.UTC(2026, 10, 1),
 *                periodEnd: Date.UTC(2026, 11, 1), switchDate: Date.UTC(2026, 10, 16) })
 * // { amountDueNowCents: 91000, creditCents: 5000, annualAmountCents: 96000, period: { start: Date.UTC(2026, 10, 16), end: Date.UTC(2027, 10, 16) } }
 */
export function annualSwitch(p: { currentAmountCents: number; annualAmountCents: number; periodStart: number; periodEnd: number; switchDate: number }): AnnualSwitch {
  const unused = prorate({ currentAmountCents: p.currentAmountCents, newAmountCents: 0, periodStart: p.periodStart, periodEnd: p.periodEnd, prorationDate: p.switchDate });
  const creditCents = -unused.amountDueNowCents || 0;
  if (!Number.isSafeInteger(p.annualAmountCents) || p.annualAmountCents < 0) throw new RangeError('annualAmountCents must be whole cents ≥ 0');
  const start = Math.floor(Math.min(Math.max(p.switchDate, p.periodStart), p.periodEnd) / 1000) * 1000;
  return {
    amountDueNowCents: p.annualAmountCents - creditCents,
    annualAmountCents: p.annualAmountCents,
    creditCents,
    period: { start, end: oneYearAfter(start) },
  };
}

/** What a renewal invoice charges once a save offer's discount or pause is taken into account. */
export type RenewalCharge = { amountCents: number; discountCents: number; paused: boolean };

/**
 * The invoice for a billing period starting at `periodStart` that bills `amountCents`: nothing
 * while billing is paused (`periodStart` before `pausedUntil`, as Stripe voids invoices in a
 * pause), `discountPercent` off while a save offer's discount runs (`periodStart` before
 * `discountEndsAt`), else the full amount. Discounts round to the cent.
 * Worked example: $100/month with 25% off until March 1, 2027 is charged $75.00 on December 1,
 * January 1 and February 1, then $100.00 on March 1; paused until February 16, 2027, it is
 * charged nothing on December 1, January 1 and February 1, and $100.00 on March 1.
 * @example renewalCharge({ amountCents: 10000, periodStart: Date.UTC(2026, 11, 1), discountPercent: 25, discountEndsAt: Date.UTC(2027, 2, 1), pausedUntil: null })
 * // { amountCents: 7500, discountCents: 2500, paused: false }
 */
export function renewalCharge(p: { amountCents: number; periodStart: number; discountPercent: number | null; discountEndsAt: number | null; pausedUntil: number | null }): RenewalCharge {
  if (!Number.isSafeInteger(p.amountCents) || p.amountCents < 0) throw new RangeError('amountCents must be whole cents ≥ 0');
  if (p.pausedUntil !== null && p.periodStart < p.pausedUntil) return { amountCents: 0, discountCents: 0, paused: true };
  const pct = p.discountPercent !== null && p.discountEndsAt !== null && p.periodStart < p.discountEndsAt ? Math.min(100, Math.max(0, p.discountPercent)) : 0;
  const discountCents = Math.round((p.amountCents * pct) / 100);
  return { amountCents: p.amountCents - discountCents, discountCents, paused: false };
}

/**
 * The same moment `months` calendar months later, on the same day or the last of a shorter month (UTC).
 * @example monthsAfter(Date.UTC(2026, 11, 1), 3) // Date.UTC(2027, 2, 1)
 */
export function monthsAfter(at: number, months: number): number {
  const d = new Date(at);
  const days = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + months + 1, 0)).getUTCDate();
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + months, Math.min(d.getUTCDate(), days), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds());
}

/**
 * Money in the currency's minor unit, formatted for `locale` (en-US when unusable).
 * @example formatMoney(24000, 'usd') // '$240.00'
 */
export function formatMoney(minor: number, currency: string, locale = 'en-US'): string {
  let money: Intl.NumberFormat;
  try {
    money = new Intl.NumberFormat(locale, { style: 'currency', currency });
  } catch {
    money = new Intl.NumberFormat('en-US', { style: 'currency', currency });
  }
  const minorUnits = 10 ** (money.resolvedOptions().maximumFractionDigits ?? 2);
  return money.format(minor / minorUnits);
}

/** A UTC calendar date in words. @example longDate(Date.UTC(2026, 11, 1)) // 'December 1, 2026' */
export function longDate(at: number, locale = 'en-US'): string {
  try {
    return new Intl.DateTimeFormat(locale, { dateStyle: 'long', timeZone: 'UTC' }).format(at);
  } catch {
    return new Intl.DateTimeFormat('en-US', { dateStyle: 'long', timeZone: 'UTC' }).format(at);
  }
}

/**
 * The sentence the preview of a switch to yearly billing shows.
 * @example
 * annualMessage({ planName: 'Business', currency: 'usd', ...annualSwitch(…) })
 * // 'You will be charged $910.00 now for a year of Business ($960.00 less $50.00 for the unused part of this billing period), then $960.00/year starting November 16, 2027.'
 */
export function annualMessage(m: AnnualSwitch & { planName: string; currency: string; locale?: string }): string {
  const f = (c: number) => formatMoney(c, m.currency, m.locale);
  const then = `then ${f(m.annualAmountCents)}/year starting ${longDate(m.period.end, m.locale)}`;
  const less = m.creditCents > 0 ? ` (${f(m.annualAmountCents)} less ${f(m.creditCents)} for the unused part of this billing period)` : '';
  if (m.amountDueNowCents >= 0) return `You will be charged ${f(m.amountDueNowCents)} now for a year of ${m.planName}${less}, ${then}.`;
  return `You will be credited ${f(-m.amountDueNowCents)} for the unused part of this billing period, more than a year of ${m.planName} costs, ${then}.`;
}

export type DowngradeLoss = {
  features: string[];
  limits: Record<string, { from: number | null; to: number | null }>;
  over_limit: { metric: string; used: number; limit: number }[];
};

/**
 * What moving from one plan and seat count to another takes away: the features of the old
 * plan the new one lacks, each limit that gets lower (`null` = unlimited), and the metrics
 * whose current use is already above the new limit (they block at 100%; nothing is deleted).
 * Seats are the larger of the plan's included seats and the seats bought.
 * @example
 * downgradeLoss({ from: business, to: starter, fromSeats: 0, toSeats: 0, used: { api_calls: 14200 } })
 * // { features: ['sso'], limits: { api_calls: { from: 100000, to: 10000 } }, over_limit: [{ metric: 'api_calls', used: 14200, limit: 10000 }] }
 */
export function downgradeLoss(p: {
  from: Pick<Plan, 'features' | 'limits'>;
  to: Pick<Plan, 'features' | 'limits'>;
  fromSeats: number;
  toSeats: number;
  used: Record<string, number>;
  seatsMetric?: string;
}): DowngradeLoss {
  const seatsMetric = p.seatsMetric ?? 'seats';
  const limitOf = (plan: Pick<Plan, 'limits'>, metric: string, seats: number) => {
    const l = plan.limits[metric];
    if (l === undefined || l === null) return null;
    return metric === seatsMetric ? Math.max(l, seats) : l;
  };
  const features = p.from.features.filter((f) => !p.to.features.includes(f));
  const limits: DowngradeLoss['limits'] = {};
  const over: DowngradeLoss['over_limit'] = [];
  const metrics = [...new Set([...Object.keys(p.from.limits), ...Object.keys(p.to.limits), ...Object.keys(p.used)])];
  for (const metric of metrics) {
    const from = limitOf(p.from, metric, p.fromSeats);
    const to = limitOf(p.to, metric, p.toSeats);
    const lower = to !== null && (from === null || to < from);
    if (lower) limits[metric] = { from, to };
    const used = p.used[metric] ?? 0;
    if (to !== null && used > to) over.push({ metric, used, limit: to });
  }
  return { features, limits, over_limit: over };
}

/**
 * The sentence a downgrade preview shows: when it takes effect, what it then costs, and what is lost.
 * @example
 * downgradeMessage({ planName: 'Starter', effectiveAt: Date.UTC(2026, 11, 1), nextAmountCents: 5000, currency: 'usd', interval: 'month',
 *                    loss, names: { sso: 'Single sign-on', api_calls: 'API calls' } })
 * // 'Your plan changes to Starter on December 1, 2026, then $50.00/month; nothing is refused until then. You lose Single sign-on. API calls drop from 100,000 to 10,000 (you use 14,200 now, so new use is blocked until it is below the limit).'
 */
export function downgradeMessage(m: {
  planName: string;
  effectiveAt: number;
  nextAmountCents: number;
  currency: string;
  interval: Interval;
  loss: DowngradeLoss;
  names: Record<string, string>;
  locale?: string;
}): string {
  const n = (v: number | null) => (v === null ? 'unlimited' : new Intl.NumberFormat('en-US').format(v));
  const name = (id: string) => m.names[id] ?? id;
  const parts = [`Your plan changes to ${m.planName} on ${longDate(m.effectiveAt, m.locale)}, then ${formatMoney(m.nextAmountCents, m.currency, m.locale)}/${m.interval}; nothing is refused until then.`];
  if (m.loss.features.length) parts.push(`You lose ${m.loss.features.map(name).join(', ')}.`);
  for (const [metric, l] of Object.entries(m.loss.limits)) {
    const over = m.loss.over_limit.find((o) => o.metric === metric);
    parts.push(`${name(metric)} drop from ${n(l.from)} to ${n(l.to)}${over ? ` (you use ${n(over.used)} now, so new use is blocked until it is below the limit)` : ''}.`);
  }
  return parts.join(' ');
}

/** What the offer engine knows about the account asking to cancel. */
export type OfferContext = {
  plan: Pick<Plan, 'id' | 'name' | 'rank' | 'price_cents' | 'seat_price_cents' | 'interval' | 'currency'> & { annual_price_cents?: number | null };
  seats: number;
  /** The account's billing interval (a monthly plan may be billed yearly). */
  interval: Interval;
  /** Plans the account could move down to (any rank; the rule picks among the lower ones). */
  plans: OfferContext['plan'][];
  /** When the account was last shown an offer other than `none`, if ever. */
  lastOfferShownAt: number | null;
  now: number;
};

export type ChosenOffer = {
  kind: OfferKind;
  percent_off?: number;
  months?: number;
  plan_id?: string;
  pause_months?: number;
  title: string;
  message: string;
};

const NO_OFFER: ChosenOffer = { kind: 'none', title: '', message: 'We are sorry to see you go. You keep everything until the end of this billing period.' };

/**
 * The save offer for a cancellation `reason`: the admin's offer for it made concrete for this
 * account, or `none` when it does not apply (a downgrade with no lower plan, a yearly switch
 * for an account already yearly or a plan with no yearly price) or when the account was
 * shown an offer in the last 90 days.
 * @example chooseSaveOffer(DEFAULT_SAVE_OFFERS, 'too_expensive', ctx) // { kind: 'discount', percent_off: 25, months: 3, … }
 */
export function chooseSaveOffer(config: Record<CancelReason, SaveOfferConfig>, reason: CancelReason, ctx: OfferContext): ChosenOffer {
  const offer = config[reason];
  if (offer.kind === 'none') return NO_OFFER;
  if (ctx.lastOfferShownAt !== null && ctx.now - ctx.lastOfferShownAt < OFFER_COOLDOWN_MS) return NO_OFFER;
  const vars: Record<string, string> = { plan: ctx.plan.name };
  const cur = (c: number) => formatMoney(c, ctx.plan.currency);
  const out: ChosenOffer = { kind: offer.kind, title: offer.copy.title, message: '' };
  switch (offer.kind) {
    case 'discount':
      out.percent_off = offer.percent_off!;
      out.months = offer.months!;
      vars.percent_off = String(offer.percent_off);
      vars.months = String(offer.months);
      break;
    case 'pause':
      out.pause_months = offer.pause_months!;
      vars.pause_months = String(offer.pause_months);
      break;
    case 'downgrade': {
      const lower = [...ctx.plans].filter((p) => p.rank < ctx.plan.rank && p.currency === ctx.plan.currency).sort((a, b) => b.rank - a.rank);
      const target = offer.plan_id !== undefined ? lower.find((p) => p.id === offer.plan_id) : lower[0];
      const price = target && billedAmount(target, ctx.seats, ctx.interval);
      if (!target || price === null || price === undefined) return NO_OFFER;
      out.plan_id = target.id;
      vars.offer_plan = target.name;
      vars.offer_price = `${cur(price)}/${ctx.interval}`;
      break;
    }
    case 'annual': {
      const saving = annualSaving(ctx.plan, ctx.seats);
      if (ctx.interval === 'year' || saving <= 0) return NO_OFFER;
      vars.annual_saving = cur(saving);
      break;
    }
  }
  out.message = offer.copy.body.replace(/\{([a-z_]+)\}/g, (whole, key: string) => vars[key] ?? whole);
  return out;
}

/**
 * MRR an accepted offer keeps (`saved_mrr_cents`): the account's MRR as the offer leaves it —
 * discounted for a discount, the lower plan's for a downgrade, the full MRR for a pause
 * (billing resumes) or a yearly switch (its monthly equivalent).
 * @example savedMrr({ kind: 'discount', percent_off: 25 }, 10000, null) // 7500
 */
export function savedMrr(offer: Pick<ChosenOffer, 'kind' | 'percent_off'>, mrrCents: number, mrrAfterCents: number | null): number {
  switch (offer.kind) {
    case 'discount':
      return Math.round((mrrCents * (100 - (offer.percent_off ?? 0))) / 100);
    case 'downgrade':
    case 'annual':
      return mrrAfterCents ?? mrrCents;
    case 'pause':
      return mrrCents;
    default:
      return 0;
  }
}

/** One cancellation attempt as the saves report reads it. */
export type CancelFlow = { reason: CancelReason; offer_kind: OfferKind; status: 'offered' | 'accepted' | 'canceled'; saved_mrr_cents: number };

export type SavesRow = {
  reason: CancelReason;
  cancel_started: number;
  offers_shown: number;
  offers_accepted: number;
  canceled: number;
  /** Accepted offers ÷ cancellations started; null when none started. */
  save_rate: number | null;
  saved_mrr_cents: number;
};

/**
 * Per reason: cancellations started, offers shown (not `none`) and accepted, cancellations
 * confirmed, the save rate (accepted ÷ started) and the MRR the accepted offers kept.
 * @example savesByReason([{ reason: 'too_expensive', offer_kind: 'discount', status: 'accepted', saved_mrr_cents: 7500 }])[0].save_rate // 1
 */
export function savesByReason(flows: readonly CancelFlow[]): SavesRow[] {
  return CANCEL_REASONS.map((reason) => {
    const mine = flows.filter((f) => f.reason === reason);
    const accepted = mine.filter((f) => f.status === 'accepted');
    return {
      reason,
      cancel_started: mine.length,
      offers_shown: mine.filter((f) => f.offer_kind !== 'none').length,
      offers_accepted: accepted.length,
      canceled: mine.filter((f) => f.status === 'canceled').length,
      save_rate: mine.length ? accepted.length / mine.length : null,
      saved_mrr_cents: accepted.reduce((s, f) => s + f.saved_mrr_cents, 0),
    };
  });
}
