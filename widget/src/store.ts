/**
 * The widget's state, as signals outside any component, and the session-scoped caps
 * mirror. Components are plain functions of what is here.
 */
import { computed, signal } from '@preact/signals';
import type { Claims, Options, Prompt, UpgradeChoice, WidgetState } from './types';

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

/** This tab's session storage for the token's user, so switching users in a tab carries nothing over. */
export const perUser = <T>(key: string, value?: T) =>
  stored<T>('sessionStorage', `${key}.${claims.value.acct}.${claims.value.sub}`, value);

/** Prompt ids the user dismissed or snoozed in this session: gone at once, before any refetch. */
const hidden = signal<string[]>([]);
/** Prompt ids already shown (and counted) to the user in this session. */
export const shown = new Set<string>();

/** Reads the user's session lists, once a token has named the user. */
export function loadUser() {
  hidden.value = perUser('hidden') ?? [];
  shown.clear();
  perUser<string[]>('shown')?.forEach((id) => shown.add(id));
}

export function hide(id: string) {
  perUser('hidden', (hidden.value = [...hidden.value, id]));
}

/**
 * Prompts to show now: those the worker listed (already within this session's caps and
 * allowance, counted from stored history), less the ones hidden since.
 */
export const prompts = computed<Prompt[]>(() => state.value?.prompts.filter((p) => !hidden.value.includes(p.id)) ?? []);

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
