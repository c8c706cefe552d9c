/**
 * Loads the upgrade dialog on demand. The chunk is a classic script (no CORS, no
 * module scripts needed); it takes the main bundle's modules from `lib` through its
 * own <script> element, so Preact and the signals exist once and nothing is global.
 */
import { signal } from '@preact/signals';
import type { ComponentType } from 'preact';
import lib from 'ladder:lib';
import { options, scriptSrc, warn } from '../store';
import type { Prompt, UpgradeChoice } from '../types';

export interface UpgradeChunk {
  Upgrade: ComponentType;
  /** Admins: members' open upgrade requests, each with Approve and Decline. */
  Requests: ComponentType;
  openUpgrade(choice: Partial<UpgradeChoice>, opener: HTMLElement | null): void;
  startTrial(featureId: string, prompt?: Prompt): void;
}
export interface Handoff {
  lib: ReturnType<typeof lib>;
  done(chunk: UpgradeChunk): void;
}

/** The loaded chunk, rendered by the floating container. */
export const upgradeChunk = signal<UpgradeChunk | null>(null);
let loading: Promise<UpgradeChunk> | undefined;

function load() {
  return new Promise<UpgradeChunk>((done, reject) => {
    const s = document.createElement('script') as HTMLScriptElement & { ladder: Handoff };
    s.src = new URL('widget/upgrade.js', scriptSrc || options.value.apiBase + '/').href;
    s.ladder = { lib: lib(), done: (c) => done((upgradeChunk.value = c)) };
    s.onerror = () => reject(new Error('could not load ' + s.src));
    document.head.append(s);
  });
}

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
  (loading ??= load()).then(fn, (e) => {
    loading = undefined;
    warn('upgrade', e);
  });
}
