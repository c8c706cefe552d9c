/**
 * PQA: accounts by band and score with the signals behind each, filters, the points table and
 * band edges (edited with a live preview of how accounts would band), and outgoing webhooks.
 */
import { signal } from '@preact/signals';
import { useEffect } from 'preact/hooks';
import type { PqaConfig } from '../../../shared/pqaScore';
import type { PqaBandId } from '../../../shared/analyticsSchemas';
import { api, qs } from '../api';
import { DataTable, Loaded, Stat } from '../components';
import { day, num, when } from '../format';
import { useRequest } from '../state';
import type { AdminAccount, Webhook } from '../types';

const PQA_BAND_IDS: PqaBandId[] = ['nurture', 'warm', 'sales_assist', 'sales_ready'];
const BAND_NAMES: Record<PqaBandId, string> = { nurture: 'Nurture', warm: 'Warm', sales_assist: 'Sales-assist', sales_ready: 'Sales-ready' };

/** Each band's name and score range, from the band edges in force (each edge is the lowest score of its band). */
function bandLabels(bands: PqaConfig['bands']): Record<PqaBandId, string> {
  const range = (lo: number, hi: number) => `${lo}–${hi}`;
  return {
    nurture: `${BAND_NAMES.nurture} (${range(0, bands.warm - 1)})`,
    warm: `${BAND_NAMES.warm} (${range(bands.warm, bands.sales_assist - 1)})`,
    sales_assist: `${BAND_NAMES.sales_assist} (${range(bands.sales_assist, bands.sales_ready - 1)})`,
    sales_ready: `${BAND_NAMES.sales_ready} (${range(bands.sales_ready, 100)})`,
  };
}
const band = signal<PqaBandId | ''>('');
const search = signal('');
const minScore = signal('');
const message = signal('');

export function PqaView() {
  const config = useRequest(() => api<PqaConfig>('/v1/admin/pqa/config'), []);
  const BAND_LABELS = config.data ? bandLabels(config.data.bands) : BAND_NAMES;
  const all = useRequest(() => api<{ accounts: AdminAccount[] }>('/v1/admin/accounts?limit=1000'), []);
  const path = `/v1/admin/accounts${qs({ band: band.value || undefined, q: search.value || undefined, min_score: minScore.value || undefined, limit: 1000 })}`;
  const list = useRequest(() => api<{ accounts: AdminAccount[] }>(path), [path]);
  const counts = Object.fromEntries(PQA_BAND_IDS.map((b) => [b, (all.data?.accounts ?? []).filter((a) => a.band === b).length]));
  return (
    <>
      <section class="stats" aria-label="Accounts per band">
        {PQA_BAND_IDS.map((b) => (
          <Stat key={b} testId={`band-${b}`} label={BAND_LABELS[b]} value={all.data ? num(counts[b]) : '…'} />
        ))}
      </section>
      <fieldset class="filters">
        <legend class="sr-only">Filters</legend>
        <label>
          Band
          <select name="band" value={band.value} onChange={(e) => (band.value = e.currentTarget.value as PqaBandId | '')}>
            <option value="">All bands</option>
            {PQA_BAND_IDS.map((b) => (
              <option key={b} value={b}>
                {BAND_LABELS[b]}
              </option>
            ))}
          </select>
        </label>
        <label>
          Search <input type="search" name="q" value={search.value} onChange={(e) => (search.value = e.currentTarget.value)} placeholder="account id or name" />
        </label>
        <label>
          Min. score <input type="number" name="min_score" min={0} max={100} value={minScore.value} onChange={(e) => (minScore.value = e.currentTarget.value)} />
        </label>
      </fieldset>
      <Loaded state={list}>
        {({ accounts }) => (
          <section class="card">
            <DataTable
              id="pqa"
              caption="Product-qualified accounts"
              rows={accounts}
              rowKey={(a) => a.account_id}
              csv={{ path, filename: 'pqa-accounts.csv' }}
              columns={[
                { key: 'account', label: 'Account', value: (a) => a.name, render: (a) => <a href={`#/accounts/${encodeURIComponent(a.account_id)}`}>{a.name}</a> },
                { key: 'score', label: 'Score', value: (a) => a.score, numeric: true },
                { key: 'band', label: 'Band', value: (a) => a.band, render: (a) => (a.band ? <span class={`badge ${a.band}`}>{a.band.replace('_', '-')}</span> : '—') },
                { key: 'signals', label: 'Signals', value: (a) => a.top_signals.join('; '), render: (a) => (a.top_signals.length ? <ul class="signals">{a.top_signals.map((s) => <li key={s}>{s}</li>)}</ul> : '—') },
                { key: 'plan', label: 'Plan', value: (a) => a.plan_id },
                { key: 'route', label: 'Route', value: (a) => a.route, render: (a) => ROUTE_LABELS[a.route] ?? a.route },
                { key: 'since', label: 'In band since', value: (a) => a.entered_band_at, render: (a) => day(a.entered_band_at) },
              ]}
            />
          </section>
        )}
      </Loaded>
      <Loaded state={config}>{(c) => <ScoringEditor saved={c} onSaved={() => (config.reload(), all.reload(), list.reload())} />}</Loaded>
      <RoutingEditor onSaved={() => (all.reload(), list.reload())} />
      <Webhooks />
    </>
  );
}

const ROUTE_LABELS: Record<string, string> = { self_serve: 'Self-serve', csm: 'CSM', sales: 'Sales' };
type RoutingRule = { id: string; when: Record<string, unknown>; route: string; webhook_ids: string[] };
const routingDraft = signal<string | null>(null);
const routingMessage = signal('');

/** What a rule's conditions say, in words: "sales-ready · plan pro · 20–199 seats · adds ≥ $1,000.00 a month". */
const conditionText = (w: Record<string, unknown>) =>
  [
    Array.isArray(w.bands) && `band ${(w.bands as string[]).join(' or ')}`,
    Array.isArray(w.plan_ids) && `plan ${(w.plan_ids as string[]).join(' or ')}`,
    (w.min_seats !== undefined || w.max_seats !== undefined) && `${w.min_seats ?? 0}–${w.max_seats ?? '∞'} seats`,
    w.min_added_mrr_cents !== undefined && `adds ≥ ${num(Number(w.min_added_mrr_cents) / 100)} MRR`,
    w.min_added_pct !== undefined && `adds ≥ ${w.min_added_pct}% of MRR`,
  ]
    .filter(Boolean)
    .join(' · ') || 'every account';

/**
 * Routing rules (`GET`/`PUT /v1/admin/routing`): the rules in order (first match wins, no match is
 * self-serve), edited as JSON with the API's validation messages, and the accounts each route gets.
 */
function RoutingEditor({ onSaved }: { onSaved: () => void }) {
  const routing = useRequest(() => api<{ rules: RoutingRule[] }>('/v1/admin/routing'), []);
  const save = async (e: Event) => {
    e.preventDefault();
    routingMessage.value = '';
    let body: unknown;
    try {
      body = JSON.parse(routingDraft.value ?? '');
    } catch {
      routingMessage.value = 'The rules are not valid JSON.';
      return;
    }
    try {
      await api('/v1/admin/routing', { method: 'PUT', body });
      routingMessage.value = 'Saved the routing rules.';
      routingDraft.value = null;
      routing.reload();
      onSaved();
    } catch (err) {
      routingMessage.value = (err as Error).message;
    }
  };
  return (
    <section class="card" aria-labelledby="routing-title">
      <h2 id="routing-title">Routing rules</h2>
      <p class="muted small">
        Each account and each upgrade goes to self-serve, a CSM or sales by the first rule that matches (band, plan, seats, added MRR of
        the expansion and its share of current MRR); no match is self-serve. An upgrade routed to sales shows "Talk to us" instead of a
        charge; a rule's webhooks get its sales-ready pushes.
      </p>
      <p class="status" role="status" id="routing-status">
        {routingMessage.value}
      </p>
      <Loaded state={routing}>
        {({ rules }) => (
          <>
            <DataTable
              id="routing"
              caption="Routing rules, in order"
              rows={rules}
              rowKey={(r) => r.id}
              empty="No rules: every account is self-serve."
              columns={[
                { key: 'id', label: 'Rule', value: (r) => r.id },
                { key: 'when', label: 'When', value: (r) => conditionText(r.when) },
                { key: 'route', label: 'Route', value: (r) => ROUTE_LABELS[r.route] ?? r.route },
                { key: 'webhooks', label: 'Webhooks', value: (r) => (r.webhook_ids.length ? r.webhook_ids.join(', ') : 'all subscribed') },
              ]}
            />
            <form onSubmit={save}>
              <div class="field">
                <label for="routing-json">Rules (JSON, as PUT /v1/admin/routing takes them)</label>
                <textarea
                  id="routing-json"
                  name="routing"
                  rows={10}
                  value={routingDraft.value ?? JSON.stringify({ rules }, null, 2)}
                  onInput={(e) => (routingDraft.value = e.currentTarget.value)}
                />
              </div>
              <div class="row">
                <button type="submit">Save routing rules</button>
                <button type="button" class="secondary" onClick={() => (routingDraft.value = null)}>
                  Revert
                </button>
              </div>
            </form>
          </>
        )}
      </Loaded>
    </section>
  );
}

type Preview = { accounts_scored: number; bands: Record<PqaBandId, number>; current_bands: Record<PqaBandId, number>; changed_total: number };
/** The points table's numbers: [section, field, label]. */
const FIELDS: [Exclude<keyof PqaConfig, 'custom'>, string, string][] = [
  ['core_feature_activated', 'points', 'Core feature activated'],
  ['user_active', 'points_per_user_day', 'Daily active user, per user per day'],
  ['user_active', 'decay_per_inactive_day', 'Decay per inactive day'],
  ['teammate_invited', 'points', 'Teammate invited, each'],
  ['limit_hit', 'points', 'Usage limit hit (this month)'],
  ['feature_gate_hit', 'points', 'Locked feature tried (this week)'],
  ['api_integration_built', 'points', 'API integration built'],
  ['data_imported', 'points', 'Data imported'],
  ['data_imported', 'min_rows', 'Data imported: at least this many rows'],
  ['admin_settings_configured', 'points', 'Admin settings configured'],
  ['bands', 'warm', 'Warm from score'],
  ['bands', 'sales_assist', 'Sales-assist from score'],
  ['bands', 'sales_ready', 'Sales-ready from score'],
];
const draft = signal<PqaConfig | null>(null);
const preview = signal<Preview | null>(null);
const scoringMessage = signal('');
/** The dry run's refusal of the draft, apart from the save's message: a late preview must not wipe "Saved…". */
const previewError = signal('');

/** The PQA points table and band edges: each edit is previewed by the API (dry run) before it is saved. */
function ScoringEditor({ saved, onSaved }: { saved: PqaConfig; onSaved: () => void }) {
  if (!draft.value) draft.value = saved;
  const d = draft.value ?? saved;
  useEffect(() => {
    let live = true;
    const t = setTimeout(async () => {
      try {
        const p = await api<Preview>('/v1/admin/pqa/config?dry_run=true', { method: 'PUT', body: d });
        if (live) (preview.value = p), (previewError.value = '');
      } catch (err) {
        if (live) (preview.value = null), (previewError.value = (err as Error).message);
      }
    }, 250);
    return () => ((live = false), clearTimeout(t));
  }, [d]);
  const set = (section: string, field: string, value: string) => {
    const v = value === '' ? NaN : Number(value);
    draft.value = { ...d, [section]: { ...(d[section as keyof PqaConfig] as object), [field]: v } } as PqaConfig;
  };
  const save = async (e: Event) => {
    e.preventDefault();
    try {
      await api('/v1/admin/pqa/config', { method: 'PUT', body: d });
      scoringMessage.value = 'Saved the PQA points and band edges; every account is rescored by the next cron run.';
      onSaved();
    } catch (err) {
      scoringMessage.value = (err as Error).message;
    }
  };
  const p = preview.value;
  const labels = Number.isFinite(d.bands.warm) && Number.isFinite(d.bands.sales_assist) && Number.isFinite(d.bands.sales_ready) ? bandLabels(d.bands) : BAND_NAMES;
  return (
    <section class="card editor" aria-labelledby="scoring-title">
      <h2 id="scoring-title">Scoring: points and band edges</h2>
      <form onSubmit={save}>
        <div class="row wrap">
          {FIELDS.map(([section, field, label]) => {
            const value = (d[section] as Record<string, number>)[field];
            return (
              <div class="field" key={`${section}.${field}`}>
                <label for={`pqa-${section}-${field}`}>{label}</label>
                <input
                  id={`pqa-${section}-${field}`}
                  name={`${section}.${field}`}
                  type="number"
                  value={Number.isFinite(value) ? String(value) : ''}
                  onInput={(e) => set(section, field, e.currentTarget.value)}
                />
              </div>
            );
          })}
        </div>
        <table id="pqa-preview" class="compact">
          <caption>
            How {p ? num(p.accounts_scored) : '…'} accounts would band{p ? ` (${num(p.changed_total)} change score or band)` : ''}
          </caption>
          <thead>
            <tr>
              <th scope="col">Band</th>
              <th scope="col" class="num">Now</th>
              <th scope="col" class="num">With these settings</th>
            </tr>
          </thead>
          <tbody>
            {PQA_BAND_IDS.map((b) => (
              <tr key={b} data-band={b}>
                <th scope="row">{labels[b]}</th>
                <td class="num">{p ? num(p.current_bands[b]) : '…'}</td>
                <td class="num">{p ? num(p.bands[b]) : '…'}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <p role="status" id="scoring-status">
          {previewError.value || scoringMessage.value}
        </p>
        <div class="row">
          <button type="submit">Save scoring</button>
          <button type="button" class="secondary" onClick={() => ((draft.value = saved), (scoringMessage.value = ''))}>
            Reset
          </button>
        </div>
      </form>
    </section>
  );
}

const EVENTS = ['pqa.sales_ready', 'upgrade.requested', 'upgrade.succeeded', 'usage.threshold_crossed', 'usage.growth', 'pqa.band_changed', 'plan.downgrade_scheduled', 'subscription.cancel_scheduled', 'save_offer.accepted'] as const;
const form = signal({ id: 'sales-slack', url: '', format: 'slack' as 'json' | 'slack', events: ['pqa.sales_ready'] as string[], secret: '' });

function Webhooks() {
  const hooks = useRequest(() => api<{ webhooks: Webhook[] }>('/v1/admin/webhooks'), []);
  const f = form.value;
  const set = (patch: Partial<typeof f>) => (form.value = { ...form.value, ...patch });
  const save = async (e: Event) => {
    e.preventDefault();
    message.value = '';
    try {
      const body = { url: f.url, format: f.format, events: f.events, ...(f.secret && { secret: f.secret }) };
      await api(`/v1/admin/webhooks/${encodeURIComponent(f.id)}`, { method: 'PUT', body });
      message.value = `Saved webhook ${f.id}.`;
      hooks.reload();
    } catch (err) {
      message.value = (err as Error).message;
    }
  };
  const test = async (id: string) => {
    message.value = `Sending a test event to ${id}…`;
    try {
      const r = await api<{ delivered: boolean; status: number | null; error: string | null }>(`/v1/admin/webhooks/${encodeURIComponent(id)}/test`, { method: 'POST', body: {} });
      message.value = r.delivered ? `Test sent to ${id}: answered ${r.status}.` : `Test to ${id} failed: ${r.error ?? `status ${r.status}`}.`;
    } catch (err) {
      message.value = (err as Error).message;
    }
  };
  return (
    <section class="card" aria-labelledby="webhooks-title">
      <h2 id="webhooks-title">Outgoing webhooks</h2>
      <p class="status" role="status">
        {message.value}
      </p>
      <Loaded state={hooks}>
        {({ webhooks }) => (
          <DataTable
            id="webhooks"
            caption="Configured webhooks"
            rows={webhooks}
            rowKey={(w) => w.id}
            empty="No webhooks yet: add one below to push sales-ready accounts to Slack or your CRM."
            columns={[
              { key: 'id', label: 'Id', value: (w) => w.id },
              { key: 'url', label: 'URL', value: (w) => w.url },
              { key: 'format', label: 'Format', value: (w) => w.format },
              { key: 'events', label: 'Events', value: (w) => w.events.join(', ') },
              { key: 'delivered', label: 'Delivered', value: (w) => w.deliveries?.delivered ?? null, numeric: true },
              { key: 'pending', label: 'Pending', value: (w) => w.deliveries?.pending ?? null, numeric: true },
              { key: 'last', label: 'Last delivery', value: (w) => w.deliveries?.last_delivered_at ?? null, render: (w) => when(w.deliveries?.last_delivered_at) },
              {
                key: 'status',
                label: 'Status',
                value: (w) => (w.disabled ? 'disabled' : w.enabled ? 'active' : 'paused'),
                render: (w) => (w.disabled ? <span><strong>Disabled</strong>: {w.disabled_reason}</span> : w.enabled ? 'Active' : 'Paused'),
              },
              {
                key: 'actions',
                label: 'Actions',
                value: () => null,
                render: (w) => (
                  <div class="row">
                    <button type="button" class="secondary" onClick={() => test(w.id)} aria-label={`Send a test event to ${w.id}`}>
                      Test-send
                    </button>
                    <button type="button" class="secondary" onClick={() => set({ id: w.id, url: w.url, format: w.format, events: [...w.events], secret: '' })} aria-label={`Edit ${w.id}`}>
                      Edit
                    </button>
                  </div>
                ),
              },
            ]}
          />
        )}
      </Loaded>
      <form onSubmit={save} class="webhook-form">
        <h3>Add or edit a webhook</h3>
        <div class="row">
          <div class="field">
            <label for="wh-id">Id</label>
            <input id="wh-id" name="id" required value={f.id} onInput={(e) => set({ id: e.currentTarget.value })} />
          </div>
          <div class="field grow">
            <label for="wh-url">URL</label>
            <input id="wh-url" name="url" type="url" required value={f.url} placeholder="https://hooks.slack.com/services/…" onInput={(e) => set({ url: e.currentTarget.value })} />
          </div>
          <div class="field">
            <label for="wh-format">Format</label>
            <select id="wh-format" name="format" value={f.format} onChange={(e) => set({ format: e.currentTarget.value as 'json' | 'slack' })}>
              <option value="slack">Slack incoming webhook</option>
              <option value="json">JSON, signed (HMAC-SHA256)</option>
            </select>
          </div>
          <div class="field">
            <label for="wh-secret">Signing secret {f.format === 'json' ? '(16+ characters; kept if empty on edit)' : '(optional)'}</label>
            <input id="wh-secret" name="secret" type="password" autoComplete="off" value={f.secret} onInput={(e) => set({ secret: e.currentTarget.value })} />
          </div>
        </div>
        <fieldset class="row">
          <legend>Events</legend>
          {EVENTS.map((ev) => (
            <label key={ev} class="check">
              <input
                type="checkbox"
                name="events"
                value={ev}
                checked={f.events.includes(ev)}
                onChange={(e) => set({ events: e.currentTarget.checked ? [...f.events, ev] : f.events.filter((x) => x !== ev) })}
              />
              {ev}
            </label>
          ))}
        </fieldset>
        <button type="submit">Save webhook</button>
      </form>
    </section>
  );
}
