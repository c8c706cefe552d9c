import { signal } from '@preact/signals';
import { day } from '../format';
import { isApiError, loadState, request, track } from '../transport';
import type { Prompt } from '../types';

/** Per feature: the trial's end once started here, or why it could not start. */
export const trials = signal<Record<string, { ends?: string; error?: string }>>({});

/** In a gate preview, after its buttons (hidden once the trial runs): the trial's end, or why it could not start. */
export function Trial({ id }: { id: string }) {
  const t = trials.value[id];
  return t?.ends ? <p role="status">Your trial runs until {day(t.ends)}.</p> : t?.error ? <p role="alert">{t.error}</p> : null;
}

/**
 * Starts a feature's trial (once per account, the worker decides), then refreshes the
 * state so `<ladder-gate>` shows the host's content.
 * @example startTrial('sso', prompt)
 */
export async function startTrial(featureId: string, prompt?: Prompt) {
  track('click', prompt, featureId);
  const set = (t: { ends?: string; error?: string }) => (trials.value = { ...trials.value, [featureId]: t });
  try {
    set({ ends: (await request<{ trial_ends_at: string }>('/v1/widget/trials', { feature_id: featureId })).trial_ends_at });
    await loadState();
  } catch (e) {
    set({ error: isApiError(e) ? e.message : 'Could not start the trial. Try again later.' });
  }
}
