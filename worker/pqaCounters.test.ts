/**
 * The PQA counters (worker/db/schema.ts `pqaCounters` and its three small tables, kept by the
 * triggers of migration 0020) against the events themselves: whatever writes `track_events`,
 * retried or not, and whatever retention deletes, the aggregates the recompute reads from the
 * counters equal `shared/pqaScore.ts`'s `pqaAggregate` of the stored events, and the stored
 * scores equal `pqaScore`.
 */
import { createExecutionContext, createMessageBatch, getQueueResult, runDurableObjectAlarm } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { defaultPqaConfig, pqaAggregate, pqaScore, type PqaConfig, type PqaEvent } from '../shared/pqaScore';
import { TRACK_EVENTS } from '../shared/schemas';
import worker from './index';
import { database } from './db';
import { enforceRetention } from './dataRetention';
import { accountsNamed, readAggregates, runDailyRecompute } from './pqa';
import { ADMIN, DAY, api, apiWith, env, seedAccount, uid, userToken } from './test/api';
import { prng } from './test/prng';

const config: PqaConfig = {
  ...defaultPqaConfig,
  custom: { report_exported: { points: 4, mode: 'each' }, sso_enabled: { points: 11, mode: 'once' } },
};

/** One account's generated behaviour over the last 600 days: every kind, odd `rows`, custom events, several users. */
function behaviour(acct: string, rand: () => number, now: number): Record<string, unknown>[] {
  const events: Record<string, unknown>[] = [];
  const at = () => now - Math.floor(rand() * 600 * DAY);
  const add = (event: string, extra: Record<string, unknown> = {}) =>
    events.push({ account_id: acct, event, idempotency_key: `${acct}-${events.length}`, timestamp: at(), ...extra });
  for (const event of ['core_feature_activated', 'api_integration_built', 'admin_settings_configured', 'limit_hit', 'feature_gate_hit', 'teammate_invited'])
    for (let i = Math.floor(rand() * 3); i > 0; i--) add(event);
  const rowsValues = [undefined, null, 5000, 10, 999.5, 1000, '2000', ' ', 'abc', true];
  for (let i = Math.floor(rand() * 4); i > 0; i--) {
    const rows = rowsValues[Math.floor(rand() * rowsValues.length)];
    add('data_imported', rows === undefined ? {} : { properties: { rows } });
  }
  const users = [null, 'u1', 'u2', 'u3'].filter(() => rand() < 0.7);
  for (const user of users) for (let i = Math.floor(rand() * 12); i > 0; i--) add('user_active', { user_id: user });
  for (let i = Math.floor(rand() * 4); i > 0; i--) add('report_exported');
  for (let i = Math.floor(rand() * 2); i > 0; i--) add('sso_enabled');
  for (let i = Math.floor(rand() * 2); i > 0; i--) add('something_unconfigured');
  return events;
}

/** Each account's stored events, as the pure `shared/pqaScore.ts` reads them. */
async function storedEvents(ids: string[]) {
  const { results } = await env.DB.prepare(`SELECT account_id, user_id, event, timestamp, properties FROM track_events WHERE account_id IN (SELECT value FROM json_each(?))`)
    .bind(JSON.stringify(ids))
    .all<{ account_id: string; user_id: string | null; event: string; timestamp: number; properties: string | null }>();
  const byAccount = new Map<string, PqaEvent[]>(ids.map((a) => [a, []]));
  for (const r of results) byAccount.get(r.account_id)!.push({ event: r.event, user_id: r.user_id, timestamp: r.timestamp, properties: r.properties ? JSON.parse(r.properties) : null });
  return byAccount;
}

/** The accounts whose aggregate as the recompute reads it differs from `pqaAggregate` of their stored events at `now`. */
async function mismatches(ids: string[], now: number): Promise<string[]> {
  const [events, { aggregates }] = await Promise.all([storedEvents(ids), readAggregates(database(env.DB), accountsNamed(ids), now)]);
  // Order-free parts in one order, so only a different value differs.
  const sorted = <T extends { import_text_rows: string[]; custom: Record<string, number> }>(a: T) => ({
    ...a,
    import_text_rows: [...a.import_text_rows].sort(),
    custom: Object.fromEntries(Object.entries(a.custom).sort(([x], [y]) => (x < y ? -1 : 1))),
  });
  return aggregates
    .filter(({ account_id, name: _n, plan_id: _p, ...agg }) => JSON.stringify(sorted(agg)) !== JSON.stringify(sorted(pqaAggregate(events.get(account_id)!, now, config))))
    .map((a) => a.account_id);
}

/** Newest event time per account: the counters, not the events, are read only when none lies after `now`. */
const newestEvent = async (ids: string[]) =>
  (await env.DB.prepare(`SELECT max(max_at) AS t FROM pqa_counters WHERE account_id IN (SELECT value FROM json_each(?))`).bind(JSON.stringify(ids)).first<{ t: number }>())!.t;

let seq = 0;
/** Hand `bodies` to the worker's queue consumer as one delivered batch. */
async function consume(bodies: unknown[]) {
  const batch = createMessageBatch('ladder-ingest', bodies.map((body) => ({ id: `pqa-msg-${++seq}`, timestamp: new Date(), attempts: 1, body })));
  await worker.queue(batch, env);
  const result = await getQueueResult(batch, createExecutionContext());
  expect(result.retryMessages).toEqual([]);
}

// Each writer named explicitly, whatever combination the project runs under (vitest.config.ts):
// direct ingestion unless the writer is the queue's consumer, counters where the writer says.
const DIRECT = { LADDER_INGEST: 'direct' };
const D1 = { ...DIRECT, LADDER_COUNTERS: 'd1' };
const OBJECTS = { ...DIRECT, LADDER_COUNTERS: 'durable_object' };
const object = (acct: string) => env.ACCOUNT_COUNTERS!.get(env.ACCOUNT_COUNTERS!.idFromName(acct));

/**
 * Every writer of `track_events` in the worker, each sending its write twice (a retry): the
 * behaviour it records lands in the aggregate (a limit hit this month, a gate hit this week, …).
 */
const WRITERS: { name: string; write: (acct: string) => Promise<void> }[] = [
  {
    name: 'POST /v1/track (worker/track.ts)',
    write: async (acct) => {
      const body = { events: [{ account_id: acct, event: 'user_active', user_id: 'w', idempotency_key: 'w1' }, { account_id: acct, event: 'teammate_invited', idempotency_key: 'w2' }] };
      for (let i = 0; i < 2; i++) expect((await apiWith(DIRECT, 'POST', '/v1/track', { body })).status).toBe(200);
    },
  },
  {
    name: 'POST /v1/track queued, applied by the consumer (worker/ingest.ts), delivered twice',
    write: async (acct) => {
      const sent: unknown[] = [];
      const queue = { send: async (b: unknown) => void sent.push(b), sendBatch: async (m: { body: unknown }[]) => void sent.push(...m.map((x) => x.body)) };
      const body = { events: [{ account_id: acct, event: 'api_integration_built', idempotency_key: 'q1' }, { account_id: acct, event: 'user_active', user_id: 'q', idempotency_key: 'q2' }] };
      expect((await apiWith({ LADDER_INGEST: 'queue', LADDER_INGEST_QUEUE: queue as never }, 'POST', '/v1/track', { body })).status).toBe(202);
      await consume(sent);
      await consume(sent);
    },
  },
  {
    name: 'POST /v1/widget/events gate hits (worker/prompts.ts)',
    write: async (acct) => {
      const token = await userToken({ acct, sub: 'w' });
      const body = { events: [{ type: 'gate_hit', feature_id: 'sso', session_id: 's1', idempotency_key: 'g1' }] };
      for (let i = 0; i < 2; i++) expect((await api('POST', '/v1/widget/events', { token, body })).status).toBe(200);
    },
  },
  {
    name: 'POST /v1/usage reaching 100%, counters in D1 (worker/usage.ts, usageWrites.ts limitHitInsert)',
    write: async (acct) => {
      for (let i = 0; i < 2; i++)
        expect((await apiWith(D1, 'POST', '/v1/usage', { body: { events: [{ account_id: acct, metric: 'api_calls', value: 10000, idempotency_key: 'full' }] } })).status).toBe(200);
    },
  },
  {
    name: 'POST /v1/check reaching 100%, counters in D1',
    write: async (acct) => {
      for (let i = 0; i < 2; i++)
        expect((await apiWith(D1, 'POST', '/v1/check', { body: { account_id: acct, metric: 'api_calls', amount: 10000, idempotency_key: 'full' } })).json.allowed).toBe(true);
    },
  },
  {
    name: 'POST /v1/usage reaching 100%, counters in account objects (worker/usage.ts limitHits)',
    write: async (acct) => {
      for (let i = 0; i < 2; i++)
        expect((await apiWith(OBJECTS, 'POST', '/v1/usage', { body: { events: [{ account_id: acct, metric: 'api_calls', value: 10000, idempotency_key: 'full' }] } })).status).toBe(200);
      await runDurableObjectAlarm(object(acct));
    },
  },
  {
    name: 'POST /v1/check reaching 100%, counters in account objects',
    write: async (acct) => {
      for (let i = 0; i < 2; i++)
        expect((await apiWith(OBJECTS, 'POST', '/v1/check', { body: { account_id: acct, metric: 'api_calls', amount: 10000, idempotency_key: 'full' } })).json.allowed).toBe(true);
      await runDurableObjectAlarm(object(acct));
    },
  },
  {
    name: "the account object's flush (worker/accountCounters.ts), when the request's own limit_hit row is gone",
    write: async (acct) => {
      expect((await apiWith(OBJECTS, 'POST', '/v1/usage', { body: { events: [{ account_id: acct, metric: 'api_calls', value: 10000, idempotency_key: 'full' }] } })).status).toBe(200);
      // Deleted by hand (the delete moves the counters back), so the flush's insert under the same key is the one that lands.
      await env.DB.prepare(`DELETE FROM track_events WHERE account_id = ? AND event = 'limit_hit'`).bind(acct).run();
      await runDurableObjectAlarm(object(acct));
      await runDurableObjectAlarm(object(acct));
      const hits = await env.DB.prepare(`SELECT count(*) AS n FROM track_events WHERE account_id = ? AND event = 'limit_hit'`).bind(acct).first<{ n: number }>();
      expect(hits!.n).toBe(1);
    },
  },
];

const insertTriggers = async () =>
  (await env.DB.prepare(`SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'track_events' AND name LIKE 'pqa_track_insert%'`).all<{ name: string; sql: string }>()).results;

describe('PQA counters', () => {
  it('equal the events after every writer, retries, duplicates, back-dated events and retention deletes, and the recompute scores exactly as pqaScore', async () => {
    expect((await api('PUT', '/v1/admin/pqa/config', { token: ADMIN, body: config })).status).toBe(200);
    const rand = prng(20261202);
    const now = Date.now();
    const ids = Array.from({ length: 40 }, () => uid('pqac'));
    for (const acct of ids) await seedAccount(acct);
    // Generated behaviour through POST /v1/track in batches of 100, each batch sent twice,
    // then a tenth of the events again under their keys with other content (a changed retry: ignored).
    const events = ids.flatMap((a) => behaviour(a, rand, now));
    for (let i = 0; i < events.length; i += 100) {
      const body = { events: events.slice(i, i + 100) };
      expect((await apiWith(DIRECT, 'POST', '/v1/track', { body })).status).toBe(200);
      expect((await apiWith(DIRECT, 'POST', '/v1/track', { body })).json.accepted).toBe(0);
    }
    const changed = events.filter(() => rand() < 0.1).map((e) => ({ ...e, event: 'teammate_invited', timestamp: now }));
    expect((await apiWith(DIRECT, 'POST', '/v1/track', { body: { events: changed } })).json).toEqual({ accepted: 0, duplicates: changed.length });
    // Every other writer, on accounts of their own and on the generated ones.
    for (const [i, w] of WRITERS.entries()) {
      const own = uid('pqaw');
      await seedAccount(own);
      ids.push(own);
      await w.write(own);
      if (i < 3) await w.write(ids[i]!); // the track paths also on accounts with history (the usage paths need a fresh period)
    }
    const at = Date.now();
    expect(await newestEvent(ids)).toBeLessThanOrEqual(at); // read from the counters, not the events
    expect(await mismatches(ids, at)).toEqual([]);

    // Retention deletes what is past 400 days but the newest of each kind: the counters move back with it.
    const before = (await env.DB.prepare(`SELECT count(*) AS n FROM track_events`).first<{ n: number }>())!.n;
    const deleted = await enforceRetention(database(env.DB), at);
    expect(deleted.track_events).toBeGreaterThan(50);
    expect((await env.DB.prepare(`SELECT count(*) AS n FROM track_events`).first<{ n: number }>())!.n).toBe(before - deleted.track_events!);
    expect(await mismatches(ids, at)).toEqual([]);

    // The cron's recompute, from the counters, stores exactly pqaScore of the events.
    await env.DB.prepare(`DELETE FROM settings WHERE key = 'pqa_recompute'`).run();
    expect(await runDailyRecompute(database(env.DB), at, 7)).toMatchObject({ ran: true, done: true });
    const stored = new Map(
      (await env.DB.prepare(`SELECT account_id, score, band, top_signals FROM pqa_scores WHERE account_id IN (SELECT value FROM json_each(?))`).bind(JSON.stringify(ids)).all<{ account_id: string; score: number; band: string; top_signals: string }>()).results.map((r) => [r.account_id, r]),
    );
    const byAccount = await storedEvents(ids);
    const bands = new Set<string>();
    for (const acct of ids) {
      const ref = pqaScore(byAccount.get(acct)!, at, config);
      const row = stored.get(acct)!;
      bands.add(ref.band);
      expect({ acct, score: row.score, band: row.band, top: JSON.parse(row.top_signals) }).toEqual({ acct, score: ref.score, band: ref.band, top: ref.top_signals });
    }
    expect(bands.size).toBeGreaterThanOrEqual(3);
  });

  it.each(WRITERS)('would fail if $name stopped moving the counters', async ({ write }) => {
    const acct = uid('pqaoff');
    await seedAccount(acct);
    const triggers = await insertTriggers();
    expect(triggers.length).toBe(4);
    try {
      for (const t of triggers) await env.DB.prepare(`DROP TRIGGER ${t.name}`).run();
      await write(acct);
    } finally {
      for (const t of triggers) await env.DB.prepare(t.sql).run();
    }
    expect(await mismatches([acct], Date.now())).toEqual([acct]);
  });

  it('an account with an event after the time asked is read from its events (a clock moved back)', async () => {
    const acct = uid('pqafut');
    await seedAccount(acct);
    const now = Date.now();
    const body = { events: [
      { account_id: acct, event: 'limit_hit', idempotency_key: 'l1', timestamp: now - 2 * DAY },
      { account_id: acct, event: 'user_active', user_id: 'a', idempotency_key: 'a1', timestamp: now - 2 * DAY },
      { account_id: acct, event: 'user_active', user_id: 'b', idempotency_key: 'a2', timestamp: now },
      { account_id: acct, event: 'feature_gate_hit', idempotency_key: 'g1', timestamp: now },
    ] };
    expect((await apiWith(DIRECT, 'POST', '/v1/track', { body })).status).toBe(200);
    for (const at of [now - DAY, now]) expect(await mismatches([acct], at)).toEqual([]);
    const [agg] = (await readAggregates(database(env.DB), accountsNamed([acct]), now - DAY)).aggregates;
    expect(agg).toMatchObject({ users: 1, user_days: 1, last_active_at: now - 2 * DAY });
  });

  it('the kinds the triggers count apart are exactly the built-in events (shared/schemas.ts TRACK_EVENTS)', async () => {
    const { results } = await env.DB.prepare(`SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'pqa_track_%_custom'`).all<{ name: string; sql: string }>();
    expect(results.map((r) => r.name).sort()).toEqual(['pqa_track_delete_custom', 'pqa_track_insert_custom']);
    for (const r of results) {
      const listed = [...r.sql.match(/NOT IN \(([^)]*)\)/)![1]!.matchAll(/'([^']+)'/g)].map((m) => m[1]).sort();
      expect(listed).toEqual([...TRACK_EVENTS].sort());
    }
  });

  it('a track event is never updated in place (the counters follow inserts and deletes only)', async () => {
    const acct = uid('pqaupd');
    await seedAccount(acct);
    await apiWith(DIRECT, 'POST', '/v1/track', { body: { events: [{ account_id: acct, event: 'user_active', idempotency_key: 'x' }] } });
    await expect(env.DB.prepare(`UPDATE track_events SET event = 'limit_hit' WHERE account_id = ?`).bind(acct).run()).rejects.toThrow(/never updated/);
  });
});
