/**
 * "Preview impact": a proposed change to one prompt (thresholds or seat share, caps, on/off) and
 * optionally the activation rule, replayed over the last days of history by
 * `POST /v1/admin/simulations`, shown next to the rules in force before anything is saved.
 */
import { signal } from '@preact/signals';
import { api } from '../api';
import { DataTable, LineChart, Stat } from '../components';
import { money, num } from '../format';
import type { SimulationResponse, SimulationRun } from '../../../shared/simulationSchemas';
import type { Range } from '../../../shared/upgradeProjection';
import type { PromptDefinition } from '../types';

interface Proposal {
  thresholds: string;
  seat_pct: string;
  per_session: string;
  total: string;
  enabled: boolean;
  min_age_days: string;
  window_days: string;
}

const proposal = signal<Proposal | null>(null);
const result = signal<SimulationResponse | null>(null);
const busy = signal(false);
const error = signal('');

const numbers = (s: string) =>
  s
    .split(/[,\s]+/)
    .filter(Boolean)
    .map(Number);

/** The proposal form's starting values: the definition as it is. */
export function startProposal(p: PromptDefinition) {
  const t = p.trigger as Record<string, unknown>;
  proposal.value = {
    thresholds: Array.isArray(t.thresholds) ? (t.thresholds as number[]).join(', ') : '',
    seat_pct: typeof t.seat_pct === 'number' ? String(t.seat_pct) : '',
    per_session: String(p.caps.per_session),
    total: String(p.caps.total),
    enabled: p.enabled,
    min_age_days: '',
    window_days: '90',
  };
  result.value = null;
  error.value = '';
}

/** Start a proposal from a draft definition (the rules editor's, unsaved) and replay it at once. */
export function previewProposal(p: PromptDefinition) {
  startProposal(p);
  void run(p, proposal.value!);
}

/** The `PUT /v1/admin/prompts/:id` body the proposal describes. */
function proposedBody(p: PromptDefinition, f: Proposal) {
  const trigger = { ...(p.trigger as Record<string, unknown>) };
  if (p.kind === 'limit_notice') trigger.thresholds = numbers(f.thresholds);
  if (p.kind === 'invite') trigger.seat_pct = Number(f.seat_pct);
  return {
    kind: p.kind,
    trigger,
    caps: { ...p.caps, per_session: Number(f.per_session), total: Number(f.total) },
    copy: p.copy,
    enabled: f.enabled,
  };
}

async function run(p: PromptDefinition, f: Proposal) {
  busy.value = true;
  error.value = '';
  try {
    result.value = await api<SimulationResponse>('/v1/admin/simulations', {
      method: 'POST',
      body: {
        definitions: { [p.id]: proposedBody(p, f) },
        window_days: Number(f.window_days),
        ...(f.min_age_days.trim() !== '' && {
          activation: { events: ['core_feature_activated'], min_events: 1, min_age_days: Number(f.min_age_days) },
        }),
      },
    });
  } catch (e) {
    error.value = (e as Error).message;
  } finally {
    busy.value = false;
  }
}

const range = (r: Range | null, fmt: (n: number) => string) => (r ? `${fmt(r.low)} – ${fmt(r.high)}` : 'unknown');
const one = (n: number) => (Math.round(n * 10) / 10).toLocaleString('en-US');

/** The side-by-side numbers of one rule. */
function RuleColumn({ title, run, promptId, testId }: { title: string; run: SimulationRun; promptId: string; testId: string }) {
  const def = run.definitions.find((d) => d.definition_id === promptId) ?? run.prompts.find((p) => p.prompt_id === promptId);
  const p = run.projection;
  return (
    <div class="sim-column" data-rule={testId}>
      <h3>{title}</h3>
      <div class="stats">
        <Stat testId={`${testId}-accounts`} label={`Accounts shown ${promptId}`} value={num(def?.accounts_shown ?? 0)} hint={`${num(def?.users_shown ?? 0)} users, ${num(def?.impressions ?? 0)} impressions`} />
        <Stat testId={`${testId}-impressions`} label="Impressions, all prompts" value={num(run.totals.impressions)} hint={`${num(run.totals.accounts_shown)} accounts, ${num(run.totals.users_shown)} users`} />
        <Stat testId={`${testId}-capped`} label="Sessions at the session cap" value={num(run.totals.sessions_at_cap)} hint={`${num(run.totals.suppressed_by_dismissals)} notices held back by dismissals`} />
        <Stat
          testId={`${testId}-upgrades`}
          label="Projected upgrades (95% range)"
          value={range(p.upgrades, one)}
          hint={`expected ${one(p.upgrades.expected)}`}
        />
        <Stat
          testId={`${testId}-mrr`}
          label="Projected expansion MRR"
          value={range(p.expansion_mrr_cents, (c) => money(c))}
          hint={p.expansion_mrr_cents ? `expected ${money(p.expansion_mrr_cents.expected)}` : 'no upgrade observed yet'}
        />
      </div>
    </div>
  );
}

type PromptRow = { prompt_id: string; current: number; proposed: number; current_accounts: number; proposed_accounts: number };

/** Current vs proposed of one simulation answer, `promptId` being the definition (or prompt) the change is about. */
export function SimulationResults({ promptId, r, proposedTitle = 'Proposed' }: { promptId: string; r: SimulationResponse; proposedTitle?: string }) {
  const ids = [...new Set([...r.current.prompts, ...r.proposed.prompts].map((p) => p.prompt_id))];
  const of = (run: SimulationRun, id: string) => run.prompts.find((p) => p.prompt_id === id);
  const rows: PromptRow[] = ids.map((id) => ({
    prompt_id: id,
    current: of(r.current, id)?.impressions ?? 0,
    proposed: of(r.proposed, id)?.impressions ?? 0,
    current_accounts: of(r.current, id)?.accounts_shown ?? 0,
    proposed_accounts: of(r.proposed, id)?.accounts_shown ?? 0,
  }));
  const x = r.current.days.map((d) => Date.parse(d.day) / 1000);
  const series = [
    { label: 'Current', values: r.current.days.map((d) => d.impressions), color: '--c1' },
    { label: 'Proposed', values: r.proposed.days.map((d) => d.impressions), color: '--c2', dash: true },
  ];
  return (
    <>
      <p class="muted small" data-sampling>
        {r.sampling.method} {r.sampling.events_truncated ? 'Some of the newest events were left out to bound the work.' : ''}
      </p>
      <div class="grid2">
        <RuleColumn title="Current rules" run={r.current} promptId={promptId} testId="current" />
        <RuleColumn title={proposedTitle} run={r.proposed} promptId={promptId} testId="proposed" />
      </div>
      <LineChart
        label="Impressions per day, current vs proposed"
        x={x}
        series={series}
        y={(v) => num(v)}
        summary={`Current ${num(r.current.totals.impressions)} impressions, proposed ${num(r.proposed.totals.impressions)} over ${r.window_days} days.`}
      />
      <DataTable
        id="simulation-prompts"
        caption="Per prompt"
        rows={rows}
        rowKey={(row) => row.prompt_id}
        columns={[
          { key: 'prompt', label: 'Prompt', value: (row) => row.prompt_id },
          { key: 'current', label: 'Impressions now', value: (row) => row.current, numeric: true },
          { key: 'proposed', label: 'Impressions proposed', value: (row) => row.proposed, numeric: true },
          { key: 'ca', label: 'Accounts now', value: (row) => row.current_accounts, numeric: true },
          { key: 'pa', label: 'Accounts proposed', value: (row) => row.proposed_accounts, numeric: true },
        ]}
        empty="Nothing would have been shown in this window."
      />
      <p class="muted small">{r.tolerance}</p>
      <p class="muted small">{r.projection_basis}</p>
    </>
  );
}

/** The proposal form and, once run, current vs proposed. */
export function ImpactPreview({ prompt, onClose }: { prompt: PromptDefinition; onClose: () => void }) {
  const f = proposal.value;
  if (!f) return null;
  const set = (k: keyof Proposal) => (e: Event) => {
    const el = e.currentTarget as HTMLInputElement;
    proposal.value = { ...f, [k]: el.type === 'checkbox' ? el.checked : el.value };
  };
  const field = (k: keyof Proposal, label: string, hint?: string) => (
    <div class="field">
      <label for={`sim-${k}`}>{label}</label>
      <input id={`sim-${k}`} name={k} value={f[k] as string} onInput={set(k)} />
      {hint && <span class="muted small">{hint}</span>}
    </div>
  );
  return (
    <section class="card editor" aria-labelledby="simulate-title">
      <h2 id="simulate-title">Preview the impact of changing {prompt.id}</h2>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void run(prompt, f);
        }}
      >
        <div class="grid2">
          <div>
            {prompt.kind === 'limit_notice' && field('thresholds', 'Thresholds (%)', 'comma-separated, e.g. 75, 90')}
            {prompt.kind === 'invite' && field('seat_pct', 'Seat use that triggers it (%)')}
            {field('per_session', 'At most per session')}
            {field('total', 'At most in total (per period for limit notices)')}
            <label class="switch">
              <input type="checkbox" role="switch" checked={f.enabled} onChange={set('enabled')} aria-label="Proposed: on" />
              <span>{f.enabled ? 'On' : 'Off'}</span>
            </label>
          </div>
          <div>
            {field('min_age_days', 'Activation: minimum account age in days', 'empty: the rule in force')}
            {field('window_days', 'Replay the last … days', 'at most 90')}
          </div>
        </div>
        <div class="row">
          <button type="submit" disabled={busy.value}>
            {busy.value ? 'Simulating…' : 'Simulate'}
          </button>
          <button type="button" class="secondary" onClick={onClose}>
            Close
          </button>
        </div>
      </form>
      {error.value && (
        <p class="error" role="alert">
          {error.value}
        </p>
      )}
      {result.value && <SimulationResults promptId={prompt.id} r={result.value} />}
    </section>
  );
}
