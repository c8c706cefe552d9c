/**
 * Stripe webhook events applied to accounts: each event once (its id is stored in the same
 * D1 batch as its effect), the newest object state winning over late, older deliveries
 * (`billing_state.stripe_object_updated_at`), and every MRR move written to the ledger.
 */
import { sql, type SQL } from 'drizzle-orm';
import type Stripe from 'stripe';
import { catalogQueries, toCatalog } from '../catalog';
import { sqlBatch, type Db } from '../db';
import { accounts } from '../db/schema';
import { billingStateOf, catalogMrr, mrrChangeStatements } from './ledger';
import { subscriptionState } from './stripe';

/**
 * `unlinked`: the event is about a subscription or invoice of a Stripe customer no account is
 * linked to yet. It is not recorded as seen, so Stripe's retry can apply it once the host links
 * the account (`PUT /v1/accounts/:id` with `stripe_customer_id`).
 */
export type WebhookOutcome = 'processed' | 'duplicate' | 'stale' | 'ignored' | 'unlinked';

type AccountRow = typeof accounts.$inferSelect;

const SUBSCRIPTION_EVENTS = new Set([
  'customer.subscription.created',
  'customer.subscription.updated',
  'customer.subscription.deleted',
  'customer.subscription.pending_update_applied',
  'customer.subscription.pending_update_expired',
]);

const idOf = (v: string | { id: string } | null | undefined) => (typeof v === 'string' ? v : v?.id ?? null);

/** The account a Stripe object belongs to: by subscription id, then customer id, then metadata. */
async function accountFor(db: Db, p: { subscription?: string | null; customer?: string | null; accountId?: string | null }): Promise<AccountRow | null> {
  const rows = await db.all<{ id: string }>(sql`
    SELECT id FROM accounts
    WHERE (${p.subscription ?? null} IS NOT NULL AND stripe_subscription_id = ${p.subscription ?? null})
       OR (${p.customer ?? null} IS NOT NULL AND stripe_customer_id = ${p.customer ?? null})
       OR id = ${p.accountId ?? null}
    ORDER BY (stripe_subscription_id = ${p.subscription ?? null}) DESC, (stripe_customer_id = ${p.customer ?? null}) DESC
    LIMIT 1`);
  const id = rows[0]?.id;
  if (!id) return null;
  return (await db.query.accounts.findFirst({ where: (a, { eq }) => eq(a.id, id) })) ?? null;
}

/**
 * Apply one verified Stripe event. Returns what happened: `duplicate` for an event id seen
 * before, `stale` when a newer state of the account was already applied, `ignored` for an
 * event about no known account or of a type Ladder does not use.
 * @example await applyStripeEvent(db, event, Date.now()) // 'processed'
 */
export async function applyStripeEvent(db: Db, event: Stripe.Event, now: number): Promise<WebhookOutcome> {
  const seen = await db.all(sql`SELECT 1 FROM stripe_events WHERE id = ${event.id}`);
  if (seen.length > 0) return 'duplicate';
  const record = sql`INSERT INTO stripe_events (id, type, created, received_at) VALUES (${event.id}, ${event.type}, ${event.created}, ${now})`;
  const objectAt = event.created * 1000;

  let outcome: WebhookOutcome = 'ignored';
  let statements: SQL[] = [];
  if (SUBSCRIPTION_EVENTS.has(event.type)) {
    const sub = event.data.object as Stripe.Subscription;
    const account = await accountFor(db, { subscription: sub.id, customer: idOf(sub.customer), accountId: sub.metadata?.ladder_account_id ?? null });
    if (!account) return 'unlinked';
    ({ outcome, statements } = await subscriptionStatements(db, account, sub, event, objectAt, now));
  } else if (event.type === 'invoice.paid' || event.type === 'invoice.payment_failed') {
    const invoice = event.data.object as Stripe.Invoice;
    const account = await accountFor(db, { subscription: idOf(invoice.parent?.subscription_details?.subscription), customer: idOf(invoice.customer) });
    if (!account) return 'unlinked';
    ({ outcome, statements } = await statusStatements(db, account, event.type === 'invoice.paid' ? 'active' : 'past_due', objectAt, now));
  } else if (event.type === 'checkout.session.completed') {
    const session = event.data.object as Stripe.Checkout.Session;
    const subscription = idOf(session.subscription);
    const customer = idOf(session.customer);
    if (session.client_reference_id && (subscription || customer)) {
      outcome = 'processed';
      statements = [
        sql`UPDATE accounts SET
              stripe_customer_id = coalesce(${customer}, stripe_customer_id),
              stripe_subscription_id = coalesce(${subscription}, stripe_subscription_id),
              status = 'active', updated_at = ${now}
            WHERE id = ${session.client_reference_id}`,
      ];
    }
  }

  try {
    await sqlBatch(db, [record, ...statements]);
  } catch (err) {
    // A concurrent delivery of the same event got in first: its batch did the work.
    if (/UNIQUE constraint failed: stripe_events\.id/.test(String(err))) return 'duplicate';
    throw err;
  }
  return outcome;
}

/** True when no newer Stripe state of the account has been applied. */
const notOlder = (accountId: string, objectAt: number) =>
  sql`NOT EXISTS (SELECT 1 FROM billing_state WHERE account_id = ${accountId} AND stripe_object_updated_at > ${objectAt})`;

async function subscriptionStatements(db: Db, account: AccountRow, sub: Stripe.Subscription, event: Stripe.Event, objectAt: number, now: number) {
  const state = await billingStateOf(db, account.id);
  if (state && state.stripeObjectUpdatedAt > objectAt) return { outcome: 'stale' as const, statements: [] };
  const [m, f, p] = await db.batch(catalogQueries(db));
  const catalog = toCatalog({ metrics: m, features: f, plans: p });
  const s = subscriptionState(sub, catalog);
  const deleted = event.type === 'customer.subscription.deleted';
  const planId = s.planId ?? account.planId;
  const seats = s.seats ?? account.seats;
  const status = deleted ? 'canceled' : s.status;
  const after = deleted ? 0 : s.mrrCents;
  const currentPlan = catalog.plans.find((pl) => pl.id === account.planId);
  const before = state?.mrrCents ?? (currentPlan && account.status !== 'canceled' ? catalogMrr(currentPlan, account.seats) : 0);
  const guard = notOlder(account.id, objectAt);
  return {
    outcome: 'processed' as const,
    statements: [
      sql`UPDATE accounts SET plan_id = ${planId}, seats = ${seats},
            period_start = ${s.period?.start ?? account.periodStart}, period_end = ${s.period?.end ?? account.periodEnd},
            status = ${status}, stripe_subscription_id = ${sub.id}, stripe_customer_id = coalesce(${idOf(sub.customer)}, stripe_customer_id),
            updated_at = ${now}
          WHERE id = ${account.id} AND ${guard}`,
      ...mrrChangeStatements({
        accountId: account.id,
        at: objectAt,
        before,
        after,
        state,
        accountCreatedAt: account.createdAt,
        source: 'webhook',
        dedupeKey: `stripe:${event.id}`,
        stripeObjectUpdatedAt: objectAt,
        guard,
      }),
      ...retentionStatements(account.id, sub, s, catalog, deleted, event.id, now, guard),
    ],
  };
}

/**
 * What Stripe says about yearly billing and cancellation, reconciled into Ladder: the account's
 * billing interval; a cancellation at period end made in Stripe becomes Ladder's scheduled
 * cancellation, one taken back in Stripe (or a deleted subscription) removes it.
 */
function retentionStatements(
  accountId: string,
  sub: Stripe.Subscription,
  s: ReturnType<typeof subscriptionState>,
  catalog: ReturnType<typeof toCatalog>,
  deleted: boolean,
  eventId: string,
  now: number,
  guard: ReturnType<typeof sql>,
) {
  const plan = catalog.plans.find((p) => p.id === s.planId);
  const out = plan ? [sql`UPDATE accounts SET billing_interval = ${plan.interval === s.interval ? null : s.interval} WHERE id = ${accountId} AND ${guard}`] : [];
  if (deleted || !sub.cancel_at_period_end) {
    out.push(sql`DELETE FROM scheduled_changes WHERE account_id = ${accountId} AND kind = 'cancel' AND ${guard}`);
  } else if (s.period) {
    out.push(sql`
      INSERT INTO scheduled_changes (account_id, kind, plan_id, seats, effective_at, idempotency_key, user_id, reason, created_at)
      SELECT ${accountId}, 'cancel', NULL, NULL, ${s.period.end}, ${`stripe:${eventId}`}, 'stripe', NULL, ${now} WHERE ${guard}
      ON CONFLICT (account_id) DO UPDATE SET kind = 'cancel', plan_id = NULL, seats = NULL, effective_at = excluded.effective_at
      WHERE scheduled_changes.kind = 'cancel'`);
  }
  return out;
}

async function statusStatements(db: Db, account: AccountRow, status: 'active' | 'past_due', objectAt: number, now: number) {
  const state = await billingStateOf(db, account.id);
  if (state && state.stripeObjectUpdatedAt > objectAt) return { outcome: 'stale' as const, statements: [] };
  const guard = notOlder(account.id, objectAt);
  return {
    outcome: 'processed' as const,
    statements: [
      sql`UPDATE accounts SET status = ${status}, updated_at = ${now} WHERE id = ${account.id} AND status != 'canceled' AND ${guard}`,
      sql`UPDATE billing_state SET stripe_object_updated_at = ${objectAt} WHERE account_id = ${account.id} AND stripe_object_updated_at < ${objectAt}`,
    ],
  };
}
