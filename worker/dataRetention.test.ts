import { describe, expect, it } from 'vitest';
import { database } from './db';
import { enforceRetention, RETENTION } from './dataRetention';
import { DAY, env, seedAccount, uid } from './test/api';

const count = async (query: string, ...params: unknown[]) => (await env.DB.prepare(query).bind(...params).first<{ n: number }>())!.n;

describe('retention', () => {
  it('every table that grows with traffic has a rule, and idempotency keys outlive 35 days', () => {
    const tables = RETENTION.map((r) => r.table);
    for (const t of ['usage_events', 'track_events', 'prompt_events', 'stripe_events', 'webhook_outbox', 'upgrades', 'upgrade_requests', 'experiment_exposures'])
      expect(tables).toContain(t);
    for (const t of ['usage_events', 'stripe_events', 'upgrades']) expect(RETENTION.find((r) => r.table === t)!.keepDays).toBeGreaterThanOrEqual(35);
  });

  it('deletes rows past their age, keeps the recent ones, and keeps the newest event of each kind per account for PQA', async () => {
    const acct = uid();
    await seedAccount(acct);
    const now = Date.now();
    const old = now - 500 * DAY;
    const insertUsage = (key: string, t: number) =>
      env.DB.prepare(`INSERT INTO usage_events (account_id, idempotency_key, metric, value, mode, timestamp, period_start, batch_id) VALUES (?, ?, 'api_calls', 1, 'increment', ?, 0, 'b')`).bind(acct, key, t);
    const insertTrack = (key: string, event: string, t: number) =>
      env.DB.prepare(`INSERT INTO track_events (account_id, idempotency_key, user_id, event, timestamp, batch_id) VALUES (?, ?, 'u', ?, ?, 'b')`).bind(acct, key, event, t);
    const insertPrompt = (key: string, t: number) =>
      env.DB.prepare(`INSERT INTO prompt_events (account_id, idempotency_key, user_id, session_id, type, timestamp) VALUES (?, ?, 'u', 's', 'impression', ?)`).bind(acct, key, t);
    await env.DB.batch([
      insertUsage('u-old', now - 101 * DAY),
      insertUsage('u-key-window', now - 36 * DAY),
      insertUsage('u-new', now),
      insertTrack('t-activated', 'core_feature_activated', old),
      insertTrack('t-active-old', 'user_active', old),
      insertTrack('t-active-new', 'user_active', now - DAY),
      insertPrompt('p-old', old),
      insertPrompt('p-new', now - DAY),
    ]);
    await env.DB.prepare(`INSERT INTO stripe_events (id, type, created, received_at) VALUES (?, 'invoice.paid', 0, ?), (?, 'invoice.paid', 0, ?)`)
      .bind(`evt_old_${acct}`, now - 91 * DAY, `evt_new_${acct}`, now - 10 * DAY).run();

    const deleted = await enforceRetention(database(env.DB), now);
    expect(deleted.usage_events).toBeGreaterThanOrEqual(1);
    const keys = async (table: string) =>
      (await env.DB.prepare(`SELECT idempotency_key AS k FROM ${table} WHERE account_id = ? ORDER BY k`).bind(acct).all<{ k: string }>()).results.map((r) => r.k);
    expect(await keys('usage_events')).toEqual(['u-key-window', 'u-new']);
    // The old user_active is gone (a newer one exists); the only core_feature_activated stays, however old.
    expect(await keys('track_events')).toEqual(['t-activated', 't-active-new']);
    expect(await keys('prompt_events')).toEqual(['p-new']);
    expect(await count(`SELECT count(*) AS n FROM stripe_events WHERE id IN (?, ?)`, `evt_old_${acct}`, `evt_new_${acct}`)).toBe(1);
    // A second run has nothing more to delete for this account.
    await enforceRetention(database(env.DB), now);
    expect(await keys('track_events')).toEqual(['t-activated', 't-active-new']);
  });

  it('the event tables are swept a window of rows per run, so a run reads a bounded part of them, and a full sweep deletes every expired row', async () => {
    const acct = uid();
    await seedAccount(acct);
    const now = Date.now();
    const insert = (key: string, t: number) =>
      env.DB.prepare(`INSERT INTO usage_events (account_id, idempotency_key, metric, value, mode, timestamp, period_start, batch_id) VALUES (?, ?, 'api_calls', 1, 'increment', ?, 0, 'b')`).bind(acct, key, t);
    await env.DB.batch(Array.from({ length: 30 }, (_, i) => insert(`old-${String(i).padStart(2, '0')}`, now - 200 * DAY)));
    await env.DB.batch([insert('new', now)]);
    const last = (await env.DB.prepare(`SELECT max(rowid) AS n FROM usage_events`).first<{ n: number }>())!.n;
    const left = async () => (await env.DB.prepare(`SELECT count(*) AS n FROM usage_events WHERE account_id = ? AND timestamp < ?`).bind(acct, now - 100 * DAY).first<{ n: number }>())!.n;
    // Windows of 7 rows: no run deletes more than 7 usage events, and one sweep (plus the window the last one stopped in) takes all 30.
    const perRun: number[] = [];
    for (let run = 0; run < Math.ceil(last / 7) + 2 && (await left()) > 0; run++) perRun.push((await enforceRetention(database(env.DB), now, 7)).usage_events!);
    expect(await left()).toBe(0);
    expect(Math.max(...perRun)).toBeLessThanOrEqual(7);
    expect(perRun.filter((n) => n > 0).length).toBeGreaterThanOrEqual(5);
    expect(await count(`SELECT count(*) AS n FROM usage_events WHERE account_id = ?`, acct)).toBe(1);
  });

  it('a window counts rows, not rowids: a gap of a million rowids (rows deleted long ago) costs a sweep nothing', async () => {
    const acct = uid();
    await seedAccount(acct);
    const now = Date.now();
    const first = (await env.DB.prepare(`SELECT coalesce(max(rowid), 0) AS n FROM usage_events`).first<{ n: number }>())!.n;
    const insert = (rowid: number, t: number) =>
      env.DB.prepare(`INSERT INTO usage_events (rowid, account_id, idempotency_key, metric, value, mode, timestamp, period_start, batch_id) VALUES (?, ?, ?, 'api_calls', 1, 'increment', ?, 0, 'b')`)
        .bind(rowid, acct, `gap-${rowid}`, t);
    // 6 expired rows, then a million rowids nobody holds any more, then 6 more expired rows and a recent one
    await env.DB.batch([
      ...Array.from({ length: 6 }, (_, i) => insert(first + 1 + i, now - 200 * DAY)),
      ...Array.from({ length: 6 }, (_, i) => insert(first + 1_000_001 + i, now - 200 * DAY)),
      insert(first + 1_000_010, now),
    ]);
    const rows = (await env.DB.prepare(`SELECT count(*) AS n FROM usage_events`).first<{ n: number }>())!.n;
    const left = () => count(`SELECT count(*) AS n FROM usage_events WHERE account_id = ? AND timestamp < ?`, acct, now - 100 * DAY);
    // Windows of 7 rows: a whole sweep is (rows ÷ 7) runs, plus the window the last run stopped in —
    // by rowids it would be over 140,000 runs.
    let runs = 0;
    while ((await left()) > 0 && runs < Math.ceil(rows / 7) + 2) {
      expect((await enforceRetention(database(env.DB), now, 7)).usage_events).toBeLessThanOrEqual(7);
      runs++;
    }
    expect(await left()).toBe(0);
    expect(await count(`SELECT count(*) AS n FROM usage_events WHERE account_id = ?`, acct)).toBe(1);
  });
});
