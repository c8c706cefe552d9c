/**
 * Usage metering, the one writer of counters. With `LADDER_COUNTERS=d1` (the default) a batch
 * of events is applied in one D1 batch (one transaction): events are inserted keyed by
 * idempotency key (a seen key changes nothing), then the counters are moved by set-based
 * statements over exactly the rows this batch inserted. With `durable_object`, each account's
 * events go to its AccountCounters object (worker/accountCounters.ts), which answers from its
 * own storage and flushes to D1 on an alarm; the functions here keep their contract.
 * A counter saturates at 2^53 − 1 (Number.MAX_SAFE_INTEGER): past it JSON numbers lose precision.
 */
import type { DurableObjectNamespace } from '@cloudflare/workers-types/latest';
import { sql, type SQL } from 'drizzle-orm';
import { compositeKey } from '../shared/compositeKey';
import { graceCeiling, metricLimit, metricPeriod, planAllowing } from '../shared/entitlements';
import { newCrossings, type Threshold } from '../shared/metering';
import type { Catalog, Metric, UsageEvent } from '../shared/schemas';
import type { AccountCounters, CounterEvent, Crossing, LiveCounter, Owner } from './accountCounters';
import type { AccountState } from './accounts';
import { database, sqlBatch, type Db } from './db';
import { trackEvents, type accounts } from './db/schema';
import type { Env } from './env';
import { ApiError, type ErrorDetail } from './errors';
import { rescoreAccounts } from './pqa';
import { scaleOptions } from './scale';
import { applyDaily, limitHitInsert, thresholdCrossedWebhook } from './usageWrites';

/** Where the counters live: D1 alone, or an AccountCounters object per account in front of it. */
export type Meter = { db: Db; objects: DurableObjectNamespace | null };

/**
 * The meter of this deployment (`LADDER_COUNTERS`); misconfiguration refuses (worker/scale.ts).
 * @example const meter = meterOf(c.env); await recordUsage(meter, catalog, accountsById, events, now)
 */
export function meterOf(env: Env, db: Db = database(env.DB)): Meter {
  return { db, objects: scaleOptions(env).counters === 'durable_object' ? env.ACCOUNT_COUNTERS! : null };
}

type CountersRpc = Pick<AccountCounters, 'record' | 'check' | 'counters'>;
const objectOf = (objects: DurableObjectNamespace, accountId: string) => objects.get(objects.idFromName(accountId)) as unknown as CountersRpc;

/**
 * The account's live counters from its object, or `null` when D1 holds them (the `d1` meter, or
 * an object that has recorded nothing yet). Start it beside the D1 reads: `loadAccountState(db, id, liveCounters(meter, id))`.
 */
export async function liveCounters(meter: Meter, accountId: string): Promise<LiveCounter[] | null> {
  return meter.objects ? objectOf(meter.objects, accountId).counters(accountId) : null;
}

type Account = typeof accounts.$inferSelect;

/** A resolved event ready to insert (short keys: it travels as one JSON parameter). */
type Row = { a: string; k: string; m: string; v: number; o: 'increment' | 'set'; t: number; p: number };

const insertEvents = (rows: Row[], batchId: string) => sql`
  INSERT INTO usage_events (account_id, idempotency_key, metric, value, mode, timestamp, period_start, batch_id)
  SELECT json_extract(e.value, '$.a'), json_extract(e.value, '$.k'), json_extract(e.value, '$.m'),
         json_extract(e.value, '$.v'), json_extract(e.value, '$.o'), json_extract(e.value, '$.t'),
         json_extract(e.value, '$.p'), ${batchId}
  FROM json_each(${JSON.stringify(rows)}) AS e WHERE true
  ON CONFLICT DO NOTHING`;

/** Increments of this batch, per counter and period, onto the counters (a newer period restarts it). */
const applyIncrements = (batchId: string) => sql`
  INSERT INTO usage_counters (account_id, metric, period_start, used)
  SELECT account_id, metric, period_start, SUM(value) FROM usage_events
  WHERE batch_id = ${batchId} AND mode = 'increment'
  GROUP BY account_id, metric, period_start ORDER BY period_start
  ON CONFLICT (account_id, metric) DO UPDATE SET
    used = CASE WHEN excluded.period_start = usage_counters.period_start THEN MIN(usage_counters.used + excluded.used, ${Number.MAX_SAFE_INTEGER})
                WHEN excluded.period_start > usage_counters.period_start THEN excluded.used
                ELSE usage_counters.used END,
    highest_threshold = CASE WHEN excluded.period_start > usage_counters.period_start THEN NULL
                             ELSE usage_counters.highest_threshold END,
    period_start = MAX(usage_counters.period_start, excluded.period_start)`;

/** Gauge values of this batch; the newest timestamp wins, whatever order they arrive in. */
const applySets = (batchId: string) => sql`
  INSERT INTO usage_counters (account_id, metric, period_start, used, set_at)
  SELECT account_id, metric, 0, value, timestamp FROM usage_events
  WHERE batch_id = ${batchId} AND mode = 'set' ORDER BY timestamp, rowid
  ON CONFLICT (account_id, metric) DO UPDATE SET
    used = CASE WHEN excluded.set_at >= usage_counters.set_at THEN excluded.used ELSE usage_counters.used END,
    set_at = MAX(usage_counters.set_at, excluded.set_at)`;

const countBatch = (batchId: string) => sql`SELECT count(*) AS n FROM usage_events WHERE batch_id = ${batchId}`;

/** Counters touched by this batch, to find newly crossed thresholds. */
const touchedCounters = (batchId: string) => sql`
  SELECT c.account_id, c.metric, c.period_start, c.used, c.highest_threshold FROM usage_counters c
  WHERE EXISTS (SELECT 1 FROM usage_events e WHERE e.batch_id = ${batchId} AND e.account_id = c.account_id AND e.metric = c.metric)`;

type Touched = { account_id: string; metric: string; period_start: number; used: number; highest_threshold: number | null };

/**
 * Validate a batch against the catalog and accounts, then apply it: atomically in D1 in one
 * round trip (the insert, the counter updates and the count in one batch; one more only when a
 * threshold is newly crossed), or per account atomically in its object (a failure part-way is
 * retried whole, harmless by idempotency). `guard` (worker/accountCache.ts, D1 meter only) goes
 * first in the D1 batch. Unknown accounts or metrics refuse the whole batch (404/422) and write nothing.
 * @example await recordUsage(meter, catalog, accountsById, events, Date.now()) // { accepted: 2, duplicates: 1 }
 */
export async function recordUsage(
  meter: Meter,
  catalog: Catalog,
  accountsById: Map<string, Account>,
  events: UsageEvent[],
  now: number,
  guard?: SQL,
): Promise<{ accepted: number; duplicates: number }> {
  const accepted = await applyUsage(meter, catalog, accountsById, resolveUsage(catalog, accountsById, events, now), now, guard);
  return { accepted, duplicates: events.length - accepted };
}

/** A usage event resolved against the catalog and its account, ready to apply. */
export type UsageRow = Row;

/**
 * The batch's events with their periods, or a 404/422 naming every event that cannot be applied.
 * `now` is when the batch arrived: an event without a timestamp happened then.
 * @example applyUsage(meter, catalog, accountsById, resolveUsage(catalog, accountsById, events, receivedAt), Date.now())
 */
export function resolveUsage(catalog: Catalog, accountsById: Map<string, Account>, events: UsageEvent[], now: number): UsageRow[] {
  const metrics = new Map(catalog.metrics.map((m) => [m.id, m]));
  const problems: ErrorDetail[] = [];
  const rows: Row[] = [];
  events.forEach((e, i) => {
    const account = accountsById.get(e.account_id);
    const metric = metrics.get(e.metric);
    if (!account) problems.push({ path: `events.${i}.account_id`, message: `no account "${e.account_id}"` });
    if (!metric) problems.push({ path: `events.${i}.metric`, message: `no metric "${e.metric}" in the catalog` });
    else if (e.mode === 'set' && metric.kind === 'counter')
      problems.push({ path: `events.${i}.mode`, message: `"${e.metric}" is a counter: send increments` });
    if (!account || !metric) return;
    const t = e.timestamp ?? now;
    rows.push({ a: e.account_id, k: e.idempotency_key, m: e.metric, v: e.value, o: e.mode, t, p: periodKey(metric, account, t, now) });
  });
  if (problems.length) {
    const unknown = problems.some((p) => p.message.startsWith('no '));
    throw unknown
      ? new ApiError('not_found', 'The batch names accounts or metrics that do not exist; nothing was recorded.', problems)
      : new ApiError('invalid_mode', 'The batch cannot be applied; nothing was recorded.', problems);
  }
  return rows;
}

/** Apply resolved events (one D1 transaction, or one object call per account); the number newly recorded. */
export async function applyUsage(meter: Meter, catalog: Catalog, accountsById: Map<string, Account>, rows: UsageRow[], now: number, guard?: SQL): Promise<number> {
  if (meter.objects) return recordInObjects(meter.db, meter.objects, catalog, accountsById, rows, now);
  const db = meter.db;
  const batchId = crypto.randomUUID();
  // `guard` (worker/accountCache.ts) first: it fails the whole batch when what the caller read from memory is stale.
  // The increment and gauge statements only when the batch has such events (they would change nothing otherwise).
  const increments = rows.some((r) => r.o === 'increment');
  const sets = rows.some((r) => r.o === 'set');
  const results = await sqlBatch(db, [
    ...(guard ? [guard] : []),
    insertEvents(rows, batchId),
    ...(increments ? [applyIncrements(batchId), applyDaily(batchId)] : []),
    ...(sets ? [applySets(batchId)] : []),
    countBatch(batchId),
    touchedCounters(batchId),
  ]);
  const [counted, touched] = results.slice(-2);
  await recordCrossings(db, catalog, accountsById, touched as Touched[], now);
  return Number(counted?.[0]?.n ?? 0);
}

/** The batch through the accounts' objects, one call per account, in parallel. */
async function recordInObjects(
  db: Db,
  objects: DurableObjectNamespace,
  catalog: Catalog,
  accountsById: Map<string, Account>,
  rows: Row[],
  now: number,
): Promise<number> {
  const byAccount = new Map<string, CounterEvent[]>();
  for (const { a, ...e } of rows) byAccount.set(a, [...(byAccount.get(a) ?? []), e]);
  const answers = await Promise.all(
    [...byAccount].map(async ([accountId, events]) => {
      const account = accountsById.get(accountId)!;
      const plan = catalog.plans.find((p) => p.id === account.planId);
      const limits = Object.fromEntries([...new Set(events.map((e) => e.m))].map((m) => [m, plan ? metricLimit(plan, m, account) : null]));
      const { accepted, crossings } = await objectOf(objects, accountId).record(accountId, events, limits, now, ownerOf(account));
      return { accepted, hits: limitHits(accountId, crossings, now) };
    }),
  );
  const [first, ...rest] = answers.flatMap((a) => a.hits).map((values) => db.insert(trackEvents).values(values).onConflictDoNothing());
  if (first) await db.batch([first, ...rest]);
  return answers.reduce((n, a) => n + a.accepted, 0);
}

const ownerOf = (account: Account): Owner => ({ name: account.name, planId: account.planId });

/** The PQA behaviour `limit_hit` for crossings that reached 100%, keyed so each period records one. */
function limitHits(accountId: string, crossings: Crossing[], now: number): (typeof trackEvents.$inferInsert)[] {
  return crossings
    .filter((c) => c.crossed.includes(100))
    .map((c) => ({
      accountId,
      idempotencyKey: compositeKey('limit_hit', c.metric, c.periodStart),
      userId: null,
      event: 'limit_hit',
      timestamp: now,
      properties: { metric: c.metric },
      batchId: 'ladder',
    }));
}

/** The period an event counts in: never later than now, so a skewed client clock cannot restart a counter. */
function periodKey(metric: Metric, account: Account, timestamp: number, now: number): number {
  return metricPeriod(metric, account, Math.min(timestamp, now)).start;
}

/**
 * Record newly crossed thresholds once per period, each with a `usage.threshold_crossed`
 * outbox row in the same D1 batch (deduped per account, metric, period and threshold);
 * reaching 100% records the PQA behaviour `limit_hit` (idempotent per account, metric and
 * period, so concurrent crossings record one) and rescores the account at once, so a
 * sales-ready entry is pushed by the next cron run.
 */
async function recordCrossings(
  db: Db,
  catalog: Catalog,
  accountsById: Map<string, Account>,
  touched: Touched[],
  now: number,
): Promise<void> {
  const writes: SQL[] = [];
  const hit: string[] = [];
  for (const c of touched) {
    const account = accountsById.get(c.account_id);
    const plan = account && catalog.plans.find((p) => p.id === account.planId);
    if (!account || !plan) continue;
    const limit = metricLimit(plan, c.metric, account);
    const crossed = newCrossings(c.highest_threshold as Threshold | null, c.used, limit);
    const highest = crossed.at(-1);
    if (highest === undefined) continue;
    writes.push(sql`
      UPDATE usage_counters SET highest_threshold = MAX(COALESCE(highest_threshold, 0), ${highest})
      WHERE account_id = ${c.account_id} AND metric = ${c.metric} AND period_start = ${c.period_start}`);
    for (const threshold of crossed)
      writes.push(
        thresholdCrossedWebhook(
          { account_id: c.account_id, account_name: account.name, plan_id: account.planId, metric: c.metric, threshold, used: c.used, limit, period_start: c.period_start },
          now,
        ),
      );
    if (crossed.includes(100)) {
      hit.push(c.account_id);
      writes.push(limitHitInsert(c.account_id, c.metric, c.period_start, now));
    }
  }
  if (writes.length) await sqlBatch(db, writes);
  // A failed rescore never fails the usage write: the daily cron rescores every account.
  await rescoreAccounts(db, hit, now).catch((err: unknown) =>
    console.error('[ladder] PQA rescore after limit_hit failed', err instanceof Error ? (err.stack ?? err.message) : err),
  );
}

export type CheckResult = {
  allowed: boolean;
  used: number;
  limit: number | null;
  remaining: number | null;
  required_plan?: string;
  /** Only where the plan allows grace: past the limit and within grace, the ceiling, and what is left of it. */
  in_grace?: boolean;
  grace_limit?: number;
  grace_remaining?: number;
};

/**
 * Atomic check-and-record: records `amount` only if it fits under the limit, in one
 * statement, so parallel checks can never overshoot. A repeated idempotency key answers
 * as first recorded without recording again.
 * @example await checkAndRecord(meter, state, 'api_calls', 1, 'req-1', Date.now()) // { allowed: true, used: 9501, ... }
 */
export async function checkAndRecord(
  meter: Meter,
  state: AccountState,
  metricId: string,
  amount: number,
  idempotencyKey: string,
  now: number,
): Promise<CheckResult> {
  const metric = state.catalog.metrics.find((m) => m.id === metricId);
  if (!metric) throw new ApiError('metric_not_found', `No metric "${metricId}" in the catalog.`, [{ path: 'metric', message: 'not found' }]);
  const plan = state.catalog.plans.find((p) => p.id === state.account.planId)!;
  const limit = metricLimit(plan, metricId, state.account);
  const ceiling = graceCeiling(plan, metricId, state.account);
  const period = periodKey(metric, state.account, now, now);
  const acct = state.account.id;
  const { allowed, used } = meter.objects
    ? await checkInObject(meter.db, meter.objects, acct, { key: idempotencyKey, metric: metricId, amount, period, limit, ceiling, now, owner: ownerOf(state.account) })
    : await checkInD1(meter.db, state, metricId, amount, idempotencyKey, ceiling, period, now);
  const result: CheckResult = { allowed, used, limit, remaining: limit === null ? null : Math.max(limit - used, 0) };
  // a plan with grace at this metric: allowed up to the ceiling, and says how much is left
  if (limit !== null && ceiling !== null && ceiling > limit)
    Object.assign(result, { in_grace: used > limit, grace_limit: ceiling, grace_remaining: Math.max(ceiling - used, 0) });
  if (!allowed) {
    const better = planAllowing(state.catalog, plan, metricId, used + amount, state.account);
    if (better) result.required_plan = better.id;
  }
  return result;
}

async function checkInObject(db: Db, objects: DurableObjectNamespace, acct: string, c: Parameters<CountersRpc['check']>[1]) {
  const answer = await objectOf(objects, acct).check(acct, c);
  const [first, ...rest] = limitHits(acct, answer.crossings, c.now).map((values) => db.insert(trackEvents).values(values).onConflictDoNothing());
  if (first) await db.batch([first, ...rest]);
  return answer;
}

/** One D1 batch: the event is inserted only if it fits under the ceiling (the limit, or its grace), so parallel checks never overshoot. */
async function checkInD1(db: Db, state: AccountState, metricId: string, amount: number, idempotencyKey: string, ceiling: number | null, period: number, now: number) {
  const batchId = crypto.randomUUID();
  const acct = state.account.id;
  const usedNow = sql`COALESCE((SELECT used FROM usage_counters WHERE account_id = ${acct} AND metric = ${metricId} AND period_start = ${period}), 0)`;
  const [, , , row, counter] = await sqlBatch(db, [
    sql`
      INSERT INTO usage_events (account_id, idempotency_key, metric, value, mode, timestamp, period_start, batch_id)
      SELECT ${acct}, ${idempotencyKey}, ${metricId}, ${amount}, 'increment', ${now}, ${period}, ${batchId}
      WHERE ${ceiling === null ? sql`1` : sql`${usedNow} + ${amount} <= ${ceiling}`}
      ON CONFLICT DO NOTHING`,
    applyIncrements(batchId),
    applyDaily(batchId),
    sql`SELECT batch_id FROM usage_events WHERE account_id = ${acct} AND idempotency_key = ${idempotencyKey}`,
    sql`SELECT ${usedNow} AS used`,
  ]);
  const allowed = (row?.length ?? 0) > 0;
  const used = Number(counter?.[0]?.used ?? 0);
  if (row?.[0]?.batch_id === batchId)
    await recordCrossings(db, state.catalog, new Map([[acct, state.account]]), [
      { account_id: acct, metric: metricId, period_start: period, used, highest_threshold: highestRecorded(state, metricId, period) },
    ], now);
  return { allowed, used };
}

function highestRecorded(state: AccountState, metricId: string, period: number): Threshold | null {
  const c = state.counters.find((x) => x.metric === metricId && x.periodStart === period);
  return (c?.highestThreshold ?? null) as Threshold | null;
}
