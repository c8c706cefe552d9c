/**
 * The local billing provider: no Stripe key, no network. Quotes with the same proration
 * rule Stripe uses (shared/prorate.ts, to the second) over the account's period in D1, and
 * "charges" by recording an invoice in D1 in the same batch as the plan change.
 */
import { prorate } from '../../shared/prorate';
import { rollPeriod } from '../../shared/entitlements';
import { annualSwitch, billedAmount, formatMoney, longDate, renewalCharge, type Interval } from '../../shared/retention';
import type { Env } from '../env';
import { catalogMrr } from './ledger';
import { isProduction } from '../config';
import type { BillingProvider, ChargeOutcome, PlanChange, Quote } from './provider';

/** What one side of a change bills each of its intervals (`planChange` has checked it is sold that way). */
const amountOf = (s: PlanChange['from']) => billedAmount(s.plan, s.seats, s.interval) ?? 0;

/** A switch to yearly billing: the year less the unused part of the period, and the new yearly period. */
const switchOf = (change: PlanChange, prorationDate: number) =>
  annualSwitch({ currentAmountCents: amountOf(change.from), annualAmountCents: amountOf(change.to), periodStart: change.period.start, periodEnd: change.period.end, switchDate: prorationDate * 1000 });

/** An account whose period ended, with its plan's prices, as the cron reads it. */
export type RenewalAccount = {
  id: string;
  period_start: number;
  period_end: number;
  seats: number;
  billing_interval: Interval | null;
  discount_percent: number | null;
  discount_ends_at: number | null;
  paused_until: number | null;
  plan_name: string | null;
  currency: string | null;
  price_cents: number | null;
  seat_price_cents: number | null;
  interval: Interval | null;
  annual_price_cents: number | null;
  annual_seat_price_cents: number | null;
};

/** The local provider's invoice for one renewal, as the cron writes it. */
export type RenewalInvoice = { id: string; account_id: string; amount_cents: number; currency: string; description: string; at: number; renews: number };

/** Renewals one cron run invoices at most per account (a worker that was down for years does not write thousands). */
const MAX_RENEWALS = 36;

/**
 * The local provider's renewal invoices for an account whose period ended by `now`: one per
 * period started since, at the plan's price for the account's seats and interval, less a save
 * offer's discount, nothing while paused (shared/retention.ts `renewalCharge`). A free plan
 * has no invoice. Ids are per account and period start, so a retried run writes each once.
 * @example renewalInvoices(account, Date.UTC(2026, 11, 1, 0, 15)) // [{ id: 'in_renew_acme_1796083200000', amount_cents: 7500, … }]
 */
export function renewalInvoices(a: RenewalAccount, now: number): RenewalInvoice[] {
  if (a.price_cents === null || a.interval === null || a.currency === null) return [];
  const interval = a.billing_interval ?? a.interval;
  const plan = { price_cents: a.price_cents, seat_price_cents: a.seat_price_cents ?? 0, interval: a.interval, annual_price_cents: a.annual_price_cents, annual_seat_price_cents: a.annual_seat_price_cents };
  const amount = billedAmount(plan, (a.seat_price_cents ?? 0) > 0 ? a.seats : 0, interval);
  if (amount === null) return [];
  const out: RenewalInvoice[] = [];
  let period = { start: Number(a.period_start), end: Number(a.period_end) };
  while (period.end <= now && out.length < MAX_RENEWALS) {
    period = rollPeriod(period.start, period.end, period.end);
    const charge = renewalCharge({ amountCents: amount, periodStart: period.start, discountPercent: a.discount_percent, discountEndsAt: a.discount_ends_at, pausedUntil: a.paused_until });
    if (amount === 0 && !charge.paused) continue;
    const what = `${a.plan_name}, ${interval === 'year' ? 'yearly' : 'monthly'} renewal from ${longDate(period.start)}`;
    const description = charge.paused
      ? `${what}: billing paused until ${longDate(a.paused_until!)}, nothing charged`
      : charge.discountCents > 0
        ? `${what}: ${formatMoney(amount, a.currency)} less ${a.discount_percent}% (save offer)`
        : what;
    out.push({ id: `in_renew_${a.id}_${period.start}`, account_id: a.id, amount_cents: charge.amountCents, currency: a.currency, description, at: period.start, renews: Number(a.period_end) });
  }
  return out;
}

/** A short stable id from a string (an invoice per idempotency key). */
async function shortHash(value: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(value));
  return [...new Uint8Array(digest).slice(0, 12)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * The offline provider. Outside production, `LADDER_LOCAL_CARD=decline` makes every payment
 * fail (for tests and demos of the failure path).
 * @example await localProvider(env).preview(change, Math.floor(Date.now() / 1000))
 */
export function localProvider(env: Env): BillingProvider {
  const declines = !isProduction(env) && env.LADDER_LOCAL_CARD === 'decline';
  const preview = async (change: PlanChange, prorationDate: number): Promise<Quote & { period: PlanChange['period'] }> => {
    if (change.from.interval !== change.to.interval) {
      const sw = switchOf(change, prorationDate);
      return { amountDueNowCents: sw.amountDueNowCents, currency: change.to.plan.currency, nextAmountCents: sw.annualAmountCents, nextBillingDate: sw.period.end, prorationDate, period: sw.period };
    }
    const { amountDueNowCents } = prorate({
      currentAmountCents: amountOf(change.from),
      newAmountCents: amountOf(change.to),
      periodStart: change.period.start,
      periodEnd: change.period.end,
      prorationDate: prorationDate * 1000,
    });
    return {
      amountDueNowCents,
      currency: change.to.plan.currency,
      nextAmountCents: amountOf(change.to),
      nextBillingDate: change.period.end,
      prorationDate,
      period: change.period,
    };
  };
  // Plan, cancellation, discount and pause state is Ladder's own (D1), written by the caller: nothing else to do.
  const nothing = async () => {};
  return {
    mode: 'local',
    preview,
    changeAtPeriodEnd: nothing,
    setCancelAtPeriodEnd: nothing,
    applyDiscount: nothing,
    pauseCollection: nothing,
    async charge(change, prorationDate, idempotencyKey): Promise<ChargeOutcome> {
      const quote = await preview(change, prorationDate);
      const due = Math.max(0, quote.amountDueNowCents);
      const id = `in_local_${await shortHash(idempotencyKey)}`;
      const description =
        change.to.interval !== change.from.interval
          ? `${change.to.plan.name}, billed yearly from now, less the unused part of the period`
          : change.to.plan.id === change.from.plan.id
          ? `${change.from.seats} → ${change.to.seats} seats on ${change.to.plan.name}, prorated`
          : `${change.from.plan.name} → ${change.to.plan.name}, prorated`;
      if (declines && due > 0) {
        return {
          status: 'failed',
          reason: 'Your card was declined.',
          invoice: { id, amountCents: due, currency: quote.currency, status: 'failed', description },
        };
      }
      return {
        status: 'succeeded',
        amountChargedCents: due,
        state: { planId: change.to.plan.id, seats: change.to.seats, period: quote.period, mrrCents: catalogMrr(change.to.plan, change.to.seats, change.to.interval) },
        invoice: { id, amountCents: due, currency: quote.currency, status: 'paid', description },
      };
    },
  };
}
