/** App-wide state as signals: the route, the theme, and a small request helper for views. */
import { signal, useSignal } from '@preact/signals';
import { useEffect } from 'preact/hooks';

export const VIEWS = [
  { id: 'overview', label: 'Overview' },
  { id: 'funnels', label: 'Funnels' },
  { id: 'prompts', label: 'Prompts' },
  { id: 'experiments', label: 'Experiments' },
  { id: 'accounts', label: 'Prompt history' },
  { id: 'pqa', label: 'PQA & webhooks' },
  { id: 'catalog', label: 'Catalog' },
  { id: 'retention', label: 'Retention' },
] as const;
export type ViewId = (typeof VIEWS)[number]['id'];

const parse = (): { view: ViewId; arg: string | null } => {
  const [, view = '', arg] = /^#\/([\w-]*)(?:\/(.+))?$/.exec(location.hash) ?? [];
  return { view: (VIEWS.some((v) => v.id === view) ? view : 'overview') as ViewId, arg: arg ? decodeURIComponent(arg) : null };
};

/** `#/view/arg`, e.g. `#/accounts/acme`. */
export const route = signal(parse());
addEventListener('hashchange', () => (route.value = parse()));
export const go = (view: ViewId, arg?: string) => (location.hash = `#/${view}${arg ? '/' + encodeURIComponent(arg) : ''}`);

type Theme = 'light' | 'dark';
const stored = (() => {
  try {
    return localStorage.getItem('ladder.dashboard.theme') as Theme | null;
  } catch {
    return null;
  }
})();
/** The colour scheme: the user's choice, else the system's. */
export const theme = signal<Theme>(stored ?? (matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light'));
export function setTheme(t: Theme) {
  theme.value = t;
  document.documentElement.dataset.theme = t;
  try {
    localStorage.setItem('ladder.dashboard.theme', t);
  } catch {}
}
document.documentElement.dataset.theme = theme.value;

export interface Request<T> {
  loading: boolean;
  error: string | null;
  data: T | null;
}

/** Runs `load` now and whenever `deps` change; a newer answer replaces an older one. */
export function useRequest<T>(load: () => Promise<T>, deps: unknown[]): Request<T> & { reload: () => void } {
  const state = useSignal<Request<T>>({ loading: true, error: null, data: null });
  const tick = useSignal(0);
  useEffect(() => {
    let live = true;
    state.value = { ...state.value, loading: true, error: null };
    load().then(
      (data) => live && (state.value = { loading: false, error: null, data }),
      (e: Error) => live && (state.value = { loading: false, error: e.message, data: null }),
    );
    return () => {
      live = false;
    };
  }, [...deps, tick.value]);
  return { ...state.value, reload: () => tick.value++ };
}
