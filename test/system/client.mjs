/**
 * A small HTTP client for the system tests and the bench: real requests over loopback to a
 * `wrangler dev` worker (see devWorker.mjs), and user tokens signed as a host backend signs them.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { KEYS } from './devWorker.mjs';

/** This process's own block of client addresses (IPv6 documentation range), one address per call. */
const addressPrefix = `2001:db8:${randomBytes(2).toString('hex')}:${randomBytes(2).toString('hex')}`;
let calls = 0;
const nextAddress = () => `${addressPrefix}::${(++calls).toString(16)}`;

const b64url = (v) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

/**
 * A user token (HS256 JWT), signed with `secret` (default: the system tests' token secret).
 * @example await signUserToken({ acct: 'acme', sub: 'u1', role: 'admin' })
 */
export function signUserToken(claims, secret = KEYS.LADDER_USER_TOKEN_SECRET, header = { alg: 'HS256', typ: 'JWT' }) {
  const payload = { sub: 'u1', role: 'admin', exp: Math.floor(Date.now() / 1000) + 3600, ...claims };
  const head = `${b64url(header)}.${b64url(payload)}`;
  return `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`;
}

const RELOADED = 'Your worker restarted mid-request.';

/**
 * Call the worker at `base`. `token` defaults to the secret key (`null`: no credential);
 * `body` is sent as JSON, `raw` as is. Returns status, headers and the parsed body (text if not JSON).
 */
export async function call(base, method, path, init = {}) {
  // Each call from its own client address (wrangler dev passes CF-Connecting-IP through), so the
  // failed credentials a test sends on purpose never add up to a block, however fast they are sent
  // (a random pick among a few hundred addresses did, on a fast machine); set the header to pin one.
  const headers = { 'cf-connecting-ip': nextAddress(), ...init.headers };
  const token = init.token === undefined ? KEYS.LADDER_SECRET_KEY : init.token;
  if (token) headers.authorization = `Bearer ${token}`;
  let body = init.raw;
  if (init.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(init.body);
  }
  let res = await fetch(base + path, { method, headers, body, signal: AbortSignal.timeout(init.timeoutMs ?? 30_000) });
  let text = await res.text();
  // wrangler dev's proxy answers this 503 itself when the runtime was reloaded under a request (it
  // retries GET and HEAD on its own). The request may or may not have reached Ladder, so send it
  // again as a real client would, but only where a repeat is harmless by the contract: PUT and
  // DELETE, and writes carrying an idempotency key (which a retry must then not apply twice).
  const idempotent = method === 'PUT' || method === 'DELETE' || (typeof body === 'string' && body.includes('"idempotency_key"'));
  for (let attempt = 1; idempotent && res.status === 503 && text.startsWith(RELOADED) && attempt <= 5; attempt++) {
    console.warn(`[system] wrangler dev reloaded the worker under ${method} ${path}; sending it again (${attempt})`);
    await new Promise((r) => setTimeout(r, 200 * attempt));
    res = await fetch(base + path, { method, headers, body, signal: AbortSignal.timeout(init.timeoutMs ?? 30_000) });
    text = await res.text();
  }
  let json;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = text;
  }
  return { status: res.status, headers: res.headers, json, text };
}
