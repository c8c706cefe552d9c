/** Prompts: the definitions in force, on/off, and a copy editor with the widget's live preview. */
import { signal } from '@preact/signals';
import { api } from '../api';
import { DataTable, Loaded } from '../components';
import { when } from '../format';
import { WidgetPreview } from '../preview';
import { useRequest } from '../state';
import type { PromptCopy, PromptDefinition } from '../types';
import { ImpactPreview, startProposal } from './simulate';

type Listed = PromptDefinition & { updated_at: string | null; builtin: boolean };

const editing = signal<string | null>(null);
const simulating = signal<string | null>(null);
const draft = signal<PromptCopy | null>(null);
const message = signal('');

/** The body of `PUT /v1/admin/prompts/:id` for a listed definition. */
export const promptInput = (p: Listed, change: Partial<Pick<Listed, 'copy' | 'enabled'>>) => ({
  kind: p.kind,
  trigger: p.trigger,
  caps: p.caps,
  copy: change.copy ?? p.copy,
  enabled: change.enabled ?? p.enabled,
});

export const triggerText = (p: PromptDefinition) => {
  const t = p.trigger as Record<string, unknown>;
  if ('thresholds' in t) return `${t.metric === '*' ? 'any metric' : t.metric} at ${(t.thresholds as number[]).join(', ')}%`;
  if ('feature_id' in t) return `feature ${t.feature_id === '*' ? 'any' : t.feature_id}`;
  if ('seat_pct' in t) return `seats ≥ ${t.seat_pct}%`;
  if ('milestones' in t) return `${t.metric === '*' ? 'any metric' : t.metric} reaches ${(t.milestones as number[]).join(', ')}`;
  return '';
};

export const loadPrompts = () => api<{ prompts: Listed[] }>('/v1/admin/prompts');

export function PromptsView() {
  const list = useRequest(loadPrompts, []);
  const save = async (p: Listed, change: Partial<Pick<Listed, 'copy' | 'enabled'>>) => {
    message.value = '';
    try {
      await api(`/v1/admin/prompts/${encodeURIComponent(p.id)}`, { method: 'PUT', body: promptInput(p, change) });
      message.value = change.copy ? `Saved the copy of ${p.id}.` : `${p.id} is now ${change.enabled ? 'on' : 'off'}.`;
      list.reload();
    } catch (e) {
      message.value = (e as Error).message;
    }
  };
  return (
    <Loaded state={list}>
      {({ prompts }) => {
        const current = prompts.find((p) => p.id === editing.value);
        const simulated = prompts.find((p) => p.id === simulating.value);
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
            {simulated && <ImpactPreview prompt={simulated} onClose={() => (simulating.value = null)} />}
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
        Placeholders: {'{used} {limit} {pct} {metric} {plan} {next_plan} {feature}'} — shown as plain text, never HTML.
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
