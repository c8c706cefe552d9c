/**
 * Serve tokens: the widget state signs each prompt it serves, and prompt events are accepted
 * only with the token of a prompt (and variant, and experiment) served to that very user. A
 * user can therefore not invent prompt, variant or experiment ids, and so cannot steer funnels
 * or the revenue attribution of an upgrade (both read prompt events).
 *
 * A token is `<hour>.<HMAC-SHA256 hex, 128 bits>` over the user, account, prompt, variant,
 * experiment and the UTC hour it was issued in, keyed by a key derived from
 * LADDER_USER_TOKEN_SECRET. The hour (not the second) keeps an unchanged state byte-for-byte
 * the same within the hour. A token is good for `SERVE_TOKEN_TTL_MS` after its hour.
 */
import { timingSafeEqual } from 'hono/utils/buffer';
import { compositeKey } from '../shared/compositeKey';
import { MAX_WIDGET_EVENT_AGE_MS } from '../shared/schemas';

const HOUR = 3600_000;
/** As long as a widget event may be late, plus the hour a token is issued in. */
const SERVE_TOKEN_TTL_MS = MAX_WIDGET_EVENT_AGE_MS + HOUR;

export type Served = { acct: string; sub: string; prompt_id: string; variant_id?: string | null; experiment_id?: string | null };

const keys = new Map<string, Promise<CryptoKey>>();
/** The HMAC key for serve tokens, derived from the user-token secret (never the secret itself). */
function servingKey(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (!key) {
    key = (async () => {
      const base = await crypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
      const derived = await crypto.subtle.sign('HMAC', base, new TextEncoder().encode('ladder-serve-token'));
      return crypto.subtle.importKey('raw', derived, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    })();
    if (keys.size > 8) keys.clear();
    keys.set(secret, key);
  }
  return key;
}

async function mac(secret: string, s: Served, hour: number): Promise<string> {
  const message = compositeKey('serve', s.acct, s.sub, s.prompt_id, s.variant_id ?? '', s.experiment_id ?? '', hour);
  const sig = new Uint8Array(await crypto.subtle.sign('HMAC', await servingKey(secret), new TextEncoder().encode(message)));
  return [...sig.slice(0, 16)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * The serve token for a prompt served to a user at `now`.
 * @example await signServe(env.LADDER_USER_TOKEN_SECRET, { acct: 'acme', sub: 'u1', prompt_id: 'limit-api_calls-90' }, Date.now())
 */
export async function signServe(secret: string, served: Served, now: number): Promise<string> {
  const hour = Math.floor(now / HOUR);
  return `${hour}.${await mac(secret, served, hour)}`;
}

/** Whether `token` was issued by this worker for exactly this prompt, variant and experiment to this user, and is still good at `now`. */
export async function verifyServe(secret: string, token: string | undefined, served: Served, now: number): Promise<boolean> {
  const match = /^(\d{1,9})\.([0-9a-f]{32})$/.exec(token ?? '');
  if (!match) return false;
  const hour = Number(match[1]);
  if (hour * HOUR > now || (hour + 1) * HOUR + SERVE_TOKEN_TTL_MS < now) return false;
  return timingSafeEqual(match[2]!, await mac(secret, served, hour));
}
