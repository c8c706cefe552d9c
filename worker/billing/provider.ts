/**
 * The billing-provider interface: quote a plan or seat change, then charge for it, and the
 * billing-domain errors a provider throws (mapped to HTTP by `failure.ts`). Two
 * implementations, `stripe.ts` and `local.ts` (same proration rule, invoices in D1), chosen
 * by configuration in `configured.ts`.
 */
import type { Interval } from '../../shared/retention';
import type { Plan } from '../../shared/schemas';

type BillingMode = 'stripe' | 'local';

/**
 * A change the customer asked for, already checked against the catalog and the rules. Each
 * side is billed every `interval`; `from.interval !== to.interval` is a switch to yearly
 * billing, which starts a new yearly period at once (shared/retention.ts `annualSwitch`).
 */
export type PlanChange = {
  accountId: string;
  from: { plan: Plan; seats: number; interval: Interval };
  to: { plan: Plan; seats: number; interval: Interval };
  /** The account's current billing period as Ladder knows it (the local provider's truth). */
  period: { start: number; end: number };
  stripeCustomerId: string | null;
  stripeSubscriptionId: string | null;
};

/** What a change costs now and afterwards. */
export type Quote = {
  amountDueNowCents: number;
  currency: string;
  nextAmountCents: number;
  /** Epoch ms of the next billing date (the current period's end). */
  nextBillingDate: number;
  /** Epoch seconds the proration is computed at; the confirmation must send it back. */
  prorationDate: number;
};

/** The account's billing state after a successful change, as the provider reports it. */
export type AppliedState = {
  planId: string;
  seats: number;
  period: { start: number; end: number };
  mrrCents: number;
};

/** An invoice the local provider keeps in D1 (Stripe keeps its own). */
type LocalInvoice = { id: string; amountCents: number; currency: string; status: 'paid' | 'failed'; description: string };

export type ChargeOutcome =
  | { status: 'succeeded'; amountChargedCents: number; state: AppliedState; invoice?: LocalInvoice }
  | { status: 'requires_action' | 'failed'; reason: string; invoice?: LocalInvoice };

/** The subscription a retention action applies to. */
export type SubscriptionRef = { accountId: string; stripeCustomerId: string | null; stripeSubscriptionId: string | null };

export interface BillingProvider {
  readonly mode: BillingMode;
  /** Quote `change` as if made at `prorationDate` (epoch seconds). */
  preview(change: PlanChange, prorationDate: number): Promise<Quote>;
  /**
   * Make `change` at `prorationDate`, charging the prorated amount; the change applies only
   * if the payment succeeds. `idempotencyKey` is derived from the intent, so a retry never
   * charges twice.
   */
  charge(change: PlanChange, prorationDate: number, idempotencyKey: string): Promise<ChargeOutcome>;
  /** Make a scheduled downgrade at the period end: no proration, no refund, the next invoice at the new price. */
  changeAtPeriodEnd(change: PlanChange, idempotencyKey: string): Promise<void>;
  /** Cancel at the period end (`true`), or take that back (`false`). */
  setCancelAtPeriodEnd(ref: SubscriptionRef, cancel: boolean, idempotencyKey: string): Promise<void>;
  /** A save offer's discount: `percentOff` off the next `months` invoices. */
  applyDiscount(ref: SubscriptionRef, discount: { percentOff: number; months: number }, idempotencyKey: string): Promise<void>;
  /** A save offer's pause: no invoices until `resumesAt` (epoch ms). */
  pauseCollection(ref: SubscriptionRef, resumesAt: number, idempotencyKey: string): Promise<void>;
}

/** The provider failed or refused (not a declined card): the API answers 502 with its reason. */
export class BillingProviderError extends Error {}

/**
 * The provider cannot make this change for this account (no subscription to change, no
 * price for the target plan): the API answers 422 with `code` and the field at `path`.
 */
export class BillingNotPossibleError extends Error {
  constructor(
    readonly code: 'no_subscription' | 'not_billable',
    message: string,
    readonly path: string,
    readonly detail: string,
  ) {
    super(message);
  }
}
