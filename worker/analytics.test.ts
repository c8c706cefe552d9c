/**
 * The roll-up-backed answers of the upgrade rate equal the same figures computed from the raw
 * prompt events, on generated data: per day, ISO week and month, in total, per prompt kind and in
 * the revenue answer (whole days or not) — also after events arrive past a roll-up run, back-dated
 * ones included.
 */
import { describe, expect, it } from 'vitest';
import { ADMIN, api, DAY, env } from './test/api';

const START = Date.UTC(2031, 0, 6); // a Monday
const SPAN = 70; // days of generated events
const PROMPTS: Record<string, string> = {
  'limit-api_calls-90': 'limit_notice',
  'limit-seats-100': 'limit_notice',
  'gate-sso': 'feature_gate',
  'invite-seats': 'invite',
  'milestone-first-report': 'milestone',
};
const TYPES = ['impression', 'impression', 'impression', 'click', 'dismiss', 'snooze'];

/** A small deterministic generator (mulberry32), so a failure reproduces. */
function random(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Event = { account: string; type: string; prompt: string; at: number };
type Upgrade = { account: string; at: number; before: number; after: number; source: string; prompt: string | null };
let key = 0;

async function insertEvents(rows: Event[]) {
  for (let i = 0; i < rows.length; i += 50)
    await env.DB.batch(
      rows.slice(i, i + 50).map((r) =>
        env.DB.prepare(
          `INSERT INTO prompt_events (account_id, idempotency_key, user_id, session_id, type, prompt_id, timestamp) VALUES (?, ?, 'u1', 's1', ?, ?, ?)`,
        ).bind(r.account, `g${++key}`, r.type, r.prompt, r.at),
      ),
    );
}

async function insertLedger(rows: Upgrade[]) {
  await env.DB.batch(
    rows.map((r) =>
      env.DB.prepare(
        `INSERT INTO mrr_ledger (account_id, at, kind, mrr_before_cents, mrr_after_cents, source, prompt_id, dedupe_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ).bind(r.account, r.at, r.after > r.before ? 'expansion' : 'contraction', r.before, r.after, r.source, r.prompt, `g${++key}`),
    ),
  );
}

function generate(rand: () => number, n: number, accounts: number, from: number, days: number): Event[] {
  const prompts = Object.keys(PROMPTS);
  return Array.from({ length: n }, () => ({
    account: `ru${String(Math.floor(rand() * accounts)).padStart(3, '0')}`,
    type: TYPES[Math.floor(rand() * TYPES.length)]!,
    prompt: prompts[Math.floor(rand() * prompts.length)]!,
    at: from + Math.floor(rand() * days * DAY),
  }));
}

/** The figures from the raw events, as the rule reads (DESIGN.md): accounts with an impression in [lo, hi). */
function expected(events: Event[], ledger: Upgrade[], lo: number, hi: number) {
  const shown = new Set(events.filter((e) => e.type === 'impression' && e.at >= lo && e.at < hi).map((e) => e.account));
  const upgraded = new Set(
    ledger.filter((u) => u.source === 'self_serve' && u.after > u.before && u.at >= lo && u.at < hi && shown.has(u.account)).map((u) => u.account),
  );
  const byKind = new Map<string, number>();
  for (const kind of new Set(Object.values(PROMPTS))) {
    const n = new Set(events.filter((e) => e.type === 'impression' && PROMPTS[e.prompt] === kind && e.at >= lo && e.at < hi).map((e) => e.account)).size;
    if (n) byKind.set(kind, n);
  }
  return { eligible: shown.size, upgraded: upgraded.size, byKind };
}

const admin = (path: string) => api('GET', path, { token: ADMIN });
const iso = (t: number) => new Date(t).toISOString();

async function check(events: Event[], ledger: Upgrade[]) {
  for (const [interval, from, to] of [
    ['day', START + 3 * DAY, START + 40 * DAY],
    ['week', START, START + 63 * DAY],
    ['month', Date.UTC(2031, 0, 1), Date.UTC(2031, 3, 1)],
  ] as const) {
    const res = await admin(`/v1/admin/analytics/upgrades?from=${iso(from)}&to=${iso(to)}&interval=${interval}`);
    expect(res.status).toBe(200);
    const starts = res.json.series.map((b: { start: string }) => Date.parse(b.start));
    starts.push(Date.parse(res.json.to));
    res.json.series.forEach((bucket: { eligible_accounts: number; upgraded_accounts: number }, i: number) => {
      const want = expected(events, ledger, starts[i], starts[i + 1]);
      expect([interval, bucket.eligible_accounts, bucket.upgraded_accounts]).toEqual([interval, want.eligible, want.upgraded]);
    });
    const total = expected(events, ledger, Date.parse(res.json.from), Date.parse(res.json.to));
    expect(res.json.total).toMatchObject({ eligible_accounts: total.eligible, upgraded_accounts: total.upgraded });
    const shownBy = Object.fromEntries(
      res.json.by_kind.filter((k: { accounts_shown: number | null }) => k.accounts_shown !== null && k.accounts_shown > 0).map((k: { kind: string; accounts_shown: number }) => [k.kind, k.accounts_shown]),
    );
    expect(shownBy).toEqual(Object.fromEntries(total.byKind));
    // revenue's self-serve counts: the same definition, over whole days and over a range that is not
    const revenue = await admin(`/v1/admin/analytics/revenue?from=${Date.parse(res.json.from)}&to=${Date.parse(res.json.to)}`);
    expect(revenue.json.self_serve).toEqual(res.json.total);
  }
  for (const [lo, hi] of [
    [START + 2 * DAY + 5 * 3_600_000, START + 30 * DAY + 17 * 3_600_000],
    [START + 10 * DAY + 3_600_000, START + 10 * DAY + 20 * 3_600_000],
    [START + 9 * DAY + 20 * 3_600_000, START + 11 * DAY + 2 * 3_600_000],
  ] as const) {
    const want = expected(events, ledger, lo, hi);
    const revenue = await admin(`/v1/admin/analytics/revenue?from=${lo}&to=${hi}`);
    expect(revenue.json.self_serve).toMatchObject({ eligible_accounts: want.eligible, upgraded_accounts: want.upgraded });
  }
}

describe('upgrade-rate roll-ups', () => {
  it('answer exactly what the raw events give, also after late and back-dated events', async () => {
    const rand = random(42);
    const events = generate(rand, 600, 40, START, SPAN);
    const ledger: Upgrade[] = Array.from({ length: 40 }, () => ({
      account: `ru${String(Math.floor(rand() * 45)).padStart(3, '0')}`,
      at: START + Math.floor(rand() * SPAN * DAY),
      before: 5000,
      after: rand() < 0.8 ? 20000 : 1000,
      source: rand() < 0.8 ? 'self_serve' : 'sales',
      prompt: rand() < 0.5 ? 'limit-api_calls-90' : null,
    }));
    await insertEvents(events);
    await insertLedger(ledger);
    await check(events, ledger);
    // Events after that roll-up run: new days at the end, and back-dated ones in between.
    const late = [...generate(rand, 150, 50, START + 50 * DAY, 20), ...generate(rand, 150, 50, START, SPAN)];
    await insertEvents(late);
    events.push(...late);
    await check(events, ledger);
  });
});
