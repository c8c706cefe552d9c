/**
 * Everything that talks to the network: the user token, the one state fetch per page
 * load (with a localStorage copy for instant repeat visits), API calls with 401 retry,
 * and batched prompt events.
 */
import { claims, loadUser, options, perUser, sessionId, shown, state, stored, uid, warn } from './store';
import type { Claims, EventType, Prompt, WidgetState } from './types';

let token = '';
/** The ETag of the state this page last fetched. */
let tag = '';
let pending: Promise<string> | null = null;

/** Payload of a JWT, not verified (the worker verifies); throws on a malformed token. */
function decodeToken(jwt: string): Claims {
  try {
    const part = jwt.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(part), (c) => c.charCodeAt(0))));
  } catch {
    throw new Error('the user token is not a JWT');
  }
}

const fresh = () => (token && (claims.value.exp ?? Infinity) * 1000 > Date.now() + 10_000 ? token : '');

async function fetchToken(): Promise<string> {
  const o = options.value;
  let t = o.token;
  if (o.getToken) t = await o.getToken();
  else if (o.tokenUrl) {
    const r = await fetch(o.tokenUrl, { credentials: 'same-origin' });
    if (!r.ok) throw new Error(`${o.tokenUrl} answered ${r.status}`);
    const text = (await r.text()).trim();
    t = text[0] === '{' ? JSON.parse(text).token : text;
  }
  if (!t) throw new Error('no user token (see Ladder.init)');
  claims.value = decodeToken(t);
  loadUser();
  return (token = t);
}

/** The current user token, fetched again when missing, near expiry, or `force`d (after a 401). */
function userToken(force = false): Promise<string> {
  if (!force && fresh()) return Promise.resolve(token);
  return (pending ??= fetchToken().finally(() => (pending = null)));
}

/** An error answered by the API: its HTTP status and `error.code` (API.md). */
export type ApiError = Error & { status: number; code: string };
export const isApiError = (e: unknown): e is ApiError => !!(e as ApiError)?.code;

/**
 * One call to the widget API with the bearer token; a 401 fetches a new token and
 * retries once. Rejects with an ApiError carrying the API's error code.
 * @example await request('/v1/widget/trials', { feature_id: 'sso' })
 */
export async function request<T>(path: string, body?: object, keepalive = false, method?: string): Promise<T> {
  for (let retry = 0; ; retry++) {
    // no await when the token is fresh, so an unload-time flush calls fetch synchronously
    const t = (!retry && fresh()) || (await userToken(retry > 0));
    const r = await fetch(options.value.apiBase + path, {
      method: method ?? (body && 'POST'), // else GET
      keepalive,
      headers: body
        ? { authorization: 'Bearer ' + t, 'content-type': 'application/json' }
        : { authorization: 'Bearer ' + t, 'if-none-match': tag },
      body: body && JSON.stringify(body),
    });
    if (r.status === 401 && !retry && (options.value.getToken || options.value.tokenUrl)) continue;
    // unchanged since this page's last state (only that one carries an ETag): nothing to parse or render
    if (r.status == 304) return null as T;
    tag = r.headers.get('etag') || tag;
    const json = await r.json().catch(() => ({}));
    if (r.ok) return json as T;
    const e = json?.error ?? {};
    throw Object.assign(new Error(e.message ?? `${path} answered ${r.status}`), { status: r.status, code: e.code ?? 'http' });
  }
}

const cacheKey = () => `state.${claims.value.acct}.${claims.value.sub}`;

/** Renders the cached state (if any) at once, then fetches the current one. Never rejects. */
export async function loadState(): Promise<void> {
  try {
    await userToken();
  } catch (e) {
    return warn('token', e);
  }
  state.value ??= stored<WidgetState>('localStorage', cacheKey()) ?? null;
  try {
    const q = `?session=${encodeURIComponent(sessionId)}&path=${encodeURIComponent(location.pathname)}`;
    // Revalidates the state this page fetched (a 304 leaves it, and so the page, untouched); a new
    // page has no tag: its stored copy lacks prompts, so it always fetches them whole.
    const s = await request<WidgetState | null>('/v1/widget/state' + q);
    // prompts only ever come fresh: a cached one could be past its caps by now
    if (s) stored('localStorage', cacheKey(), { ...(state.value = s), prompts: [] });
  } catch (e) {
    warn('state', isApiError(e) ? e : new Error(`could not load /v1/widget/state from ${options.value.apiBase} (${e})`));
  }
}

/** Forget the token and state (a new user or `destroy`). */
export function resetSession() {
  token = tag = '';
  pending = null;
  claims.value = {};
  state.value = null;
}

interface WidgetEvent {
  type: EventType;
  prompt_id?: string;
  variant_id?: string | null;
  experiment_id?: string | null;
  serve_token?: string;
  feature_id?: string;
  session_id: string;
  timestamp: number;
  idempotency_key: string;
}

let queue: WidgetEvent[] = [];
let timer: ReturnType<typeof setTimeout> | undefined;

/**
 * Queues a prompt event; the batch goes out about a second later or when the page hides.
 * @example track('dismiss', prompt)
 */
export function track(type: EventType, p?: Prompt | null, feature_id = p?.feature_id) {
  queue.push({
    type,
    prompt_id: p?.id,
    variant_id: p?.variant_id,
    experiment_id: p?.experiment_id,
    serve_token: p?.serve_token,
    feature_id,
    session_id: sessionId,
    timestamp: Date.now(),
    idempotency_key: uid(),
  });
  timer ??= setTimeout(flush, 1000);
}

/** Records the first impression of a prompt in this session, and only that one. */
export function seen(p: Prompt) {
  if (shown.has(p.id)) return;
  shown.add(p.id);
  perUser('shown', [...shown]);
  track('impression', p);
}

/**
 * Sends queued events with `fetch(keepalive)` and the bearer header, so they survive
 * the page going away. (sendBeacon cannot carry an Authorization header.)
 */
export function flush(): Promise<unknown> | undefined {
  clearTimeout(timer);
  timer = undefined;
  if (!queue.length) return;
  const events = queue;
  queue = [];
  return request('/v1/widget/events', { events }, true).catch((e) => {
    // the keys make a resend harmless; keep a bounded backlog for the next flush
    if (!isApiError(e)) queue = events.concat(queue).slice(-200);
    warn('events', e);
  });
}
