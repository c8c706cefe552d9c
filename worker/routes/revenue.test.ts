import { afterEach, describe, expect, it, vi } from 'vitest';
import { revenueMetrics, type MrrChange } from '../../shared/revenue';
import { ADMIN, api, DAY, env, seedAccount, uid, userToken } from '../test/api';
import { prng } from '../test/prng';

afterEach(() => {
  vi.useRealTimers();
});

const insertLedger = (r: { account: string; at: number; kind: string; before: number; after: number; source?: string }) =>
  env.DB.prepare(
    `INSERT INTO mrr_ledger (account_id, at, kind, mrr_before_cents, mrr_after_cents, source, dedupe_key) VALUES (?, ?, ?, ?, ?, ?, ?)`,
  ).bind(r.account, r.at, r.kind, r.before, r.after, r.source ?? 'webhook', uid('dedupe')).run();

const revenue = (query: string, headers: Record<string, string> = {}) => api('GET', `/v1/admin/analytics/revenue${query}`, { token: ADMIN, headers });

describe('revenue analytics', () => {
  it('gives NRR 107% for the worked example: 1,000,000 start, +150,000 expansion, −30,000 contraction, −50,000 churn', async () => {
    // A period long before anything else this file writes.
    const from = Date.UTC(2020, 10, 1);
    const to = Date.UTC(2020, 11, 1);
    const before = from - 40 * DAY;
    const [a, b, c, d, e] = ['a', 'b', 'c', 'd', 'e'].map((x) => uid(`rev-${x}`)) as [string, string, string, string, string];
    for (const [account, mrr] of [[a, 600_000], [b, 300_000], [c, 50_000], [d, 50_000]] as const)
      await insertLedger({ account, at: before, kind: 'new', before: 0, after: mrr, source: 'sales' });
    await insertLedger({ account: a, at: from + DAY, kind: 'expansion', before: 600_000, after: 700_000, source: 'self_serve' });
    await insertLedger({ account: a, at: from + 2 * DAY, kind: 'expansion', before: 700_000, after: 750_000, source: 'sales' });
    await insertLedger({ account: b, at: from + 3 * DAY, kind: 'contraction', before: 300_000, after: 270_000 });
    await insertLedger({ account: c, at: from + 4 * DAY, kind: 'churn', before: 50_000, after: 0 });
    await insertLedger({ account: e, at: from + 5 * DAY, kind: 'new', before: 0, after: 20_000 }); // new revenue: not in NRR
    await insertLedger({ account: d, at: to, kind: 'churn', before: 50_000, after: 0 }); // the end is outside the period

    const res = await revenue(`?from=${new Date(from).toISOString()}&to=${to}`);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      from: '2020-11-01T00:00:00.000Z',
      to: '2020-12-01T00:00:00.000Z',
      starting_mrr_cents: 1_000_000,
      expansion_cents: 150_000,
      contraction_cents: 30_000,
      churn_cents: 50_000,
      new_cents: 20_000,
      ending_mrr_cents: 1_090_000,
      expansion_by_source: { self_serve: 100_000, sales: 50_000, webhook: 0 },
    });
    expect(res.json.nrr).toBeCloseTo(1.07, 12);
    expect(res.json.grr).toBeCloseTo(0.92, 12);

    const csv = await revenue(`?from=${from}&to=${to}`, { accept: 'text/csv' });
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const [header, row] = (csv.json as string).trim().split('\r\n').map((line) => line.split(','));
    const record = Object.fromEntries(header!.map((h, i) => [h, row![i]]));
    expect(record).toMatchObject({ starting_mrr_cents: '1000000', expansion_cents: '150000', contraction_cents: '30000', churn_cents: '50000', nrr: '1.07', grr: '0.92', expansion_self_serve_cents: '100000' });
  });

  it('counts a self-serve upgrade as self-serve expansion, and the self-serve upgrade rate of prompted accounts', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const start = Date.UTC(2026, 10, 1);
    vi.setSystemTime(start + 15 * DAY);
    const upgraded = uid();
    const prompted = uid();
    for (const acct of [upgraded, prompted]) await seedAccount(acct, { seats: 0, created_at: start - 90 * DAY, period_start: start, period_end: Date.UTC(2026, 11, 1) });
    for (const acct of [upgraded, prompted])
      await env.DB.prepare(`INSERT INTO prompt_events (account_id, idempotency_key, user_id, session_id, type, prompt_id, timestamp) VALUES (?, 'i1', 'u1', 's1', 'impression', 'p1', ?)`)
        .bind(acct, Date.now() - DAY).run();
    const period = `?from=${start}&to=${Date.UTC(2026, 11, 1)}`;
    const before = (await revenue(period)).json; // other tests' accounts may carry MRR into this period
    const token = await userToken({ acct: upgraded });
    const preview = await api('POST', '/v1/widget/upgrade/preview', { token, body: { plan_id: 'pro' } });
    const done = await api('POST', '/v1/widget/upgrade', { token, body: { plan_id: 'pro', proration_date: preview.json.proration_date, idempotency_key: 'r1' } });
    expect(done.json).toMatchObject({ status: 'succeeded', billing: 'local' });

    const after = (await revenue(period)).json;
    // The upgraded account joins the cohort with its Starter MRR (a baseline row at its creation) and expands to Pro.
    expect(after.starting_mrr_cents - before.starting_mrr_cents).toBe(5000);
    expect(after.expansion_cents - before.expansion_cents).toBe(15000);
    expect(after.expansion_by_source.self_serve - before.expansion_by_source.self_serve).toBe(15000);
    expect(after.self_serve).toEqual({ upgraded_accounts: 1, eligible_accounts: 2, rate: 0.5 });
  });

  it("starts each account from its last change before the period, however many came before it", async () => {
    // A period of its own, long before anything else this file writes.
    const from = Date.UTC(2019, 5, 1);
    const to = Date.UTC(2019, 6, 1);
    const [a, b] = [uid('start-a'), uid('start-b')];
    await insertLedger({ account: a, at: from - 90 * DAY, kind: 'new', before: 0, after: 10_000, source: 'sales' });
    await insertLedger({ account: a, at: from - 60 * DAY, kind: 'expansion', before: 10_000, after: 30_000 });
    await insertLedger({ account: a, at: from - 30 * DAY, kind: 'contraction', before: 30_000, after: 25_000 });
    await insertLedger({ account: b, at: from - 50 * DAY, kind: 'new', before: 0, after: 40_000, source: 'sales' });
    await insertLedger({ account: b, at: from - 10 * DAY, kind: 'churn', before: 40_000, after: 0 });
    await insertLedger({ account: a, at: from + DAY, kind: 'expansion', before: 25_000, after: 50_000 });
    const res = await revenue(`?from=${from}&to=${to}`);
    expect(res.status).toBe(200);
    // a from its last change (25,000, not 10,000 or 30,000); b churned before the period: 0
    expect(res.json).toMatchObject({ starting_mrr_cents: 25_000, expansion_cents: 25_000, contraction_cents: 0, churn_cents: 0 });
  });

  it('needs the admin key and a valid range', async () => {
    expect((await api('GET', '/v1/admin/analytics/revenue', { token: null })).status).toBe(401);
    expect((await revenue('?from=yesterday')).json.error.details[0].path).toBe('from');
    expect((await revenue(`?from=${Date.UTC(2026, 1, 1)}&to=${Date.UTC(2026, 0, 1)}`)).status).toBe(400);
    expect((await revenue('?window=7')).status).toBe(400);
    const empty = await revenue(`?from=${Date.UTC(2000, 0, 1)}&to=${Date.UTC(2000, 1, 1)}`);
    expect(empty.json).toMatchObject({ starting_mrr_cents: 0, nrr: null, grr: null, self_serve: { rate: null } });
  });

  it('equals the rule over the whole ledger, with changes written out of order, at equal times and deleted (generated ledger)', async () => {
    // Years of their own, before anything else this file writes; other files' rows only add to both sides.
    const origin = Date.UTC(2012, 0, 1);
    const span = 400 * DAY;
    const rand = prng(20261202);
    const pick = <T,>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;
    const accounts = Array.from({ length: 30 }, () => uid('gen'));
    const times = Array.from({ length: 40 }, () => origin + Math.floor(rand() * span)); // few distinct times: equal times happen
    const ids: number[] = [];
    for (let i = 0; i < 200; i++) {
      const after = pick([0, 0, 5000, 20000, 80000]);
      const r = await env.DB.prepare(
        `INSERT INTO mrr_ledger (account_id, at, kind, mrr_before_cents, mrr_after_cents, source, dedupe_key) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
      )
        .bind(pick(accounts), pick(times), after === 0 ? 'churn' : 'expansion', pick([0, 5000, 20000]), after, pick(['self_serve', 'sales', 'webhook']), uid('gen-dedupe'))
        .first<{ id: number }>();
      ids.push(r!.id);
      if (rand() < 0.15) await env.DB.prepare('DELETE FROM mrr_ledger WHERE id = ?').bind(ids.splice(Math.floor(rand() * ids.length), 1)[0]).run();
    }
    const rows = (await env.DB.prepare('SELECT * FROM mrr_ledger ORDER BY at, id').all<MrrChange & { id: number; next_at: number | null }>()).results;
    // every row's next_at is its account's next change (by time, then id)
    const nextOf = new Map<number, number | null>();
    const last = new Map<string, (typeof rows)[number]>();
    for (const r of rows) {
      const prev = last.get(r.account_id);
      if (prev) nextOf.set(prev.id, r.at);
      nextOf.set(r.id, null);
      last.set(r.account_id, r);
    }
    expect(rows.map((r) => [r.id, r.next_at])).toEqual(rows.map((r) => [r.id, nextOf.get(r.id)]));
    // revenue over periods of every shape equals the rule over the whole ledger
    const periods: [number, number][] = [[origin, origin + span], [times[3]!, times[3]!], [times[5]!, times[9]!].sort((a, b) => a - b) as [number, number]];
    for (let k = 0; k < 12; k++) periods.push([pick(times) + pick([-1, 0, 1]), pick(times) + pick([-1, 0, 1])].sort((a, b) => a - b) as [number, number]);
    for (const [from, to] of periods) {
      const res = await revenue(`?from=${from}&to=${to}`);
      expect(res.status).toBe(200);
      const { nrr, grr, ...cents } = revenueMetrics(rows, from, to);
      expect(res.json, `period ${from}..${to}`).toMatchObject(cents);
      for (const [got, want] of [[res.json.nrr, nrr], [res.json.grr, grr]]) {
        if (want === null) expect(got).toBeNull();
        else expect(got).toBeCloseTo(want, 12);
      }
    }
    // a row keeps its id, account and time: next_at could not follow a move
    await expect(env.DB.prepare('UPDATE mrr_ledger SET at = at + 1 WHERE id = ?').bind(ids[0]).run()).rejects.toThrow(/keep their id, account and time/);
  });
});
