/**
 * Usage meters: percentages, limit thresholds and projections. Pure: plain data in,
 * plain data out, time passed in as epoch milliseconds.
 */

export const THRESHOLDS = [50, 75, 90, 100] as const;
export type Threshold = (typeof THRESHOLDS)[number];

/**
 * Percent of the limit used, rounded down to a whole percent; `null` when unlimited.
 * A zero limit with any use counts as 100%.
 * @example usagePct(9100, 10000) // 91
 */
export function usagePct(used: number, limit: number | null): number | null {
  if (limit === null) return null;
  if (limit <= 0) return used > 0 ? 100 : 0;
  return Math.floor((used * 100) / limit);
}

/**
 * The highest of 50/75/90/100 percent that `used` has reached; a threshold is crossed at
 * exactly its value (5,000 of 10,000 is 50%). Compared in integers, so 7,499.99 never rounds up.
 * @example highestThreshold(9000, 10000) // 90
 */
export function highestThreshold(used: number, limit: number | null): Threshold | null {
  return highestCrossed(used, limit, THRESHOLDS) as Threshold | null;
}

/**
 * The highest of any set of whole-percent thresholds that `used` has reached, by the same
 * integer comparison as `highestThreshold`; a zero limit with any use crosses them all.
 * @example highestCrossed(8100, 10000, [50, 80, 90]) // 80
 */
export function highestCrossed(used: number, limit: number | null, thresholds: readonly number[]): number | null {
  if (limit === null) return null;
  let crossed: number | null = null;
  for (const t of thresholds) {
    const reached = limit <= 0 ? used > 0 : used * 100 >= t * limit;
    if (reached && (crossed === null || t > crossed)) crossed = t;
  }
  return crossed;
}

/**
 * Thresholds newly crossed compared with the highest already crossed this period, so a
 * meter hovering around 90% does not fire its 90% crossing again and again.
 * @example newCrossings(75, 9100, 10000) // [90]
 */
export function newCrossings(
  highestThisPeriod: Threshold | null,
  used: number,
  limit: number | null,
): Threshold[] {
  const now = highestThreshold(used, limit);
  if (now === null) return [];
  return THRESHOLDS.filter((t) => t <= now && (highestThisPeriod === null || t > highestThisPeriod));
}

const HOUR = 3_600_000;

/**
 * Linear projection of a counter to the end of its period at the rate so far. The first
 * hour counts as a full hour so a burst right after the reset does not project millions.
 * @example projectUsage({ used: 500, periodStart: 0, periodEnd: 30 * DAY, now: 15 * DAY }) // 1000
 */
export function projectUsage(p: {
  used: number;
  periodStart: number;
  periodEnd: number;
  now: number;
}): number {
  const length = p.periodEnd - p.periodStart;
  const elapsed = Math.max(Math.min(p.now, p.periodEnd) - p.periodStart, HOUR);
  if (length <= 0 || elapsed >= length) return p.used;
  return Math.round((p.used * length) / elapsed);
}
