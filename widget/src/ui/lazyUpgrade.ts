/**
 * Loads the upgrade dialog on demand: a dynamic import() of the chunk esbuild splits off
 * (widget/build.mjs), resolved against this module's own URL, so it shares Preact and the
 * signals with the entry and nothing is global.
 */
import { signal } from '@preact/signals';
import { warn } from '../store';
import type { UpgradeChoice } from '../types';

export type UpgradeChunk = typeof import('../upgrade/chunk');

/** The loaded chunk, rendered by the floating container. */
export const upgradeChunk = signal<UpgradeChunk | null>(null);
let loading: Promise<UpgradeChunk> | undefined;

/** The element with focus, looking inside shadow roots. */
function focused() {
  let a = document.activeElement;
  while (a?.shadowRoot?.activeElement) a = a.shadowRoot.activeElement;
  return a as HTMLElement | null;
}

/**
 * Opens the upgrade dialog (an admin buys; a member asks an admin), loading it first.
 * @example openUpgrade({ plan_id: 'business' })
 */
export function openUpgrade(choice: Partial<UpgradeChoice>) {
  const opener = focused();
  withChunk((c) => c.openUpgrade(choice, opener));
}

/** Runs `fn` with the chunk, loading it first if needed. */
export function withChunk(fn: (c: UpgradeChunk) => void) {
  (loading ??= import('../upgrade/chunk').then((c) => (upgradeChunk.value = c))).then(fn, (e) => {
    loading = undefined;
    warn('upgrade', e);
  });
}
