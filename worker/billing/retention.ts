/**
 * Keeping customers (../shared/API.md, "Plan changes that keep customers"): downgrades and
 * cancellations scheduled for the period end and undoable until then, save offers chosen by
 * the cancellation reason and applied through the billing provider, and the cron step that
 * applies what is due. The rules are in shared/retention.ts; this module does the I/O.
 */
import { sql } from 'drizzle-orm';
import { compositeKey } from '../../shared/compositeKey';
import type { DowngradeInput, DowngradePreviewInput } from '../../shared/billingSchemas';
import {
  billedAmount,
  CANCEL_REASONS,
  chooseSaveOffer,
  DEFAULT_SAVE_OFFERS,
  downgradeLoss,
  downgradeMessage,
  monthsAfter,
  savedMrr,
  type CancelReason,
  type ChosenOffer,
  type SaveOfferConfig,
} from '../../shared/retention';
import type { UserClaims } from '../../shared/schemas';
import { loadAccountState, snapshotOf, type AccountState } from '../accounts';
import { sqlBatch, type Db } from '../db';
import { ApiError, notFound, refuse } from '../errors';
import { enqueueWebhookEvent } from '../webhooks';
import { billingStateOf, catalogMrr, mrrChangeStatements } from './ledger';
import { providerFailed } from './failure';
import type { BillingProvider, PlanChange, SubscriptionRef } from './provider';
import { confirmUpgrade, intervalOf, periodOf } from './upgrade';

/** How long an offer shown may be accepted. */
const OFFER_TTL_MS = 24 * 3600_000;
const SAVE_OFFERS_KEY = 'save_offers';


/** Only an account admin changes the plan; a member asks an admin instead. */
export function requireAdmin(user: UserClaims): void {
  if (user.role !== 'admin')
    throw new ApiError('admin_required', 'Only an account admin can change the plan, downgrade or cancel; ask an admin instead.', [{ path: 'role', message: 'must be admin' }]);
}

const refOf = (account: AccountState['account']): SubscriptionRef => ({
  accountId: account.id,
  stripeCustomerId: account.stripeCustomerId,
  stripeSubscriptionId: account.stripeSubscriptionId,
});

/** The account's MRR now: what the ledger last recorded, else its catalog price. */
async function currentMrr(db: Db, state: AccountState) {
  const billing = await billingStateOf(db, state.account.id);
  const plan = state.catalog.plans.find((p) => p.id === state.account.planId)!;
  return { billing, mrr: billing?.mrrCents ?? catalogMrr(plan, state.account.seats, intervalOf(state.account, plan)) };
}

// ---------------------------------------------------------------- downgrades

/**
 * The downgrade `input` asks for, checked: a known lower plan sold at the account's interval
 * and currency, or fewer seats on a plan that sells them; effective at the period end.
 */
function downgradeOf(state: AccountState, input: DowngradePreviewInput, now: number) {
  const snap = snapshotOf(state, now);
  const current = snap.plan;
  const seats = state.account.seats;
  const interval = intervalOf(state.account, current);
  let to: PlanChange['to'];
  if (input.plan_id !== undefined) {
    const plan = state.catalog.plans.find((p) => p.id === input.plan_id);
    if (!plan) throw notFound('plan', input.plan_id, 'plan_id');
    if (plan.id === current.id) throw refuse('already_on_plan', `The account is already on ${plan.name}.`, 'plan_id', 'the current plan');
    if (plan.rank > current.rank) throw refuse('not_a_downgrade', `${plan.name} is a higher plan than ${current.name}; upgrade instead.`, 'plan_id', 'higher rank than the current plan');
    if (plan.currency !== current.currency || billedAmount(plan, seats, interval) === null)
      throw refuse('plan_not_offered', `${plan.name} is not sold ${interval === 'year' ? 'yearly' : 'monthly'} in ${current.currency.toUpperCase()}.`, 'plan_id', 'different currency or interval');
    to = { plan, seats: plan.seat_price_cents > 0 ? seats : 0, interval };
  } else {
    const target = input.seats!;
    if (current.seat_price_cents <= 0) throw refuse('seats_not_sold', `${current.name} does not sell seats.`, 'seats', 'the plan has no seat price');
    if (target >= seats) throw refuse('not_a_downgrade', `The account has ${seats} seats; add seats through an upgrade.`, 'seats', `must be fewer than ${seats}`);
    to = { plan: current, seats: target, interval };
  }
  const period = periodOf(state.account, now);
  const change: PlanChange = {
    accountId: state.account.id,
    from: { plan: current, seats, interval },
    to,
    period,
    stripeCustomerId: state.account.stripeCustomerId,
    stripeSubscriptionId: state.account.stripeSubscriptionId,
  };
  const used = Object.fromEntries(snap.meters.map((m) => [m.metric, m.used]));
  const loss = downgradeLoss({ from: current, to: to.plan, fromSeats: seats, toSeats: to.seats, used });
  const names = Object.fromEntries([...state.catalog.metrics, ...state.catalog.features].map((x) => [x.id, x.name]));
  const nextAmountCents = billedAmount(to.plan, to.seats, interval) ?? 0;
  return { change, loss, names, nextAmountCents, effectiveAt: period.end };
}

/**
 * `POST /v1/widget/downgrade/preview`: what the account loses and when.
 * @example await previewDowngrade(db, user, { plan_id: 'starter' }, Date.now())
 */
export async function previewDowngrade(db: Db, user: UserClaims, input: DowngradePreviewInput, now: number) {
  const state = await loadAccountState(db, user.acct);
  const d = downgradeOf(state, input, now);
  const currency = d.change.to.plan.currency;
  let message: string;
  const m = { planName: d.change.to.plan.name, effectiveAt: d.effectiveAt, nextAmountCents: d.nextAmountCents, currency, interval: d.change.to.interval, loss: d.loss, names: d.names };
  try {
    message = downgradeMessage({ ...m, ...(user.locale && { locale: user.locale }) });
  } catch {
    message = downgradeMessage(m);
  }
  return {
    effective_at: new Date(d.effectiveAt).toISOString(),
    plan_id: d.change.to.plan.id,
    seats: d.change.to.seats,
    next_amount_cents: d.nextAmountCents,
    currency,
    interval: d.change.to.interval,
    message,
    losing: { features: d.loss.features, limits: d.loss.limits },
    over_limit: d.loss.over_limit,
  };
}

type ScheduledRow = { kind: 'downgrade' | 'cancel'; plan_id: string | null; seats: number | null; effective_at: number; idempotency_key: string; reason: string | null };

/** The account's scheduled change row, to run alone or inside a larger batch. */
export const scheduledRowSql = (accountId: string) =>
  sql`SELECT kind, plan_id, seats, effective_at, idempotency_key, reason FROM scheduled_changes WHERE account_id = ${accountId}`;

const scheduledRow = async (db: Db, accountId: string) => (await db.all<ScheduledRow>(scheduledRowSql(accountId)))[0] ?? null;

/**
 * The change waiting for the period end, as `GET /v1/widget/state` shows it, from the row of `scheduledRowSql`.
 * @example scheduledChangeFrom(row) // { kind: 'downgrade', plan_id: 'starter', effective_at: '2026-12-01T00:00:00.000Z' }
 */
export function scheduledChangeFrom(row: Record<string, unknown> | undefined | null) {
  if (!row) return null;
  const r = row as ScheduledRow;
  const target = r.kind === 'downgrade' ? { plan_id: r.plan_id, seats: r.seats } : { reason: r.reason };
  return { kind: r.kind, ...target, effective_at: new Date(Number(r.effective_at)).toISOString() };
}

/** The change waiting for the period end. @example await scheduledChangeOf(db, 'acme') */
async function scheduledChangeOf(db: Db, accountId: string) {
  return scheduledChangeFrom(await scheduledRow(db, accountId));
}

/** Insert the scheduled change unless one is there; the answer for the key that holds the slot, or 409. */
async function schedule(
  db: Db,
  user: UserClaims,
  row: Omit<ScheduledRow, 'idempotency_key'> & { key: string },
  event: 'plan.downgrade_scheduled' | 'subscription.cancel_scheduled',
  payload: Record<string, unknown>,
  now: number,
  extra: ReturnType<typeof sql>[] = [],
) {
  const mine = sql`EXISTS (SELECT 1 FROM scheduled_changes WHERE account_id = ${user.acct} AND idempotency_key = ${row.key} AND created_at = ${now})`;
  await sqlBatch(db, [
    sql`INSERT INTO scheduled_changes (account_id, kind, plan_id, seats, effective_at, idempotency_key, user_id, reason, created_at)
        VALUES (${user.acct}, ${row.kind}, ${row.plan_id}, ${row.seats}, ${row.effective_at}, ${row.key}, ${user.sub}, ${row.reason}, ${now})
        ON CONFLICT (account_id) DO NOTHING`,
    enqueueWebhookEvent(event, compositeKey(row.kind, user.acct, row.key), { account_id: user.acct, user_id: user.sub, ...payload, effective_at: new Date(row.effective_at).toISOString(), at: new Date(now).toISOString() }, now, mine),
    ...extra.map((s) => sql`${s} AND ${mine}`),
  ]);
  const stored = await scheduledRow(db, user.acct);
  const same = stored && stored.kind === row.kind && stored.plan_id === row.plan_id && stored.seats === row.seats;
  if (!stored || (stored.idempotency_key !== row.key && !same))
    throw new ApiError('change_already_scheduled', `A ${stored?.kind ?? 'change'} is already scheduled for this account; undo it first.`, [{ path: 'scheduled_change', message: stored?.kind ?? 'scheduled' }]);
  return { status: 'scheduled' as const, kind: stored.kind, effective_at: new Date(stored.effective_at).toISOString() };
}

/**
 * `POST /v1/widget/downgrade`: schedule the downgrade for the period end (no refund now). The
 * same key — or the same downgrade again — answers the same; another pending change is 409.
 * @example await scheduleDowngrade(db, user, { plan_id: 'starter', idempotency_key: 'k' }, Date.now())
 */
export async function scheduleDowngrade(db: Db, user: UserClaims, input: DowngradeInput, now: number) {
  requireAdmin(user);
  const state = await loadAccountState(db, user.acct);
  const existing = await scheduledRow(db, user.acct);
  if (existing && existing.idempotency_key === input.idempotency_key) return { status: 'scheduled' as const, kind: existing.kind, effective_at: new Date(existing.effective_at).toISOString() };
  const d = downgradeOf(state, input, now);
  return schedule(
    db,
    user,
    { kind: 'downgrade', plan_id: d.change.to.plan.id, seats: d.change.to.seats, effective_at: d.effectiveAt, reason: null, key: input.idempotency_key },
    'plan.downgrade_scheduled',
    { plan_id: d.change.from.plan.id, to_plan_id: d.change.to.plan.id, seats: d.change.to.seats, next_amount_cents: d.nextAmountCents, currency: d.change.to.plan.currency },
    now,
  );
}

/**
 * `DELETE /v1/widget/scheduled-change`: undo the pending downgrade or cancellation (with
 * Stripe, the cancellation at period end is taken back first). Nothing pending is a 200 too.
 * @example await undoScheduledChange(db, provider, user, Date.now()) // { status: 'undone', kind: 'cancel' }
 */
export async function undoScheduledChange(db: Db, provider: BillingProvider, user: UserClaims, now: number) {
  requireAdmin(user);
  const row = await scheduledRow(db, user.acct);
  if (!row) {
    await loadAccountState(db, user.acct); // a token for an account that does not exist is a 404, never "nothing to undo"
    return { status: 'none' as const };
  }
  if (row.kind === 'cancel') {
    const state = await loadAccountState(db, user.acct);
    await provider.setCancelAtPeriodEnd(refOf(state.account), false, `ladder-uncancel-${user.acct}-${row.idempotency_key}`).catch(providerFailed);
  }
  await sqlBatch(db, [
    sql`DELETE FROM scheduled_changes WHERE account_id = ${user.acct} AND idempotency_key = ${row.idempotency_key}`,
    // An undone cancellation is no longer one: its attempt stays counted as started.
    sql`UPDATE cancel_flows SET status = 'offered', resolved_at = ${now} WHERE account_id = ${user.acct} AND status = 'canceled' AND idempotency_key = ${row.idempotency_key}`,
  ]);
  return { status: 'undone' as const, kind: row.kind };
}

// ---------------------------------------------------------------- cancel and save offers

/**
 * The save offers in force: the admin's per reason, the defaults for the rest.
 * @example (await saveOffers(db)).too_expensive.kind // 'discount'
 */
export async function saveOffers(db: Db): Promise<Record<CancelReason, SaveOfferConfig>> {
  const [rows = []] = await sqlBatch(db, [sql`SELECT value FROM settings WHERE key = ${SAVE_OFFERS_KEY}`]);
  const stored = rows[0] ? (JSON.parse(String(rows[0].value)) as Partial<Record<CancelReason, SaveOfferConfig>>) : {};
  return Object.fromEntries(CANCEL_REASONS.map((r) => [r, stored[r] ?? DEFAULT_SAVE_OFFERS[r]])) as Record<CancelReason, SaveOfferConfig>;
}

/** Replace the admin's save offers; a downgrade offer's plan must be in the catalog (422). */
export async function putSaveOffers(db: Db, input: Partial<Record<CancelReason, SaveOfferConfig>>, now: number) {
  const state = await sqlBatch(db, [sql`SELECT id FROM plans`]);
  const plans = new Set((state[0] ?? []).map((r) => String(r.id)));
  for (const [reason, offer] of Object.entries(input))
    if (offer?.plan_id !== undefined && !plans.has(offer.plan_id))
      throw refuse('unknown_plan', `There is no plan "${offer.plan_id}" in the catalog.`, `${reason}.plan_id`, 'not in the catalog');
  await sqlBatch(db, [
    sql`INSERT INTO settings (key, value, updated_at) VALUES (${SAVE_OFFERS_KEY}, ${JSON.stringify(input)}, ${now})
        ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
  ]);
  return saveOffers(db);
}

type FlowRow = { id: string; reason: string; offer_kind: ChosenOffer['kind']; offer: string; status: string; mrr_cents: number; idempotency_key: string | null; result: string | null; created_at: number };

const publicOffer = (id: string, offer: ChosenOffer) => ({ offer: { id, ...offer } });

/**
 * `POST /v1/widget/cancel/offer`: record that a cancellation started, with its reason, and
 * answer the offer for it (`none` when there is none, or one was shown in the last 90 days).
 * @example await cancelOffer(db, user, { reason: 'too_expensive' }, Date.now()) // { offer: { id: 'sof_…', kind: 'discount', … } }
 */
export async function cancelOffer(db: Db, user: UserClaims, input: { reason: CancelReason; note?: string | undefined }, now: number) {
  requireAdmin(user);
  const state = await loadAccountState(db, user.acct);
  const plan = state.catalog.plans.find((p) => p.id === state.account.planId)!;
  const [config, { mrr }, last] = await Promise.all([
    saveOffers(db),
    currentMrr(db, state),
    db.all<{ at: number | null }>(sql`SELECT max(created_at) AS at FROM cancel_flows WHERE account_id = ${user.acct} AND offer_kind != 'none'`),
  ]);
  const offer = chooseSaveOffer(config, input.reason, {
    plan,
    seats: state.account.seats,
    interval: intervalOf(state.account, plan),
    plans: state.catalog.plans,
    lastOfferShownAt: last[0]?.at ?? null,
    now,
  });
  const id = `sof_${crypto.randomUUID().replace(/-/g, '')}`;
  await db.run(sql`
    INSERT INTO cancel_flows (id, account_id, user_id, reason, note, offer_kind, offer, status, mrr_cents, created_at)
    VALUES (${id}, ${user.acct}, ${user.sub}, ${input.reason}, ${input.note ?? ''}, ${offer.kind}, ${JSON.stringify(offer)}, 'offered', ${mrr}, ${now})`);
  return publicOffer(id, offer);
}

export type AcceptResult = { status: 'accepted' | 'failed'; kind: ChosenOffer['kind']; message: string; effective_at?: string; until?: string; saved_mrr_cents: number };

/**
 * `POST /v1/widget/cancel/accept`: apply the offer through the billing provider (a discount or
 * a pause), as a scheduled downgrade, or as a switch to yearly billing charged now. Once per
 * offer: the same key again answers the first result; the provider calls carry keys derived
 * from it, so a double click applies once.
 * @example await acceptOffer(db, provider, user, { offer_id: 'sof_…', idempotency_key: 'k' }, Date.now())
 */
export async function acceptOffer(db: Db, provider: BillingProvider, user: UserClaims, input: { offer_id: string; idempotency_key: string }, now: number): Promise<AcceptResult> {
  requireAdmin(user);
  const read = async () =>
    (await db.all<FlowRow>(sql`SELECT id, reason, offer_kind, offer, status, mrr_cents, idempotency_key, result, created_at FROM cancel_flows WHERE id = ${input.offer_id} AND account_id = ${user.acct}`))[0];
  const flow = await read();
  if (!flow) throw notFound('offer', input.offer_id, 'offer_id');
  if (flow.status === 'accepted' && flow.result) {
    if (flow.idempotency_key === input.idempotency_key) return JSON.parse(flow.result) as AcceptResult;
    throw new ApiError('offer_already_accepted', 'This offer was already accepted.', [{ path: 'offer_id', message: 'accepted' }]);
  }
  if (flow.status !== 'offered') throw new ApiError('offer_closed', 'The account was canceled after this offer; undo the cancellation first.', [{ path: 'offer_id', message: flow.status }]);
  const offer = JSON.parse(flow.offer) as ChosenOffer;
  if (offer.kind === 'none') throw refuse('no_offer', 'There is no offer to accept.', 'offer_id', 'offer kind none');
  if (now - flow.created_at > OFFER_TTL_MS) throw refuse('offer_expired', 'This offer has expired; start again.', 'offer_id', 'older than 24 hours');

  const state = await loadAccountState(db, user.acct);
  const ref = refOf(state.account);
  const key = `ladder-save-${user.acct}-${flow.id}`;
  const period = periodOf(state.account, now);
  let result: AcceptResult;
  let accountUpdate = sql`SELECT 1 WHERE 1`;
  const kept = (after: number | null) => savedMrr(offer, flow.mrr_cents, after);
  switch (offer.kind) {
    case 'discount': {
      await provider.applyDiscount(ref, { percentOff: offer.percent_off!, months: offer.months! }, key).catch(providerFailed);
      // The next `months` invoices: those of the periods starting before `months` after this period ends.
      const until = monthsAfter(period.end, offer.months!);
      accountUpdate = sql`UPDATE accounts SET discount_percent = ${offer.percent_off!}, discount_ends_at = ${until}, updated_at = ${now} WHERE id = ${user.acct}`;
      result = { status: 'accepted', kind: 'discount', message: `Done: ${offer.percent_off}% off for the next ${offer.months} months.`, until: new Date(until).toISOString(), saved_mrr_cents: kept(null) };
      break;
    }
    case 'pause': {
      const until = monthsAfter(now, offer.pause_months!);
      await provider.pauseCollection(ref, until, key).catch(providerFailed);
      accountUpdate = sql`UPDATE accounts SET paused_until = ${until}, updated_at = ${now} WHERE id = ${user.acct}`;
      result = { status: 'accepted', kind: 'pause', message: `Billing is paused until ${new Date(until).toISOString().slice(0, 10)}; your account stays as it is.`, until: new Date(until).toISOString(), saved_mrr_cents: kept(null) };
      break;
    }
    case 'downgrade': {
      const done = await scheduleDowngrade(db, user, { plan_id: offer.plan_id!, idempotency_key: key }, now);
      const to = state.catalog.plans.find((p) => p.id === offer.plan_id)!;
      const after = catalogMrr(to, to.seat_price_cents > 0 ? state.account.seats : 0, intervalOf(state.account, state.catalog.plans.find((p) => p.id === state.account.planId)!));
      result = { status: 'accepted', kind: 'downgrade', message: `Your plan changes to ${to.name} at the end of this billing period.`, effective_at: done.effective_at, saved_mrr_cents: kept(after) };
      break;
    }
    case 'annual': {
      const up = await confirmUpgrade(db, provider, user, { interval: 'year', proration_date: Math.floor(now / 1000), idempotency_key: key }, now);
      if (up.status !== 'succeeded') return { status: 'failed', kind: 'annual', message: up.message, saved_mrr_cents: 0 };
      const after = await billingStateOf(db, user.acct);
      result = { status: 'accepted', kind: 'annual', message: up.message, saved_mrr_cents: kept(after?.mrrCents ?? null) };
      break;
    }
  }
  const mine = sql`EXISTS (SELECT 1 FROM cancel_flows WHERE id = ${flow.id} AND status = 'accepted' AND idempotency_key = ${input.idempotency_key} AND resolved_at = ${now})`;
  await sqlBatch(db, [
    sql`UPDATE cancel_flows SET status = 'accepted', idempotency_key = ${input.idempotency_key}, result = ${JSON.stringify(result)}, saved_mrr_cents = ${result.saved_mrr_cents}, resolved_at = ${now}
        WHERE id = ${flow.id} AND status = 'offered'`,
    sql`${accountUpdate} AND ${mine}`,
    enqueueWebhookEvent(
      'save_offer.accepted',
      `save:${flow.id}`,
      {
        account_id: user.acct,
        user_id: user.sub,
        reason: flow.reason,
        kind: offer.kind,
        ...(offer.percent_off !== undefined && { percent_off: offer.percent_off, months: offer.months }),
        ...(offer.pause_months !== undefined && { pause_months: offer.pause_months }),
        ...(offer.plan_id !== undefined && { to_plan_id: offer.plan_id }),
        saved_mrr_cents: result.saved_mrr_cents,
        at: new Date(now).toISOString(),
      },
      now,
      mine,
    ),
  ]);
  const stored = await read();
  if (stored?.idempotency_key !== input.idempotency_key)
    throw new ApiError('offer_already_accepted', 'This offer was already accepted.', [{ path: 'offer_id', message: 'accepted' }]);
  return JSON.parse(stored.result!) as AcceptResult;
}

/**
 * `POST /v1/widget/cancel`: cancel at the period end (with Stripe, `cancel_at_period_end`),
 * undoable until then; closes the account's open cancellation attempt as canceled.
 * @example await cancelAtPeriodEnd(db, provider, user, { reason: 'too_expensive', idempotency_key: 'k' }, Date.now())
 */
export async function cancelAtPeriodEnd(db: Db, provider: BillingProvider, user: UserClaims, input: { reason: CancelReason; idempotency_key: string }, now: number) {
  requireAdmin(user);
  const state = await loadAccountState(db, user.acct);
  const existing = await scheduledRow(db, user.acct);
  if (existing?.idempotency_key === input.idempotency_key) return { status: 'scheduled' as const, kind: existing.kind, effective_at: new Date(existing.effective_at).toISOString() };
  if (existing && existing.kind !== 'cancel')
    throw new ApiError('change_already_scheduled', `A ${existing.kind} is already scheduled for this account; undo it first.`, [{ path: 'scheduled_change', message: existing.kind }]);
  if (state.account.status === 'canceled') throw refuse('already_canceled', 'This account is already canceled.', 'account', 'canceled');
  const effectiveAt = periodOf(state.account, now).end;
  if (!existing) await provider.setCancelAtPeriodEnd(refOf(state.account), true, `ladder-cancel-${user.acct}-${input.idempotency_key}`).catch(providerFailed);
  const { mrr } = await currentMrr(db, state);
  const flowId = `sof_${crypto.randomUUID().replace(/-/g, '')}`;
  // The newest open attempt (within the offer's lifetime) ends as canceled; a cancellation without one is an attempt of its own.
  const open = sql`(SELECT id FROM cancel_flows WHERE account_id = ${user.acct} AND status = 'offered' AND created_at > ${now - OFFER_TTL_MS} ORDER BY created_at DESC LIMIT 1)`;
  return schedule(
    db,
    user,
    { kind: 'cancel', plan_id: null, seats: null, effective_at: effectiveAt, reason: input.reason, key: input.idempotency_key },
    'subscription.cancel_scheduled',
    { plan_id: state.account.planId, reason: input.reason, mrr_cents: mrr },
    now,
    [
      sql`INSERT INTO cancel_flows (id, account_id, user_id, reason, note, offer_kind, offer, status, mrr_cents, created_at)
          SELECT ${flowId}, ${user.acct}, ${user.sub}, ${input.reason}, '', 'none', '{"kind":"none"}', 'offered', ${mrr}, ${now}
          WHERE NOT EXISTS ${open} AND NOT EXISTS (SELECT 1 FROM cancel_flows WHERE account_id = ${user.acct} AND idempotency_key = ${input.idempotency_key})`,
      sql`UPDATE cancel_flows SET status = 'canceled', idempotency_key = ${input.idempotency_key}, resolved_at = ${now} WHERE id = ${open}`,
    ],
  );
}

// ---------------------------------------------------------------- the cron step

/**
 * Apply every scheduled change that is due at `now`: the downgrade through the billing provider
 * (Stripe: the items at the new price, no proration) and in D1, or the cancellation; each
 * writes its contraction or churn to the MRR ledger once. Up to 100 per run.
 * @example await applyScheduledChanges(db, provider, Date.now()) // 3
 */
export async function applyScheduledChanges(db: Db, provider: (account: AccountState['account']) => BillingProvider, now: number): Promise<number> {
  const due = await db.all<ScheduledRow & { account_id: string }>(sql`
    SELECT account_id, kind, plan_id, seats, effective_at, idempotency_key, reason FROM scheduled_changes WHERE effective_at <= ${now} ORDER BY effective_at LIMIT 100`);
  let applied = 0;
  for (const row of due) {
    try {
      await applyOne(db, provider, row, now);
      applied += 1;
    } catch (err) {
      // Left scheduled: the next run tries again (the provider call's key makes that safe).
      console.error(`[ladder] scheduled ${row.kind} of ${row.account_id} failed`, err instanceof Error ? err.message : err);
    }
  }
  return applied;
}

async function applyOne(db: Db, provider: (account: AccountState['account']) => BillingProvider, row: ScheduledRow & { account_id: string }, now: number) {
  {
    const state = await loadAccountState(db, row.account_id);
    const plan = state.catalog.plans.find((p) => p.id === state.account.planId)!;
    const interval = intervalOf(state.account, plan);
    const { billing, mrr } = await currentMrr(db, state);
    const key = `scheduled:${row.account_id}:${row.idempotency_key}`;
    const still = sql`EXISTS (SELECT 1 FROM scheduled_changes WHERE account_id = ${row.account_id} AND idempotency_key = ${row.idempotency_key})`;
    let update: ReturnType<typeof sql>;
    let after: number;
    if (row.kind === 'downgrade') {
      const to = state.catalog.plans.find((p) => p.id === row.plan_id) ?? plan;
      const seats = row.seats ?? state.account.seats;
      const change: PlanChange = {
        accountId: row.account_id,
        from: { plan, seats: state.account.seats, interval },
        to: { plan: to, seats, interval },
        period: { start: state.account.periodStart ?? row.effective_at, end: row.effective_at },
        stripeCustomerId: state.account.stripeCustomerId,
        stripeSubscriptionId: state.account.stripeSubscriptionId,
      };
      await provider(state.account).changeAtPeriodEnd(change, `ladder-downgrade-${row.account_id}-${row.idempotency_key}`);
      after = catalogMrr(to, seats, interval);
      update = sql`UPDATE accounts SET plan_id = ${to.id}, seats = ${seats}, billing_interval = ${interval === to.interval ? null : interval}, updated_at = ${now} WHERE id = ${row.account_id} AND ${still}`;
    } else {
      after = 0;
      update = sql`UPDATE accounts SET status = 'canceled', updated_at = ${now} WHERE id = ${row.account_id} AND ${still}`;
    }
    await sqlBatch(db, [
      update,
      ...mrrChangeStatements({ accountId: row.account_id, at: row.effective_at, before: mrr, after, state: billing, accountCreatedAt: state.account.createdAt, source: 'self_serve', dedupeKey: key, guard: still }),
      sql`DELETE FROM scheduled_changes WHERE account_id = ${row.account_id} AND idempotency_key = ${row.idempotency_key}`,
    ]);
  }
}
