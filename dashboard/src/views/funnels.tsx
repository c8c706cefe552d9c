/** Prompt funnels: impressions → clicks → upgrade previews → upgrades, per prompt and variant. */
import { signal } from '@preact/signals';
import { api, qs } from '../api';
import { BarChart, DataTable, Loaded } from '../components';
import { money, num, pct } from '../format';
import { useRequest } from '../state';
import type { FunnelResponse, FunnelRow } from '../types';
import { apiRange, period, PeriodPicker } from './period';

const promptFilter = signal('');
const selected = signal<string | null>(null);
const rowKey = (r: FunnelRow) => `${r.prompt_id}|${r.experiment_id ?? ''}|${r.variant_id ?? ''}`;
const variantLabel = (r: FunnelRow) => (r.variant_id ? `${r.variant_id}${r.experiment_id ? ` (${r.experiment_id})` : ''}` : '—');

export function FunnelsView() {
  const r = apiRange(period.value);
  const path = `/v1/admin/analytics/funnel${qs({ from: r.from, to: r.to, prompt_id: promptFilter.value || undefined })}`;
  const all = useRequest(() => api<FunnelResponse>(`/v1/admin/analytics/funnel${qs({ from: r.from, to: r.to })}`), [r.from, r.to]);
  const data = useRequest(() => api<FunnelResponse>(path), [path]);
  const promptIds = [...new Set((all.data?.rows ?? []).map((x) => x.prompt_id))].sort();
  return (
    <>
      <PeriodPicker>
        <label>
          Prompt
          <select name="prompt" value={promptFilter.value} onChange={(e) => (promptFilter.value = e.currentTarget.value)}>
            <option value="">All prompts</option>
            {promptIds.map((p) => (
              <option key={p} value={p}>
                {p}
              </option>
            ))}
          </select>
        </label>
      </PeriodPicker>
      <Loaded state={data}>
        {(f) => {
          const sel = f.rows.find((x) => rowKey(x) === selected.value) ?? f.rows[0];
          return (
            <>
              {sel && (
                <section class="card">
                  <h2>
                    Funnel of {sel.prompt_id}
                    {sel.variant_id ? `, variant ${variantLabel(sel)}` : ''}
                  </h2>
                  <BarChart
                    label={`Funnel of ${sel.prompt_id}`}
                    summary={`${num(sel.impressions)} impressions, ${num(sel.clicks)} clicks, ${num(sel.previews)} previews, ${num(sel.upgrades)} upgrades.`}
                    categories={['Impressions', 'Clicks', 'Previews', 'Upgrades']}
                    values={[sel.impressions, sel.clicks, sel.previews, sel.upgrades]}
                    y={(v) => num(v)}
                  />
                  <p class="muted small">
                    Click rate {pct(sel.click_rate)} · preview rate {pct(sel.preview_rate)} · upgrades per preview {pct(sel.upgrades_per_preview)} · {money(sel.expansion_mrr_cents)} expansion MRR.
                    Select a row's prompt to chart it.
                  </p>
                </section>
              )}
              <section class="card">
                <DataTable
                  id="funnel"
                  caption="Funnels per prompt and variant"
                  rows={f.rows}
                  rowKey={rowKey}
                  selected={sel ? rowKey(sel) : null}
                  onRowSelect={(x) => (selected.value = rowKey(x))}
                  csv={{ path, filename: 'funnel.csv' }}
                  columns={[
                    { key: 'prompt', label: 'Prompt', value: (x) => x.prompt_id },
                    { key: 'variant', label: 'Variant', value: variantLabel },
                    { key: 'impressions', label: 'Impressions', value: (x) => x.impressions, render: (x) => num(x.impressions), numeric: true },
                    { key: 'clicks', label: 'Clicks', value: (x) => x.clicks, render: (x) => num(x.clicks), numeric: true },
                    { key: 'click_rate', label: 'Click rate', value: (x) => x.click_rate, render: (x) => pct(x.click_rate), numeric: true },
                    { key: 'previews', label: 'Previews', value: (x) => x.previews, render: (x) => num(x.previews), numeric: true },
                    { key: 'preview_rate', label: 'Preview rate', value: (x) => x.preview_rate, render: (x) => pct(x.preview_rate), numeric: true },
                    { key: 'upgrades', label: 'Upgrades', value: (x) => x.upgrades, render: (x) => num(x.upgrades), numeric: true },
                    { key: 'upgrades_per_preview', label: 'Upgrades per preview', value: (x) => x.upgrades_per_preview, render: (x) => pct(x.upgrades_per_preview), numeric: true },
                    { key: 'mrr', label: 'Expansion MRR', value: (x) => x.expansion_mrr_cents, render: (x) => money(x.expansion_mrr_cents), numeric: true },
                  ]}
                />
                <p class="muted small">Previews: {f.previews_rule}</p>
                <p class="muted small" data-testid="rates-rule">Rates: {f.rates_rule}</p>
              </section>
            </>
          );
        }}
      </Loaded>
    </>
  );
}
