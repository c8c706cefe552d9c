/** Numbers, money and dates through Intl, in the user's locale. */
import { locale } from './store';

const intl = <T>(make: (l: string) => T): T => {
  try {
    return make(locale.value);
  } catch {
    return make('en-US'); // a malformed locale must not break rendering
  }
};

/** @example num(14800) // "14,800" */
export const num = (n: number) => intl((l) => new Intl.NumberFormat(l)).format(n);

/** Minor units to money, with the currency's own number of decimals. @example money(2500, 'usd') // "$25.00" */
export function money(minor: number, currency: string) {
  const f = intl((l) => new Intl.NumberFormat(l, { style: 'currency', currency: currency.toUpperCase() }));
  return f.format(minor / 10 ** (f.resolvedOptions().maximumFractionDigits ?? 2));
}

/** Billing dates are UTC days. @example day('2026-12-01T00:00:00Z') // "Dec 1" */
export const day = (iso: string) =>
  intl((l) => new Intl.DateTimeFormat(l, { month: 'short', day: 'numeric', timeZone: 'UTC' })).format(new Date(iso));
