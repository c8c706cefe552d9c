/**
 * Account rows kept in the isolate for the usage hot path, which needs of an account only what
 * decides an event's period and its limits: plan, seats and billing period. A write that uses
 * them checks them in its own D1 batch first (`freshnessGuard`): if any cached row or the
 * config token no longer matches D1, the guard fails the batch, which rolls back whole, and
 * the caller reads afresh and applies the batch through the ordinary path. So the cache saves
 * round trips and can never apply an event against a stale plan, period or catalog.
 */
import { sql } from 'drizzle-orm';
import type { accounts } from './db/schema';

type Account = typeof accounts.$inferSelect;

/** At most this many accounts are kept (the oldest entry goes first). */
const MAX_ACCOUNTS = 10_000;
const cache = new Map<string, Account>();

/** Remember accounts just read from D1. */
export function rememberAccounts(rows: Iterable<Account>): void {
  for (const row of rows) {
    cache.delete(row.id);
    cache.set(row.id, row);
    if (cache.size > MAX_ACCOUNTS) cache.delete(cache.keys().next().value!);
  }
}

/** The cached rows of `ids`, or null when any is missing. */
export function cachedAccounts(ids: Iterable<string>): Map<string, Account> | null {
  const out = new Map<string, Account>();
  for (const id of ids) {
    const row = cache.get(id);
    if (!row) return null;
    out.set(id, row);
  }
  return out;
}

/** Forget every cached account (tests that simulate a fresh isolate). */
export const forgetAccounts = () => cache.clear();

/** The message of the error the guard raises (SQLite's, for json() of something that is not JSON). */
const STALE = 'malformed JSON';

/**
 * A statement that fails its batch (so nothing of it is written) unless D1 still holds the
 * config `token` and, for each account, the plan, seats and billing period it was read with.
 * @example await sqlBatch(db, [freshnessGuard(token, accountsById), …the writes])
 */
export function freshnessGuard(token: string, accountsById: Map<string, Account>) {
  const expected = [...accountsById.values()].map((a) => ({ i: a.id, p: a.planId, s: a.seats, a: a.periodStart, b: a.periodEnd }));
  return sql`
    SELECT CASE WHEN (SELECT token FROM config_version WHERE id = 1) IS NOT ${token}
      OR (SELECT count(*) FROM json_each(${JSON.stringify(expected)}) j JOIN accounts a
            ON a.id = json_extract(j.value, '$.i') AND a.plan_id = json_extract(j.value, '$.p') AND a.seats = json_extract(j.value, '$.s')
           AND a.period_start IS json_extract(j.value, '$.a') AND a.period_end IS json_extract(j.value, '$.b')) <> ${expected.length}
    THEN json('stale: read again') END AS stale`;
}

/** Whether `err` is the guard's refusal. */
export const isStale = (err: unknown) => err instanceof Error && err.message.includes(STALE);
