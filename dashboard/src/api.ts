/**
 * The dashboard's only door to the worker: same-origin calls to the admin API with the
 * session cookie, the CSRF header on every write, and CSV downloads through `Accept: text/csv`.
 */
import { signal } from '@preact/signals';
import { LadderError } from '../../shared/errors';

/** `unknown` until the first answer; `out` after any 401. */
export const session = signal<'unknown' | 'in' | 'out'>('unknown');

export { LadderError as ApiError };

type Init = { method?: 'GET' | 'POST' | 'PUT' | 'DELETE'; body?: unknown };

/**
 * One call to the API; rejects with an ApiError naming the API's error code and fields.
 * @example const { rows } = await api<FunnelResponse>('/v1/admin/analytics/funnel?from=2026-11-01')
 */
export async function api<T>(path: string, init: Init = {}): Promise<T> {
  const method = init.method ?? 'GET';
  const headers: Record<string, string> = { accept: 'application/json' };
  if (method !== 'GET') headers['x-ladder-csrf'] = '1';
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const json = await res.json().catch(() => null);
  if (res.status === 401 && path !== '/v1/admin/login') session.value = 'out';
  if (!res.ok) {
    const e = json?.error ?? {};
    const detail = e.details?.length ? ` (${e.details.map((d: { path: string; message: string }) => `${d.path}: ${d.message}`).join('; ')})` : '';
    throw new LadderError(res.status, e.code ?? 'http', (e.message ?? `${path} answered ${res.status}`) + detail, e.details);
  }
  return json as T;
}

/** Fetches `path` as CSV (the API's `Accept: text/csv`) and saves it as `filename`. */
export async function downloadCsv(path: string, filename: string): Promise<void> {
  const res = await fetch(path, { headers: { accept: 'text/csv' }, credentials: 'same-origin' });
  if (res.status === 401) session.value = 'out';
  if (!res.ok) throw new LadderError(res.status, 'http', `CSV export failed (${res.status}).`);
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** A query string from defined values only. @example qs({ from: '2026-11-01', prompt_id: undefined }) // '?from=2026-11-01' */
export function qs(params: Record<string, string | number | undefined | null>): string {
  const s = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') s.set(k, String(v));
  const out = s.toString();
  return out ? `?${out}` : '';
}
