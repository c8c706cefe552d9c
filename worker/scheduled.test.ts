import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { database } from './db';
import worker from './index';
import { runDailyRecompute } from './pqa';
import { rollAccountPeriods, runScheduled } from './scheduled';
import { ADMIN, DAY, api, env, received, receiverUrl, seedAccount, uid } from './test/api';

const T0 = Date.parse('2026-03-20T12:00:00Z');
const period = async (acct: string) => {
  const a = (await api('GET', `/v1/accounts/${acct}`)).json;
  return [a.period_start, a.period_end];
};

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(T0);
});
afterEach(() => vi.useRealTimers());

describe('the cron', () => {
  it('rolls ended billing periods forward: by calendar months, or by a fixed length', async () => {
    const monthly = uid();
    await seedAccount(monthly, { period_start: '2026-01-05T00:00:00Z', period_end: '2026-02-05T00:00:00Z' });
    const tenDays = uid();
    await seedAccount(tenDays, { period_start: '2026-03-01T00:00:00Z', period_end: '2026-03-11T00:00:00Z' });
    const current = uid();
    await seedAccount(current, { period_start: '2026-03-05T00:00:00Z', period_end: '2026-04-05T00:00:00Z' });
    const endsNow = uid();
    await seedAccount(endsNow, { period_start: '2026-02-20T12:00:00Z', period_end: '2026-03-20T12:00:00Z' });

    expect(await rollAccountPeriods(database(env.DB), T0)).toBeGreaterThanOrEqual(3);
    expect(await period(monthly)).toEqual(['2026-03-05T00:00:00.000Z', '2026-04-05T00:00:00.000Z']);
    expect(await period(tenDays)).toEqual(['2026-03-11T00:00:00.000Z', '2026-03-21T00:00:00.000Z']);
    expect(await period(current)).toEqual(['2026-03-05T00:00:00.000Z', '2026-04-05T00:00:00.000Z']);
    expect(await period(endsNow)).toEqual(['2026-03-20T12:00:00.000Z', '2026-04-20T12:00:00.000Z']);
    expect(await rollAccountPeriods(database(env.DB), T0)).toBe(0); // nothing left to roll
  });

  it('keeps the dashboard roll-ups current, a bounded amount per run, counting each prompt event once', async () => {
    const acct = uid();
    await seedAccount(acct);
    const insert = (i: number, type: string, prompt: string, day: number) =>
      env.DB.prepare('INSERT INTO prompt_events (account_id, idempotency_key, user_id, session_id, type, prompt_id, timestamp) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .bind(acct, `k${i}`, `u${i % 3}`, 's', type, prompt, T0 - day * DAY + i * 60_000); // minutes apart, same UTC day
    await env.DB.batch([
      insert(1, 'impression', 'limit-api_calls-90', 1),
      insert(2, 'impression', 'limit-api_calls-90', 1),
      insert(3, 'click', 'limit-api_calls-90', 1),
      insert(4, 'impression', 'gate-sso', 2),
      insert(5, 'dismiss', 'gate-sso', 2),
    ]);
    const { refreshPromptDaily } = await import('./analytics');
    const db = database(env.DB);
    expect(await refreshPromptDaily(db, 0)).toBe(false); // no chunk allowed: the backlog stays
    const report = await runScheduled(env, T0);
    expect(report.rollups_current).toBe(true);
    const [{ behind }] = (await env.DB.prepare(`SELECT (SELECT max(rowid) FROM prompt_events) - (SELECT last_rowid FROM rollup_state WHERE name = 'prompt_daily') AS behind`).all<{ behind: number }>()).results as [{ behind: number }];
    expect(behind).toBe(0);
    const totals = (await env.DB.prepare('SELECT prompt_id, sum(impressions) AS i, sum(clicks) AS c, sum(dismisses) AS d FROM prompt_day_totals GROUP BY prompt_id ORDER BY prompt_id').all()).results;
    expect(totals).toEqual([
      { prompt_id: 'gate-sso', i: 1, c: 0, d: 1 },
      { prompt_id: 'limit-api_calls-90', i: 2, c: 1, d: 0 },
    ]);
    // The days shown a prompt, any prompt ('') and per kind, each with the account's previous such day.
    const days = (await env.DB.prepare('SELECT kind, day, prev_day FROM prompt_shown_days WHERE account_id = ? ORDER BY kind, day').bind(acct).all()).results;
    const dayOf = (n: number) => Math.floor((T0 - n * DAY) / DAY) * DAY;
    expect(days).toEqual([
      { kind: '', day: dayOf(2), prev_day: -1 },
      { kind: '', day: dayOf(1), prev_day: dayOf(2) },
      { kind: 'feature_gate', day: dayOf(2), prev_day: -1 },
      { kind: 'limit_notice', day: dayOf(1), prev_day: -1 },
    ]);
    // One row per UTC day (midnight), not per event time.
    const daily = (await env.DB.prepare('SELECT day, prompt_id, impressions FROM prompt_daily WHERE account_id = ? ORDER BY day').bind(acct).all<{ day: number }>()).results;
    expect(daily).toHaveLength(2);
    for (const d of [...daily, ...days]) expect(Number(d.day) % DAY).toBe(0);
    // A second run finds nothing new and counts nothing twice; the funnel reads the same sums.
    expect((await runScheduled(env, T0)).rollups_current).toBe(true);
    const funnel = await api('GET', `/v1/admin/analytics/funnel?from=${T0 - 5 * DAY}&to=${T0 + DAY}`, { token: ADMIN });
    expect(funnel.json.rows.map((r: { prompt_id: string; impressions: number; clicks: number }) => [r.prompt_id, r.impressions, r.clicks])).toEqual([
      ['limit-api_calls-90', 2, 1],
      ['gate-sso', 1, 0],
    ]);
    // (these runs did today's PQA pass too; the next test starts a day's pass of its own)
    await env.DB.prepare("DELETE FROM settings WHERE key = 'pqa_recompute'").run();
  });

  it('each run leaves an end mark after its last step (retention), with when it started and ended and how many steps failed', async () => {
    const mark = async () => {
      const row = await env.DB.prepare(`SELECT value FROM settings WHERE key = 'cron_run'`).first<{ value: string }>();
      return row ? (JSON.parse(row.value) as { started_at: number; finished_at: number; errors: number }) : null;
    };
    const before = Date.now();
    await runScheduled(env, T0 + 5 * DAY);
    const first = await mark();
    expect(first).toMatchObject({ started_at: T0 + 5 * DAY, errors: 0 });
    expect(first!.finished_at).toBeGreaterThanOrEqual(before);
    // The retention sweep's position, written by the last step, is there by then.
    expect(await env.DB.prepare(`SELECT count(*) AS n FROM settings WHERE key = 'retention_scan'`).first<{ n: number }>()).toEqual({ n: 1 });
    await runScheduled(env, T0 + 6 * DAY);
    expect((await mark())!.started_at).toBe(T0 + 6 * DAY);
  });

  it('recomputes every account once per UTC day, resuming a pass cut short', async () => {
    const ids = await Promise.all(Array.from({ length: 5 }, async () => {
      const acct = uid('daily');
      await seedAccount(acct);
      return acct;
    }));
    const db = database(env.DB);
    expect(await runDailyRecompute(db, T0, 2)).toMatchObject({ ran: true, done: true }); // pages of 2 accounts
    expect((await runScheduled(env, T0 + 3_600_000)).pqa).toEqual({ ran: false, scored: 0, done: true });
    const next = await runScheduled(env, T0 + DAY);
    expect(next.pqa.ran).toBe(true);
    expect(next.pqa.scored).toBeGreaterThanOrEqual(ids.length);

    // A pass cut short after the account at the cursor resumes there, the same day.
    await env.DB.prepare(`UPDATE settings SET value = ? WHERE key = 'pqa_recompute'`)
      .bind(JSON.stringify({ day: Math.floor((T0 + 2 * DAY) / DAY), cursor: ids.sort()[2], done: false }))
      .run();
    const resumed = await runDailyRecompute(db, T0 + 2 * DAY);
    const after = await env.DB.prepare(`SELECT count(*) AS n FROM accounts WHERE id > ?`).bind(ids[2]).first<{ n: number }>();
    expect(resumed).toEqual({ ran: true, scored: after!.n, done: true });
  });

  it('the worker\'s scheduled handler scores, queues and delivers a sales-ready entry in one run', async () => {
    const key = uid('slack');
    await api('PUT', `/v1/admin/webhooks/${key}`, { token: ADMIN, body: { url: receiverUrl(key), format: 'slack', events: ['pqa.sales_ready'] } });
    const acct = uid();
    await seedAccount(acct, { name: 'Globex' });
    // Events written straight to D1 (as a bulk import would), so only the cron scores them.
    await env.DB.prepare(
      `INSERT INTO track_events (account_id, idempotency_key, event, timestamp, batch_id)
       SELECT ?, value, value, ?, 'import' FROM json_each(?)`,
    )
      .bind(acct, T0 - DAY, JSON.stringify(['core_feature_activated', 'api_integration_built', 'admin_settings_configured', 'limit_hit']))
      .run();
    const now = T0 + 5 * DAY; // a day no other test has run the daily pass on
    vi.setSystemTime(now);
    const waits: Promise<unknown>[] = [];
    worker.scheduled({ scheduledTime: now, cron: '*/15 * * * *' }, env, { waitUntil: (p) => waits.push(p) });
    await Promise.all(waits);

    const [got] = await received(key);
    const body = JSON.parse(got!.body);
    expect(body.text).toBe('Globex is sales-ready (PQA score 90)');
    expect(body.blocks[0].text.text).toBe('*Globex* entered *sales-ready* with a PQA score of *90*.');
    expect(body.blocks[2].elements[0].text).toContain('API integration built (+30)');
    const row = await env.DB.prepare(`SELECT attempts, delivered_at FROM webhook_outbox WHERE webhook_id = ?`).bind(key).first();
    expect(row).toEqual({ attempts: 1, delivered_at: now });
  });
});
