/**
 * Ladder's dashboard: login with the admin key, then overview, funnels, prompts and their
 * copy, experiments, per-account prompt history, PQA with outgoing webhooks, and the catalog
 * with its history (read-only). Served by the worker at /dashboard; every number comes from
 * the admin API.
 */
import 'uplot/dist/uPlot.min.css';
import './style.css';
import { useSignal } from '@preact/signals';
import { render } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import { api, ApiError, session } from './api';
import { route, setTheme, theme, VIEWS } from './state';
import { AccountsView } from './views/accounts';
import { CatalogView } from './views/catalog';
import { ExperimentsView } from './views/experiments';
import { FunnelsView } from './views/funnels';
import { OverviewView } from './views/overview';
import { PqaView } from './views/pqa';
import { PromptsView } from './views/prompts';
import { RetentionView } from './views/retention';

function Login() {
  const key = useSignal('');
  const error = useSignal('');
  const busy = useSignal(false);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => input.current?.focus(), []);
  const submit = async (e: Event) => {
    e.preventDefault();
    busy.value = true;
    error.value = '';
    try {
      await api('/v1/admin/login', { method: 'POST', body: { key: key.value } });
      key.value = '';
      session.value = 'in';
    } catch (err) {
      error.value = err instanceof ApiError && err.status === 401 ? 'That admin key is not valid.' : (err as Error).message;
    } finally {
      busy.value = false;
    }
  };
  return (
    <main class="login" id="main">
      <form onSubmit={submit} class="card" aria-labelledby="login-title">
        <h1 id="login-title">Ladder dashboard</h1>
        <p class="muted">Sign in with the admin key (LADDER_ADMIN_KEY). The session lasts 12 hours, and ends after 30 minutes without use or at sign-out.</p>
        <label for="admin-key">Admin key</label>
        <input id="admin-key" ref={input} type="password" autoComplete="current-password" required value={key.value} onInput={(e) => (key.value = e.currentTarget.value)} />
        <button type="submit" disabled={busy.value}>
          {busy.value ? 'Signing in…' : 'Sign in'}
        </button>
        <p class="error" role="alert">
          {error.value}
        </p>
      </form>
    </main>
  );
}

function Shell() {
  const { view } = route.value;
  const title = VIEWS.find((v) => v.id === view)!.label;
  useEffect(() => {
    document.title = `${title} · Ladder dashboard`;
  }, [title]);
  const logout = async () => {
    await api('/v1/admin/logout', { method: 'POST' }).catch(() => {});
    session.value = 'out';
  };
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <span class="brand">Ladder</span>
        <nav aria-label="Dashboard">
          <ul>
            {VIEWS.map((v) => (
              <li key={v.id}>
                <a href={`#/${v.id}`} aria-current={v.id === view ? 'page' : undefined}>
                  {v.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div class="top-actions">
          <button type="button" class="secondary" onClick={() => setTheme(theme.value === 'dark' ? 'light' : 'dark')} aria-label={`Switch to ${theme.value === 'dark' ? 'light' : 'dark'} theme`}>
            {theme.value === 'dark' ? 'Light' : 'Dark'} theme
          </button>
          <button type="button" class="secondary" onClick={logout}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1} data-view={view}>
        <h1>{title}</h1>
        {view === 'overview' && <OverviewView />}
        {view === 'funnels' && <FunnelsView />}
        {view === 'prompts' && <PromptsView />}
        {view === 'experiments' && <ExperimentsView />}
        {view === 'accounts' && <AccountsView />}
        {view === 'pqa' && <PqaView />}
        {view === 'catalog' && <CatalogView />}
        {view === 'retention' && <RetentionView />}
      </main>
    </>
  );
}

function App() {
  useEffect(() => {
    api('/v1/admin/session').then(
      () => (session.value = 'in'),
      () => (session.value = 'out'),
    );
  }, []);
  if (session.value === 'unknown')
    return (
      <p class="muted" role="status">
        Loading…
      </p>
    );
  return session.value === 'in' ? <Shell /> : <Login />;
}

render(<App />, document.getElementById('app')!);
