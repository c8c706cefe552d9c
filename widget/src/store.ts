/**
 * The widget's state, as signals outside any component, and the session-scoped caps
 * mirror. Components are plain functions of what is here.
 */
import { computed, signal } from '@preact/signals';
import type { Claims, Options, Prompt, UpgradeChoice, WidgetState } from './types';

/** The widget's own script URL, read while the bundle first runs. */
export const scriptSrc = (document.currentScript as HTMLScriptElement | null)?.src ?? '';
export const options = signal<Options>({});
export const claims = signal<Claims>({});
export const state = signal<WidgetState | null>(null);
/** Feature opened by `Ladder.gate()`, previewed in the floating container. */
export const gateOpen = signal<string | null>(null);
/** The upgrade (or ask-your-admin) dialog; null when closed. */
export const upgrade = signal<Partial<UpgradeChoice> | null>(null);
/** How many `<ladder-notices>` the host placed; with none, notices float. */
export const placedNotices = signal(0);

/** Session storage that never throws (sandboxed frames, storage disabled). */
export function stored<T>(area: 'sessionStorage' | 'localStorage', key: string, value?: T): T | undefined {
  try {
    const s = window[area];
    if (value === undefined) return JSON.parse(s.getItem('ladder.' + key) ?? 'null') ?? undefined;
    s.setItem('ladder.' + key, JSON.stringify(value));
  } catch {}
  return value;
}

/** Random id for sessions and idempotency keys (works outside secure contexts too). */
export const uid = () =>
  Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');

export const sessionId: string = stored('sessionStorage', 'sid') ?? stored('sessionStorage', 'sid', uid())!;

/** Prompt ids dismissed or snoozed in this session: gone at once, before any refetch. */
export const hidden = signal<string[]>(stored('sessionStorage', 'hidden') ?? []);
/** Prompt ids already shown (and counted) in this session. */
export const shown = new Set<string>(stored('sessionStorage', 'shown') ?? []);

export function hide(id: string) {
  hidden.value = [...hidden.value, id];
  stored('sessionStorage', 'hidden', hidden.value);
}

/**
 * Prompts to show now: not hidden this session, and soft prompts within the session
 * allowance the worker sent (blocks are exempt; already-shown prompts were counted).
 */
export const prompts = computed<Prompt[]>(() => {
  const s = state.value;
  if (!s) return [];
  let left = s.caps.session_prompts_left ?? Infinity;
  return s.prompts.filter(
    (p) => !hidden.value.includes(p.id) && (p.blocking || shown.has(p.id) || left-- > 0),
  );
});

export const role = computed(() => state.value?.account.role ?? claims.value.role ?? 'member');
export const locale = computed(() => options.value.locale ?? claims.value.locale ?? navigator.language);
export const theme = computed(() => options.value.theme ?? 'light');

type Listener = (detail?: unknown) => void;
const listeners: Record<string, Set<Listener>> = {};

export function on(event: string, fn: Listener): () => void {
  (listeners[event] ??= new Set()).add(fn);
  return () => listeners[event]!.delete(fn);
}

/** Calls listeners; returns whether any was there. A throwing listener is the host's bug, not ours. */
export function emit(event: string, detail?: unknown): boolean {
  const set = listeners[event];
  set?.forEach((fn) => {
    try {
      fn(detail);
    } catch (e) {
      setTimeout(() => {
        throw e;
      });
    }
  });
  return !!set?.size;
}

const warned = new Set<string>();

/** One clear console warning per kind of failure; every failure also goes to `on('error')`. */
export function warn(kind: string, error: unknown) {
  const message = error instanceof Error ? error.message : String(error);
  emit('error', { kind, message });
  if (warned.has(kind)) return;
  warned.add(kind);
  console.warn(`[ladder] ${kind}: ${message}`);
}
