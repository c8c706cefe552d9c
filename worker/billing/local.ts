/**
 * The local billing provider: no Stripe key, no network. Quotes with the same proration
 * rule Stripe uses (shared/prorate.ts, to the second) over the account's period in D1, and
 * "charges" by recording an invoice in D1 in the same batch as the plan change.
 */
import { prorate } from '../../shared/prorate';
import { annualSwitch, billedAmount } from '../../shared/retention';
import type { Env } from '../env';
import { catalogMrr } from './ledger';
import { isProduction } from '../config';
import type { BillingProvider, ChargeOutcome, PlanChange, Quote } from './provider';

/** What one side of a change bills each of its intervals (`planChange` has checked it is sold that way). */
export const amountOf = (s: PlanChange['from']) => billedAmount(s.plan, s.seats, s.interval) ?? 0;

/** A switch to yearly billing: the year less the unused part of the period, and the new yearly period. */
export const switchOf = (change: PlanChange, prorationDate: number) =>
  annualSwitch({ currentAmountCents: amountOf(change.from), annualAmountCents: amountOf(change.to), periodStart: change.period.start, periodEnd: change.period.end, switchDate: prorationDate * 1000 });

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
