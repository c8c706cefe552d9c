import { describe, expect, it } from 'vitest';
import { eligiblePrompts, type PromptHistoryEvent } from './promptEngine';
import { defaultPrompts, promptDefinitionSchema, type PromptDefinition } from './prompts';
import type { Catalog } from './schemas';
import { metricLimit } from './entitlements';
import {
  activatedAt,
  DAY,
  REPRODUCTION_TOLERANCE,
  simulate,
  type ActivationRule,
  type DailyUsage,
  type SimulatedAccount,
  type SimulationHistory,
} from './simulator';
import { projectUpgrades, type ObservedPrompt } from './upgradeProjection';

const HOUR = 3_600_000;
const FROM = Date.UTC(2026, 8, 1);
/** Day 1 of the window at `hour`. */
const at = (day: number, hour = 12) => FROM + (day - 1) * DAY + hour * HOUR;
const CORE: ActivationRule = { events: ['core_feature_activated'], min_events: 1, min_age_days: 0 };

const catalog: Catalog = {
  metrics: [
    { id: 'api_calls', name: 'API calls', unit: 'call', kind: 'counter', reset: 'billing_period' },
    { id: 'seats', name: 'Seats', unit: 'seat', kind: 'gauge', reset: 'billing_period' },
    { id: 'projects', name: 'Projects', unit: 'project', kind: 'gauge', reset: 'billing_period' },
  ],
  features: [
    { id: 'sso', name: 'Single sign-on', description: '', trial_days: 14 },
    { id: 'audit_log', name: 'Audit log', description: '', trial_days: 0 },
  ],
  plans: [
    { id: 'starter', name: 'Starter', rank: 1, currency: 'usd', price_cents: 5000, interval: 'month', stripe_price_id: null, seat_price_cents: 0, stripe_seat_price_id: null, hidden: false, limits: { api_calls: 10000, seats: 5, projects: 3 }, features: [] },
    { id: 'pro', name: 'Pro', rank: 2, currency: 'usd', price_cents: 20000, interval: 'month', stripe_price_id: null, seat_price_cents: 0, stripe_seat_price_id: null, hidden: false, limits: { api_calls: 50000, seats: 20, projects: 20 }, features: ['audit_log'] },
    { id: 'business', name: 'Business', rank: 3, currency: 'usd', price_cents: 80000, interval: 'month', stripe_price_id: null, seat_price_cents: 0, stripe_seat_price_id: null, hidden: false, limits: { api_calls: 250000, seats: 100, projects: null }, features: ['audit_log', 'sso'] },
  ],
};

const define = (id: string, input: unknown): PromptDefinition => promptDefinitionSchema.parse({ ...(input as object), id });
const replace = (defs: readonly PromptDefinition[], id: string, change: (d: PromptDefinition) => unknown) =>
  defs.map((d) => (d.id === id ? define(id, change(d)) : d));

const account = (extra: Partial<SimulatedAccount> = {}): SimulatedAccount => ({
  id: 'acme',
  plan_id: 'starter',
  seats: 0,
  created_at: FROM - 200 * DAY,
  period_start: FROM - 10 * DAY,
  period_end: FROM + 20 * DAY,
  usage: [],
  activation_events: [{ event: 'core_feature_activated', timestamp: FROM - 100 * DAY }],
  events: [],
  ...extra,
});

/** api_calls used as of the end of a window day, in the period that started 10 days before the window. */
const apiCalls = (day: number, used: number, periodStart = FROM - 10 * DAY): DailyUsage => ({
  metric: 'api_calls',
  day: FROM + (day - 1) * DAY,
  period_start: periodStart,
  added: used,
  set: null,
});
const gauge = (metric: string, day: number, value: number): DailyUsage => ({ metric, day: FROM + (day - 1) * DAY, period_start: 0, added: 0, set: value });

/** One visit per listed day: the session's first recorded event (a gate hit, so the replay sees the session). */
const visits = (days: number[], user = 'ana', feature = 'nothing'): PromptHistoryEvent[] =>
  days.map((d) => ({ prompt_id: '', type: 'gate_hit', session_id: `s${user}${d}`, user_id: user, feature_id: feature, timestamp: at(d) }));

const history = (accounts: SimulatedAccount[], days = 30): SimulationHistory => ({ from: FROM, to: FROM + days * DAY, catalog, accounts });
const run = (h: SimulationHistory, definitions: readonly PromptDefinition[] = defaultPrompts, activation = CORE) => simulate(h, { definitions, activation });
const promptRow = (r: ReturnType<typeof run>, id: string) => r.prompts.find((p) => p.prompt_id === id);

describe('replaying hand-built histories', () => {
  it('a limit notice at 90% shows once per session and at most 3 times per period, then again in the next period', () => {
    const usage = [apiCalls(1, 9_200), apiCalls(21, 9_500, FROM + 20 * DAY)];
    const h = history([account({ usage, events: visits([2, 3, 4, 5, 6, 22, 23, 24, 25]) })]);
    const r = run(h);
    const notice = promptRow(r, 'limit-api_calls-90')!;
    expect(notice.impressions).toBe(6);
    expect(notice.accounts_shown).toBe(1);
    expect(r.prompt_days.filter((d) => d.prompt_id === 'limit-api_calls-90').map((d) => (d.day - FROM) / DAY + 1)).toEqual([2, 3, 4, 22, 23, 24]);
  });

  it('the session budget of 2 soft prompts holds the third back and counts the session as at the cap', () => {
    // api_calls at 91%, seats at 80% (invite) and projects at 100%: a hard block, exempt from the budget.
    const usage = [apiCalls(1, 9_100), gauge('seats', 1, 4), gauge('projects', 1, 3)];
    const h = history([account({ usage, events: visits([2]) })]);
    const withBlock = run(h);
    expect(withBlock.prompts.filter((p) => p.impressions > 0).map((p) => p.prompt_id).sort()).toEqual(['invite-seats', 'limit-api_calls-90', 'limit-projects-100']);
    expect(withBlock.totals.sessions_at_cap).toBe(0);

    // The same session when the 100% notice is soft: three soft prompts for a budget of two.
    const soft = run(h, replace(defaultPrompts, 'limit-100', (d) => ({ ...d, trigger: { metric: '*', thresholds: [100], blocking: false } })));
    expect(soft.prompts.filter((p) => p.impressions > 0).map((p) => p.prompt_id).sort()).toEqual(['limit-api_calls-90', 'limit-projects-100']);
    expect(promptRow(soft, 'invite-seats')).toMatchObject({ impressions: 0, held_by_session_cap: 1 });
    expect(soft.totals.sessions_at_cap).toBe(1);
    expect(soft.days.find((d) => d.day === FROM + DAY)?.sessions_at_cap).toBe(1);
  });

  it('the third dismissal suppresses the notice for 30 days, and the replay says so', () => {
    const dismissals: PromptHistoryEvent[] = [-3, -2, -1].flatMap((d) => [
      { prompt_id: 'limit-api_calls-90', type: 'impression', session_id: `old${d}`, user_id: 'ana', timestamp: at(d) },
      { prompt_id: 'limit-api_calls-90', type: 'dismiss', session_id: `old${d}`, user_id: 'ana', timestamp: at(d) + 60_000 },
    ]);
    // One long period; the cooldown ends 30 days after the third dismissal, just after noon on day 29.
    const usage = [apiCalls(1, 9_300, FROM - 20 * DAY)];
    const h = history([account({ period_start: FROM - 20 * DAY, period_end: FROM + 40 * DAY, usage, events: [...dismissals, ...visits([5, 12, 30, 31])] })], 31);
    // A total cap of 10, so only the dismissals hold it back.
    const r = run(h, replace(defaultPrompts, 'limit-90', (d) => ({ ...d, caps: { ...d.caps, total: 10 } })));
    const notice = promptRow(r, 'limit-api_calls-90')!;
    expect(notice.suppressed_by_dismissals).toBe(2);
    expect(notice.impressions).toBe(2);
    expect(r.prompt_days.filter((d) => d.impressions > 0).map((d) => (d.day - FROM) / DAY + 1)).toEqual([30, 31]);
  });

  it('a stored dismissal of a prompt the proposal never shows is not replayed', () => {
    const events: PromptHistoryEvent[] = [1, 2, 3].flatMap((d) => [
      { prompt_id: 'limit-api_calls-90', type: 'impression', session_id: `s${d}`, user_id: 'ana', timestamp: at(d) },
      { prompt_id: 'limit-api_calls-90', type: 'dismiss', session_id: `s${d}`, user_id: 'ana', timestamp: at(d) + 60_000 },
    ]);
    const h = history([account({ usage: [apiCalls(0, 9_300)], events: [...events, ...visits([4, 5])] })]);
    const loose = replace(defaultPrompts, 'limit-90', (d) => ({ ...d, caps: { ...d.caps, total: 10 } }));
    expect(promptRow(run(h, loose), 'limit-api_calls-90')).toMatchObject({ impressions: 3, suppressed_by_dismissals: 2 });
    const off = replace(loose, 'limit-90', (d) => ({ ...d, enabled: false }));
    const r = run(h, off);
    expect(promptRow(r, 'limit-api_calls-90')).toBeUndefined();
    expect(r.totals.suppressed_by_dismissals).toBe(0);
  });

  it('an account not yet activated gets only hard blocks; a stricter activation rule reaches fewer accounts', () => {
    const usage = [apiCalls(0, 9_300)];
    const young = account({ id: 'young', created_at: FROM - 5 * DAY, usage, events: visits([1, 2]) });
    const old = account({ id: 'old', usage, events: visits([1, 2]) });
    const noEvent = account({ id: 'none', usage, activation_events: [], events: visits([1]) });
    const h = history([young, old, noEvent]);
    expect(run(h).totals.accounts_shown).toBe(2);
    expect(run(h, defaultPrompts, { ...CORE, min_age_days: 30 }).totals.accounts_shown).toBe(1);
    expect(run(h, defaultPrompts, { ...CORE, min_events: 2 }).totals.accounts_shown).toBe(0);
    expect(run(h, defaultPrompts, { ...CORE, min_events: 0 }).totals.accounts_shown).toBe(3);
    // The young account turns 30 days old on window day 26.
    const later = run(history([account({ ...young, period_end: FROM + 40 * DAY, events: visits([20, 27]) })]), defaultPrompts, { ...CORE, min_age_days: 30 });
    expect(later.prompt_days.map((d) => (d.day - FROM) / DAY + 1)).toEqual([27]);
  });

  it('activatedAt counts the named events up to min_events and waits for the minimum age', () => {
    const a = { created_at: 0, activation_events: [{ event: 'x', timestamp: 5 * DAY }, { event: 'y', timestamp: 6 * DAY }, { event: 'x', timestamp: 9 * DAY }] };
    expect(activatedAt({ events: ['x'], min_events: 2, min_age_days: 0 }, a)).toBe(9 * DAY);
    expect(activatedAt({ events: ['x', 'y'], min_events: 2, min_age_days: 0 }, a)).toBe(6 * DAY);
    expect(activatedAt({ events: ['x', 'y'], min_events: 2, min_age_days: 30 }, a)).toBe(30 * DAY);
    expect(activatedAt({ events: ['z'], min_events: 1, min_age_days: 0 }, a)).toBeNull();
  });

  it('counts accounts crossing each threshold on the day they cross it, again in a new period', () => {
    const usage = [apiCalls(1, 4_000), apiCalls(3, 1_500), apiCalls(6, 2_200), apiCalls(7, 1_400), apiCalls(21, 7_700, FROM + 20 * DAY)];
    const r = run(history([account({ usage })]));
    const crossed = (t: number) => r.thresholds.find((x) => x.metric === 'api_calls' && x.threshold === t);
    expect(crossed(50)?.daily.map((d) => (d.day - FROM) / DAY + 1)).toEqual([3, 21]);
    expect(crossed(75)?.daily.map((d) => (d.day - FROM) / DAY + 1)).toEqual([6, 21]);
    expect(crossed(90)?.daily.map((d) => (d.day - FROM) / DAY + 1)).toEqual([7]);
    expect(crossed(90)?.accounts).toBe(1);
    expect(crossed(100)).toBeUndefined();
  });

  it('a looser cap shows more and a disabled prompt shows nothing, on the same history', () => {
    const h = history([account({ usage: [apiCalls(1, 9_300)], events: visits([2, 3, 4, 5, 6, 7]) })]);
    const looser = replace(defaultPrompts, 'limit-90', (d) => ({ ...d, caps: { ...d.caps, total: 10 } }));
    expect(promptRow(run(h), 'limit-api_calls-90')?.impressions).toBe(3);
    expect(promptRow(run(h, looser), 'limit-api_calls-90')?.impressions).toBe(6);
  });
});

// ---------------------------------------------------------------- generated history

/** mulberry32: a small deterministic PRNG. */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type UsageEvent = { metric: string; value: number; mode: 'increment' | 'set'; timestamp: number; period_start: number };

/**
 * Plays accounts forward in time as the worker serves them: exact usage at every visit, the
 * engine asked at each page load and gate hit, one impression per prompt per session, and
 * users who click, dismiss or snooze at random. Returns what the worker would have stored.
 */
type Stored = PromptHistoryEvent & { account_id: string };

function generateHistory(seed: number, accounts: number, days: number, lookback: number): { history: SimulationHistory; stored: Stored[] } {
  const r = rng(seed);
  const from = FROM;
  const to = FROM + days * DAY;
  const start = from - lookback * DAY;
  const simulated: SimulatedAccount[] = [];
  const stored: Stored[] = [];
  for (let i = 0; i < accounts; i++) {
    const id = `acct-${i}`;
    const plan = catalog.plans[r() < 0.8 ? 0 : 1]!;
    const length = 30 * DAY;
    const anchor = start - Math.floor(r() * 30 * DAY);
    const current = anchor + Math.floor((to - anchor) / length) * length;
    const row = { id, plan_id: plan.id, seats: 0, created_at: start - 100 * DAY, period_start: current, period_end: current + length };
    const periodOf = (t: number) => anchor + Math.floor((t - anchor) / length) * length;
    const activated = r() < 0.8 ? start + Math.floor(r() * (to - start) * 0.5) : null;
    const limit = plan.limits.api_calls!;
    const dailyRate = (limit / 30) * (0.3 + r() * 1.5);
    const usage: UsageEvent[] = [];
    for (let t = start; t < to; t += DAY) {
      for (let k = 0; k < 4; k++) {
        const ts = t + Math.floor(r() * DAY);
        usage.push({ metric: 'api_calls', value: Math.round((dailyRate / 4) * (0.5 + r())), mode: 'increment', timestamp: ts, period_start: periodOf(ts) });
      }
      if (r() < 0.05 || t === start) usage.push({ metric: 'seats', value: 1 + Math.floor(r() * 6), mode: 'set', timestamp: t + Math.floor(r() * DAY), period_start: 0 });
      if (r() < 0.05 || t === start) usage.push({ metric: 'projects', value: Math.floor(r() * 4), mode: 'set', timestamp: t + Math.floor(r() * DAY), period_start: 0 });
    }
    usage.sort((a, b) => a.timestamp - b.timestamp);
    // Exact use at any time: per metric, times ascending with running totals.
    const series = new Map(
      catalog.metrics.map((m) => {
        const list = usage.filter((u) => u.metric === m.id);
        let total = 0;
        return [m.id, { kind: m.kind, list, totals: list.map((u) => (total += u.value)) }];
      }),
    );
    const lastAt = (list: UsageEvent[], t: number) => {
      let lo = 0;
      let hi = list.length - 1;
      let found = -1;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        if (list[mid]!.timestamp <= t) {
          found = mid;
          lo = mid + 1;
        } else hi = mid - 1;
      }
      return found;
    };
    const usedAt = (metric: string, t: number) => {
      const { kind, list, totals } = series.get(metric)!;
      const i = lastAt(list, t);
      if (i < 0) return 0;
      if (kind === 'gauge') return list[i]!.value;
      const periodStart = periodOf(t);
      const before = lastAt(list, periodStart - 1);
      return totals[i]! - (before < 0 ? 0 : totals[before]!);
    };
    const users = Array.from({ length: 1 + Math.floor(r() * 3) }, (_, k) => `${id}-u${k}`);
    const next = catalog.plans.find((p) => p.rank > plan.rank)!;
    for (const user of users) {
      const history: PromptHistoryEvent[] = [];
      for (let t = start; t < to; t += DAY) {
        if (r() < 0.5) continue;
        const session = `${user}-${t}`;
        const begin = t + Math.floor(r() * 20 * HOUR);
        const moments: { t: number; gate?: string }[] = [{ t: begin }];
        if (r() < 0.2) moments.push({ t: begin + 10 * 60_000, gate: ['sso', 'audit_log', 'seats'][Math.floor(r() * 3)]! });
        if (r() < 0.3) moments.push({ t: begin + 3 * HOUR });
        const gates: string[] = [];
        const shown = new Set<string>();
        for (const moment of moments) {
          if (moment.gate) {
            gates.push(moment.gate);
            history.push({ prompt_id: '', type: 'gate_hit', session_id: session, user_id: user, feature_id: moment.gate, timestamp: moment.t });
          }
          const seats = { used: usedAt('seats', moment.t), limit: metricLimit(plan, 'seats', row) };
          const prompts = eligiblePrompts({
            now: moment.t,
            session_id: session,
            user_id: user,
            locale: 'en-US',
            activated: activated !== null && activated <= moment.t,
            definitions: defaultPrompts,
            meters: catalog.metrics.map((m) => ({
              metric: m.id,
              name: m.name,
              used: usedAt(m.id, moment.t),
              limit: metricLimit(plan, m.id, row),
              ...(m.kind === 'counter' && { period_start: periodOf(moment.t) }),
            })),
            seats,
            features: Object.fromEntries(
              catalog.features.map((f) => [f.id, { name: f.name, entitled: plan.features.includes(f.id), required_plan: 'business', required_plan_name: 'Business' }]),
            ),
            plan: { id: plan.id, name: plan.name },
            next_plan: { id: next.id, name: next.name },
            gate_hits_this_session: gates.filter((g) => g !== 'seats'),
            invite_blocked: seats.limit !== null && seats.used >= seats.limit && gates.includes('seats'),
            history,
          }).prompts;
          for (const p of prompts) {
            if (shown.has(p.id)) continue;
            shown.add(p.id);
            history.push({ prompt_id: p.id, type: 'impression', session_id: session, user_id: user, timestamp: moment.t });
            const roll = r();
            const reaction = roll < 0.1 ? 'click' : roll < 0.4 ? 'dismiss' : roll < 0.5 ? 'snooze' : null;
            if (reaction) history.push({ prompt_id: p.id, type: reaction, session_id: session, user_id: user, timestamp: moment.t + 60_000 });
          }
        }
      }
      stored.push(...history.map((e) => ({ ...e, account_id: id })));
    }
    // What the worker loads: usage per day, activation events, and the stored prompt events.
    const daily = new Map<string, DailyUsage>();
    for (const u of usage) {
      const day = Math.floor(u.timestamp / DAY) * DAY;
      const key = `${u.metric}|${day}|${u.period_start}`;
      const d = daily.get(key) ?? { metric: u.metric, day, period_start: u.period_start, added: 0, set: null };
      if (u.mode === 'set') d.set = u.value;
      else d.added += u.value;
      daily.set(key, d);
    }
    simulated.push({
      ...row,
      usage: [...daily.values()],
      activation_events: activated === null ? [] : [{ event: 'core_feature_activated', timestamp: activated }],
      events: stored.filter((e) => e.account_id === id),
    });
  }
  return { history: { from, to, catalog, accounts: simulated }, stored };
}

describe('reproducing what happened', () => {
  it(`under the rules in force, replays the stored impressions of every prompt within ±${REPRODUCTION_TOLERANCE * 100}%`, () => {
    const { history: h, stored } = generateHistory(20261201, 50, 45, 35);
    const result = run(h);
    const inWindow = stored.filter((e) => e.type === 'impression' && e.timestamp >= h.from && e.timestamp < h.to);
    const storedBy = new Map<string, number>();
    for (const e of inWindow) storedBy.set(e.prompt_id, (storedBy.get(e.prompt_id) ?? 0) + 1);
    expect(inWindow.length).toBeGreaterThan(500);
    const simulatedTotal = result.totals.impressions;
    expect(Math.abs(simulatedTotal - inWindow.length) / inWindow.length).toBeLessThanOrEqual(REPRODUCTION_TOLERANCE);
    for (const [prompt, n] of storedBy) {
      if (n < 30) continue;
      const replayed = promptRow(result, prompt)?.impressions ?? 0;
      expect(Math.abs(replayed - n) / n, `${prompt}: stored ${n}, replayed ${replayed}`).toBeLessThanOrEqual(REPRODUCTION_TOLERANCE);
    }
    const accountsStored = new Set(inWindow.map((e) => e.account_id)).size;
    expect(Math.abs(result.totals.accounts_shown - accountsStored) / accountsStored).toBeLessThanOrEqual(REPRODUCTION_TOLERANCE);
  }, 60_000);

  it('a proposal that loosens the caps of the 50% notice shows it more, on the same history', () => {
    const { history: h } = generateHistory(7, 30, 30, 30);
    const current = run(h);
    const looser = run(h, replace(defaultPrompts, 'limit-50', (d) => ({ ...d, caps: { ...d.caps, total: 20, dismiss_limit: 100 } })));
    expect(promptRow(looser, 'limit-api_calls-50')!.impressions).toBeGreaterThan(promptRow(current, 'limit-api_calls-50')!.impressions);
  }, 60_000);
});

describe('projected upgrades', () => {
  const observed: ObservedPrompt[] = [
    { prompt_id: 'limit-api_calls-90', impressions: 400, clicks: 60, accounts_shown: 200, upgrades: 20, expansion_mrr_cents: 20 * 15000 },
    { prompt_id: 'limit-api_calls-75', impressions: 500, clicks: 40, accounts_shown: 300, upgrades: 6, expansion_mrr_cents: 6 * 15000 },
    { prompt_id: 'gate-sso', impressions: 50, clicks: 10, accounts_shown: 50, upgrades: 0, expansion_mrr_cents: 0 },
  ];
  const sim = (accounts: number, prompt_id = 'limit-api_calls-90', threshold: number | null = 90) => [
    { prompt_id, kind: 'limit_notice', threshold, impressions: accounts * 2, accounts_shown: accounts },
  ];

  it('is a range around the observed rate, wider than nothing and growing with the accounts shown', () => {
    const p = projectUpgrades(observed, sim(100));
    expect(p.upgrades.low).toBeLessThan(p.upgrades.expected);
    expect(p.upgrades.expected).toBeCloseTo(10, 5);
    expect(p.upgrades.high).toBeGreaterThan(p.upgrades.expected);
    expect(p.expansion_mrr_cents!.expected).toBeCloseTo(150_000, -1);
    const more = projectUpgrades(observed, sim(150));
    expect(more.upgrades.low).toBeGreaterThan(p.upgrades.low);
    expect(more.upgrades.high).toBeGreaterThan(p.upgrades.high);
  });

  it('a threshold never shown borrows the pooled rate of limit notices and says so', () => {
    const p = projectUpgrades(observed, sim(100, 'limit-api_calls-80', 80));
    expect(p.groups[0]).toMatchObject({ group: 'limit_notice:80', basis: 'kind', exposures: 500, upgrades: 26 });
    expect(p.upgrades.expected).toBeCloseTo(100 * (26 / 500), 5);
  });

  it('with nothing observed at all the range is every account shown, and the value unknown', () => {
    const p = projectUpgrades([], sim(40));
    expect(p.groups[0]?.basis).toBe('none');
    expect(p.upgrades).toMatchObject({ low: 0, high: 40 });
    expect(p.expansion_mrr_cents).toBeNull();
  });
});
