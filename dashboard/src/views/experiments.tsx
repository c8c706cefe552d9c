/** Experiments on prompt copy: create, start/stop, results with intervals, SRM check and verdict, ship. */
import { signal } from '@preact/signals';
import { api } from '../api';
import { DataTable, Loaded } from '../components';
import { num, pct, when } from '../format';
import { WidgetPreview } from '../preview';
import { useRequest } from '../state';
import type { Experiment, ExperimentResults, PromptCopy, PromptDefinition, VariantResult } from '../types';
import { CopyFields, loadPrompts } from './prompts';
import { SimulationResults } from './simulate';
import type { SimulationResponse } from '../../../shared/simulationSchemas';

const open = signal<string | null>(null);
const creating = signal(false);
const message = signal('');

type VariantDraft = { id: string; weight: number; copy: PromptCopy };
type Draft = { key: string; prompt_id: string; unit: 'account' | 'user'; holdout_pct: number; attribution_days: number; min_conversions: number; variants: VariantDraft[] };
const draft = signal<Draft | null>(null);
const previewVariant = signal(0);

const ci = (r: [number, number] | null | undefined, f = (x: number) => pct(x)) => (r ? `${f(r[0])} to ${f(r[1])}` : '—');
const signed = (x: number | null) => (x === null ? '—' : `${x >= 0 ? '+' : '−'}${Math.abs(x * 100).toFixed(1)}%`);
const pval = (p: number | null | undefined) => (p === null || p === undefined ? '—' : p < 0.0001 ? '< 0.0001' : p.toPrecision(2));

export function ExperimentsView() {
  const list = useRequest(() => api<{ experiments: Experiment[] }>('/v1/admin/experiments'), []);
  const prompts = useRequest(loadPrompts, []);
  const act = async (e: Experiment, action: 'start' | 'stop') => {
    message.value = '';
    try {
      await api(`/v1/admin/experiments/${encodeURIComponent(e.id)}/${action}`, { method: 'POST' });
      message.value = `${e.key} ${action === 'start' ? 'started' : 'stopped'}.`;
      list.reload();
    } catch (err) {
      message.value = (err as Error).message;
    }
  };
  const startCreate = () => {
    const first = prompts.data?.prompts[0];
    const copy = first ? { ...first.copy } : { title: '', body: '', cta_label: '', secondary_label: '' };
    draft.value = {
      key: `exp-${new Date().toISOString().slice(0, 10)}`,
      prompt_id: first?.id ?? '',
      unit: 'account',
      holdout_pct: 0,
      attribution_days: 7,
      min_conversions: 100,
      variants: [
        { id: 'control', weight: 50, copy },
        { id: 'b', weight: 50, copy: { ...copy } },
      ],
    };
    previewVariant.value = 0;
    creating.value = true;
  };
  return (
    <>
      <p class="status" role="status">
        {message.value}
      </p>
      <div class="row">
        <button type="button" onClick={startCreate} disabled={!prompts.data}>
          New experiment
        </button>
      </div>
      {creating.value && draft.value && prompts.data && (
        <CreateForm
          prompts={prompts.data.prompts}
          onCreated={(e) => {
            creating.value = false;
            open.value = e.id;
            message.value = `Created ${e.key} as a draft: start it when ready.`;
            list.reload();
          }}
        />
      )}
      <Loaded state={list}>
        {({ experiments }) => (
          <section class="card">
            <DataTable
              id="experiments"
              caption="Experiments"
              rows={experiments}
              rowKey={(e) => e.id}
              selected={open.value}
              onRowSelect={(e) => (open.value = e.id)}
              empty="No experiments yet."
              columns={[
                { key: 'key', label: 'Experiment', value: (e) => e.key },
                { key: 'prompt', label: 'Prompt', value: (e) => e.prompt_id },
                { key: 'status', label: 'Status', value: (e) => e.status, render: (e) => <span class={`badge ${e.status}`}>{e.status}</span> },
                { key: 'variants', label: 'Variants', value: (e) => e.variants.map((v) => `${v.id} (${v.weight})`).join(', ') + (e.holdout_pct ? `, holdout ${e.holdout_pct}%` : '') },
                { key: 'started', label: 'Started', value: (e) => e.started_at, render: (e) => when(e.started_at) },
                {
                  key: 'actions',
                  label: 'Actions',
                  value: () => null,
                  render: (e) =>
                    e.status === 'draft' ? (
                      <button type="button" class="secondary" onClick={() => act(e, 'start')} aria-label={`Start ${e.key}`}>
                        Start
                      </button>
                    ) : e.status === 'running' ? (
                      <button type="button" class="secondary" onClick={() => act(e, 'stop')} aria-label={`Stop ${e.key}`}>
                        Stop
                      </button>
                    ) : null,
                },
              ]}
            />
            {open.value && experiments.some((e) => e.id === open.value) && (
              <Results experiment={experiments.find((e) => e.id === open.value)!} onChange={list.reload} />
            )}
          </section>
        )}
      </Loaded>
    </>
  );
}

function CreateForm({ prompts, onCreated }: { prompts: (PromptDefinition & { builtin: boolean })[]; onCreated: (e: Experiment) => void }) {
  const d = draft.value!;
  const set = (patch: Partial<Draft>) => (draft.value = { ...draft.value!, ...patch });
  const setVariant = (i: number, patch: Partial<VariantDraft>) => set({ variants: d.variants.map((v, j) => (j === i ? { ...v, ...patch } : v)) });
  const def = prompts.find((p) => p.id === d.prompt_id) ?? prompts[0]!;
  const submit = async (e: Event) => {
    e.preventDefault();
    try {
      onCreated(await api<Experiment>('/v1/admin/experiments', { method: 'POST', body: d }));
    } catch (err) {
      message.value = (err as Error).message;
    }
  };
  const shown = Math.min(previewVariant.value, d.variants.length - 1);
  return (
    <section class="card" aria-labelledby="new-exp">
      <h2 id="new-exp">New experiment</h2>
      <form onSubmit={submit} class="grid2">
        <div>
          <div class="field">
            <label for="exp-key">Key (seeds the assignment)</label>
            <input id="exp-key" name="key" required value={d.key} onInput={(e) => set({ key: e.currentTarget.value })} />
          </div>
          <div class="field">
            <label for="exp-prompt">Prompt</label>
            <select
              id="exp-prompt"
              name="prompt_id"
              value={d.prompt_id}
              onChange={(e) => {
                const p = prompts.find((x) => x.id === e.currentTarget.value);
                set({ prompt_id: e.currentTarget.value, ...(p && { variants: d.variants.map((v, i) => (i === 0 ? { ...v, copy: { ...p.copy } } : v)) }) });
              }}
            >
              {prompts.map((p) => (
                <option key={p.id} value={p.id}>
                  {p.id} ({p.kind})
                </option>
              ))}
            </select>
          </div>
          <div class="row">
            <div class="field">
              <label for="exp-holdout">Holdout %</label>
              <input id="exp-holdout" name="holdout_pct" type="number" min={0} max={50} value={d.holdout_pct} onInput={(e) => set({ holdout_pct: Number(e.currentTarget.value) })} />
            </div>
            <div class="field">
              <label for="exp-window">Attribution window (days)</label>
              <input id="exp-window" name="attribution_days" type="number" min={1} max={90} value={d.attribution_days} onInput={(e) => set({ attribution_days: Number(e.currentTarget.value) })} />
            </div>
            <div class="field">
              <label for="exp-min">Min. conversions for a verdict</label>
              <input id="exp-min" name="min_conversions" type="number" min={1} value={d.min_conversions} onInput={(e) => set({ min_conversions: Number(e.currentTarget.value) })} />
            </div>
            <div class="field">
              <label for="exp-unit">Unit</label>
              <select id="exp-unit" name="unit" value={d.unit} onChange={(e) => set({ unit: e.currentTarget.value as 'account' | 'user' })}>
                <option value="account">Account</option>
                <option value="user">User</option>
              </select>
              <p class="muted small" id="exp-unit-rule">{conversionRule(d.unit)}</p>
            </div>
          </div>
          {d.variants.map((v, i) => (
            <fieldset key={i} class="variant">
              <legend>{i === 0 ? 'Control' : `Variant ${i + 1}`}</legend>
              <div class="row">
                <div class="field">
                  <label for={`v${i}-id`}>Variant id</label>
                  <input id={`v${i}-id`} name={`variant-${i}-id`} required value={v.id} onInput={(e) => setVariant(i, { id: e.currentTarget.value })} />
                </div>
                <div class="field">
                  <label for={`v${i}-weight`}>Weight</label>
                  <input id={`v${i}-weight`} name={`variant-${i}-weight`} type="number" min={1} value={v.weight} onInput={(e) => setVariant(i, { weight: Number(e.currentTarget.value) })} />
                </div>
              </div>
              <CopyFields copy={v.copy} idPrefix={`v${i}`} onChange={(copy) => setVariant(i, { copy })} />
              <div class="row">
                <button type="button" class="secondary" onClick={() => (previewVariant.value = i)} aria-pressed={shown === i}>
                  Preview this variant
                </button>
                {i > 1 && (
                  <button type="button" class="secondary" onClick={() => set({ variants: d.variants.filter((_, j) => j !== i) })}>
                    Remove
                  </button>
                )}
              </div>
            </fieldset>
          ))}
          <div class="row">
            {d.variants.length < 6 && (
              <button type="button" class="secondary" onClick={() => set({ variants: [...d.variants, { id: String.fromCharCode(97 + d.variants.length), weight: 50, copy: { ...d.variants[0]!.copy } }] })}>
                Add variant
              </button>
            )}
            <button type="submit">Create draft</button>
            <button type="button" class="secondary" onClick={() => (creating.value = false)}>
              Cancel
            </button>
          </div>
        </div>
        <div>
          <h3>Preview: {d.variants[shown]!.id}</h3>
          <WidgetPreview def={def} copy={d.variants[shown]!.copy} />
        </div>
      </form>
    </section>
  );
}

function Results({ experiment: e, onChange }: { experiment: Experiment; onChange: () => void }) {
  const results = useRequest(() => api<ExperimentResults>(`/v1/admin/experiments/${encodeURIComponent(e.id)}/results`), [e.id, e.status]);
  const ship = async (variantId: string) => {
    if (!confirm(`Ship variant "${variantId}"? Its copy becomes the prompt's copy and the experiment ends.`)) return;
    try {
      await api(`/v1/admin/experiments/${encodeURIComponent(e.id)}/ship`, { method: 'POST', body: { variant_id: variantId } });
      message.value = `Shipped ${variantId} of ${e.key}.`;
      onChange();
    } catch (err) {
      message.value = (err as Error).message;
    }
  };
  return (
    <section class="results" aria-labelledby="results-title" data-experiment={e.id}>
      <h2 id="results-title">Results of {e.key}</h2>
      <p class="muted small">
        Conversion: a self-serve upgrade within {e.attribution_days} days of the unit's first exposure. {conversionRule(e.unit)} Control: {e.control_id}. Status: {e.status}
        {e.shipped_variant_id ? `, shipped ${e.shipped_variant_id}` : ''}.
      </p>
      <Loaded state={results}>
        {(r) => (
          <>
            {r.srm.flagged ? (
              <p class="warning" role="alert" data-srm="flagged">
                Sample ratio mismatch: the exposures do not match the configured weights (p = {pval(r.srm.p_value)}). Check the assignment before trusting these results.
              </p>
            ) : (
              <p class="muted small" data-srm="ok">
                Sample ratio check passed (p = {pval(r.srm.p_value)}).
              </p>
            )}
            {r.verdict && (
              <p class={`verdict ${r.verdict.status}`} data-verdict={r.verdict.status}>
                <strong>Verdict:</strong> {r.verdict.message}
              </p>
            )}
            {r.warnings?.map((w) => (
              <p class="warning" data-warning>
                {w}
              </p>
            ))}
            <DataTable
              id="results"
              caption="Per variant"
              rows={[...r.variants, ...(r.incremental?.holdout ? [r.incremental.holdout] : [])]}
              rowKey={(v) => v.id}
              columns={[
                { key: 'id', label: 'Variant', value: (v: VariantResult) => v.id },
                { key: 'exposed', label: 'Exposed', value: (v) => v.exposed, render: (v) => num(v.exposed), numeric: true },
                { key: 'conversions', label: 'Conversions', value: (v) => v.conversions, render: (v) => num(v.conversions), numeric: true },
                { key: 'rate', label: 'Rate (95% CI)', value: (v) => v.rate, render: (v) => `${pct(v.rate)} (${ci(v.rate_ci)})`, numeric: true },
                { key: 'lift', label: 'Lift vs control (95% CI)', value: (v) => v.lift, render: (v) => (v.lift === null ? '—' : `${signed(v.lift)} (${ci(v.lift_ci, (x) => signed(x))})`), numeric: true },
                { key: 'p', label: 'p-value', value: (v) => v.p_value, render: (v) => pval(v.p_value), numeric: true },
                { key: 'beat', label: 'Chance to beat control', value: (v) => v.chance_to_beat_control, render: (v) => pct(v.chance_to_beat_control), numeric: true },
                {
                  key: 'impact',
                  label: 'Impact',
                  value: () => null,
                  render: (v) =>
                    v.id !== 'holdout' ? (
                      <button type="button" class="secondary" onClick={() => previewShipping(e, v.id)} aria-label={`Preview impact of shipping ${v.id}`}>
                        Preview impact
                      </button>
                    ) : null,
                },
                {
                  key: 'ship',
                  label: 'Ship',
                  value: () => null,
                  render: (v) =>
                    (e.status === 'running' || e.status === 'stopped') && v.id !== 'holdout' ? (
                      <button type="button" class={r.verdict?.winner_id === v.id ? '' : 'secondary'} onClick={() => ship(v.id)} aria-label={`Ship ${v.id}`}>
                        Ship
                      </button>
                    ) : null,
                },
              ]}
            />
            <VariantImpact experiment={e} />
          </>
        )}
      </Loaded>
    </section>
  );
}

const variantImpact = signal<{ experimentId: string; variantId: string; result: SimulationResponse | null; error: string } | null>(null);

/** Preview impact of shipping a variant: `POST /v1/admin/simulations` with the variant, current vs shipped side by side. */
async function previewShipping(e: Experiment, variantId: string) {
  variantImpact.value = { experimentId: e.id, variantId, result: null, error: '' };
  try {
    const result = await api<SimulationResponse>('/v1/admin/simulations', { method: 'POST', body: { variant: { experiment_id: e.id, variant_id: variantId } } });
    if (variantImpact.value?.variantId === variantId) variantImpact.value = { experimentId: e.id, variantId, result, error: '' };
  } catch (err) {
    variantImpact.value = { experimentId: e.id, variantId, result: null, error: (err as Error).message };
  }
}

function VariantImpact({ experiment: e }: { experiment: Experiment }) {
  const v = variantImpact.value;
  if (!v || v.experimentId !== e.id) return null;
  return (
    <section class="card" aria-labelledby="variant-impact-title" data-variant-impact={v.variantId}>
      <h3 id="variant-impact-title">
        Impact of shipping {v.variantId} ({e.prompt_id}), over the last 90 days
      </h3>
      {v.error && (
        <p class="error" role="alert">
          {v.error}
        </p>
      )}
      {!v.result && !v.error && <p class="muted">Simulating…</p>}
      {v.result && (
        <>
          <p class="muted small">
            Upgrades projected from what {v.variantId} observed: {num(v.result.variant?.conversions ?? 0)} conversions of {num(v.result.variant?.exposed ?? 0)} exposed{' '}
            {v.result.variant?.unit === 'user' ? 'users' : 'accounts'}.
          </p>
          <SimulationResults promptId={e.prompt_id} r={v.result} proposedTitle={`Shipping ${v.variantId}`} />
        </>
      )}
      <div class="row">
        <button type="button" class="secondary" onClick={() => (variantImpact.value = null)}>
          Close
        </button>
      </div>
    </section>
  );
}

/** Who an upgrade counts for, next to the unit: the worker's rule (worker/experiments.ts `armCounts`). */
function conversionRule(unit: 'account' | 'user'): string {
  return unit === 'user'
    ? "An account's upgrade counts only for exposed users who made it or clicked this prompt before it."
    : "An account's upgrade counts for the account.";
}
