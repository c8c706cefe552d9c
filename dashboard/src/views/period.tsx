/** The date range picker the analytics views share: inclusive UTC dates, sent to the API as [from, to + 1 day). */
import { signal } from '@preact/signals';
import { DAY, ymd } from '../format';

const today = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate());
/** Shared across views, so switching views keeps the period. */
export const period = signal({ from: ymd(today - 27 * DAY), to: ymd(today) });

/** The period as API times: ISO `from` and exclusive `to`. */
export function apiRange(p = period.value) {
  const from = Date.parse(p.from);
  const to = Date.parse(p.to) + DAY;
  return { from: new Date(from).toISOString(), to: new Date(to).toISOString(), fromMs: from, toMs: to };
}

export function PeriodPicker({ children }: { children?: preact.ComponentChildren }) {
  const p = period.value;
  const set = (k: 'from' | 'to') => (e: Event) => {
    const v = (e.currentTarget as HTMLInputElement).value;
    if (/^\d{4}-\d{2}-\d{2}$/.test(v)) period.value = { ...period.value, [k]: v };
  };
  return (
    <fieldset class="filters">
      <legend class="sr-only">Period</legend>
      <label>
        From <input type="date" name="from" value={p.from} max={p.to} onChange={set('from')} />
      </label>
      <label>
        To <input type="date" name="to" value={p.to} min={p.from} onChange={set('to')} />
      </label>
      {children}
    </fieldset>
  );
}
