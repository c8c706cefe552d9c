import { useEffect } from 'preact/hooks';
import { prompts, role, state } from '../store';
import { seen } from '../transport';
import type { Feature } from '../types';
import { Box } from './Box';
import { openUpgrade, upgradeChunk, withChunk } from './lazyUpgrade';

/** Whether the user may use a feature now (entitled, or in a running trial). */
export const allowed = (f?: Feature) =>
  !!f && (f.entitled || (!!f.trial_ends_at && Date.parse(f.trial_ends_at) > Date.now()));

/** `<ladder-gate>`: the host's content when allowed, the preview otherwise. */
export function GateSlot({ id }: { id: string }) {
  const f = state.value?.features[id];
  if (allowed(f)) return <slot />;
  return f ? <Box><GatePreview id={id} /></Box> : null;
}

/** What a locked feature does, which plan has it, and a trial or upgrade. */
export function GatePreview({ id, onClose }: { id: string; onClose?: () => void }) {
  const s = state.value;
  const f = s?.features[id];
  const p = prompts.value.find((q) => q.kind === 'feature_gate' && q.feature_id === id);
  useEffect(() => p && seen(p), [p?.id]);
  if (!s || !f) return null;
  const plan = s.upgrade_options.find((o) => o.plan_id === f.required_plan)?.name ?? f.required_plan;
  const name = f.name ?? id;
  // a trial starts from the on-demand chunk, which then says how it went in place of the buttons
  const chunk = upgradeChunk.value;
  return (
    <section class="card" data-kind="feature_gate" aria-labelledby={'g-' + id}>
      <h3 id={'g-' + id}>{p?.title || (plan ? `${name} is available on ${plan}` : name)}</h3>
      {(p?.body || f.description) && <p>{p?.body || f.description}</p>}
      {!chunk?.trials.value[id]?.ends && (
        <div class="row">
          {f.trial_available && (
            <button class="pri" onClick={() => withChunk((c) => c.startTrial(id, p))}>
              {f.trial_days ? `Start ${f.trial_days}-day trial` : 'Start free trial'}
            </button>
          )}
          {f.required_plan && (
            <button class={f.trial_available ? '' : 'pri'} onClick={() => openUpgrade({ plan_id: f.required_plan! })}>
              {role.value === 'admin' ? `Upgrade to ${plan}` : 'Ask your admin'}
            </button>
          )}
        </div>
      )}
      {chunk && <chunk.Trial id={id} />}
      {onClose && (
        <button class="x" aria-label="Close" onClick={onClose}>
          ×
        </button>
      )}
    </section>
  );
}
