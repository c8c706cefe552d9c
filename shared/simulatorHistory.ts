/**
 * Generated history for the rule simulator's reproduction test and its bench: accounts played
 * forward in time as the worker serves them — exact usage at every visit, the engine asked
 * through the worker's own input builder (`servePrompts`) at each page load and gate hit, one
 * impression per prompt per session, users who click, dismiss or snooze at random — and what
 * the worker would have stored of it (usage per day, prompt events). Deterministic per seed.
 */
import type { PromptHistoryEvent } from './promptEngine';
import { historyWindow, servePrompts } from './promptInput';
import { defaultPrompts, type PromptDefinition } from './prompts';
import type { Catalog } from './schemas';
import { metricLimit } from './entitlements';
import { DAY, UsageBook, type DailyUsage, type SimulatedAccount, type SimulationHistory } from './simulator';

const HOUR = 3_600_000;
/** The first day of generated windows (UTC midnight). */
export const FROM = Date.UTC(2026, 8, 1);

/** Three plans, a counter and two gauges. */
export const catalog: Catalog = {
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

/** A stored prompt event with its account. */
export type Stored = PromptHistoryEvent & { account_id: string };

/**
 * Plays accounts forward in time as the worker serves them: exact usage at every visit, the
 * engine asked at each page load and gate hit, one impression per prompt per session, and
 * users who click, dismiss or snooze at random. Returns what the worker would have stored.
 */
export interface GenerateOptions {
  /** The rules the worker served under (default: the built-in definitions). */
  definitions?: readonly PromptDefinition[];
  /**
   * The use the worker saw at each visit: `exact` (the default, as it happens), or `daily` —
   * what a replay reconstructs from the day's totals (`UsageBook`), to show that everything
   * else in a replay matches the worker exactly.
   */
  usage?: 'exact' | 'daily';
}

export function generateHistory(seed: number, accounts: number, days: number, lookback: number, options: GenerateOptions = {}): { history: SimulationHistory; stored: Stored[] } {
  const definitions = options.definitions ?? defaultPrompts;
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
    const reconstructed = options.usage === 'daily' ? new UsageBook([...daily.values()], catalog, { ...row, usage: [], activation_events: [], events: [] }) : null;
    const seen = (metric: string, t: number) => (reconstructed ? reconstructed.used(metric, t) : usedAt(metric, t));
    const accountEvents: Stored[] = [];
    const users = Array.from({ length: 1 + Math.floor(r() * 3) }, (_, k) => `${id}-u${k}`);
    const next = catalog.plans.find((p) => p.rank > plan.rank)!;
    for (const user of users) {
      const history: PromptHistoryEvent[] = [];
      const lifetime: Record<string, number> = {};
      for (let t = start; t < to; t += DAY) {
        if (r() < 0.5) continue;
        const session = `${user}-${t}`;
        const begin = t + Math.floor(r() * 20 * HOUR);
        const moments: { t: number; gate?: string }[] = [{ t: begin }];
        if (r() < 0.2) moments.push({ t: begin + 10 * 60_000, gate: ['sso', 'audit_log', 'seats'][Math.floor(r() * 3)]! });
        if (r() < 0.3) moments.push({ t: begin + 3 * HOUR });
        const shown = new Set<string>();
        for (const moment of moments) {
          if (moment.gate) {
            history.push({ prompt_id: '', type: 'gate_hit', session_id: session, user_id: user, feature_id: moment.gate, timestamp: moment.t });
          }
          // The worker's path: its history window, lifetime counts and cap periods, built by the shared input builder.
          const prompts = servePrompts({
            now: moment.t,
            session_id: session,
            user_id: user,
            locale: 'en-US',
            activated: activated !== null && activated <= moment.t,
            definitions,
            meters: catalog.metrics.map((m) => ({
              metric: m.id,
              name: m.name,
              used: seen(m.id, moment.t),
              limit: metricLimit(plan, m.id, row),
              cap_period_start: periodOf(moment.t),
            })),
            seats: { used: seen('seats', moment.t), limit: metricLimit(plan, 'seats', row) },
            features: Object.fromEntries(
              catalog.features.map((f) => [f.id, { name: f.name, entitled: plan.features.includes(f.id), required_plan: 'business', required_plan_name: 'Business' }]),
            ),
            plan: { id: plan.id, name: plan.name },
            next_plan: { id: next.id, name: next.name },
            history: historyWindow(history, moment.t),
            lifetime,
          }).prompts;
          for (const p of prompts) {
            if (shown.has(p.id)) continue;
            shown.add(p.id);
            history.push({ prompt_id: p.id, type: 'impression', session_id: session, user_id: user, timestamp: moment.t });
            lifetime[p.id] = (lifetime[p.id] ?? 0) + 1;
            const roll = r();
            const reaction = roll < 0.1 ? 'click' : roll < 0.4 ? 'dismiss' : roll < 0.5 ? 'snooze' : null;
            if (reaction) history.push({ prompt_id: p.id, type: reaction, session_id: session, user_id: user, timestamp: moment.t + 60_000 });
          }
        }
      }
      for (const e of history) accountEvents.push({ ...e, account_id: id });
    }
    for (const e of accountEvents) stored.push(e);
    simulated.push({
      ...row,
      usage: [...daily.values()],
      activation_events: activated === null ? [] : [{ event: 'core_feature_activated', timestamp: activated }],
      events: accountEvents,
    });
  }
  return { history: { from, to, catalog, accounts: simulated }, stored };
}


/**
 * Stored history in bulk for the simulator's bench (`npm run bench`): `accounts` accounts with
 * `usersPerAccount` users each, `days` days of window after 30 of lookback. Usage per day as the
 * worker stores it; a user's recorded sessions are the days their account is past half a limit
 * (about one day in ten each), each with the notice of the highest threshold crossed, a gate hit
 * now and then, and a reaction to about half of what was shown. Built without the engine, so
 * large inputs are quick to make; `generateHistory` is the one that plays the worker.
 */
export function benchHistory(seed: number, accounts: number, usersPerAccount: number, days: number): SimulationHistory {
  const r = rng(seed);
  const lookback = 30;
  const from = FROM;
  const to = FROM + days * DAY;
  const start = from - lookback * DAY;
  const out: SimulatedAccount[] = [];
  const length = 30 * DAY;
  for (let i = 0; i < accounts; i++) {
    const id = `acct-${i}`;
    const plan = catalog.plans[r() < 0.8 ? 0 : 1]!;
    const anchor = start - Math.floor(r() * 30) * DAY;
    const current = anchor + Math.floor((to - anchor) / length) * length;
    const periodOf = (t: number) => anchor + Math.floor((t - anchor) / length) * length;
    const limit = plan.limits.api_calls!;
    const dailyRate = (limit / 30) * (0.3 + r() * 1.5);
    const usage: DailyUsage[] = [];
    const pctByDay: number[] = [];
    let used = 0;
    let period = periodOf(start);
    for (let t = start; t < to; t += DAY) {
      if (periodOf(t) !== period) {
        period = periodOf(t);
        used = 0;
      }
      const added = Math.round(dailyRate * (0.5 + r()));
      used += added;
      pctByDay.push((used / limit) * 100);
      usage.push({ metric: 'api_calls', day: t, period_start: period, added, set: null });
      if (t === start || r() < 0.05) usage.push({ metric: 'seats', day: t, period_start: 0, added: 0, set: 1 + Math.floor(r() * 6) });
      if (t === start || r() < 0.05) usage.push({ metric: 'projects', day: t, period_start: 0, added: 0, set: Math.floor(r() * 4) });
    }
    const events: PromptHistoryEvent[] = [];
    for (let u = 0; u < usersPerAccount; u++) {
      const user = `${id}-u${u}`;
      pctByDay.forEach((pct, d) => {
        if (pct < 50 || r() >= 0.1) return;
        const t = start + d * DAY + Math.floor(r() * 20 * HOUR);
        const session = `${user}-${d}`;
        const threshold = pct >= 100 ? 100 : pct >= 90 ? 90 : pct >= 75 ? 75 : 50;
        const prompt = `limit-api_calls-${threshold}`;
        if (r() < 0.05) events.push({ prompt_id: '', type: 'gate_hit', session_id: session, user_id: user, feature_id: r() < 0.5 ? 'sso' : 'audit_log', timestamp: t });
        events.push({ prompt_id: prompt, type: 'impression', session_id: session, user_id: user, timestamp: t });
        const roll = r();
        const reaction = roll < 0.1 ? 'click' : roll < 0.4 ? 'dismiss' : roll < 0.5 ? 'snooze' : null;
        if (reaction) events.push({ prompt_id: prompt, type: reaction, session_id: session, user_id: user, timestamp: t + 60_000 });
      });
    }
    out.push({
      id,
      plan_id: plan.id,
      seats: 0,
      created_at: start - 100 * DAY,
      period_start: current,
      period_end: current + length,
      usage,
      activation_events: r() < 0.9 ? [{ event: 'core_feature_activated', timestamp: start - Math.floor(r() * 50) * DAY }] : [],
      events,
    });
  }
  return { from, to, catalog, accounts: out };
}
