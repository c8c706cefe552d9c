/** Per-account prompt history: which prompts each user saw, clicked, dismissed, and when — "are we nagging them?" */
import { api, qs } from '../api';
import { DataTable, Loaded } from '../components';
import { num, when } from '../format';
import { go, route, useRequest } from '../state';
import type { AdminAccount, PromptHistoryResponse } from '../types';
import { apiRange, period, PeriodPicker } from './period';

export function AccountsView() {
  const accounts = useRequest(() => api<{ accounts: AdminAccount[] }>('/v1/admin/accounts?limit=1000'), []);
  const accountId = route.value.arg ?? accounts.data?.accounts[0]?.account_id ?? null;
  const r = apiRange(period.value);
  const path = accountId ? `/v1/admin/accounts/${encodeURIComponent(accountId)}/prompt-history${qs({ from: r.from, to: r.to, limit: 500 })}` : null;
  const history = useRequest(() => (path ? api<PromptHistoryResponse>(path) : Promise.resolve(null)), [path]);
  return (
    <>
      <PeriodPicker>
        <label>
          Account
          <select name="account" value={accountId ?? ''} onChange={(e) => go('accounts', e.currentTarget.value)}>
            {(accounts.data?.accounts ?? []).map((a) => (
              <option key={a.account_id} value={a.account_id}>
                {a.name} ({a.account_id})
              </option>
            ))}
          </select>
        </label>
      </PeriodPicker>
      <Loaded state={history.data === null && !history.error && !history.loading ? { ...history, error: 'No accounts yet.' } : history}>
        {(h) => {
          const users = new Set(h.prompts.map((p) => p.user_id)).size;
          const seen = h.prompts.reduce((n, p) => n + p.impressions, 0);
          const dismissed = h.prompts.reduce((n, p) => n + p.dismisses, 0);
          return (
            <>
              <p class="summary" data-summary>
                {num(users)} users of {h.account_id} saw prompts {num(seen)} times and dismissed them {num(dismissed)} times between {when(h.from)} and {when(h.to)}.
              </p>
              <section class="card">
                <DataTable
                  id="history"
                  caption="Per user and prompt"
                  rows={h.prompts}
                  rowKey={(p) => `${p.user_id}|${p.prompt_id}`}
                  csv={{ path: path!, filename: `prompt-history-${h.account_id}.csv` }}
                  columns={[
                    { key: 'user', label: 'User', value: (p) => p.user_id },
                    { key: 'prompt', label: 'Prompt', value: (p) => p.prompt_id },
                    { key: 'impressions', label: 'Seen', value: (p) => p.impressions, numeric: true },
                    { key: 'clicks', label: 'Clicked', value: (p) => p.clicks, numeric: true },
                    { key: 'dismisses', label: 'Dismissed', value: (p) => p.dismisses, numeric: true },
                    { key: 'snoozes', label: 'Snoozed', value: (p) => p.snoozes, numeric: true },
                    { key: 'first', label: 'First seen', value: (p) => p.first_seen_at, render: (p) => when(p.first_seen_at) },
                    { key: 'last', label: 'Last event', value: (p) => p.last_event_at, render: (p) => when(p.last_event_at) },
                  ]}
                />
              </section>
              <section class="card">
                <DataTable
                  id="events"
                  caption={`Latest events (${h.events.length})`}
                  rows={h.events}
                  rowKey={(e) => `${e.timestamp}|${e.user_id}|${e.type}|${e.prompt_id}|${e.session_id}`}
                  columns={[
                    { key: 'at', label: 'When', value: (e) => e.timestamp, render: (e) => when(e.timestamp) },
                    { key: 'user', label: 'User', value: (e) => e.user_id },
                    { key: 'type', label: 'Event', value: (e) => e.type },
                    { key: 'prompt', label: 'Prompt', value: (e) => e.prompt_id ?? e.feature_id },
                    { key: 'variant', label: 'Variant', value: (e) => e.variant_id },
                  ]}
                />
              </section>
            </>
          );
        }}
      </Loaded>
    </>
  );
}
