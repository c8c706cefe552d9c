/** Numbers, money, rates and dates as the dashboard shows them (en-US, UTC dates). */

const nf = new Intl.NumberFormat('en-US');

/** @example num(14800) // "14,800" */
export const num = (n: number | null | undefined) => (n === null || n === undefined ? '—' : nf.format(n));

/** @example pct(0.1234) // "12.3%" */
export const pct = (x: number | null | undefined, digits = 1) => (x === null || x === undefined ? '—' : `${(x * 100).toFixed(digits)}%`);

/** @example money(250000) // "$2,500" */
export function money(cents: number | null | undefined, currency = 'usd') {
  if (cents === null || cents === undefined) return '—';
  return new Intl.NumberFormat('en-US', { style: 'currency', currency: currency.toUpperCase(), maximumFractionDigits: cents % 100 === 0 ? 0 : 2 }).format(cents / 100);
}

/** @example day('2026-11-02T00:00:00.000Z') // "Nov 2, 2026" */
export const day = (iso: string | null | undefined) =>
  iso ? new Intl.DateTimeFormat('en-US', { month: 'short', day: 'numeric', year: 'numeric', timeZone: 'UTC' }).format(new Date(iso)) : '—';

/** @example when('2026-11-02T13:05:00.000Z') // "Nov 2, 2026, 13:05 UTC" */
export const when = (iso: string | null | undefined) =>
  iso
    ? new Intl.DateTimeFormat('en-US', { month: 'short', day: 'numeric', year: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone: 'UTC' }).format(new Date(iso)) + ' UTC'
    : '—';

/** A signed change in percentage points or percent. @example delta(0.12, 0.1) // "+2.0 pts" */
export function delta(now: number | null | undefined, before: number | null | undefined, unit: 'pts' | 'rel' = 'pts') {
  if (now === null || now === undefined || before === null || before === undefined) return null;
  const d = unit === 'pts' ? (now - before) * 100 : before === 0 ? null : ((now - before) / Math.abs(before)) * 100;
  if (d === null) return null;
  return `${d >= 0 ? '+' : '−'}${Math.abs(d).toFixed(1)}${unit === 'pts' ? ' pts' : '%'}`;
}

/** `YYYY-MM-DD` of a time, in UTC (what date inputs hold). */
export const ymd = (ms: number) => new Date(ms).toISOString().slice(0, 10);

export { DAY_MS as DAY } from '../../shared/time';
