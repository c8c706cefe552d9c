/**
 * Dashboard sessions: an HttpOnly cookie holding `<expiry ms>.<HMAC-SHA256(expiry)>` keyed by
 * the admin key, so rotating the admin key ends every session and nothing is stored.
 */
import { timingSafeEqual } from 'hono/utils/buffer';

export const SESSION_COOKIE = 'ladder_session';
export const SESSION_TTL_MS = 12 * 3600_000;

async function hmac(key: string, message: string): Promise<string> {
  const k = await crypto.subtle.importKey('raw', new TextEncoder().encode(key), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const sig = new Uint8Array(await crypto.subtle.sign('HMAC', k, new TextEncoder().encode(message)));
  return [...sig].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** A session value valid until `now + SESSION_TTL_MS`. @example await signSession(env.LADDER_ADMIN_KEY, Date.now()) */
export async function signSession(adminKey: string, now: number): Promise<string> {
  const expires = String(now + SESSION_TTL_MS);
  return `${expires}.${await hmac(adminKey, `session:${expires}`)}`;
}

/** Whether a cookie value is an unexpired session signed with this admin key. */
export async function verifySession(value: string | undefined, adminKey: string | undefined, now: number): Promise<boolean> {
  if (!value || !adminKey) return false;
  const [expires, sig] = value.split('.');
  if (!expires || !sig || !/^\d+$/.test(expires) || Number(expires) <= now) return false;
  return timingSafeEqual(sig, await hmac(adminKey, `session:${expires}`));
}
