/**
 * Dashboard sessions: the HttpOnly cookie holds a random id; D1 keeps its SHA-256 with the
 * fingerprint of the admin key that opened it. A session ends at logout (its row is deleted),
 * after `SESSION_IDLE_MS` without a request, after `SESSION_TTL_MS` in all, and when the admin
 * key changes (the fingerprint no longer matches). The cron deletes ended rows.
 */
import { sql } from 'drizzle-orm';
import { sqlBatch, type Db } from './db';

export const SESSION_COOKIE = 'ladder_session';
export const SESSION_TTL_MS = 12 * 3600_000;
const SESSION_IDLE_MS = 30 * 60_000;
/** `last_seen_at` is written at most this often, so a busy dashboard does not write on every read. */
const TOUCH_EVERY_MS = 60_000;

const hex = (bytes: ArrayBuffer) => [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, '0')).join('');
const sha256 = async (value: string) => hex(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(value)));

/** Names the admin key without revealing it: HMAC-SHA256(key, "ladder-admin-session"). */
async function keyFingerprint(adminKey: string): Promise<string> {
  const k = await crypto.subtle.importKey('raw', new TextEncoder().encode(adminKey), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return hex(await crypto.subtle.sign('HMAC', k, new TextEncoder().encode('ladder-admin-session')));
}

/**
 * Open a session for the admin key; returns the cookie value and when it expires.
 * @example const { value, expiresAt } = await openSession(db, env.LADDER_ADMIN_KEY, Date.now())
 */
export async function openSession(db: Db, adminKey: string, now: number): Promise<{ value: string; expiresAt: number }> {
  const value = hex(crypto.getRandomValues(new Uint8Array(32)).buffer as ArrayBuffer);
  const expiresAt = now + SESSION_TTL_MS;
  await sqlBatch(db, [
    sql`INSERT INTO admin_sessions (id_hash, key_fingerprint, created_at, last_seen_at, expires_at)
        VALUES (${await sha256(value)}, ${await keyFingerprint(adminKey)}, ${now}, ${now}, ${expiresAt})`,
  ]);
  return { value, expiresAt };
}

/**
 * The session's expiry when `value` names a live session of this admin key, else null; refreshes
 * its idle clock.
 */
export async function verifySession(db: Db, value: string | undefined, adminKey: string | undefined, now: number): Promise<number | null> {
  if (!value || !adminKey || !/^[0-9a-f]{64}$/.test(value)) return null;
  const idHash = await sha256(value);
  const [rows = []] = await sqlBatch(db, [sql`SELECT key_fingerprint, last_seen_at, expires_at FROM admin_sessions WHERE id_hash = ${idHash}`]);
  const row = rows[0];
  if (!row || Number(row.expires_at) <= now || Number(row.last_seen_at) + SESSION_IDLE_MS <= now) return null;
  if (row.key_fingerprint !== (await keyFingerprint(adminKey))) return null;
  if (now - Number(row.last_seen_at) >= TOUCH_EVERY_MS) await sqlBatch(db, [sql`UPDATE admin_sessions SET last_seen_at = ${now} WHERE id_hash = ${idHash}`]);
  return Number(row.expires_at);
}

/** End the session `value` names (logout); unknown values are ignored. */
export async function endSession(db: Db, value: string | undefined): Promise<void> {
  if (!value || !/^[0-9a-f]{64}$/.test(value)) return;
  await sqlBatch(db, [sql`DELETE FROM admin_sessions WHERE id_hash = ${await sha256(value)}`]);
}

/** Delete sessions that have ended by expiry or idleness (the cron's retention). */
export async function deleteEndedSessions(db: Db, now: number): Promise<number> {
  const [rows = []] = await sqlBatch(db, [
    sql`DELETE FROM admin_sessions WHERE expires_at <= ${now} OR last_seen_at <= ${now - SESSION_IDLE_MS} RETURNING 1 AS x`,
  ]);
  return rows.length;
}
