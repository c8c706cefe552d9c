import { isApiError, loadState, request, track } from '../transport';
import type { Prompt } from '../types';
import { trials } from '../ui/Gate';

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
