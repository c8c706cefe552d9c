/**
 * The ledger of MRR changes (table `mrr_ledger`) and the per-account billing state it is
 * written against (`billing_state`). Every plan or seat change from either provider, and
 * every Stripe webhook that moves MRR, writes here; revenue metrics read it.
 */
import { sql, type SQL } from 'drizzle-orm';
import { classifyMrrChange, type MrrSource } from '../../shared/revenue';
import { subscriptionAmount } from '../../shared/prorate';
import { billedAmount, type Interval } from '../../shared/retention';
import type { Plan } from '../../shared/schemas';
import type { Db } from '../db';
import { DAY_MS } from '../../shared/time';

/** How long before an upgrade a prompt click still counts as its cause. */
const ATTRIBUTION_WINDOW_MS = 7 * DAY_MS;

export type Attribution = { promptId: string | null; variantId: string | null; experimentId: string | null };
export type BillingStateRow = { mrrCents: number; churned: boolean; stripeObjectUpdatedAt: number };

/**
 * Monthly recurring revenue of an amount billed every `interval`.
 * @example monthlyCents(120000, 'year') // 10000
 */
export const monthlyCents = (amountCents: number, interval: 'month' | 'year') =>
  interval === 'year' ? Math.round(amountCents / 12) : amountCents;

/** MRR of an account on `plan` with `seats` bought, billed every `interval` (the plan's own by default), from the catalog's prices. */
export const catalogMrr = (plan: Plan, seats: number, interval: Interval = plan.interval) => {
  const amount = billedAmount(plan, seats, interval);
  return amount === null ? monthlyCents(subscriptionAmount({ priceCents: plan.price_cents, seatPriceCents: plan.seat_price_cents, seats }), plan.interval) : monthlyCents(amount, interval);
};

/**
 * The user's most recent prompt click within the attribution window before `now`, if any.
 * @example await lastPromptClick(db, 'acme', 'u1', Date.now()) // { promptId: 'limit-api_calls-90', … }
 */
export async function lastPromptClick(db: Db, accountId: string, userId: string, now: number): Promise<Attribution | null> {
  const rows = await db.all<{ prompt_id: string | null; variant_id: string | null; experiment_id: string | null }>(sql`
    SELECT prompt_id, variant_id, experiment_id FROM prompt_events
    WHERE account_id = ${accountId} AND user_id = ${userId} AND type = 'click'
      AND timestamp >= ${now - ATTRIBUTION_WINDOW_MS} AND timestamp <= ${now}
    ORDER BY timestamp DESC LIMIT 1`);
  const row = rows[0];
  return row ? { promptId: row.prompt_id, variantId: row.variant_id, experimentId: row.experiment_id } : null;
}

/** The account's billing state row, or null before its first billing change. */
export async function billingStateOf(db: Db, accountId: string): Promise<BillingStateRow | null> {
  const rows = await db.all<{ mrr_cents: number; churned: number; stripe_object_updated_at: number }>(
    sql`SELECT mrr_cents, churned, stripe_object_updated_at FROM billing_state WHERE account_id = ${accountId}`,
  );
  const r = rows[0];
  return r ? { mrrCents: r.mrr_cents, churned: r.churned === 1, stripeObjectUpdatedAt: r.stripe_object_updated_at } : null;
}

/**
 * Statements recording an MRR move from `before` to `after` at `at`: a baseline row the first
 * time an account is seen (its MRR since it was created, so later moves count as expansion
 * or contraction rather than as new revenue), the ledger row when MRR changed, and the
 * account's billing state. `guard`, when given, is a SQL condition every statement must meet
 * (so they all happen or none do inside one batch). Each ledger row is keyed by `dedupeKey`:
 * a retry writes nothing twice.
 * @example await sqlBatch(db, [...mrrChangeStatements({ accountId, at, before, after, … })])
 */
export function mrrChangeStatements(p: {
  accountId: string;
  at: number;
  before: number;
  after: number;
  state: BillingStateRow | null;
  /** When the account has no billing state yet: its creation time, for the baseline row. */
  accountCreatedAt: number;
  source: MrrSource;
  attribution?: Attribution | null;
  dedupeKey: string;
  stripeObjectUpdatedAt?: number;
  guard?: SQL;
}): SQL[] {
  const guard = p.guard ?? sql`1`;
  const out: SQL[] = [];
  if (!p.state && p.before > 0) {
    out.push(sql`
      INSERT INTO mrr_ledger (account_id, at, kind, mrr_before_cents, mrr_after_cents, source, dedupe_key)
      SELECT ${p.accountId}, ${Math.min(p.accountCreatedAt, p.at)}, 'new', 0, ${p.before}, 'sales', ${`baseline:${p.accountId}`}
      WHERE ${guard}
      ON CONFLICT (dedupe_key) DO NOTHING`);
  }
  const kind = classifyMrrChange(p.before, p.after, p.state?.churned ?? false);
  if (kind) {
    const a = p.attribution ?? null;
    out.push(sql`
      INSERT INTO mrr_ledger (account_id, at, kind, mrr_before_cents, mrr_after_cents, source, prompt_id, variant_id, experiment_id, dedupe_key)
      SELECT ${p.accountId}, ${p.at}, ${kind}, ${p.before}, ${p.after}, ${p.source}, ${a?.promptId ?? null}, ${a?.variantId ?? null}, ${a?.experimentId ?? null}, ${p.dedupeKey}
      WHERE ${guard}
      ON CONFLICT (dedupe_key) DO NOTHING`);
  }
  const churned = p.after === 0 ? (p.before > 0 || (p.state?.churned ?? false) ? 1 : 0) : 0;
  const objectAt = p.stripeObjectUpdatedAt ?? p.state?.stripeObjectUpdatedAt ?? 0;
  out.push(sql`
    INSERT INTO billing_state (account_id, stripe_object_updated_at, mrr_cents, churned)
    SELECT ${p.accountId}, ${objectAt}, ${p.after}, ${churned} WHERE ${guard}
    ON CONFLICT (account_id) DO UPDATE SET
      stripe_object_updated_at = max(billing_state.stripe_object_updated_at, excluded.stripe_object_updated_at),
      mrr_cents = excluded.mrr_cents,
      churned = excluded.churned`);
  return out;
}
