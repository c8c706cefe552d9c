import { DAY_MS } from './time';
import { describe, expect, it } from 'vitest';
import { dailyRate, isNotableGrowth, meterForecast, usageGrowth, type DailyUse } from './forecast';

// Monday 2026-11-30 is UTC day 20422; the forecasts below are asked on Wednesday 2026-12-02 at noon.
const now = Date.UTC(2026, 11, 2, 12);
const today = Math.floor(now / DAY_MS);
const periodEnd = Date.UTC(2027, 0, 1);
const longAgo = Date.UTC(2025, 0, 1);

/** `perDay(day)` for each of the `n` whole days before today. */
const history = (n: number, perDay: (day: number) => number): DailyUse[] =>
  Array.from({ length: n }, (_, i) => today - n + i).map((day) => ({ day, used: perDay(day) }));
/** Saturday and Sunday (UTC day 0 was a Thursday). */
const weekend = (day: number) => [2, 3].includes(day % 7);

describe('usage forecast', () => {
  it('a steady 100 a day with 1,000 left reaches the limit in 10 days', () => {
    const f = meterForecast({ used: 9000, limit: 10000, periodEnd, daily: history(30, () => 100), since: longAgo, now });
    expect(f).toEqual({ limit_at: '2026-12-12T12:00:00.000Z', days_to_limit: 10 });
  });

  it('a quiet weekend does not move the forecast whatever the weekday', () => {
    const daily = history(60, (d) => (weekend(d) ? 0 : 140)); // 700 a week
    const rates = [0, 1, 2, 3, 4, 5, 6].map((shift) => dailyRate(daily, { today: today - shift, since: longAgo }));
    for (const r of rates) expect(r).toBeCloseTo(100, 6);
    // Asked on a Monday, right after the quiet weekend, the forecast is the same as a steady 100 a day.
    expect(meterForecast({ used: 9000, limit: 10000, periodEnd, daily, since: longAgo, now }).days_to_limit).toBe(10);
  });

  it('a burst counts, but the last week weighs twice the one before', () => {
    const daily = history(14, (d) => (d === today - 3 ? 2100 : 0)); // one burst day three days ago
    expect(dailyRate(daily, { today, since: longAgo })).toBeCloseTo(200, 6); // 2 × 2100 / 21
    const older = history(14, (d) => (d === today - 10 ? 2100 : 0)); // the same burst ten days ago
    expect(dailyRate(older, { today, since: longAgo })).toBeCloseTo(100, 6);
  });

  it('faster growth in the last week brings the date forward', () => {
    const daily = history(14, (d) => (d >= today - 7 ? 300 : 0));
    // (2 × 2100 + 0) / 21 = 200 a day; 1,000 left → 5 days.
    expect(meterForecast({ used: 9000, limit: 10000, periodEnd, daily, since: longAgo, now }).days_to_limit).toBe(5);
  });

  it('a new account gets a forecast from the days it has, and none before one whole day', () => {
    const created = Date.UTC(2026, 11, 2, 8); // today
    expect(meterForecast({ used: 500, limit: 10000, periodEnd, daily: [], since: created, now })).toEqual({ limit_at: null, days_to_limit: null });
    const threeDaysOld = Date.UTC(2026, 10, 29); // three whole days ago
    const daily = history(3, () => 1000);
    expect(dailyRate(daily, { today, since: threeDaysOld })).toBeCloseTo(1000, 6); // not diluted by 11 empty days
    expect(meterForecast({ used: 3500, limit: 10000, periodEnd, daily, since: threeDaysOld, now }).days_to_limit).toBe(6);
  });

  it('is null when the limit will not be reached this period, without a limit, or without use', () => {
    const slow = history(14, () => 10);
    expect(meterForecast({ used: 100, limit: 10000, periodEnd, daily: slow, since: longAgo, now })).toEqual({ limit_at: null, days_to_limit: null });
    expect(meterForecast({ used: 100, limit: null, periodEnd, daily: slow, since: longAgo, now }).limit_at).toBeNull();
    expect(meterForecast({ used: 100, limit: 200, periodEnd, daily: [], since: longAgo, now }).limit_at).toBeNull();
  });

  it('a meter already at its limit reaches it now', () => {
    expect(meterForecast({ used: 10000, limit: 10000, periodEnd, daily: [], since: longAgo, now })).toEqual({
      limit_at: new Date(now).toISOString(),
      days_to_limit: 0,
    });
  });
});

describe('usage growth', () => {
  it('compares the last week with the one before, and the last 30 days with the 30 before', () => {
    const daily = history(60, (d) => (d >= today - 7 ? 125 : 100));
    const g = usageGrowth(daily, today);
    expect(g.wow_pct).toBe(25);
    expect(g.mom_pct).toBeCloseTo(5.8, 1); // (23 × 100 + 7 × 125) / 3000
    expect(isNotableGrowth(g)).toBe(true);
  });

  it('steady use is not growth, and growth from nothing is no rate', () => {
    expect(isNotableGrowth(usageGrowth(history(60, () => 100), today))).toBe(false);
    expect(usageGrowth(history(7, () => 100), today)).toEqual({ wow_pct: null, mom_pct: null });
    expect(isNotableGrowth({ wow_pct: 10, mom_pct: 20 })).toBe(false);
    expect(isNotableGrowth({ wow_pct: 5, mom_pct: 21 })).toBe(true);
  });
});
