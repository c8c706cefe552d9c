/** Accounts in D1, and the one-round-trip load of everything an account's state needs. */
import { eq, sql } from 'drizzle-orm';
import { accountSnapshot, type AccountRow } from '../shared/entitlements';
import type { AccountInput, Catalog } from '../shared/schemas';
import { catalogQueries, toCatalog } from './catalog';
import { preparedOnce, type Db, type Placeholders } from './db';
import { accounts, pqaScores, trials, usageCounters } from './db/schema';
import { ApiError, notFound } from './errors';

export type AccountState = {
  account: typeof accounts.$inferSelect;
  catalog: Catalog;
  counters: (typeof usageCounters.$inferSelect)[];
  trials: (typeof trials.$inferSelect)[];
  pqa: typeof pqaScores.$inferSelect | null;
};

/**
 * The account, the catalog, its counters, trials and PQA score in one D1 batch; 404 if unknown.
 * `live` (worker/usage.ts `liveCounters`) replaces D1's counters with the account object's live ones when it has them.
 * @example const state = await loadAccountState(db, 'acme', liveCounters(meter, 'acme'))
 */
export async function loadAccountState(
  db: Db,
  accountId: string,
  live: Promise<(typeof usageCounters.$inferSelect)[] | null> = Promise.resolve(null),
): Promise<AccountState> {
  const read = db.batch([
    db.select().from(accounts).where(eq(accounts.id, accountId)),
    ...catalogQueries(db),
    db.select().from(usageCounters).where(eq(usageCounters.accountId, accountId)),
    db.select().from(trials).where(eq(trials.accountId, accountId)),
    db.select().from(pqaScores).where(eq(pqaScores.accountId, accountId)),
  ]);
  const [[account, m, f, p, stored, trialRows, pqa], liveRows] = await Promise.all([read, live]);
  const counters = liveRows ?? stored;
  if (!account[0]) throw notFound('account', accountId, 'account_id');
  return {
    account: account[0],
    catalog: toCatalog({ metrics: m, features: f, plans: p }),
    counters,
    trials: trialRows,
    pqa: pqa[0] ?? null,
  };
}

type ById = Placeholders<{ id: string }>;
/** The hot path's reads of one account, rendered once per isolate (worker/db `preparedOnce`), for `mixedBatch`. */
export const accountQuery = preparedOnce((db, p: ById) => db.select().from(accounts).where(eq(accounts.id, p.id)));
export const countersQuery = preparedOnce((db, p: ById) => db.select().from(usageCounters).where(eq(usageCounters.accountId, p.id)));
export const trialsQuery = preparedOnce((db, p: ById) => db.select().from(trials).where(eq(trials.accountId, p.id)));

/** The pure snapshot of a loaded account at `now`. */
export const snapshotOf = (state: AccountState, now: number) =>
  accountSnapshot({ account: state.account satisfies AccountRow, catalog: state.catalog, counters: state.counters, trials: state.trials, now });

/**
 * Create or update an account; the plan must exist in the catalog (422 otherwise).
 * @example await upsertAccount(db, 'acme', { name: 'Acme', plan_id: 'starter', seats: 5 }, Date.now())
 */
export async function upsertAccount(db: Db, accountId: string, input: AccountInput, catalog: Catalog, now: number): Promise<void> {
  if (!catalog.plans.some((p) => p.id === input.plan_id))
    throw new ApiError('unknown_plan', `There is no plan "${input.plan_id}" in the catalog.`, [{ path: 'plan_id', message: 'not in the catalog' }]);
  const values = {
    name: input.name,
    planId: input.plan_id,
    seats: input.seats,
    periodStart: input.period_start ?? null,
    periodEnd: input.period_end ?? null,
    updatedAt: now,
    ...(input.stripe_customer_id !== undefined && { stripeCustomerId: input.stripe_customer_id }),
    ...(input.stripe_subscription_id !== undefined && { stripeSubscriptionId: input.stripe_subscription_id }),
  };
  await db
    .insert(accounts)
    .values({ id: accountId, createdAt: input.created_at ?? now, ...values })
    .onConflictDoUpdate({
      target: accounts.id,
      set: { ...values, ...(input.created_at !== undefined && { createdAt: input.created_at }) },
    });
}

/** Which of `ids` exist, in one statement whatever their number. */
export async function existingAccounts(db: Db, ids: string[]): Promise<Map<string, typeof accounts.$inferSelect>> {
  const rows = await db
    .select()
    .from(accounts)
    .where(sql`${accounts.id} IN (SELECT value FROM json_each(${JSON.stringify([...new Set(ids)])}))`);
  return new Map(rows.map((r) => [r.id, r]));
}
