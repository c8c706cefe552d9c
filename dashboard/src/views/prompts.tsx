/** Prompts: the definitions in force, on/off, and a copy editor with the widget's live preview. */
import { signal } from '@preact/signals';
import { useState } from 'preact/hooks';
import { api } from '../api';
import { DataTable, Loaded } from '../components';
import { when } from '../format';
import { WidgetPreview } from '../preview';
import { useRequest } from '../state';
import type { PromptCopy, PromptDefinition } from '../types';
import { ImpactPreview, previewProposal, startProposal } from './simulate';

type Listed = PromptDefinition & { updated_at: string | null; builtin: boolean };

const editing = signal<string | null>(null);
const simulating = signal<string | null>(null);
/** The rules editor's unsaved draft being previewed, in place of the definition in force. */
const previewing = signal<Listed | null>(null);
const draft = signal<PromptCopy | null>(null);
const message = signal('');

/** The body of `PUT /v1/admin/prompts/:id` for a listed definition. */
const promptInput = (p: Listed, change: Partial<Pick<Listed, 'copy' | 'enabled' | 'trigger' | 'caps'>>) => ({
  kind: p.kind,
  trigger: change.trigger ?? p.trigger,
  caps: change.caps ?? p.caps,
  copy: change.copy ?? p.copy,
  enabled: change.enabled ?? p.enabled,
});

const triggerText = (p: PromptDefinition) => {
  const t = p.trigger as Record<string, unknown>;
  if ('thresholds' in t) return `${t.metric === '*' ? 'any metric' : t.metric} at ${(t.thresholds as number[]).join(', ')}%`;
  if ('feature_id' in t) return `feature ${t.feature_id === '*' ? 'any' : t.feature_id}`;
  if ('seat_pct' in t) return `seats ≥ ${t.seat_pct}%`;
  if ('milestones' in t) return `${t.metric === '*' ? 'any metric' : t.metric} reaches ${(t.milestones as number[]).join(', ')}`;
  if ('days_before' in t) return `${t.metric === '*' ? 'any metric' : t.metric} limit forecast within ${t.days_before} days`;
  return '';
};

export const loadPrompts = () => api<{ prompts: Listed[] }>('/v1/admin/prompts');

export function PromptsView() {
  const list = useRequest(loadPrompts, []);
  const save = async (p: Listed, change: Partial<Pick<Listed, 'copy' | 'enabled' | 'trigger' | 'caps'>>) => {
    message.value = '';
    try {
      await api(`/v1/admin/prompts/${encodeURIComponent(p.id)}`, { method: 'PUT', body: promptInput(p, change) });
      message.value = change.copy
        ? `Saved the copy of ${p.id}.`
        : change.caps
          ? `Saved the rules of ${p.id}.`
          : `${p.id} is now ${change.enabled ? 'on' : 'off'}.`;
      list.reload();
    } catch (e) {
      message.value = (e as Error).message;
    }
  };
  return (
    <Loaded state={list}>
      {({ prompts }) => {
        const current = prompts.find((p) => p.id === editing.value);
        const simulated = previewing.value?.id === simulating.value ? previewing.value : prompts.find((p) => p.id === simulating.value);
        return (
          <>
            <p class="status" role="status">
              {message.value}
            </p>
            <section class="card">
              <DataTable
                id="prompts"
                caption="Prompts"
                rows={prompts}
                rowKey={(p) => p.id}
                selected={editing.value}
                columns={[
                  { key: 'id', label: 'Prompt', value: (p) => p.id },
                  { key: 'kind', label: 'Kind', value: (p) => p.kind },
                  { key: 'trigger', label: 'Trigger', value: triggerText },
                  { key: 'title', label: 'Title', value: (p) => p.copy.title },
                  {
                    key: 'enabled',
                    label: 'On',
                    value: (p) => (p.enabled ? 1 : 0),
                    render: (p) => (
                      <label class="switch">
                        <input type="checkbox" role="switch" checked={p.enabled} aria-label={`${p.id} on`} onChange={(e) => save(p, { enabled: e.currentTarget.checked })} />
                        <span>{p.enabled ? 'On' : 'Off'}</span>
                      </label>
                    ),
                  },
                  { key: 'updated', label: 'Edited', value: (p) => p.updated_at, render: (p) => (p.updated_at ? when(p.updated_at) : 'default') },
                  {
                    key: 'edit',
                    label: 'Copy',
                    value: () => null,
                    render: (p) => (
                      <button
                        type="button"
                        class="secondary"
                        aria-label={`Edit copy of ${p.id}`}
                        onClick={() => {
                          editing.value = p.id;
                          draft.value = { ...p.copy };
                        }}
                      >
                        Edit copy
                      </button>
                    ),
                  },
                  {
                    key: 'simulate',
                    label: 'Impact',
                    value: () => null,
                    render: (p) => (
                      <button
                        type="button"
                        class="secondary"
                        aria-label={`Simulate a change to ${p.id}`}
                        onClick={() => {
                          simulating.value = p.id;
                          previewing.value = null;
                          startProposal(p);
                        }}
                      >
                        Simulate
                      </button>
                    ),
                  },
                ]}
              />
            </section>
            {current && draft.value && <CopyEditor prompt={current} onSave={(copy) => save(current, { copy })} />}
            {current && draft.value && (
              <RulesEditor
                key={current.id}
                prompt={current}
                onSave={(trigger, caps) => save(current, { trigger, caps })}
                onPreview={(trigger, caps) => {
                  // Preview impact: the draft replayed next to the rules in force, before anything is saved.
                  const draftRules = { ...current, trigger, caps } as Listed;
                  previewing.value = draftRules;
                  simulating.value = current.id;
                  previewProposal(draftRules);
                }}
              />
            )}
            <ActivationEditor />
            {simulated && (
              <ImpactPreview
                prompt={simulated}
                onClose={() => {
                  simulating.value = null;
                  previewing.value = null;
                }}
              />
            )}
          </>
        );
      }}
    </Loaded>
  );
}

/** Text fields for a prompt's copy; placeholders are filled in the preview. */
export function CopyFields({ copy, onChange, idPrefix }: { copy: PromptCopy; onChange: (c: PromptCopy) => void; idPrefix: string }) {
  const field = (k: keyof PromptCopy, label: string, multiline = false) => {
    const id = `${idPrefix}-${k}`;
    const set = (e: Event) => onChange({ ...copy, [k]: (e.currentTarget as HTMLInputElement).value });
    return (
      <div class="field">
        <label for={id}>{label}</label>
        {multiline ? <textarea id={id} name={k} rows={3} value={copy[k]} onInput={set} /> : <input id={id} name={k} value={copy[k]} onInput={set} />}
      </div>
    );
  };
  return (
    <>
      {field('title', 'Title')}
      {field('body', 'Body', true)}
      {field('cta_label', 'Button label (empty: no button)')}
      {field('secondary_label', 'Secondary label (empty: none)')}
      <p class="muted small">
        Placeholders: {'{used} {limit} {pct} {metric} {plan} {next_plan} {next_limit} {feature}'}, and for forecast prompts{' '}
        {'{date} {days}'} (when the limit is reached at the recent pace, and in how many days) — shown as plain text, never HTML. A
        sentence naming the next plan is left out for accounts on the top plan.
      </p>
    </>
  );
}

function CopyEditor({ prompt, onSave }: { prompt: Listed; onSave: (c: PromptCopy) => void }) {
  const copy = draft.value!;
  return (
    <section class="card editor" aria-labelledby="editor-title">
      <h2 id="editor-title">Copy of {prompt.id}</h2>
      <div class="grid2">
        <form
          onSubmit={(e) => {
            e.preventDefault();
            onSave(copy);
          }}
        >
          <CopyFields copy={copy} onChange={(c) => (draft.value = c)} idPrefix="copy" />
          <div class="row">
            <button type="submit">Save copy</button>
            <button type="button" class="secondary" onClick={() => (draft.value = { ...prompt.copy })}>
              Revert
            </button>
            <button type="button" class="secondary" onClick={() => (editing.value = null)}>
              Close
            </button>
          </div>
        </form>
        <WidgetPreview def={prompt} copy={copy} />
      </div>
    </section>
  );
}

const CAP_FIELDS = [
  ['per_session', 'Per session'],
  ['total', 'Total (limit notices and forecasts: per metric per billing period)'],
  ['dismiss_limit', 'Dismissals before suppression'],
  ['dismiss_cooldown_days', 'Suppressed for (days)'],
  ['snooze_days', '"Remind me later" for (days)'],
] as const;

const numbers = (text: string) =>
  text
    .split(/[\s,]+/)
    .filter(Boolean)
    .map(Number);

/** A prompt's trigger and frequency caps; the API's validation messages name the field. */
function RulesEditor({
  prompt,
  onSave,
  onPreview,
}: {
  prompt: Listed;
  onSave: (trigger: Listed['trigger'], caps: Listed['caps']) => void;
  onPreview: (trigger: Listed['trigger'], caps: Listed['caps']) => void;
}) {
  const t = prompt.trigger as Record<string, unknown>;
  const [thresholds, setThresholds] = useState(Array.isArray(t.thresholds) ? (t.thresholds as number[]).join(', ') : '');
  const [seatPct, setSeatPct] = useState(typeof t.seat_pct === 'number' ? String(t.seat_pct) : '');
  const [daysBefore, setDaysBefore] = useState(typeof t.days_before === 'number' ? String(t.days_before) : '');
  const [caps, setCaps] = useState<Record<string, number>>({ ...(prompt.caps as unknown as Record<string, number>) });
  const trigger = () => {
    if ('thresholds' in t) return { ...t, thresholds: numbers(thresholds) };
    if ('seat_pct' in t) return { ...t, seat_pct: Number(seatPct) };
    if ('days_before' in t) return { ...t, days_before: Number(daysBefore) };
    return t;
  };
  return (
    <section class="card editor" aria-labelledby="rules-title">
      <h2 id="rules-title">Rules of {prompt.id}</h2>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          onSave(trigger() as Listed['trigger'], caps as unknown as Listed['caps']);
        }}
      >
        {'thresholds' in t && (
          <div class="field">
            <label for="rules-thresholds">Thresholds (% of the limit, 1–100, e.g. 80)</label>
            <input id="rules-thresholds" name="thresholds" value={thresholds} onInput={(e) => setThresholds(e.currentTarget.value)} />
          </div>
        )}
        {'seat_pct' in t && (
          <div class="field">
            <label for="rules-seat_pct">Seat use (%)</label>
            <input id="rules-seat_pct" name="seat_pct" type="number" value={seatPct} onInput={(e) => setSeatPct(e.currentTarget.value)} />
          </div>
        )}
        {'days_before' in t && (
          <div class="field">
            <label for="rules-days_before">Days before the forecast limit (1–365)</label>
            <input id="rules-days_before" name="days_before" type="number" value={daysBefore} onInput={(e) => setDaysBefore(e.currentTarget.value)} />
          </div>
        )}
        <div class="grid2">
          {CAP_FIELDS.map(([k, label]) => (
            <div class="field" key={k}>
              <label for={`rules-${k}`}>{label}</label>
              <input
                id={`rules-${k}`}
                name={k}
                type="number"
                value={caps[k]}
                onInput={(e) => setCaps({ ...caps, [k]: Number(e.currentTarget.value) })}
              />
            </div>
          ))}
        </div>
        <div class="row">
          <button type="submit">Save rules</button>
          <button type="button" class="secondary" onClick={() => onPreview(trigger() as Listed['trigger'], caps as unknown as Listed['caps'])}>
            Preview impact
          </button>
        </div>
      </form>
    </section>
  );
}

type ActivationRule = { events: string[]; min_events: number; min_age_days: number };
const activationMessage = signal('');

/** Activation first: which tracked events, how many, and the minimum account age before soft prompts. */
function ActivationEditor() {
  const rule = useRequest(() => api<ActivationRule>('/v1/admin/activation'), []);
  return (
    <section class="card editor" aria-labelledby="activation-title">
      <h2 id="activation-title">Activation rule</h2>
      <p class="muted small">
        Until an account is activated it sees no soft expansion prompts; limit blocks still show.
      </p>
      <Loaded state={rule}>{(r) => <ActivationForm rule={r} onSaved={rule.reload} />}</Loaded>
      <p role="status" id="activation-status">
        {activationMessage.value}
      </p>
    </section>
  );
}

function ActivationForm({ rule, onSaved }: { rule: ActivationRule; onSaved: () => void }) {
  const [events, setEvents] = useState(rule.events.join(', '));
  const [minEvents, setMinEvents] = useState(String(rule.min_events));
  const [minAge, setMinAge] = useState(String(rule.min_age_days));
  const submit = async (e: Event) => {
    e.preventDefault();
    activationMessage.value = '';
    try {
      const body = { events: events.split(/[\s,]+/).filter(Boolean), min_events: Number(minEvents), min_age_days: Number(minAge) };
      await api('/v1/admin/activation', { method: 'PUT', body });
      activationMessage.value = 'Saved the activation rule.';
      onSaved();
    } catch (err) {
      activationMessage.value = (err as Error).message;
    }
  };
  return (
    <form onSubmit={submit}>
      <div class="field">
        <label for="activation-events">Events that count (comma-separated)</label>
        <input id="activation-events" name="events" value={events} onInput={(e) => setEvents(e.currentTarget.value)} />
      </div>
      <div class="grid2">
        <div class="field">
          <label for="activation-min_events">How many</label>
          <input id="activation-min_events" name="min_events" type="number" value={minEvents} onInput={(e) => setMinEvents(e.currentTarget.value)} />
        </div>
        <div class="field">
          <label for="activation-min_age_days">Minimum account age (days)</label>
          <input id="activation-min_age_days" name="min_age_days" type="number" value={minAge} onInput={(e) => setMinAge(e.currentTarget.value)} />
        </div>
      </div>
      <div class="row">
        <button type="submit">Save activation rule</button>
      </div>
    </form>
  );
}

