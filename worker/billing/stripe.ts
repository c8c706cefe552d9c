/**
 * The Stripe billing provider, through the official `stripe` package and its fetch client.
 * Quotes with `invoices.createPreview` (Stripe's own amount, never a recomputed one) and
 * confirms with `subscriptions.update` at the same `proration_date`, invoicing the
 * proration at once and applying the change only if that payment succeeds.
 */
import Stripe from 'stripe';
import { billedAmount, oneYearAfter, type Interval } from '../../shared/retention';
import type { Catalog, Plan } from '../../shared/schemas';
import type { Env } from '../env';
import { monthlyCents } from './ledger';
import { BillingNotPossibleError, BillingProviderError, type AppliedState, type BillingProvider, type ChargeOutcome, type PlanChange, type SubscriptionRef } from './provider';

/**
 * A Stripe client for the worker: the fetch HTTP client, no automatic retries, and the API
 * base from `STRIPE_API_PROTOCOL`/`HOST`/`PORT` when set (tests point it at a local server).
 * @example const stripe = stripeClient(c.env)
 */
function stripeClient(env: Env): Stripe {
  if (!env.STRIPE_SECRET_KEY) throw new Error('STRIPE_SECRET_KEY is not set');
  return new Stripe(env.STRIPE_SECRET_KEY, {
    httpClient: Stripe.createFetchHttpClient(),
    maxNetworkRetries: 0,
    ...(env.STRIPE_API_HOST && { host: env.STRIPE_API_HOST }),
    ...(env.STRIPE_API_PORT && { port: env.STRIPE_API_PORT }),
    ...(env.STRIPE_API_PROTOCOL && { protocol: env.STRIPE_API_PROTOCOL as 'http' | 'https' }),
  });
}

const priceId = (item: Stripe.SubscriptionItem) => item.price.id;

/** The Stripe price a plan is billed at every `interval`: its own, or its yearly one for a monthly plan billed yearly. */
const stripePriceFor = (plan: Plan, interval: Interval) => (interval === plan.interval ? plan.stripe_price_id : plan.stripe_annual_price_id ?? null);

/** The Stripe price of one extra seat billed every `interval`: the plan's seat price, or its yearly one for a monthly plan billed yearly. */
const stripeSeatPriceFor = (plan: Plan, interval: Interval) => (interval === plan.interval ? plan.stripe_seat_price_id : plan.stripe_annual_seat_price_id ?? null);

/** Whether `id` is one of the plan's seat prices (monthly or yearly). */
const isSeatPrice = (p: Plan, id: string) => p.stripe_seat_price_id === id || (p.stripe_annual_seat_price_id != null && p.stripe_annual_seat_price_id === id);

/** Stripe statuses that carry recurring revenue. */
const PAYING = new Set<Stripe.Subscription.Status>(['active', 'past_due', 'unpaid']);

/**
 * A Stripe subscription in Ladder's terms: the plan and seats its items' prices map to in the
 * catalog (`null` when no plan price matches), its period, status and MRR.
 * @example subscriptionState(sub, catalog) // { planId: 'business', seats: 8, … }
 */
export function subscriptionState(sub: Stripe.Subscription, catalog: Catalog) {
  const items = sub.items.data;
  const isPlanPrice = (p: Plan, id: string) => p.stripe_price_id === id || (p.stripe_annual_price_id != null && p.stripe_annual_price_id === id);
  const planItem = items.find((i) => catalog.plans.some((p) => isPlanPrice(p, priceId(i))));
  const seatItem = items.find((i) => catalog.plans.some((p) => isSeatPrice(p, priceId(i))));
  const plan = planItem ? catalog.plans.find((p) => isPlanPrice(p, priceId(planItem))) ?? null : null;
  const first = planItem ?? items[0];
  const paying = PAYING.has(sub.status);
  const mrrCents = paying
    ? items.reduce((sum, i) => {
        const unit = i.price.unit_amount ?? 0;
        const interval = i.price.recurring?.interval === 'year' ? 'year' : 'month';
        return sum + monthlyCents(unit * (i.quantity ?? 1), interval);
      }, 0)
    : 0;
  const status: 'active' | 'past_due' | 'canceled' =
    sub.status === 'canceled' || sub.status === 'incomplete_expired' ? 'canceled' : sub.status === 'active' || sub.status === 'trialing' ? 'active' : 'past_due';
  const interval: Interval = planItem?.price.recurring?.interval === 'year' ? 'year' : 'month';
  return {
    planId: plan?.id ?? null,
    seats: seatItem?.quantity ?? null,
    interval,
    period: first ? { start: first.current_period_start * 1000, end: first.current_period_end * 1000 } : null,
    status,
    mrrCents,
  };
}

/** A subscription Stripe has changed, as a succeeded charge: its state and the proration invoice's amount. */
function applied(sub: Stripe.Subscription, change: PlanChange): ChargeOutcome {
  const invoice = typeof sub.latest_invoice === 'object' ? sub.latest_invoice : null;
  const s = subscriptionState(sub, { metrics: [], features: [], plans: [change.from.plan, change.to.plan] });
  const state: AppliedState = {
    planId: s.planId ?? change.to.plan.id,
    seats: s.seats ?? change.to.seats,
    period: s.period ?? change.period,
    mrrCents: s.mrrCents,
  };
  return { status: 'succeeded', amountChargedCents: invoice?.amount_paid ?? 0, state };
}

/** The Stripe error's own reason, as the 502 body carries it. */
const refused = (err: unknown, what: string): never => {
  if (err instanceof BillingNotPossibleError) throw err;
  const reason = err instanceof Stripe.errors.StripeError ? err.message : err instanceof Error ? err.message : String(err);
  throw new BillingProviderError(`Stripe could not ${what}: ${reason}`);
};

/**
 * The Stripe provider. Seats are the quantity of the item priced at the plan's
 * `stripe_seat_price_id`; the plan is the item priced at its `stripe_price_id`.
 * @example await stripeProvider(env).charge(change, t, 'ladder-upg-…')
 */
export function stripeProvider(env: Env): BillingProvider {
  const stripe = stripeClient(env);

  async function subscriptionOf(change: SubscriptionRef) {
    if (!change.stripeCustomerId || !change.stripeSubscriptionId)
      throw new BillingNotPossibleError('no_subscription', 'This account has no Stripe subscription to change.', 'account', 'no stripe_subscription_id');
    try {
      return await stripe.subscriptions.retrieve(change.stripeSubscriptionId);
    } catch (err) {
      return refused(err, 'read the subscription');
    }
  }

  /** The subscription items to send: the plan item re-priced and/or the seat item's quantity. */
  function itemsFor(change: PlanChange, sub: Stripe.Subscription): Stripe.SubscriptionUpdateParams.Item[] {
    const notBillable = (what: string) =>
      new BillingNotPossibleError('not_billable', `Plan "${change.to.plan.id}" has no Stripe ${what}.`, change.to.plan.id === change.from.plan.id ? 'seats' : 'plan_id', `no stripe ${what}`);
    const items = sub.items.data;
    const fromPrice = stripePriceFor(change.from.plan, change.from.interval);
    const planItem = items.find((i) => priceId(i) === fromPrice);
    const seatItem = items.find((i) => isSeatPrice(change.from.plan, priceId(i)));
    const out: Stripe.SubscriptionUpdateParams.Item[] = [];
    if (change.to.plan.id !== change.from.plan.id || change.to.interval !== change.from.interval) {
      const toPrice = stripePriceFor(change.to.plan, change.to.interval);
      if (!toPrice) throw notBillable(change.to.interval !== change.to.plan.interval ? 'yearly price' : 'price');
      if (!planItem) throw new BillingProviderError(`Stripe subscription ${sub.id} has no item priced ${fromPrice}.`);
      out.push({ id: planItem.id, price: toPrice, quantity: planItem.quantity ?? 1 });
    }
    const seatPrice = stripeSeatPriceFor(change.to.plan, change.to.interval);
    if (change.to.plan.seat_price_cents > 0 && change.to.seats > 0) {
      if (!seatPrice) throw notBillable(change.to.interval !== change.to.plan.interval ? 'yearly seat price (stripe_annual_seat_price_id)' : 'seat price');
      if (!seatItem) out.push({ price: seatPrice, quantity: change.to.seats });
      else if (seatItem.price.id !== seatPrice || seatItem.quantity !== change.to.seats)
        out.push({ id: seatItem.id, price: seatPrice, quantity: change.to.seats });
    } else if (seatItem) {
      out.push({ id: seatItem.id, deleted: true });
    }
    return out;
  }

  const periodEnd = (sub: Stripe.Subscription, change: PlanChange) => {
    const item = sub.items.data.find((i) => priceId(i) === stripePriceFor(change.from.plan, change.from.interval)) ?? sub.items.data[0];
    return item ? item.current_period_end * 1000 : change.period.end;
  };

  /** Update the subscription with `params` under `idempotencyKey`; a Stripe failure is a 502 with its reason. */
  async function update(ref: SubscriptionRef, params: Stripe.SubscriptionUpdateParams, idempotencyKey: string, what: string) {
    const sub = await subscriptionOf(ref);
    try {
      return await stripe.subscriptions.update(sub.id, params, { idempotencyKey });
    } catch (err) {
      return refused(err, what);
    }
  }

  return {
    mode: 'stripe',
    async changeAtPeriodEnd(change, idempotencyKey) {
      const sub = await subscriptionOf(change);
      await update(change, { items: itemsFor(change, sub), proration_behavior: 'none' }, idempotencyKey, 'change the plan at the period end');
    },
    async setCancelAtPeriodEnd(ref, cancel, idempotencyKey) {
      await update(ref, { cancel_at_period_end: cancel }, idempotencyKey, cancel ? 'cancel at the period end' : 'undo the cancellation');
    },
    async applyDiscount(ref, discount, idempotencyKey) {
      let coupon: Stripe.Coupon;
      try {
        coupon = await stripe.coupons.create(
          { percent_off: discount.percentOff, duration: 'repeating', duration_in_months: discount.months, name: `Ladder save offer: ${discount.percentOff}% off for ${discount.months} months` },
          { idempotencyKey: `${idempotencyKey}-coupon` },
        );
      } catch (err) {
        return refused(err, 'create the discount');
      }
      await update(ref, { discounts: [{ coupon: coupon.id }] }, idempotencyKey, 'apply the discount');
    },
    async pauseCollection(ref, resumesAt, idempotencyKey) {
      await update(ref, { pause_collection: { behavior: 'void', resumes_at: Math.floor(resumesAt / 1000) } }, idempotencyKey, 'pause the subscription');
    },
    async preview(change, prorationDate) {
      const sub = await subscriptionOf(change);
      const items = itemsFor(change, sub);
      let invoice: Stripe.Invoice;
      try {
        invoice = await stripe.invoices.createPreview({
          customer: change.stripeCustomerId!,
          subscription: sub.id,
          subscription_details: { items, proration_date: prorationDate, proration_behavior: 'always_invoice' },
        });
      } catch (err) {
        return refused(err, 'preview the change');
      }
      return {
        amountDueNowCents: invoice.amount_due,
        currency: invoice.currency,
        nextAmountCents: billedAmount(change.to.plan, change.to.seats, change.to.interval) ?? 0,
        // A new billing interval starts a new billing cycle at once (Stripe resets the anchor).
        nextBillingDate: change.to.interval !== change.from.interval ? oneYearAfter(prorationDate * 1000) : periodEnd(sub, change),
        prorationDate,
      };
    },

    async charge(change, prorationDate, idempotencyKey): Promise<ChargeOutcome> {
      const sub = await subscriptionOf(change);
      // Stripe already shows this very change while Ladder does not: an earlier try was applied and its answer
      // lost. Answer from Stripe's state and invoice instead of changing (and charging) again.
      const seen = subscriptionState(sub, { metrics: [], features: [], plans: [change.from.plan, change.to.plan] });
      const seatsMatch = change.to.plan.seat_price_cents > 0 ? seen.seats === change.to.seats : true;
      if (seen.planId === change.to.plan.id && seatsMatch && seen.interval === change.to.interval && (seen.planId !== change.from.plan.id || seen.seats !== change.from.seats || seen.interval !== change.from.interval)) {
        try {
          return applied(await stripe.subscriptions.retrieve(sub.id, { expand: ['latest_invoice'] }), change);
        } catch (err) {
          return refused(err, 'read the subscription');
        }
      }
      const items = itemsFor(change, sub);
      let updated: Stripe.Subscription;
      try {
        updated = await stripe.subscriptions.update(
          sub.id,
          {
            items,
            proration_date: prorationDate,
            proration_behavior: 'always_invoice',
            payment_behavior: 'pending_if_incomplete',
            expand: ['latest_invoice.payments'],
          },
          { idempotencyKey },
        );
      } catch (err) {
        if (err instanceof Stripe.errors.StripeCardError) return { status: 'failed', reason: err.message };
        return refused(err, 'change the subscription');
      }
      const invoice = typeof updated.latest_invoice === 'object' ? updated.latest_invoice : null;
      if (!updated.pending_update && (!invoice || invoice.status === 'paid')) return applied(updated, change);
      // The change is pending on a payment that did not go through: say why, in Stripe's words.
      const payment = invoice?.payments?.data[0]?.payment;
      const intentId = typeof payment?.payment_intent === 'string' ? payment.payment_intent : payment?.payment_intent?.id;
      let intent: Stripe.PaymentIntent | null = null;
      if (intentId) {
        try {
          intent = await stripe.paymentIntents.retrieve(intentId);
        } catch (err) {
          return refused(err, 'read the payment');
        }
      }
      if (intent?.status === 'requires_action')
        return { status: 'requires_action', reason: 'Your bank asks you to confirm this payment; the change applies once it is confirmed.' };
      return { status: 'failed', reason: intent?.last_payment_error?.message ?? 'The payment did not go through.' };
    },
  };
}
