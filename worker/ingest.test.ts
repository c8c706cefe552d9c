import { createExecutionContext, createMessageBatch, getQueueResult, runDurableObjectAlarm } from 'cloudflare:test';
import { afterEach, describe, expect, it, vi } from 'vitest';
import worker from './index';
import { api, ADMIN, apiWith, COUNTERS, env, OPTIONS, seedAccount, uid } from './test/api';

const QUEUED = { LADDER_INGEST: 'queue' };
/** Counters in D1, named: the suite also runs with LADDER_COUNTERS=durable_object in force (vitest.config.ts), and these tests fail D1 writes on purpose. */
const D1 = { LADDER_COUNTERS: 'd1' };
const used = async (acct: string, bindings: Record<string, unknown> = {}) => (await apiWith(bindings, 'GET', `/v1/accounts/${acct}`)).json.usage.api_calls.used;
const tracked = async (acct: string) =>
  (await env.DB.prepare('SELECT count(*) AS n FROM track_events WHERE account_id = ?').bind(acct).first<{ n: number }>())!.n;

let seq = 0;
/** Run the worker's queue consumer on `bodies` as one delivered batch; what it acked and retried. */
async function consume(queue: string, bodies: unknown[], bindings: Record<string, unknown> = {}, attempts = 1) {
  const batch = createMessageBatch(queue, bodies.map((body) => ({ id: `msg-${++seq}`, timestamp: new Date(), attempts, body })));
  const ctx = createExecutionContext();
  await worker.queue(batch, { ...env, ...bindings });
  return getQueueResult(batch, ctx);
}
const usageMessage = (acct: string, keys: string[], value = 1) => ({
  kind: 'usage',
  received_at: Date.now(),
  events: keys.map((k) => ({ account_id: acct, metric: 'api_calls', value, mode: 'increment', idempotency_key: k, timestamp: Date.now() })),
});

/** env.DB that records the SQL of every batch it runs, and can fail those that write usage events. */
function watchedDb(failWrites = false) {
  const sqlOf = new WeakMap<object, { query: string; real: object }>();
  const batches: string[][] = [];
  const wrap = (stmt: object, query: string): object => {
    const proxy = new Proxy(stmt, {
      get(t, prop) {
        if (prop === 'bind') return (...args: unknown[]) => wrap((t as { bind(...a: unknown[]): object }).bind(...args), query);
        const value = Reflect.get(t, prop);
        return typeof value === 'function' ? value.bind(t) : value;
      },
    });
    sqlOf.set(proxy, { query, real: stmt });
    return proxy;
  };
  const db = new Proxy(env.DB, {
    get(target, prop) {
      if (prop === 'prepare') return (query: string) => wrap(target.prepare(query), query);
      if (prop === 'batch')
        return async (stmts: object[]) => {
          const queries = stmts.map((s) => sqlOf.get(s)?.query ?? '');
          batches.push(queries);
          if (failWrites && queries.some((q) => q.includes('INSERT INTO usage_events'))) throw new Error('D1 is unavailable');
          return target.batch(stmts.map((s) => sqlOf.get(s)?.real ?? s) as never);
        };
      const value = Reflect.get(target, prop);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { db, writes: () => batches.filter((b) => b.some((q) => q.includes('INSERT INTO usage_events'))).length };
}

afterEach(() => {
  vi.useRealTimers();
});

/** Make every write of `acct`'s usage events fail in D1, as a message that can never be applied; undo with the returned function. */
async function poisonAccount(acct: string) {
  const name = `poison_${acct.replace(/\W/g, '_')}`;
  await env.DB.prepare(
    `CREATE TRIGGER ${name} BEFORE INSERT ON usage_events WHEN NEW.account_id = '${acct}' BEGIN SELECT RAISE(ABORT, 'poisoned for the test'); END`,
  ).run();
  return () => env.DB.prepare(`DROP TRIGGER IF EXISTS ${name}`).run();
}
const deadLetters = async () =>
  (await api('GET', '/v1/admin/ingest/dead-letters', { token: ADMIN })).json.dead_letters as {
    message_id: string;
    queue: string;
    kind: string;
    event_count: number;
    reason: string;
    attempts: number;
    body: { events?: { account_id?: string }[] } | null;
  }[];

describe('queued ingestion (LADDER_INGEST=queue)', () => {
  it('validates, answers 202 with the number queued, and the consumer applies it', async () => {
    const acct = uid();
    await seedAccount(acct);
    const events = [
      { account_id: acct, metric: 'api_calls', value: 120, idempotency_key: 'a' },
      { account_id: acct, metric: 'api_calls', value: 30, idempotency_key: 'b' },
    ];
    const res = await apiWith(QUEUED, 'POST', '/v1/usage', { body: { events } });
    expect(res.status).toBe(202);
    expect(res.json).toEqual({ queued: 2 });
    const t = await apiWith(QUEUED, 'POST', '/v1/track', { body: { events: [{ account_id: acct, event: 'user_active', user_id: 'u1', idempotency_key: 't1' }] } });
    expect(t.status).toBe(202);
    expect(t.json).toEqual({ queued: 1 });
    await vi.waitFor(async () => expect(await used(acct)).toBe(150), { timeout: 15_000, interval: 200 });
    await vi.waitFor(async () => expect(await tracked(acct)).toBe(1), { timeout: 15_000, interval: 200 });
  });

  it('a batch larger than one queue message is split, and every event arrives once', async () => {
    const acct = uid();
    await seedAccount(acct);
    // 1,000 events with 200-character keys: ~270 KB of JSON, over the 128 KB message limit.
    const events = Array.from({ length: 1000 }, (_, i) => ({ account_id: acct, metric: 'api_calls', value: 1, idempotency_key: `${String(i).padStart(4, '0')}-${'k'.repeat(195)}` }));
    const res = await apiWith(QUEUED, 'POST', '/v1/usage', { body: { events } });
    expect(res.status).toBe(202);
    expect(res.json).toEqual({ queued: 1000 });
    await vi.waitFor(async () => expect(await used(acct)).toBe(1000), { timeout: 30_000, interval: 250 });
  });

  it('refuses what the direct path refuses, before anything is queued', async () => {
    const acct = uid();
    await seedAccount(acct);
    const unknown = await apiWith(QUEUED, 'POST', '/v1/usage', { body: { events: [{ account_id: 'ghost', metric: 'api_calls', value: 1, idempotency_key: 'x' }] } });
    expect(unknown.status).toBe(404);
    expect(unknown.json.error.details[0].path).toBe('events.0.account_id');
    const mode = await apiWith(QUEUED, 'POST', '/v1/usage', { body: { events: [{ account_id: acct, metric: 'api_calls', value: 1, mode: 'set', idempotency_key: 'y' }] } });
    expect(mode.status).toBe(422);
    const bad = await apiWith(QUEUED, 'POST', '/v1/track', { body: { events: [{ account_id: 'ghost', event: 'user_active', idempotency_key: 'z' }] } });
    expect(bad.status).toBe(404);
  });

  it('/v1/check stays synchronous', async () => {
    const acct = uid();
    await seedAccount(acct);
    const res = await apiWith(QUEUED, 'POST', '/v1/check', { body: { account_id: acct, metric: 'projects', amount: 1, idempotency_key: 'p1' } });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ allowed: true, used: 1, limit: 3, remaining: 2 });
  });

  it('a redelivered batch changes nothing, with counters in D1 or in the account objects', async () => {
    for (const bindings of [D1, { LADDER_COUNTERS: 'durable_object' }]) {
      const acct = uid();
      await seedAccount(acct);
      const messages = [usageMessage(acct, ['a', 'b', 'c'], 10), usageMessage(acct, ['c', 'd'], 10)];
      const first = await consume('ladder-ingest', messages, bindings);
      expect(first.explicitAcks).toHaveLength(2);
      await consume('ladder-ingest', messages, bindings, 2);
      expect(await used(acct, bindings)).toBe(40);
    }
  });

  it('applies 100 messages as one batch through the account objects, which flush to D1', async () => {
    const accts = [uid(), uid(), uid()];
    for (const a of accts) await seedAccount(a);
    const messages = Array.from({ length: 100 }, (_, i) => usageMessage(accts[i % 3]!, [`m${i}-1`, `m${i}-2`]));
    const result = await consume('ladder-ingest', messages, { LADDER_COUNTERS: 'durable_object' });
    expect(result.explicitAcks).toHaveLength(100);
    expect(result.retryMessages).toHaveLength(0);
    for (const a of accts) await runDurableObjectAlarm(env.ACCOUNT_COUNTERS!.get(env.ACCOUNT_COUNTERS!.idFromName(a)));
    const rows = await env.DB.prepare(
      `SELECT account_id, used FROM usage_counters WHERE metric = 'api_calls' AND account_id IN (?, ?, ?) ORDER BY account_id`,
    )
      .bind(...accts)
      .all<{ account_id: string; used: number }>();
    expect(rows.results.map((r) => r.used).reduce((s, n) => s + n, 0)).toBe(200);
  });

  it('100 queued messages are applied as one D1 transaction', async () => {
    const acct = uid();
    await seedAccount(acct);
    const { db, writes } = watchedDb();
    const result = await consume('ladder-ingest', Array.from({ length: 100 }, (_, i) => usageMessage(acct, [`k${i}`], 2)), { DB: db, ...D1 });
    expect(result.explicitAcks).toHaveLength(100);
    expect(writes()).toBe(1);
    expect(await used(acct, D1)).toBe(200);
  });

  it('a batch that fails to apply is retried, not acknowledged', async () => {
    const acct = uid();
    await seedAccount(acct);
    const { db } = watchedDb(true);
    const result = await consume('ladder-ingest', [usageMessage(acct, ['x'], 3)], { DB: db, ...D1 });
    expect(result.explicitAcks).toHaveLength(0);
    expect(result.retryMessages).toHaveLength(1);
    expect(await used(acct, D1)).toBe(0);
  });

  it('a message that can no longer be applied is dead-lettered and listed for the dashboard, the rest applied', async () => {
    const acct = uid();
    await seedAccount(acct);
    const poison = { kind: 'usage', received_at: Date.now(), events: [{ account_id: 'deleted-since', metric: 'api_calls', value: 1, mode: 'increment', idempotency_key: 'p' }] };
    const badEvent = { kind: 'usage', received_at: Date.now(), events: [null, { account_id: acct, metric: 'api_calls', value: 'many', idempotency_key: 'q' }] };
    const result = await consume('ladder-ingest', [usageMessage(acct, ['ok'], 5), poison, { something: 'else' }, badEvent]);
    expect(result.explicitAcks).toHaveLength(4);
    expect(result.retryMessages).toHaveLength(0);
    // Events that are not events are refused on arrival with what is wrong, not retried until the queue gives up.
    const [malformed] = (await deadLetters()).filter((d) => d.body?.events?.[1]?.account_id === acct);
    expect(malformed).toMatchObject({ kind: 'usage', event_count: 2, reason: expect.stringContaining('events[0]') });
    expect(malformed!.reason).toContain('events[1].value');
    expect(await used(acct)).toBe(5);
    const list = await api('GET', '/v1/admin/ingest/dead-letters', { token: ADMIN });
    expect(list.status).toBe(200);
    const letters = list.json.dead_letters.filter((d: { body: { events?: { account_id: string }[] } }) => d.body?.events?.[0]?.account_id === 'deleted-since' || !d.body?.events);
    expect(letters.map((d: { kind: string }) => d.kind).sort()).toEqual(['unknown', 'usage']);
    expect(letters.find((d: { kind: string }) => d.kind === 'usage')).toMatchObject({ queue: 'ladder-ingest', event_count: 1, reason: expect.stringContaining('no account "deleted-since"') });
  });

  it('a message that keeps failing is retried alone; the good messages delivered with it are applied once', async () => {
    const [good, bad] = [uid(), uid()];
    await seedAccount(good);
    await seedAccount(bad);
    const cure = await poisonAccount(bad);
    try {
      const messages = [usageMessage(good, ['g1', 'g2'], 4), usageMessage(bad, ['b1'], 9), usageMessage(good, ['g3'], 4)];
      const first = await consume('ladder-ingest', messages, D1);
      expect(first.explicitAcks.sort()).toEqual(['msg-' + (seq - 2), 'msg-' + seq].sort());
      expect(first.retryMessages.map((r) => r.msgId)).toEqual(['msg-' + (seq - 1)]);
      expect(await used(good, D1)).toBe(12);
      // The queue delivers the failing one again (alone or with others): still only it is retried, nothing is counted twice.
      const again = await consume('ladder-ingest', messages, D1, 2);
      expect(again.retryMessages).toHaveLength(1);
      expect(await used(good, D1)).toBe(12);
      expect(await used(bad, D1)).toBe(0);
    } finally {
      await cure();
    }
  });

  // The real queue's consumer runs with the suite's bindings, and the poison is a D1 trigger on usage_events, which account objects write
  // only on their flush: so this one runs where LADDER_COUNTERS=d1 is in force (the d1 combinations of vitest.config.ts).
  it.skipIf(OPTIONS.counters !== 'd1')('in workerd: a poison message is retried by the real queue, dead-lettered, listed for the dashboard; the others are applied (d1 counters only: the poison is a D1 trigger)', async () => {
    const [good, bad] = [uid(), uid()];
    await seedAccount(good);
    await seedAccount(bad);
    const cure = await poisonAccount(bad);
    try {
      // Through the route and the pool's real queue (max_retries 2, then ladder-ingest-dlq; vitest.config.ts).
      const sent = await Promise.all([
        apiWith(QUEUED, 'POST', '/v1/usage', { body: { events: [{ account_id: bad, metric: 'api_calls', value: 9, idempotency_key: 'never' }] } }),
        apiWith(QUEUED, 'POST', '/v1/usage', { body: { events: [{ account_id: good, metric: 'api_calls', value: 4, idempotency_key: 'fine' }] } }),
      ]);
      expect(sent.map((r) => [r.status, r.json])).toEqual([[202, { queued: 1 }], [202, { queued: 1 }]]);
      await vi.waitFor(async () => expect(await used(good)).toBe(4), { timeout: 30_000, interval: 250 });
      const letter = await vi.waitFor(
        async () => {
          const mine = (await deadLetters()).filter((d) => d.body?.events?.[0]?.account_id === bad);
          expect(mine).toHaveLength(1);
          return mine[0]!;
        },
        { timeout: 90_000, interval: 500 },
      );
      expect(letter).toMatchObject({ queue: 'ladder-ingest-dlq', kind: 'usage', event_count: 1, reason: expect.stringContaining('dead-lettered after') });
      expect(letter.body).toMatchObject({ kind: 'usage', events: [{ account_id: bad, value: 9, idempotency_key: 'never' }] });
      expect(await used(bad)).toBe(0);
      expect(await used(good)).toBe(4);
      // The dashboard's list says how many there are in all.
      expect((await api('GET', '/v1/admin/ingest/dead-letters', { token: ADMIN })).json.total).toBeGreaterThanOrEqual(1);
    } finally {
      await cure();
    }
  });

  it('messages the queue gave up on arrive from the dead-letter queue and are stored once', async () => {
    const acct = uid();
    await seedAccount(acct);
    const body = usageMessage(acct, ['late'], 1);
    const batch = createMessageBatch('ladder-ingest-dlq', [{ id: `dlq-${acct}`, timestamp: new Date(), attempts: 3, body }]);
    await worker.queue(batch, env);
    await worker.queue(batch, env);
    const list = await api('GET', '/v1/admin/ingest/dead-letters', { token: ADMIN });
    const mine = list.json.dead_letters.filter((d: { message_id: string }) => d.message_id === `dlq-${acct}`);
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ queue: 'ladder-ingest-dlq', kind: 'usage', event_count: 1, reason: expect.stringContaining('dead-lettered') });
  });

  it('LADDER_INGEST=queue without the queue binding refuses to serve, naming the setting', async () => {
    const res = await apiWith({ LADDER_INGEST: 'queue', LADDER_INGEST_QUEUE: undefined }, 'POST', '/v1/usage', { body: { events: [] } });
    expect(res.status).toBe(503);
    expect(res.json.error.message).toContain('LADDER_INGEST_QUEUE');
  });
});

/**
 * Usage and track through both halves of queued ingestion with each counter store: what the
 * route puts on the queue (kept as it is sent) is what the consumer is then given, delivered
 * twice. The real queue of the worker pool runs its consumer with the pool's own bindings
 * (counters in D1: the first test above), so the messages are taken at the producer here to
 * hand them to the consumer with the store under test.
 */
describe.each(COUNTERS)('queued usage and track with LADDER_COUNTERS=$LADDER_COUNTERS', (counters) => {
  it('each answered 202, applied once however often it is sent and delivered', async () => {
    const acct = uid();
    await seedAccount(acct);
    const sent: unknown[] = [];
    const queue = { send: async (body: unknown) => void sent.push(body), sendBatch: async (msgs: { body: unknown }[]) => void sent.push(...msgs.map((m) => m.body)) };
    const bindings = { ...counters, ...QUEUED, LADDER_INGEST_QUEUE: queue as never };
    const usage = { events: Array.from({ length: 30 }, (_, i) => ({ account_id: acct, metric: 'api_calls', value: i + 1, idempotency_key: `u${i}` })) };
    const track = { events: Array.from({ length: 6 }, (_, i) => ({ account_id: acct, event: 'user_active', user_id: `p${i}`, idempotency_key: `t${i}` })) };
    for (let copy = 0; copy < 2; copy++) {
      // A client retrying: the same batches sent twice, each answered 202.
      const u = await apiWith(bindings, 'POST', '/v1/usage', { body: usage });
      expect([u.status, u.json]).toEqual([202, { queued: 30 }]);
      const t = await apiWith(bindings, 'POST', '/v1/track', { body: track });
      expect([t.status, t.json]).toEqual([202, { queued: 6 }]);
    }
    expect(sent).toHaveLength(4);
    expect(await used(acct, counters)).toBe(0); // queued, not yet applied
    for (let delivery = 1; delivery <= 2; delivery++) {
      const result = await consume('ladder-ingest', sent, counters, delivery);
      expect([result.explicitAcks.length, result.retryMessages.length]).toEqual([4, 0]);
    }
    expect(await used(acct, counters)).toBe((30 * 31) / 2);
    expect(await tracked(acct)).toBe(6);
    const check = await apiWith({ ...counters, ...QUEUED }, 'POST', '/v1/check', { body: { account_id: acct, metric: 'api_calls', amount: 1, idempotency_key: 'c1' } });
    expect(check.json).toMatchObject({ allowed: true, used: (30 * 31) / 2 + 1 });
    if (counters.LADDER_COUNTERS === 'durable_object') await runDurableObjectAlarm(env.ACCOUNT_COUNTERS!.get(env.ACCOUNT_COUNTERS!.idFromName(acct)));
    const stored = await env.DB.prepare('SELECT count(*) AS n FROM usage_events WHERE account_id = ?').bind(acct).first<{ n: number }>();
    expect(stored!.n).toBe(31);
    // The daily roll-up (forecasts, usage.growth) counts each event once too, whichever store.
    const rolled = await env.DB.prepare('SELECT sum(used) AS n FROM usage_daily WHERE account_id = ?').bind(acct).first<{ n: number }>();
    expect(rolled!.n).toBe((30 * 31) / 2 + 1);
  });
});
