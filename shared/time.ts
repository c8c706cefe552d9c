/**
 * Calendar arithmetic, all in UTC, on epoch milliseconds: the one place that knows how long
 * a day is, where an ISO week or a month starts, and how a time is written in answers.
 */

export const DAY_MS = 86_400_000;

/**
 * Days since 1970-01-01 (UTC) of the day holding `t`.
 * @example utcDay(Date.parse('1970-01-02T05:00:00Z')) // 1
 */
export function utcDay(t: number): number {
  return Math.floor(t / DAY_MS);
}

/**
 * 00:00 UTC of the day holding `t`.
 * @example startOfUtcDay(Date.parse('2026-03-20T12:00:00Z')) === Date.parse('2026-03-20T00:00:00Z')
 */
export function startOfUtcDay(t: number): number {
  return utcDay(t) * DAY_MS;
}

/**
 * Monday 00:00 UTC of the ISO week holding `t` (day 0, 1970-01-01, was a Thursday).
 * @example isoWeekStart(Date.parse('2026-03-20T12:00:00Z')) === Date.parse('2026-03-16T00:00:00Z')
 */
export function isoWeekStart(t: number): number {
  const day = utcDay(t);
  return (day - ((((day + 3) % 7) + 7) % 7)) * DAY_MS;
}

/**
 * The 1st of the month holding `t`, 00:00 UTC.
 * @example utcMonthStart(Date.parse('2026-03-20T12:00:00Z')) === Date.parse('2026-03-01T00:00:00Z')
 */
export function utcMonthStart(t: number): number {
  const d = new Date(t);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

/**
 * The 1st of the month after the one holding `t`, 00:00 UTC.
 * @example utcNextMonthStart(Date.parse('2026-12-20T12:00:00Z')) === Date.parse('2027-01-01T00:00:00Z')
 */
export function utcNextMonthStart(t: number): number {
  const d = new Date(t);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

/**
 * An epoch-ms time as an ISO-8601 string in UTC, as every answer writes times.
 * @example isoTime(0) // '1970-01-01T00:00:00.000Z'
 */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * Like `isoTime`, with no time (null or undefined) kept as null.
 * @example isoOrNull(null) // null
 */
export function isoOrNull(ms: number | null | undefined): string | null {
  return ms === null || ms === undefined ? null : new Date(ms).toISOString();
}
