/**
 * Self-serve plan and seat upgrades: check the change against the catalog and the account,
 * quote it, and confirm it exactly once per idempotency key, writing the plan, seats,
 * invoice (local), ledger row and the upgrade's result in one D1 batch.
 */
import { compositeKey } from '../../shared/compositeKey';
import { sql } from 'drizzle-orm';
import type { UpgradeInput, UpgradePreview, UpgradePreviewInput, UpgradeResult } from '../../shared/billingSchemas';
import { rollPeriod } from '../../shared/entitlements';
import { upgradeMessage } from '../../shared/prorate';
import { annualMessage, annualSaving, billedAmount, formatMoney, type Interval } from '../../shared/retention';
import type { Plan, UserClaims } from '../../shared/schemas';
import { loadAccountState, snapshotOf, type AccountState } from '../accounts';
import { sqlBatch, type Db } from '../db';
import { ApiError, notFound } from '../errors';
import { enqueueWebhookEvent } from '../webhooks';
import { expansionSize, routeFor, type RouteChoice, type RoutingSubject } from '../../shared/routing';
import { loadRouting } from '../routing';
import { billingStateOf, catalogMrr, lastPromptClick, mrrChangeStatements } from './ledger';
import { providerFailed } from './failure';
import type { BillingProvider, ChargeOutcome, PlanChange, Quote } from './provider';

/** How long a preview's `proration_date` may be confirmed. */
const PREVIEW_TTL_SECONDS = 3600;
/** An upgrade still `pending` after this long was interrupted; a retry may take it over. */
const STALE_PENDING_MS = 60_000;
/** How long a concurrent retry waits for the first request's result. */
const WAIT_FOR_FIRST_MS = 15_000;
const POLL_MS = 100;

const unprocessable = (code: string, message: string, path: string, detail: string) => new ApiError(422, code, message, [{ path, message: detail }]);

/** One calendar month from `createdAt` rolled to `now`: the period of an account that has none. */
export function periodOf(account: AccountState['account'], now: number) {
  if (account.periodStart !== null && account.periodEnd !== null) return rollPeriod(account.periodStart, account.periodEnd, now);
  const c = new Date(account.createdAt);
  const next = Date.UTC(c.getUTCFullYear(), c.getUTCMonth() + 1, c.getUTCDate(), c.getUTCHours(), c.getUTCMinutes(), c.getUTCSeconds());
  return rollPeriod(account.createdAt, next, now);
}

/** How the account is billed now: its own interval when set (a monthly plan billed yearly), else its plan's. */
export const intervalOf = (account: AccountState['account'], plan: Plan): Interval => account.billingInterval ?? plan.interval;

/**
 * The change `input` asks for, checked: a known plan (404), not hidden, among the account's
 * upgrade options and of higher rank (422), or more seats on a plan that sells them (422). With
 * `interval: "year"`, a switch to yearly billing of the current plan or of a higher one that
 * is sold yearly (422 otherwise); yearly back to monthly is not an upgrade (422).
 * @example const { change } = await planChange(db, 'acme', { plan_id: 'business' }, Date.now())
 */
async function planChange(db: Db, accountId: string, input: UpgradePreviewInput, now: number) {
  const state = await loadAccountState(db, accountId);
  const snap = snapshotOf(state, now);
  const current = snap.plan;
  const seats = state.account.seats;
  const fromInterval = intervalOf(state.account, current);
  const toInterval = input.interval ?? fromInterval;
  const path = input.interval !== undefined && input.plan_id === undefined ? 'interval' : 'plan_id';
  if (toInterval === 'month' && fromInterval === 'year')
    throw unprocessable('not_an_upgrade', 'The account is billed yearly; it can move to monthly billing at renewal through a downgrade.', 'interval', 'monthly after yearly');
  let change: PlanChange['to'];
  if (input.plan_id !== undefined || input.seats === undefined) {
    const plan = input.plan_id === undefined ? current : state.catalog.plans.find((p) => p.id === input.plan_id);
    if (!plan) throw notFound('plan', input.plan_id!, 'plan_id');
    if (plan.id === current.id && toInterval === fromInterval)
      throw unprocessable('already_on_plan', `The account is already on ${plan.name}${toInterval === 'year' ? ', billed yearly' : ''}.`, path, 'the current plan');
    if (plan.hidden && plan.id !== current.id) throw unprocessable('plan_not_offered', `${plan.name} is not offered: it is a hidden plan.`, path, 'a hidden plan is never offered');
    if (plan.rank < current.rank)
      throw unprocessable('not_an_upgrade', `${plan.name} is a lower plan than ${current.name}; downgrades go through the account's billing settings.`, 'plan_id', 'lower rank than the current plan');
    if (plan.id !== current.id && !snap.upgradeOptions.some((p) => p.id === plan.id))
      throw unprocessable('plan_not_offered', `${plan.name} is not offered to this account.`, 'plan_id', 'not among upgrade_options');
    if (plan.currency !== current.currency || billedAmount(plan, seats, toInterval) === null)
      throw unprocessable(
        'plan_not_offered',
        toInterval === 'year' && plan.currency === current.currency
          ? `${plan.name} is not sold with yearly billing.`
          : `${plan.name} bills in another currency or interval; change it through the billing settings.`,
        path,
        toInterval === 'year' ? 'no annual_price_cents' : 'different currency or interval',
      );
    change = { plan, seats, interval: toInterval };
  } else {
    const target = input.seats!;
    if (target <= seats) throw unprocessable('not_an_upgrade', `The account already has ${seats} seats; remove seats through the billing settings.`, 'seats', `must be more than ${seats}`);
    if (current.seat_price_cents <= 0) throw unprocessable('seats_not_sold', `${current.name} does not sell extra seats; upgrade the plan instead.`, 'seats', 'the plan has no seat price');
    change = { plan: current, seats: target, interval: fromInterval };
  }
  return {
    state,
    change: {
      accountId,
      from: { plan: current, seats, interval: fromInterval },
      to: change,
      period: periodOf(state.account, now),
      stripeCustomerId: state.account.stripeCustomerId,
      stripeSubscriptionId: state.account.stripeSubscriptionId,
    } satisfies PlanChange,
  };
}

/** The preview sentence in the user's locale, or in en-US when that locale is unusable. */
function messageOf(quote: Quote, change: PlanChange, locale: string | undefined) {
  if (change.from.interval !== change.to.interval) {
    const annualAmountCents = quote.nextAmountCents;
    const creditCents = annualAmountCents - quote.amountDueNowCents;
    const sw = { amountDueNowCents: quote.amountDueNowCents, annualAmountCents, creditCents, period: { start: quote.prorationDate * 1000, end: quote.nextBillingDate } };
    return annualMessage({ ...sw, planName: change.to.plan.name, currency: quote.currency, ...(locale && { locale }) });
  }
  const m = { amountDueNowCents: quote.amountDueNowCents, nextAmountCents: quote.nextAmountCents, currency: quote.currency, interval: change.to.interval, nextBillingDate: quote.nextBillingDate };
  try {
    return upgradeMessage({ ...m, ...(locale && { locale }) });
  } catch {
    return upgradeMessage(m);
  }
}

/**
 * Quote a change now: the amount due now, the next amount and date, and the sentence that
 * says so. A provider failure is a 502 with the provider's reason, never a $0 preview.
 * @example await previewUpgrade(db, provider, user, { plan_id: 'business' }, Date.now())
 */
export async function previewUpgrade(db: Db, provider: BillingProvider, user: UserClaims, input: UpgradePreviewInput, now: number): Promise<UpgradePreview | SalesPreview> {
  const { state, change } = await planChange(db, user.acct, input, now);
  const routed = await changeRoute(db, state, change);
  // An expansion routed to sales is not charged here: the widget offers "Talk to us" instead.
  if (routed.route === 'sales') return salesPreview(change, routed.added_mrr_cents, user.locale);
  const quote = await provider.preview(change, Math.floor(now / 1000)).catch(providerFailed);
  return {
    amount_due_now_cents: quote.amountDueNowCents,
    currency: quote.currency,
    next_amount_cents: quote.nextAmountCents,
    next_billing_date: new Date(quote.nextBillingDate).toISOString(),
    proration_date: quote.prorationDate,
    message: messageOf(quote, change, user.locale),
    plan_id: change.to.plan.id,
    seats: change.to.seats,
    interval: change.to.interval,
    ...(change.to.interval === 'year' && change.to.plan.interval === 'month' && { annual_saving_cents: annualSaving(change.to.plan, change.to.seats) }),
    billing: provider.mode,
  };
}

export type SalesPreview = { route: 'sales'; message: string; plan_id: string; seats: number; added_mrr_cents: number; currency: string };

/**
 * The route of an asked-for change under the routing rules: its added MRR (at the billing
 * intervals of before and after) against the account's band, plan and seats.
 */
async function changeRoute(db: Db, state: AccountState, change: PlanChange): Promise<RouteChoice & { added_mrr_cents: number }> {
  const routing = await loadRouting(db);
  const subject: RoutingSubject = {
    band: (state.pqa?.band as RoutingSubject['band'] | undefined) ?? 'nurture',
    plan_id: change.from.plan.id,
    seats: change.from.seats,
    current_mrr_cents: catalogMrr(change.from.plan, change.from.seats, change.from.interval),
    expanded_mrr_cents: catalogMrr(change.to.plan, change.to.seats, change.to.interval),
  };
  return { ...routeFor(routing.rules, subject), added_mrr_cents: expansionSize(subject).added_mrr_cents };
}

function salesPreview(change: PlanChange, added: number, locale: string | undefined): SalesPreview {
  const what = change.to.plan.id !== change.from.plan.id ? change.to.plan.name : `${change.to.seats} seats`;
  const amount = formatMoney(added, change.to.plan.currency, locale);
  return {
    route: 'sales',
    message: `Moving to ${what} adds ${amount} a month, so our team sets it up with you: talk to us and we will be in touch. Nothing is charged now.`,
    plan_id: change.to.plan.id,
    seats: change.to.seats,
    added_mrr_cents: added,
    currency: change.to.plan.currency,
  };
}

/** The provider's idempotency key: a hash of the intent (account, subscription, target, t) and the request's key. */
async function providerKey(change: PlanChange, prorationDate: number, requestKey: string) {
  const price = change.to.interval !== change.to.plan.interval ? change.to.plan.stripe_annual_price_id : change.to.plan.stripe_price_id;
  const intent = [change.accountId, change.stripeSubscriptionId ?? '', price ?? change.to.plan.id, (change.to.interval !== change.to.plan.interval ? change.to.plan.stripe_annual_seat_price_id : change.to.plan.stripe_seat_price_id) ?? '', change.to.seats, change.to.interval, prorationDate, requestKey].join('\u0000');
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(intent));
  return `ladder-upgrade-${[...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
}

type UpgradeRow = { status: string; intent: string; result: string | null; updated_at: number };

const readUpgrade = async (db: Db, accountId: string, key: string) =>
  (await db.all<UpgradeRow>(sql`SELECT status, intent, result, updated_at FROM upgrades WHERE account_id = ${accountId} AND idempotency_key = ${key}`))[0] ?? null;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const intentOf = (input: UpgradeInput) =>
  JSON.stringify({ plan_id: input.plan_id ?? null, seats: input.seats ?? null, ...(input.interval && { interval: input.interval }), proration_date: input.proration_date });

/**
 * The result of an earlier request with this idempotency key: `null` when there is none (or
 * it gave its key back), the stored result, or — while that request is still charging — its
 * result once written. `takeOver` is set when the earlier request was interrupted and this
 * one now holds the key. A key used for a different intent is a 422.
 */
async function earlierResult(db: Db, user: UserClaims, input: UpgradeInput): Promise<UpgradeResult | 'takeOver' | null> {
  for (let polls = 0; ; polls += 1) {
    const row = await readUpgrade(db, user.acct, input.idempotency_key);
    if (!row) return null;
    if (row.intent !== intentOf(input))
      throw unprocessable('idempotency_key_reused', 'This idempotency key was used for a different upgrade.', 'idempotency_key', 'used for another intent');
    if (row.result) return JSON.parse(row.result) as UpgradeResult;
    if (Date.now() - row.updated_at > STALE_PENDING_MS) {
      // Interrupted before it wrote a result: take it over (the provider call is idempotent).
      const taken = await db.all(sql`
        UPDATE upgrades SET updated_at = ${Date.now()}, user_id = ${user.sub}
        WHERE account_id = ${user.acct} AND idempotency_key = ${input.idempotency_key} AND status = 'pending' AND updated_at = ${row.updated_at}
        RETURNING idempotency_key`);
      if (taken.length > 0) return 'takeOver';
    }
    if (polls * POLL_MS > WAIT_FOR_FIRST_MS)
      throw new ApiError(409, 'upgrade_in_progress', 'This upgrade is still being processed; try again in a moment.', [], { 'Retry-After': '2' });
    await sleep(POLL_MS);
  }
}

/**
 * Reserve the idempotency key for this intent (INSERT … ON CONFLICT DO NOTHING). Returns
 * `null` when this request holds the key and must charge, else the first request's result.
 */
async function reserve(db: Db, user: UserClaims, input: UpgradeInput, now: number): Promise<UpgradeResult | null> {
  for (;;) {
    const inserted = await db.all(sql`
      INSERT INTO upgrades (account_id, idempotency_key, user_id, intent, status, created_at, updated_at)
      VALUES (${user.acct}, ${input.idempotency_key}, ${user.sub}, ${intentOf(input)}, 'pending', ${now}, ${now})
      ON CONFLICT (account_id, idempotency_key) DO NOTHING
      RETURNING idempotency_key`);
    if (inserted.length > 0) return null;
    const first = await earlierResult(db, user, input);
    if (first === 'takeOver') return null;
    if (first) return first;
    // The first request gave its key back (its provider failed): try to hold it again.
  }
}

const money = (cents: number, currency: string) => formatMoney(cents, currency);

/**
 * Confirm a previewed change once per idempotency key: the same key again (also
 * concurrently) returns the first result and charges nothing more. A failed payment leaves
 * the plan and seats as they were and says so.
 * @example await confirmUpgrade(db, provider, user, { plan_id: 'business', proration_date: t, idempotency_key: 'k1' }, Date.now())
 */
export async function confirmUpgrade(db: Db, provider: BillingProvider, user: UserClaims, input: UpgradeInput, now: number): Promise<UpgradeResult> {
  if (user.role !== 'admin')
    throw new ApiError(403, 'admin_required', 'Only an account admin can change the plan or seats; ask an admin instead.', [{ path: 'role', message: 'must be admin' }]);
  // A retry of a confirmed click answers with the first result, whatever the account looks like now.
  const earlier = await earlierResult(db, user, input);
  if (earlier && earlier !== 'takeOver') return earlier;
  let checked: Awaited<ReturnType<typeof planChange>>;
  try {
    checked = await planChange(db, user.acct, input, now);
  } catch (err) {
    // A concurrent click may have just made this very change: then its result is the answer.
    const first = err instanceof ApiError ? await earlierResult(db, user, input) : null;
    if (first && first !== 'takeOver') return first;
    throw err;
  }
  const { state, change } = checked;
  if ((await changeRoute(db, state, change)).route === 'sales')
    throw unprocessable('talk_to_sales', 'This upgrade goes through our team: ask for it with "Talk to us" (an upgrade request).', 'plan_id', 'routed to sales');
  const t = input.proration_date;
  const nowSeconds = Math.floor(now / 1000);
  if (t > nowSeconds + 60 || t < nowSeconds - PREVIEW_TTL_SECONDS || t * 1000 < change.period.start)
    throw unprocessable('preview_expired', 'This preview is no longer valid; preview the change again.', 'proration_date', 'outside the preview window');

  const first = await reserve(db, user, input, now);
  if (first) return first;

  const [attribution, billingState] = await Promise.all([lastPromptClick(db, user.acct, user.sub, now), billingStateOf(db, user.acct)]);
  let outcome: ChargeOutcome;
  try {
    outcome = await provider.charge(change, t, await providerKey(change, t, input.idempotency_key));
  } catch (err) {
    // Nothing was charged or changed: give the key back so the same click can be retried.
    await db.run(sql`DELETE FROM upgrades WHERE account_id = ${user.acct} AND idempotency_key = ${input.idempotency_key} AND status = 'pending'`);
    return providerFailed(err);
  }

  const key = input.idempotency_key;
  const where = sql`account_id = ${user.acct} AND idempotency_key = ${key}`;
  const invoiceInsert = (invoice: NonNullable<ChargeOutcome['invoice']>, guard = sql`1`) => sql`
    INSERT INTO invoices (id, account_id, provider, amount_cents, currency, status, description, proration_date, created_at)
    SELECT ${invoice.id}, ${user.acct}, 'local', ${invoice.amountCents}, ${invoice.currency}, ${invoice.status}, ${invoice.description}, ${t}, ${now}
    WHERE ${guard} ON CONFLICT (id) DO NOTHING`;

  if (outcome.status !== 'succeeded') {
    const result: UpgradeResult = {
      status: outcome.status,
      plan_id: change.from.plan.id,
      seats: change.from.seats,
      amount_charged_cents: 0,
      message: outcome.status === 'failed' ? `${outcome.reason} Your plan and seats were not changed.` : outcome.reason,
      billing: provider.mode,
    };
    await sqlBatch(db, [
      ...(outcome.invoice ? [invoiceInsert(outcome.invoice)] : []),
      sql`UPDATE upgrades SET status = ${outcome.status}, result = ${JSON.stringify(result)}, updated_at = ${now} WHERE ${where}`,
    ]);
    return result;
  }

  const s = outcome.state;
  const toPlan = state.catalog.plans.find((p) => p.id === s.planId) ?? change.to.plan;
  const local = provider.mode === 'local';
  const charged = money(outcome.amountChargedCents, change.to.plan.currency);
  const yearly = change.to.interval !== change.from.interval;
  const what = yearly
    ? `You are now on ${toPlan.name}, billed yearly`
    : toPlan.id !== change.from.plan.id
      ? `You are now on ${toPlan.name}`
      : `You now have ${s.seats} seats`;
  const result: UpgradeResult = {
    status: 'succeeded',
    plan_id: toPlan.id,
    seats: s.seats,
    amount_charged_cents: outcome.amountChargedCents,
    message: `${what}. ${outcome.amountChargedCents > 0 ? `${charged} was charged` : 'Nothing was charged'}${local ? ' (local billing, no real payment)' : ''}.`,
    billing: provider.mode,
  };
  const conflict: UpgradeResult = {
    ...result,
    status: 'failed',
    plan_id: change.from.plan.id,
    seats: change.from.seats,
    amount_charged_cents: 0,
    message: 'The plan changed while this upgrade was confirmed; nothing was charged. Preview the change again.',
  };
  // Local: the change applies only if the account is still as previewed (else nothing is charged).
  // Stripe: Stripe already made the change, so its state is written as it is.
  const stamp = now;
  const applied = sql`EXISTS (SELECT 1 FROM accounts WHERE id = ${user.acct} AND plan_id = ${toPlan.id} AND seats = ${s.seats} AND updated_at = ${stamp})`;
  const before = billingState?.mrrCents ?? catalogMrr(change.from.plan, change.from.seats, change.from.interval);
  const billingInterval = change.to.interval === toPlan.interval ? null : change.to.interval;
  const fromInterval = change.from.interval === change.from.plan.interval ? sql`billing_interval IS NULL` : sql`billing_interval = ${change.from.interval}`;
  const rows = await sqlBatch(db, [
    sql`UPDATE accounts SET plan_id = ${toPlan.id}, seats = ${s.seats}, billing_interval = ${billingInterval}, period_start = ${s.period.start}, period_end = ${s.period.end}, status = 'active', updated_at = ${stamp}
        WHERE id = ${user.acct} ${local ? sql`AND plan_id = ${change.from.plan.id} AND seats = ${change.from.seats} AND ${fromInterval}` : sql``}`,
    ...(outcome.invoice ? [invoiceInsert(outcome.invoice, applied)] : []),
    ...mrrChangeStatements({
      accountId: user.acct,
      at: now,
      before,
      after: s.mrrCents,
      state: billingState,
      accountCreatedAt: state.account.createdAt,
      source: 'self_serve',
      attribution,
      dedupeKey: compositeKey('upgrade', user.acct, key),
      ...(!local && { stripeObjectUpdatedAt: nowSeconds * 1000 }),
      guard: applied,
    }),
    enqueueWebhookEvent(
      'upgrade.succeeded',
      compositeKey('upgrade', user.acct, key),
      { account_id: user.acct, user_id: user.sub, from_plan_id: change.from.plan.id, plan_id: toPlan.id, seats: s.seats, interval: change.to.interval, amount_charged_cents: outcome.amountChargedCents, currency: change.to.plan.currency, billing: provider.mode, at: new Date(now).toISOString() },
      now,
      applied,
    ),
    sql`UPDATE upgrades SET
          status = CASE WHEN ${applied} THEN 'succeeded' ELSE 'failed' END,
          result = CASE WHEN ${applied} THEN ${JSON.stringify(result)} ELSE ${JSON.stringify(conflict)} END,
          updated_at = ${now}
        WHERE ${where}`,
    sql`SELECT result FROM upgrades WHERE ${where}`,
  ]);
  const stored = rows.at(-1)?.[0]?.result;
  return typeof stored === 'string' ? (JSON.parse(stored) as UpgradeResult) : result;
}
