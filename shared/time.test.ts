import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DAY_MS, isoOrNull, isoTime, isoWeekStart, startOfUtcDay, utcMonthStart } from './time';

describe('UTC calendar', () => {
  it('an ISO week starts on Monday 00:00 UTC, also before 1970', () => {
    expect(isoWeekStart(Date.parse('2026-03-20T12:00:00Z'))).toBe(Date.parse('2026-03-16T00:00:00Z'));
    expect(isoWeekStart(Date.parse('2026-03-16T00:00:00Z'))).toBe(Date.parse('2026-03-16T00:00:00Z'));
    expect(isoWeekStart(Date.parse('2026-03-15T23:59:59.999Z'))).toBe(Date.parse('2026-03-09T00:00:00Z'));
    expect(isoWeekStart(Date.parse('1969-12-31T10:00:00Z'))).toBe(Date.parse('1969-12-29T00:00:00Z'));
  });

  it('the week start is a Monday midnight at most 7 days before', () => {
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(1950, 0, 1), max: Date.UTC(2200, 0, 1) }), (t) => {
        const w = isoWeekStart(t);
        expect(new Date(w).getUTCDay()).toBe(1);
        expect(w % DAY_MS === 0 || w % DAY_MS === -0).toBe(true);
        expect(t - w).toBeGreaterThanOrEqual(0);
        expect(t - w).toBeLessThan(7 * DAY_MS);
      }),
    );
  });

  it('days and months start at 00:00 UTC', () => {
    expect(startOfUtcDay(Date.parse('2026-03-20T12:34:56Z'))).toBe(Date.parse('2026-03-20T00:00:00Z'));
    expect(utcMonthStart(Date.parse('2026-12-31T23:59:59.999Z'))).toBe(Date.parse('2026-12-01T00:00:00Z'));
  });

  it('times are written as ISO-8601 UTC; no time stays null', () => {
    expect(isoTime(0)).toBe('1970-01-01T00:00:00.000Z');
    expect(isoOrNull(null)).toBeNull();
    expect(isoOrNull(undefined)).toBeNull();
    expect(isoOrNull(DAY_MS)).toBe('1970-01-02T00:00:00.000Z');
  });
});
