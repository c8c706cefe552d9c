import { describe, expect, it } from 'vitest';
import { ADMIN, api, DAY, env, seedAccount } from '../test/api';

const H = 3_600_000;
let n = 0;

/** Prompt events as the widget stores them (inserted directly, so their times can be in the past). */
async function events(rows: { account: string; user?: string; type: string; prompt: string | null; at: number; variant?: string; experiment?: string }[]) {
  await env.DB.batch(
    rows.map((r) =>
      env.DB.prepare(
        `INSERT INTO prompt_events (account_id, idempotency_key, user_id, session_id, type, prompt_id, variant_id, experiment_id, feature_id, timestamp)
         VALUES (?, ?, ?, 's1', ?, ?, ?, ?, NULL, ?)`,
      ).bind(r.account, `k${++n}`, r.user ?? 'u1', r.type, r.prompt, r.variant ?? null, r.experiment ?? null, r.at),
    ),
  );
}

/** MRR ledger rows as billing writes them. */
async function ledger(rows: { account: string; at: number; before: number; after: number; source?: string; prompt?: string; variant?: string; experiment?: string }[]) {
  await env.DB.batch(
    rows.map((r) =>
      env.DB.prepare(
        `INSERT INTO mrr_ledger (account_id, at, kind, mrr_before_cents, mrr_after_cents, source, prompt_id, variant_id, experiment_id, dedupe_key)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).bind(r.account, r.at, r.after > r.before ? 'expansion' : 'contraction', r.before, r.after, r.source ?? 'self_serve', r.prompt ?? null, r.variant ?? null, r.experiment ?? null, `d${++n}`),
    ),
  );
}

const admin = (path: string, headers: Record<string, string> = {}) => api('GET', path, { token: ADMIN, headers });

describe('prompt funnel', () => {
  const day = Date.UTC(2026, 2, 2); // a Monday
  const q = `from=${new Date(day).toISOString()}&to=${new Date(day + 2 * DAY).toISOString()}`;

  it('counts impressions → clicks → previews → upgrades per prompt and variant, with step conversion', async () => {
    const p = 'limit-api_calls-90';
    await events([
      ...['f1', 'f2', 'f3', 'f4'].map((account) => ({ account, type: 'impression', prompt: p, at: day + H, experiment: 'exp1', variant: 'a' })),
      { account: 'f1', type: 'click', prompt: p, at: day + 2 * H, experiment: 'exp1', variant: 'a' },
      { account: 'f2', type: 'click', prompt: p, at: day + DAY + 2 * H, experiment: 'exp1', variant: 'a' },
      { account: 'f3', type: 'dismiss', prompt: p, at: day + 2 * H, experiment: 'exp1', variant: 'a' },
      { account: 'f5', type: 'impression', prompt: p, at: day + H, experiment: 'exp1', variant: 'b' },
      { account: 'f6', type: 'impression', prompt: p, at: day + H, experiment: 'exp1', variant: 'b' },
      ...['f1', 'f2', 'f3'].map((account) => ({ account, type: 'impression', prompt: 'invite-seats', at: day + 5 * H })),
      { account: 'f1', type: 'click', prompt: 'invite-seats', at: day + 6 * H },
      // outside the range: the day before and the day after
      { account: 'f1', type: 'impression', prompt: p, at: day - H, experiment: 'exp1', variant: 'a' },
      { account: 'f1', type: 'impression', prompt: p, at: day + 2 * DAY, experiment: 'exp1', variant: 'a' },
    ]);
    await ledger([
      { account: 'f1', at: day + 3 * H, before: 5000, after: 20000, prompt: p, experiment: 'exp1', variant: 'a' },
      { account: 'f4', at: day + 3 * H, before: 5000, after: 20000, source: 'sales', prompt: p, experiment: 'exp1', variant: 'a' },
    ]);
    const res = await admin(`/v1/admin/analytics/funnel?${q}`);
    expect(res.status).toBe(200);
    expect(res.json.from).toBe('2026-03-02T00:00:00.000Z');
    expect(res.json.to).toBe('2026-03-04T00:00:00.000Z');
    expect(res.json.rows).toEqual([
      { prompt_id: p, kind: 'limit_notice', experiment_id: 'exp1', variant_id: 'a', impressions: 4, clicks: 2, previews: 2, upgrades: 1, expansion_mrr_cents: 15000, click_rate: 0.5, preview_rate: 1, upgrades_per_preview: 0.5 },
      { prompt_id: 'invite-seats', kind: 'invite', experiment_id: null, variant_id: null, impressions: 3, clicks: 1, previews: 0, upgrades: 0, expansion_mrr_cents: 0, click_rate: 1 / 3, preview_rate: 0, upgrades_per_preview: null },
      { prompt_id: p, kind: 'limit_notice', experiment_id: 'exp1', variant_id: 'b', impressions: 2, clicks: 0, previews: 0, upgrades: 0, expansion_mrr_cents: 0, click_rate: 0, preview_rate: null, upgrades_per_preview: null },
    ]);
    const one = await admin(`/v1/admin/analytics/funnel?${q}&prompt_id=invite-seats`);
    expect(one.json.rows.map((r: { prompt_id: string }) => r.prompt_id)).toEqual(['invite-seats']);
  });

  it('events that arrive later, even back-dated, are counted on the next read', async () => {
    await events([{ account: 'f7', type: 'impression', prompt: 'invite-seats', at: day + 7 * H }]);
    const res = await admin(`/v1/admin/analytics/funnel?${q}&prompt_id=invite-seats`);
    expect(res.json.rows[0]).toMatchObject({ impressions: 4, clicks: 1 });
  });

  it('answers CSV with Accept: text/csv', async () => {
    const res = await api('GET', `/v1/admin/analytics/funnel?${q}&prompt_id=invite-seats`, { token: ADMIN, headers: { accept: 'text/csv' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="funnel.csv"');
    expect(res.json).toBe(
      'prompt_id,kind,experiment_id,variant_id,impressions,clicks,previews,upgrades,expansion_mrr_cents,click_rate,preview_rate,upgrades_per_preview\r\n' +
        'invite-seats,invite,,,4,1,0,0,0,0.25,0,\r\n',
    );
  });

  it('refuses a bad range and unknown parameters, naming the field', async () => {
    const bad = await admin(`/v1/admin/analytics/funnel?from=2026-03-05&to=2026-03-01`);
    expect(bad.status).toBe(400);
    expect(bad.json.error.details[0].path).toBe('from');
    const typo = await admin(`/v1/admin/analytics/funnel?prompt=x`);
    expect(typo.status).toBe(400);
    expect(typo.json.error.details[0].path).toBe('prompt');
    expect((await admin(`/v1/admin/analytics/funnel?from=yesterday`)).json.error.details[0].path).toBe('from');
  });
});

describe('self-serve upgrade rate', () => {
  const monday = Date.UTC(2026, 3, 6);

  it('per day: accounts shown a prompt that upgraded self-serve ÷ accounts shown a prompt, in each bucket', async () => {
    await events([
      { account: 'r1', type: 'impression', prompt: 'limit-api_calls-90', at: monday + H },
      { account: 'r1', type: 'impression', prompt: 'gate-sso', at: monday + 2 * H },
      { account: 'r2', type: 'impression', prompt: 'limit-api_calls-90', at: monday + H },
      { account: 'r3', type: 'impression', prompt: 'invite-seats', at: monday + H },
      { account: 'r4', type: 'click', prompt: 'invite-seats', at: monday + H }, // a click alone is not "shown"
      { account: 'r1', type: 'impression', prompt: 'limit-api_calls-90', at: monday + DAY + H },
      { account: 'r5', type: 'impression', prompt: 'limit-api_calls-90', at: monday + 8 * DAY },
    ]);
    await ledger([
      { account: 'r1', at: monday + 10 * H, before: 5000, after: 20000, prompt: 'limit-api_calls-90' },
      { account: 'r1', at: monday + 11 * H, before: 20000, after: 80000, prompt: 'gate-sso' },
      { account: 'r2', at: monday + 10 * H, before: 5000, after: 20000, source: 'sales' },
      { account: 'r3', at: monday + 10 * H, before: 20000, after: 5000 },
      { account: 'r3', at: monday + DAY + 10 * H, before: 5000, after: 6000 },
    ]);
    const res = await admin(`/v1/admin/analytics/upgrades?from=2026-04-06&to=2026-04-09&interval=day`);
    expect(res.status).toBe(200);
    expect(res.json.series).toEqual([
      { start: '2026-04-06T00:00:00.000Z', eligible_accounts: 3, upgraded_accounts: 1, rate: 1 / 3 },
      // r3 upgraded on the 7th but was shown a prompt only on the 6th
      { start: '2026-04-07T00:00:00.000Z', eligible_accounts: 1, upgraded_accounts: 0, rate: 0 },
      { start: '2026-04-08T00:00:00.000Z', eligible_accounts: 0, upgraded_accounts: 0, rate: null },
    ]);
    expect(res.json.total).toEqual({ eligible_accounts: 3, upgraded_accounts: 2, rate: 2 / 3 });
    // The revenue answer uses the same definition, so the dashboard's two figures agree.
    const revenue = await admin(`/v1/admin/analytics/revenue?from=2026-04-06&to=2026-04-09`);
    expect(revenue.json.self_serve).toEqual(res.json.total);
    // Per kind, a rate: accounts that upgraded after a prompt of the kind ÷ accounts shown that kind.
    expect(res.json.by_kind).toEqual([
      { kind: 'feature_gate', accounts_shown: 1, upgraded_accounts: 1, rate: 1, upgrades: 1, expansion_mrr_cents: 60000 },
      { kind: 'limit_notice', accounts_shown: 2, upgraded_accounts: 1, rate: 0.5, upgrades: 1, expansion_mrr_cents: 15000 },
      { kind: 'no_prompt', accounts_shown: null, upgraded_accounts: 1, rate: null, upgrades: 1, expansion_mrr_cents: 1000 },
      { kind: 'invite', accounts_shown: 1, upgraded_accounts: 0, rate: 0, upgrades: 0, expansion_mrr_cents: 0 },
    ]);
    expect(res.json.benchmark).toEqual({ low: 0.03, high: 0.07, interval: 'month' });
    const csv = await api('GET', `/v1/admin/analytics/upgrades?from=2026-04-06&to=2026-04-09&by=kind`, { token: ADMIN, headers: { accept: 'text/csv' } });
    expect(csv.json).toBe(
      'kind,accounts_shown,upgraded_accounts,rate,upgrades,expansion_mrr_cents\r\n' +
        'feature_gate,1,1,1,1,60000\r\nlimit_notice,2,1,0.5,1,15000\r\nno_prompt,,1,,1,1000\r\ninvite,1,0,0,0,0\r\n',
    );
  });

  it('per month: calendar-month buckets, the same rule', async () => {
    const res = await admin(`/v1/admin/analytics/upgrades?from=2026-04-06&to=2026-04-20&interval=month`);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ from: '2026-04-01T00:00:00.000Z', to: '2026-05-01T00:00:00.000Z', interval: 'month' });
    // r1, r2, r3 and r5 were shown a prompt in April; r1 and r3 upgraded self-serve in April after one.
    expect(res.json.series).toEqual([{ start: '2026-04-01T00:00:00.000Z', eligible_accounts: 4, upgraded_accounts: 2, rate: 0.5 }]);
    const year = await admin(`/v1/admin/analytics/upgrades?from=2026-01-15&to=2026-12-31&interval=month`);
    expect(year.json.series.map((b: { start: string }) => b.start.slice(0, 10))).toEqual(
      ['01', '02', '03', '04', '05', '06', '07', '08', '09', '10', '11', '12'].map((m) => `2026-${m}-01`),
    );
    expect(year.json.series[3]).toEqual(res.json.series[0]);
    expect((await admin(`/v1/admin/analytics/upgrades?interval=quarter`)).status).toBe(400);
  });

  it('per week: buckets start on Monday (UTC) and count each account once', async () => {
    const res = await admin(`/v1/admin/analytics/upgrades?from=2026-04-08&to=2026-04-15&interval=week`);
    expect(res.json.from).toBe('2026-04-06T00:00:00.000Z');
    expect(res.json.to).toBe('2026-04-20T00:00:00.000Z');
    expect(res.json.series).toEqual([
      { start: '2026-04-06T00:00:00.000Z', eligible_accounts: 3, upgraded_accounts: 2, rate: 2 / 3 },
      { start: '2026-04-13T00:00:00.000Z', eligible_accounts: 1, upgraded_accounts: 0, rate: 0 },
    ]);
    const csv = await api('GET', `/v1/admin/analytics/upgrades?from=2026-04-08&to=2026-04-15&interval=week`, { token: ADMIN, headers: { accept: 'text/csv' } });
    expect(csv.json).toBe(`start,eligible_accounts,upgraded_accounts,rate\r\n2026-04-06T00:00:00.000Z,3,2,${2 / 3}\r\n2026-04-13T00:00:00.000Z,1,0,0\r\n`);
  });

  it('refuses more than 1,000 buckets', async () => {
    const res = await admin(`/v1/admin/analytics/upgrades?from=2020-01-01&to=2026-01-01&interval=day`);
    expect(res.status).toBe(400);
  });
});

describe('per-account prompt history', () => {
  it('says which prompts each user saw, clicked, dismissed and snoozed, and when', async () => {
    await seedAccount('hist-acme');
    const t = Date.now() - 5 * DAY;
    await events([
      { account: 'hist-acme', user: 'alice', type: 'impression', prompt: 'limit-api_calls-90', at: t },
      { account: 'hist-acme', user: 'alice', type: 'dismiss', prompt: 'limit-api_calls-90', at: t + H },
      { account: 'hist-acme', user: 'alice', type: 'impression', prompt: 'limit-api_calls-90', at: t + DAY },
      { account: 'hist-acme', user: 'alice', type: 'snooze', prompt: 'limit-api_calls-90', at: t + DAY + H },
      { account: 'hist-acme', user: 'bob', type: 'impression', prompt: 'gate-sso', at: t + 2 * DAY },
      { account: 'hist-acme', user: 'bob', type: 'click', prompt: 'gate-sso', at: t + 2 * DAY + H },
      { account: 'hist-other', user: 'eve', type: 'impression', prompt: 'gate-sso', at: t },
    ]);
    const res = await admin('/v1/admin/accounts/hist-acme/prompt-history');
    expect(res.status).toBe(200);
    expect(res.json.prompts).toEqual([
      { user_id: 'bob', prompt_id: 'gate-sso', kind: 'feature_gate', impressions: 1, clicks: 1, dismisses: 0, snoozes: 0,
        first_seen_at: new Date(t + 2 * DAY).toISOString(), last_seen_at: new Date(t + 2 * DAY).toISOString(), last_event_at: new Date(t + 2 * DAY + H).toISOString() },
      { user_id: 'alice', prompt_id: 'limit-api_calls-90', kind: 'limit_notice', impressions: 2, clicks: 0, dismisses: 1, snoozes: 1,
        first_seen_at: new Date(t).toISOString(), last_seen_at: new Date(t + DAY).toISOString(), last_event_at: new Date(t + DAY + H).toISOString() },
    ]);
    expect(res.json.events).toHaveLength(6);
    expect(res.json.events[0]).toMatchObject({ user_id: 'bob', type: 'click', prompt_id: 'gate-sso' });
    const csv = await api('GET', '/v1/admin/accounts/hist-acme/prompt-history', { token: ADMIN, headers: { accept: 'text/csv' } });
    const lines = csv.json.trim().split('\r\n');
    expect(lines[0]).toBe('user_id,prompt_id,kind,impressions,clicks,dismisses,snoozes,first_seen_at,last_seen_at,last_event_at');
    expect(lines[2]).toBe(`alice,limit-api_calls-90,limit_notice,2,0,1,1,${new Date(t).toISOString()},${new Date(t + DAY).toISOString()},${new Date(t + DAY + H).toISOString()}`);
  });

  it('an unknown account is a 404', async () => {
    const res = await admin('/v1/admin/accounts/nobody-here/prompt-history');
    expect(res.status).toBe(404);
    expect(res.json.error.code).toBe('account_not_found');
  });
});

describe('accounts with PQA', () => {
  it('lists accounts by score, filters by band and name, and exports CSV (formula-safe)', async () => {
    await seedAccount('pqa-hot', { name: '=HYPERLINK("x")' });
    await seedAccount('pqa-cold', { name: 'Cold, Inc.' });
    const now = Date.now();
    await env.DB.batch([
      env.DB.prepare(`INSERT OR REPLACE INTO pqa_scores VALUES ('pqa-hot', 85, 'sales_ready', ?, '["API integration built (+30)"]', ?)`).bind(now, now),
      env.DB.prepare(`INSERT OR REPLACE INTO pqa_scores VALUES ('pqa-cold', 12, 'nurture', ?, '[]', ?)`).bind(now, now),
    ]);
    const all = await admin('/v1/admin/accounts?q=pqa-');
    expect(all.json.accounts.map((a: { account_id: string }) => a.account_id)).toEqual(['pqa-hot', 'pqa-cold']);
    expect(all.json.accounts[0]).toMatchObject({ score: 85, band: 'sales_ready', top_signals: ['API integration built (+30)'], plan_id: 'starter' });
    const ready = await admin('/v1/admin/accounts?band=sales_ready&q=pqa-');
    expect(ready.json.accounts.map((a: { account_id: string }) => a.account_id)).toEqual(['pqa-hot']);
    const csv = await api('GET', '/v1/admin/accounts?q=pqa-', { token: ADMIN, headers: { accept: 'text/csv' } });
    const lines = csv.json.trim().split('\r\n');
    expect(lines[1]).toMatch(/^pqa-hot,"'=HYPERLINK\(""x""\)",starter,active,5,85,sales_ready,/);
    expect(lines[2]).toMatch(/^pqa-cold,"Cold, Inc\.",starter,active,5,12,nurture,/);
    expect((await admin('/v1/admin/accounts?band=hot')).status).toBe(400);
  });

  it('pages in score order, ties by id, then accounts not scored yet by id (only when no score filter excludes them)', async () => {
    const ids = ['rank-a', 'rank-b', 'rank-c', 'rank-d', 'rank-e', 'rank-f'];
    for (const id of ids) await seedAccount(id);
    const now = Date.now();
    const score = (id: string, n: number, band: string) =>
      env.DB.prepare(`INSERT OR REPLACE INTO pqa_scores VALUES (?, ?, ?, ?, '[]', ?)`).bind(id, n, band, now, now);
    // rank-e and rank-f are not scored yet.
    await env.DB.batch([score('rank-c', 40, 'warm'), score('rank-a', 40, 'warm'), score('rank-d', 90, 'sales_ready'), score('rank-b', 0, 'nurture')]);
    const list = async (query: string) => (await admin(`/v1/admin/accounts?q=rank-${query}`)).json.accounts.map((a: { account_id: string; score: number | null }) => [a.account_id, a.score]);
    expect(await list('')).toEqual([['rank-d', 90], ['rank-a', 40], ['rank-c', 40], ['rank-b', 0], ['rank-e', null], ['rank-f', null]]);
    expect(await list('&limit=5')).toEqual([['rank-d', 90], ['rank-a', 40], ['rank-c', 40], ['rank-b', 0], ['rank-e', null]]);
    expect(await list('&limit=2')).toEqual([['rank-d', 90], ['rank-a', 40]]);
    expect(await list('&min_score=0')).toEqual([['rank-d', 90], ['rank-a', 40], ['rank-c', 40], ['rank-b', 0]]);
    expect(await list('&band=warm')).toEqual([['rank-a', 40], ['rank-c', 40]]);
  });
});
