/** Forecasts on the meters: the daily use the rate is read from (`usage_daily`), joined to the snapshot's meters. */
import { DAY_MS } from '../shared/time';
import { and, eq, gte } from 'drizzle-orm';
import { meterForecast, RATE_WINDOW_DAYS, type DailyUse, type Forecast } from '../shared/forecast';
import type { Meter } from '../shared/schemas';
import { preparedOnce, type Db, type Placeholders } from './db';
import { usageDaily } from './db/schema';

export type MeterWithForecast = Meter & { forecast: Forecast };

const dailyStatement = preparedOnce((db, p: Placeholders<{ acct: string; fromDay: number }>) =>
  db
    .select({ metric: usageDaily.metric, day: usageDaily.day, used: usageDaily.used })
    .from(usageDaily)
    .where(and(eq(usageDaily.accountId, p.acct), gte(usageDaily.day, p.fromDay))),
);

/**
 * The account's daily increments over the forecast window (at most 15 rows per metric), for `mixedBatch`.
 * @example const [rows] = await mixedBatch(db, [dailyUsageQuery(db, 'acme', Date.now())])
 */
export const dailyUsageQuery = (db: Db, accountId: string, now: number) => dailyStatement(db, { acct: accountId, fromDay: Math.floor(now / DAY_MS) - RATE_WINDOW_DAYS });

/**
 * Each meter with its forecast: counters from their recent daily rate, gauges none (they are set, not used up).
 * @example withForecasts(snap.meters, rows, account.createdAt, Date.now())[0].forecast // { limit_at: '…', days_to_limit: 6 }
 */
export function withForecasts(meters: Meter[], rows: { metric: string; day: number; used: number }[], since: number, now: number): MeterWithForecast[] {
  const byMetric = new Map<string, DailyUse[]>();
  for (const r of rows) byMetric.set(r.metric, [...(byMetric.get(r.metric) ?? []), { day: r.day, used: r.used }]);
  return meters.map((m) => ({
    ...m,
    forecast:
      m.kind === 'counter'
        ? meterForecast({ used: m.used, limit: m.limit, periodEnd: m.period_end === null ? null : Date.parse(m.period_end), daily: byMetric.get(m.metric) ?? [], since, now })
        : { limit_at: null, days_to_limit: null },
  }));
}
