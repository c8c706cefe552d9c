/// <reference types="node" />
/**
 * The worker killed mid-batch (SIGKILL to wrangler and workerd while usage batches are in
 * flight) and restarted on the same local D1: no batch that was answered 200 is missing an
 * event, no batch is half applied, and the counter equals the events stored.
 *
 * Under LADDER_INGEST=queue a batch is answered 202 once it is on the queue and the consumer
 * applies it afterwards: what the consumer had applied before the crash is whole, and the
 * client resending every batch after the restart ends with each one stored exactly once. A
 * batch answered 202 but not yet consumed is not checked across the crash: wrangler dev's local
 * queue (miniflare's queue broker) keeps its messages in memory, so the crash drops them here,
 * where Cloudflare's queue keeps them (the count dropped is logged).
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { query } from '../system/d1';
import { startWorker, type DevWorker } from '../system/devWorker.mjs';
import { APPLY_MS, call, eventually, expectQueued, OBJECTS, QUEUED, seedAccount, SETTLE_MS, sleep } from '../system/fixtures';

const BATCH = 100;
/** With LADDER_COUNTERS=durable_object the account's object is the record and D1 gets it on the object's alarm (OBJECTS). */
const eventsInD1 = () =>
  new Map(
    query<{ b: string; n: number }>(dir, `SELECT substr(idempotency_key, 2, instr(idempotency_key, '-') - 2) AS b, count(*) AS n FROM usage_events WHERE account_id = '${ACCOUNT}' GROUP BY 1`).map((r) => [Number(r.b), r.n]),
  );
const SENDERS = 6;
const ACCOUNT = 'crash-acct';

let dir: string;
let worker: DevWorker | null = null;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ladder-fault-'));
  cpSync(inject('systemTemplate'), dir, { recursive: true });
  worker = await startWorker({ persistDir: dir });
  await seedAccount(worker.base, ACCOUNT);
});

afterAll(async () => {
  await worker?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const batchOf = (b: number) => ({ events: Array.from({ length: BATCH }, (_, i) => ({ account_id: ACCOUNT, metric: 'api_calls', value: 1, idempotency_key: `b${b}-e${i}` })) });

describe('the worker killed while batches are in flight', () => {
  it('loses no accepted event and applies no batch in part', async () => {
    const first = worker!;
    const outcome = new Map<number, 'accepted' | 'refused' | 'unknown'>();
    let next = 0;
    let stop = false;
    const sender = async () => {
      while (!stop) {
        const b = next++;
        outcome.set(b, 'unknown');
        try {
          const res = await call(first.base, 'POST', '/v1/usage', { body: batchOf(b), timeoutMs: 20_000 });
          const ok = res.status === (QUEUED ? 202 : 200);
          outcome.set(b, ok ? 'accepted' : 'refused');
          if (ok) expect(res.json).toEqual(QUEUED ? { queued: BATCH } : { accepted: BATCH, duplicates: 0 });
        } catch {
          return; // the connection died with the worker: this batch's fate is unknown
        }
      }
    };
    const senders = Array.from({ length: SENDERS }, sender);
    // Let some batches land, then crash while others are in flight.
    const until = Date.now() + 30_000;
    while ([...outcome.values()].filter((o) => o === 'accepted').length < 10 && Date.now() < until) await sleep(50);
    // Queued: also until the consumer has applied at least 10 batches, so the crash is checked against applied ones.
    const usedNow = async () => (await call(first.base, 'GET', `/v1/accounts/${ACCOUNT}`, { timeoutMs: 20_000 })).json.usage.api_calls.used as number;
    let appliedBeforeCrash = 0;
    if (QUEUED) appliedBeforeCrash = await eventually(async () => ((await usedNow()) >= 10 * BATCH ? usedNow() : 0), APPLY_MS, 250);
    if (QUEUED) expect(appliedBeforeCrash).toBeGreaterThanOrEqual(10 * BATCH);
    await sleep(150);
    await first.kill();
    stop = true;
    await Promise.all(senders);
    const accepted = [...outcome].filter(([, o]) => o === 'accepted').map(([b]) => b);
    expect(accepted.length).toBeGreaterThanOrEqual(10);
    expect([...outcome.values()].filter((o) => o === 'unknown').length).toBeGreaterThan(0); // the crash hit batches in flight

    // Straight from the D1 file: every batch is all or nothing, every accepted one all there
    // (with account objects, D1 holds what they had flushed; their own storage is checked below).
    const stored = eventsInD1();
    if (!OBJECTS) {
      for (const [b, n] of stored) expect([b, n]).toEqual([b, BATCH]);
      if (!QUEUED) for (const b of accepted) expect([b, stored.get(b)]).toEqual([b, BATCH]);
    }

    // Restart on the same database; resending every batch finds each one whole or absent.
    worker = await startWorker({ persistDir: dir });
    if (QUEUED) {
      // What the consumer applied before the crash survives it, in whole batches: the live counter
      // (the account object's with LADDER_COUNTERS=durable_object) and what reached D1.
      const survived = (await call(worker.base, 'GET', `/v1/accounts/${ACCOUNT}`)).json.usage.api_calls.used as number;
      expect(survived).toBeGreaterThanOrEqual(appliedBeforeCrash);
      expect(survived % BATCH).toBe(0);
      const before = eventsInD1();
      for (const [b, n] of before) expect([b, n]).toEqual([b, BATCH]);
      if (!OBJECTS) expect([...before.values()].reduce((n, x) => n + x, 0)).toBe(survived);
      console.log(`queued ingestion: ${accepted.length} batches answered 202 before the crash, ${survived / BATCH} applied (at least ${appliedBeforeCrash / BATCH} seen before it)`);
      // The client resends every batch; each is queued again and applied once, whole.
      for (const b of outcome.keys()) expectQueued([await call(worker.base, 'POST', '/v1/usage', { body: batchOf(b) })], BATCH);
      const all = outcome.size * BATCH;
      const counterInD1 = () => query<{ used: number }>(dir, `SELECT used FROM usage_counters WHERE account_id = '${ACCOUNT}' AND metric = 'api_calls'`)[0]?.used;
      await eventually(async () => {
        const now = eventsInD1();
        if (![...outcome.keys()].every((b) => now.get(b) === BATCH) || (counterInD1() ?? 0) < all) return false;
        return (await call(worker!.base, 'GET', `/v1/accounts/${ACCOUNT}`)).json.usage.api_calls.used >= all;
      }, APPLY_MS + (OBJECTS ? 60_000 : 0));
      await sleep(SETTLE_MS); // any second application of a batch would land by now
      const applied = eventsInD1();
      for (const b of outcome.keys()) expect([b, applied.get(b)]).toEqual([b, BATCH]);
      expect([...applied.keys()].filter((b) => !outcome.has(b))).toEqual([]);
      expect((await call(worker.base, 'GET', `/v1/accounts/${ACCOUNT}`)).json.usage.api_calls.used).toBe(all);
      expect(counterInD1()).toBe(all);
      return;
    }
    for (const b of outcome.keys()) {
      const res = await call(worker.base, 'POST', '/v1/usage', { body: batchOf(b) });
      expect(res.status).toBe(200);
      if (OBJECTS) {
        expect([b, res.json.duplicates]).toEqual([b, accepted.includes(b) ? BATCH : res.json.duplicates === BATCH ? BATCH : 0]);
      } else expect([b, res.json.duplicates]).toEqual([b, stored.has(b) ? BATCH : 0]);
    }
    const account = await call(worker.base, 'GET', `/v1/accounts/${ACCOUNT}`);
    expect(account.json.usage.api_calls.used).toBe(outcome.size * BATCH);
    if (OBJECTS) {
      // The objects' alarms, stored before the crash, flush everything to D1 after the restart.
      const until = Date.now() + 60_000;
      while ([...eventsInD1().values()].reduce((n, x) => n + x, 0) < outcome.size * BATCH && Date.now() < until) await sleep(250);
      const flushed = eventsInD1();
      for (const b of outcome.keys()) expect([b, flushed.get(b)]).toEqual([b, BATCH]);
      const [counter] = query<{ used: number }>(dir, `SELECT used FROM usage_counters WHERE account_id = '${ACCOUNT}' AND metric = 'api_calls'`);
      expect(counter?.used).toBe(outcome.size * BATCH);
    }
  });
});
