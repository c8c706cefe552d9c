/**
 * One Durable Object per account (`LADDER_COUNTERS=durable_object`): the account's usage
 * counters and the idempotency keys of the retention window live in the object's own
 * SQLite storage, so check-and-record is answered in one single-threaded place and hot
 * accounts stop contending for the one D1 writer.
 *
 * Every write is committed to the object's storage before its answer leaves (the runtime's
 * output gate), together with the thresholds it crossed and the alarm that flushes it. The
 * alarm copies, in one D1 batch, the new events and the changed counters' absolute values
 * (`usage_events`, `usage_counters`), the daily roll-up of exactly the events D1 did not have
 * yet (`usage_daily`, for forecasts and `usage.growth`), and for each crossed threshold its
 * `usage.threshold_crossed` outbox row and, at 100%, the PQA behaviour `limit_hit` (both keyed,
 * as under `d1`); then it rescores an account that hit a limit. Marks are set only after D1
 * answered, so an object evicted or restarted between a write and its flush flushes it on
 * the next alarm: nothing is lost, and a flush repeated after a lost answer changes nothing
 * (events are keyed by idempotency key and the day roll-up counts only the events that batch
 * inserted, counters are written as absolute values, outbox rows and `limit_hit` by dedupe key).
 *
 *     write ──► events (flushed = 0), counters (version + 1), crossings (flushed = 0) ──► alarm
 *           ──► D1 batch ──► flushed = 1, flushed_version = version
 */
import { DurableObject } from 'cloudflare:workers';
import { sql as q } from 'drizzle-orm';
import { newCrossings, type Threshold } from '../shared/metering';
import { DAY_MS } from '../shared/time';
import { database, sqlBatch } from './db';
import type { Env } from './env';
import { rescoreAccounts } from './pqa';
import { applyDaily, limitHitInsert, thresholdCrossedWebhook, type ThresholdCrossed } from './usageWrites';

/** A resolved usage event of this account (short keys, as in worker/usage.ts). */
export type CounterEvent = { k: string; m: string; v: number; o: 'increment' | 'set'; t: number; p: number };

/** A counter as D1's `usage_counters` holds it (drizzle's shape). */
export type LiveCounter = { accountId: string; metric: string; periodStart: number; used: number; highestThreshold: number | null; setAt: number };

/** Thresholds newly crossed by a write, per counter. */
export type Crossing = { metric: string; periodStart: number; crossed: Threshold[] };

/** Who the account is when a threshold is crossed, for the `usage.threshold_crossed` webhook. */
export type Owner = { name: string; planId: string };

/** Delay between a first unflushed write and its flush to D1 (`LADDER_COUNTERS_FLUSH_MS`). */
const DEFAULT_FLUSH_MS = 2_000;
/** Events copied to D1 per statement; the alarm runs again at once while more wait. */
const FLUSH_EVENTS = 1_000;
/** Idempotency keys are kept this long after they were received (longer than any billing period). */
const KEY_RETENTION_MS = 45 * DAY_MS;

type CounterRow = { metric: string; period_start: number; used: number; highest_threshold: number | null; set_at: number; version: number };

export class AccountCounters extends DurableObject<Env> {
  /** The account this object counts for: stored with its first write, after seeding from D1. */
  private account: string | null = null;

  constructor(ctx: ConstructorParameters<typeof DurableObject<Env>>[0], env: Env) {
    super(ctx, env);
    const sql = ctx.storage.sql;
    sql.exec(`CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`);
    sql.exec(`CREATE TABLE IF NOT EXISTS events (
      seq INTEGER PRIMARY KEY, idempotency_key TEXT NOT NULL UNIQUE, metric TEXT NOT NULL, value INTEGER NOT NULL,
      mode TEXT NOT NULL, timestamp INTEGER NOT NULL, period_start INTEGER NOT NULL, received_at INTEGER NOT NULL,
      flushed INTEGER NOT NULL DEFAULT 0)`);
    sql.exec(`CREATE INDEX IF NOT EXISTS events_unflushed ON events (flushed, seq)`);
    sql.exec(`CREATE TABLE IF NOT EXISTS counters (
      metric TEXT PRIMARY KEY, period_start INTEGER NOT NULL, used INTEGER NOT NULL, highest_threshold INTEGER,
      set_at INTEGER NOT NULL DEFAULT 0, version INTEGER NOT NULL DEFAULT 0, flushed_version INTEGER NOT NULL DEFAULT 0)`);
    sql.exec(`CREATE TABLE IF NOT EXISTS crossings (
      metric TEXT NOT NULL, period_start INTEGER NOT NULL, threshold INTEGER NOT NULL, payload TEXT NOT NULL, at INTEGER NOT NULL,
      flushed INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (metric, period_start, threshold))`);
    this.account = (sql.exec<{ value: string }>(`SELECT value FROM meta WHERE key = 'account'`).toArray()[0]?.value ?? null);
  }

  /**
   * Apply a batch of this account's events: a seen idempotency key changes nothing. `limits`
   * (per metric of the batch) find the thresholds newly crossed, recorded once per period;
   * `owner` names the account in their webhook.
   */
  async record(
    accountId: string,
    events: CounterEvent[],
    limits: Record<string, number | null>,
    now: number,
    owner?: Owner,
  ): Promise<{ accepted: number; crossings: Crossing[] }> {
    await this.claim(accountId);
    const result = this.ctx.storage.transactionSync(() => {
      const touched = new Set<string>();
      let accepted = 0;
      for (const e of events) {
        if (!this.insertEvent(e, now)) continue;
        accepted++;
        this.apply(e);
        touched.add(e.m);
      }
      return { accepted, crossings: [...touched].flatMap((m) => this.cross(m, limits[m] ?? null, now, owner)) };
    });
    if (result.accepted) await this.scheduleFlush();
    return result;
  }

  /**
   * Check-and-record: records `amount` in `period` only if it fits under `ceiling` (a plan's
   * grace past the limit) or else `limit`; thresholds are crossed against `limit`. A seen
   * idempotency key answers as first recorded (allowed, today's use) without recording again.
   */
  async check(
    accountId: string,
    c: { key: string; metric: string; amount: number; period: number; limit: number | null; ceiling?: number | null; now: number; owner?: Owner },
  ): Promise<{ allowed: boolean; used: number; crossings: Crossing[] }> {
    await this.claim(accountId);
    const result = this.ctx.storage.transactionSync(() => {
      const seen = this.ctx.storage.sql.exec(`SELECT 1 FROM events WHERE idempotency_key = ?`, c.key).toArray().length > 0;
      if (seen) return { allowed: true, used: this.usedIn(c.metric, c.period), crossings: [], wrote: false };
      const before = this.usedIn(c.metric, c.period);
      const max = c.ceiling === undefined ? c.limit : c.ceiling;
      if (max !== null && before + c.amount > max) return { allowed: false, used: before, crossings: [], wrote: false };
      const e: CounterEvent = { k: c.key, m: c.metric, v: c.amount, o: 'increment', t: c.now, p: c.period };
      this.insertEvent(e, c.now);
      this.apply(e);
      return { allowed: true, used: this.usedIn(c.metric, c.period), crossings: this.cross(c.metric, c.limit, c.now, c.owner), wrote: true };
    });
    if (result.wrote) await this.scheduleFlush();
    return { allowed: result.allowed, used: result.used, crossings: result.crossings };
  }

  /** The live counters, or `null` while this object has recorded nothing (D1 then holds them all). */
  async counters(accountId: string): Promise<LiveCounter[] | null> {
    if (this.account === null) return null;
    if (this.account !== accountId) throw new Error(`account counters of "${this.account}" asked for "${accountId}"`);
    return this.ctx.storage.sql
      .exec<CounterRow>(`SELECT metric, period_start, used, highest_threshold, set_at, version FROM counters ORDER BY metric`)
      .toArray()
      .map((r) => ({ accountId, metric: r.metric, periodStart: r.period_start, used: r.used, highestThreshold: r.highest_threshold, setAt: r.set_at }));
  }

  /** Copy what changed to D1, then mark it flushed; prune idempotency keys past the retention. */
  async alarm(): Promise<void> {
    if (this.account === null) return;
    const sql = this.ctx.storage.sql;
    const events = sql
      .exec<{ seq: number; k: string; m: string; v: number; o: string; t: number; p: number }>(
        `SELECT seq, idempotency_key AS k, metric AS m, value AS v, mode AS o, timestamp AS t, period_start AS p
         FROM events WHERE flushed = 0 ORDER BY seq LIMIT ${FLUSH_EVENTS}`,
      )
      .toArray();
    const changed = sql.exec<CounterRow>(`SELECT metric, period_start, used, highest_threshold, set_at, version FROM counters WHERE version > flushed_version`).toArray();
    const crossings = sql
      .exec<{ metric: string; period_start: number; threshold: number; payload: string; at: number }>(
        `SELECT metric, period_start, threshold, payload, at FROM crossings WHERE flushed = 0 ORDER BY at, threshold`,
      )
      .toArray();
    try {
      if (events.length || changed.length || crossings.length) await this.flush(events, changed, crossings);
    } catch (err) {
      // Kept unflushed and tried again; the object's storage is the record until D1 has it.
      console.error('[ladder] account counters flush failed', err instanceof Error ? err.message : err);
      await this.ctx.storage.setAlarm(Date.now() + 30_000);
      return;
    }
    const last = events.at(-1)?.seq ?? 0;
    this.ctx.storage.transactionSync(() => {
      sql.exec(`UPDATE events SET flushed = 1 WHERE flushed = 0 AND seq <= ?`, last);
      for (const c of changed) sql.exec(`UPDATE counters SET flushed_version = ? WHERE metric = ?`, c.version, c.metric);
      for (const c of crossings) sql.exec(`UPDATE crossings SET flushed = 1 WHERE metric = ? AND period_start = ? AND threshold = ?`, c.metric, c.period_start, c.threshold);
      sql.exec(`DELETE FROM events WHERE flushed = 1 AND received_at < ?`, Date.now() - KEY_RETENTION_MS);
      sql.exec(`DELETE FROM crossings WHERE flushed = 1 AND at < ?`, Date.now() - KEY_RETENTION_MS);
    });
    // As under `d1`, a limit hit rescores the account at once; a failure waits for the daily cron's rescore.
    if (crossings.some((c) => c.threshold === 100))
      await rescoreAccounts(database(this.env.DB), [this.account], Date.now()).catch((err: unknown) =>
        console.error('[ladder] PQA rescore after limit_hit failed', err instanceof Error ? err.message : err),
      );
    const more = sql.exec(`SELECT 1 FROM events WHERE flushed = 0 LIMIT 1`).toArray().length > 0
      || sql.exec(`SELECT 1 FROM counters WHERE version > flushed_version LIMIT 1`).toArray().length > 0;
    if (more) await this.ctx.storage.setAlarm(Date.now() + (events.length === FLUSH_EVENTS ? 0 : this.flushDelay()));
  }

  /**
   * One D1 batch (one transaction): the events, keyed by idempotency key; the day roll-up of the
   * events this batch inserted (none on a repeated flush); the counters' absolute values; the
   * crossed thresholds' outbox rows and `limit_hit` behaviours, keyed so a repeat adds nothing.
   */
  private async flush(
    events: { seq: number; k: string; m: string; v: number; o: string; t: number; p: number }[],
    changed: CounterRow[],
    crossings: { metric: string; period_start: number; threshold: number; payload: string; at: number }[],
  ): Promise<void> {
    const account = this.account!;
    const batchId = `flush:${crypto.randomUUID()}`;
    await sqlBatch(database(this.env.DB), [
      q`INSERT INTO usage_events (account_id, idempotency_key, metric, value, mode, timestamp, period_start, batch_id)
        SELECT ${account}, json_extract(e.value, '$.k'), json_extract(e.value, '$.m'), json_extract(e.value, '$.v'),
               json_extract(e.value, '$.o'), json_extract(e.value, '$.t'), json_extract(e.value, '$.p'), ${batchId}
        FROM json_each(${JSON.stringify(events.map(({ seq: _, ...e }) => e))}) AS e WHERE true
        ON CONFLICT DO NOTHING`,
      applyDaily(batchId),
      q`INSERT INTO usage_counters (account_id, metric, period_start, used, highest_threshold, set_at)
        SELECT ${account}, json_extract(c.value, '$.metric'), json_extract(c.value, '$.period_start'), json_extract(c.value, '$.used'),
               json_extract(c.value, '$.highest_threshold'), json_extract(c.value, '$.set_at')
        FROM json_each(${JSON.stringify(changed)}) AS c WHERE true
        ON CONFLICT (account_id, metric) DO UPDATE SET period_start = excluded.period_start, used = excluded.used,
          highest_threshold = excluded.highest_threshold, set_at = excluded.set_at`,
      ...crossings.flatMap((c) => {
        const crossing = JSON.parse(c.payload) as ThresholdCrossed;
        return [
          thresholdCrossedWebhook(crossing, c.at),
          ...(c.threshold === 100 ? [limitHitInsert(account, c.metric, c.period_start, c.at)] : []),
        ];
      }),
    ]);
  }

  /**
   * Bind this object to its account on first use, starting from the account's counters in D1
   * (a deployment switching from `d1` keeps its numbers). Other calls wait meanwhile.
   */
  private async claim(accountId: string): Promise<void> {
    if (this.account === accountId) return;
    if (this.account !== null) throw new Error(`account counters of "${this.account}" asked for "${accountId}"`);
    await this.ctx.blockConcurrencyWhile(async () => {
      if (this.account !== null) return;
      const { results } = await this.env.DB.prepare(`SELECT metric, period_start, used, highest_threshold, set_at FROM usage_counters WHERE account_id = ?`)
        .bind(accountId)
        .all<Omit<CounterRow, 'version'>>();
      const sql = this.ctx.storage.sql;
      this.ctx.storage.transactionSync(() => {
        for (const r of results)
          sql.exec(
            `INSERT OR IGNORE INTO counters (metric, period_start, used, highest_threshold, set_at) VALUES (?, ?, ?, ?, ?)`,
            r.metric, r.period_start, r.used, r.highest_threshold, r.set_at,
          );
        sql.exec(`INSERT OR REPLACE INTO meta (key, value) VALUES ('account', ?)`, accountId);
      });
      this.account = accountId;
    });
  }

  /** Store the event under its idempotency key; false if the key was seen. */
  private insertEvent(e: CounterEvent, now: number): boolean {
    return (
      this.ctx.storage.sql
        .exec(
          `INSERT INTO events (idempotency_key, metric, value, mode, timestamp, period_start, received_at) VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (idempotency_key) DO NOTHING RETURNING seq`,
          e.k, e.m, e.v, e.o, e.t, e.p, now,
        )
        .toArray().length > 0
    );
  }

  /**
   * Move the counter as worker/usage.ts does in D1: an increment adds within its period and a
   * newer period restarts the count (and its thresholds); a gauge keeps the newest value by timestamp.
   */
  private apply(e: CounterEvent): void {
    const sql = this.ctx.storage.sql;
    const c = sql.exec<CounterRow>(`SELECT metric, period_start, used, highest_threshold, set_at, version FROM counters WHERE metric = ?`, e.m).toArray()[0];
    if (e.o === 'set') {
      if (!c) sql.exec(`INSERT INTO counters (metric, period_start, used, set_at, version) VALUES (?, 0, ?, ?, 1)`, e.m, e.v, e.t);
      else if (e.t >= c.set_at) sql.exec(`UPDATE counters SET used = ?, set_at = ?, version = version + 1 WHERE metric = ?`, e.v, e.t, e.m);
      return;
    }
    if (!c) sql.exec(`INSERT INTO counters (metric, period_start, used, version) VALUES (?, ?, ?, 1)`, e.m, e.p, e.v);
    else if (e.p === c.period_start) sql.exec(`UPDATE counters SET used = MIN(used + ?, ${Number.MAX_SAFE_INTEGER}), version = version + 1 WHERE metric = ?`, e.v, e.m);
    else if (e.p > c.period_start)
      sql.exec(`UPDATE counters SET used = ?, period_start = ?, highest_threshold = NULL, version = version + 1 WHERE metric = ?`, e.v, e.p, e.m);
  }

  /**
   * Thresholds the counter newly crossed this period, remembered so each counts once, and
   * kept with what their webhook says until the alarm has flushed them to D1.
   */
  private cross(metric: string, limit: number | null, now: number, owner?: Owner): Crossing[] {
    const sql = this.ctx.storage.sql;
    const c = sql.exec<CounterRow>(`SELECT metric, period_start, used, highest_threshold, set_at, version FROM counters WHERE metric = ?`, metric).toArray()[0];
    if (!c) return [];
    const crossed = newCrossings(c.highest_threshold as Threshold | null, c.used, limit);
    const highest = crossed.at(-1);
    if (highest === undefined) return [];
    sql.exec(`UPDATE counters SET highest_threshold = ?, version = version + 1 WHERE metric = ?`, highest, metric);
    for (const threshold of crossed) {
      const payload: ThresholdCrossed = {
        account_id: this.account!,
        account_name: owner?.name ?? this.account!,
        plan_id: owner?.planId ?? null,
        metric,
        threshold,
        used: c.used,
        limit,
        period_start: c.period_start,
      };
      sql.exec(
        `INSERT INTO crossings (metric, period_start, threshold, payload, at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
        metric, c.period_start, threshold, JSON.stringify(payload), now,
      );
    }
    return [{ metric, periodStart: c.period_start, crossed }];
  }

  private usedIn(metric: string, period: number): number {
    const c = this.ctx.storage.sql.exec<{ used: number; period_start: number }>(`SELECT used, period_start FROM counters WHERE metric = ?`, metric).toArray()[0];
    return c && c.period_start === period ? c.used : 0;
  }

  private async scheduleFlush(): Promise<void> {
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + this.flushDelay());
  }

  private flushDelay(): number {
    const ms = Number(this.env.LADDER_COUNTERS_FLUSH_MS);
    return Number.isFinite(ms) && ms >= 0 && this.env.LADDER_COUNTERS_FLUSH_MS ? ms : DEFAULT_FLUSH_MS;
  }
}
