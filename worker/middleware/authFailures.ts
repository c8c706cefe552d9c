/**
 * Limits credential guessing per client address: after `AUTH_FAILURE_LIMIT` failed credentials
 * (secret key, admin key, user token, dashboard login) within one minute, every credentialed
 * request from that address is answered 429 `rate_limited` with `Retry-After` until the minute
 * is over.
 *
 * Two counters behind one interface: Cloudflare's Rate Limiting binding (`AUTH_FAILURES` in
 * wrangler.toml) where it is bound, shared by every isolate of a location; and a fixed-window
 * counter in this isolate's memory, always kept, which also remembers an address the binding
 * refused. The binding has no "peek", so an address it refused is blocked in the isolates that
 * saw it refused, and every further failure anywhere is refused by the binding itself.
 */
import type { Context, MiddlewareHandler } from 'hono';
import type { AppEnv, Env } from '../env';
import { ApiError } from '../errors';

export const AUTH_FAILURE_LIMIT = 10;
const AUTH_FAILURE_WINDOW_MS = 60_000;
/** Addresses remembered before the oldest windows are swept. */
const MAX_ADDRESSES = 50_000;

/** Counts failed credentials per address; answers when an address is blocked (epoch ms) or null. */
export interface FailureCounter {
  blockedUntil(address: string, now: number): number | null;
  recordFailure(address: string, now: number, env: Env): Promise<void>;
}

/**
 * The counter: in-isolate fixed windows, plus the Rate Limiting binding when `env.AUTH_FAILURES` is set.
 * @example const counter = failureCounter(); await counter.recordFailure('203.0.113.7', Date.now(), env)
 */
export function failureCounter(): FailureCounter {
  const windows = new Map<string, { start: number; count: number; blockedUntil: number | null }>();
  const windowOf = (address: string, now: number) => {
    const start = now - (now % AUTH_FAILURE_WINDOW_MS);
    let w = windows.get(address);
    if (!w || (w.start !== start && !(w.blockedUntil && w.blockedUntil > now))) {
      if (!w && windows.size >= MAX_ADDRESSES) for (const [k, v] of windows) if (v.start !== start && !(v.blockedUntil && v.blockedUntil > now)) windows.delete(k);
      w = { start, count: 0, blockedUntil: null };
      windows.set(address, w);
    }
    return w;
  };
  return {
    blockedUntil(address, now) {
      const w = windows.get(address);
      return w?.blockedUntil && w.blockedUntil > now ? w.blockedUntil : null;
    },
    async recordFailure(address, now, env) {
      const w = windowOf(address, now);
      w.count += 1;
      if (w.count >= AUTH_FAILURE_LIMIT) w.blockedUntil = w.start + AUTH_FAILURE_WINDOW_MS;
      if (env.AUTH_FAILURES) {
        const { success } = await env.AUTH_FAILURES.limit({ key: `auth-failure:${address}` });
        if (!success) w.blockedUntil = Math.max(w.blockedUntil ?? 0, now + AUTH_FAILURE_WINDOW_MS);
      }
    },
  };
}

/** The client's address: `CF-Connecting-IP`, which Cloudflare's edge sets, else `unknown`. */
const clientAddress = (c: Context<AppEnv>) => c.req.header('cf-connecting-ip')?.trim() || 'unknown';

const shared = failureCounter();

/**
 * Wraps every credentialed route: refuses a blocked address before the credential is even
 * checked, and counts each 401 the credential check answers.
 * @example app.use('/v1/widget/*', limitAuthFailures(), userToken())
 */
export const limitAuthFailures = (counter: FailureCounter = shared): MiddlewareHandler<AppEnv> => async (c, next) => {
  const address = clientAddress(c);
  const now = c.get('now');
  const until = counter.blockedUntil(address, now);
  if (until) {
    const retryAfter = Math.max(1, Math.ceil((until - now) / 1000));
    throw new ApiError(
      429,
      'rate_limited',
      `Too many failed credentials from this address: at most ${AUTH_FAILURE_LIMIT} a minute. Retry after ${retryAfter} s.`,
      [{ path: 'authorization', message: `${AUTH_FAILURE_LIMIT} failures per minute` }],
      { 'Retry-After': String(retryAfter) },
    );
  }
  await next();
  if (c.res.status === 401) await counter.recordFailure(address, now, c.env);
};
