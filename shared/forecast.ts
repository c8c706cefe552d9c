/**
 * Usage forecasts and growth: when a counter will reach its limit at the recent daily rate,
 * and how fast it grows week over week and month over month. Pure: daily totals in (UTC day
 * numbers, `Math.floor(ms / DAY_MS)`), plain data out; time passed in as epoch milliseconds.
 */
import { DAY_MS } from './time';

/** One UTC day's increments of a counter. */
export type DailyUse = { day: number; used: number };

export type Forecast = { limit_at: string | null; days_to_limit: number | null };

/** How many whole days of history the rate looks at, and how far a counter without a period is forecast. */
export const RATE_WINDOW_DAYS = 14;
const NO_PERIOD_HORIZON_DAYS = 365;

/**
 * The recent daily rate of a counter: the 14 whole UTC days before today, the last 7 weighing
 * twice the 7 before. With 14 days each weekday appears once in each week, so a quiet weekend
 * lowers the rate as much on a Monday as on a Friday, while a change of pace still shows within
 * days. Days before the account existed do not count (the day it was created counts for the
 * part of it the account existed). `null` until there is one whole day of history.
 *
 *   today-14 … today-8 | today-7 … today-1 | today (not counted: partial)
 *     weight 1         |   weight 2        |
 *
 * @example dailyRate([{ day: 100, used: 70 }, …], { today: 114, since: 0 }) // 10 for 10 a day
 */
export function dailyRate(daily: DailyUse[], p: { today: number; since: number }): number | null {
  const byDay = new Map<number, number>();
  for (const d of daily) byDay.set(d.day, (byDay.get(d.day) ?? 0) + d.used);
  let weighted = 0;
  let weights = 0;
  let observed = 0;
  for (let back = 1; back <= RATE_WINDOW_DAYS; back++) {
    const day = p.today - back;
    const dayStart = day * DAY_MS;
    const covered = Math.min(1, Math.max(0, (dayStart + DAY_MS - p.since) / DAY_MS));
    if (covered === 0) continue;
    const w = back <= 7 ? 2 : 1;
    weighted += w * (byDay.get(day) ?? 0);
    weights += w * covered;
    observed += covered;
  }
  if (observed < 1 || weights === 0) return null;
  return weighted / weights;
}

/**
 * When a counter reaches its limit at the recent daily rate. `null` dates when it has no limit,
 * no rate yet, no growth, or will not reach the limit before its period ends (a counter that
 * never resets is forecast a year ahead); a counter already at its limit reaches it now.
 * `days_to_limit` counts whole days from now (0: within a day).
 * @example meterForecast({ used: 9000, limit: 10000, periodEnd: Date.UTC(2026, 11, 31), daily, since, now: Date.UTC(2026, 11, 6) })
 *          // { limit_at: '2026-12-16T00:00:00.000Z', days_to_limit: 10 } at 100 a day
 */
export function meterForecast(p: {
  used: number;
  limit: number | null;
  periodEnd: number | null;
  daily: DailyUse[];
  since: number;
  now: number;
}): Forecast {
  const none: Forecast = { limit_at: null, days_to_limit: null };
  if (p.limit === null) return none;
  if (p.used >= p.limit) return { limit_at: new Date(p.now).toISOString(), days_to_limit: 0 };
  const rate = dailyRate(p.daily, { today: Math.floor(p.now / DAY_MS), since: p.since });
  if (rate === null || rate <= 0) return none;
  const at = p.now + Math.ceil(((p.limit - p.used) / rate) * DAY_MS);
  const horizon = p.periodEnd ?? p.now + NO_PERIOD_HORIZON_DAYS * DAY_MS;
  if (!Number.isFinite(at) || at >= horizon) return none;
  return { limit_at: new Date(at).toISOString(), days_to_limit: Math.floor((at - p.now) / DAY_MS) };
}

export type Growth = { wow_pct: number | null; mom_pct: number | null };

/** Growth that is news: week over week above 10%, or month over month above 20%. */
const GROWTH_WOW_PCT = 10;
const GROWTH_MOM_PCT = 20;

/** A counter's use over the whole UTC days before today: the last 7, the 7 before, the last 30 and the 30 before. */
export type GrowthWindows = { last_7_days: number; prior_7_days: number; last_30_days: number; prior_30_days: number };

/**
 * Week-over-week and month-over-month growth in percent, to one decimal; `null` when the
 * earlier window had no use (growth from nothing is not a rate).
 * @example growthOf({ last_7_days: 125, prior_7_days: 100, last_30_days: 450, prior_30_days: 400 }) // { wow_pct: 25, mom_pct: 12.5 }
 */
export function growthOf(w: GrowthWindows): Growth {
  const pct = (now: number, before: number) => (before > 0 ? Math.round(((now - before) * 1000) / before) / 10 : null);
  return { wow_pct: pct(w.last_7_days, w.prior_7_days), mom_pct: pct(w.last_30_days, w.prior_30_days) };
}

/**
 * Growth of a counter from its daily use: `growthOf` over the windows ending yesterday.
 * @example usageGrowth(daily, today) // { wow_pct: 25, mom_pct: 5.8 }
 */
export function usageGrowth(daily: DailyUse[], today: number): Growth {
  const sum = (from: number, to: number) => daily.reduce((s, d) => (d.day >= from && d.day < to ? s + d.used : s), 0);
  return growthOf({
    last_7_days: sum(today - 7, today),
    prior_7_days: sum(today - 14, today - 7),
    last_30_days: sum(today - 30, today),
    prior_30_days: sum(today - 60, today - 30),
  });
}

/**
 * Whether growth is worth a `usage.growth` signal (WoW > 10% or MoM > 20%).
 * @example isNotableGrowth({ wow_pct: 12, mom_pct: null }) // true
 */
export function isNotableGrowth(g: Growth): boolean {
  return (g.wow_pct !== null && g.wow_pct > GROWTH_WOW_PCT) || (g.mom_pct !== null && g.mom_pct > GROWTH_MOM_PCT);
}
