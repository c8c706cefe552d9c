import type { Context, MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env';
import { ApiError } from '../errors';

/** The environment variables that set the limits (requests per window per credential). */
type RateLimitVar = 'LADDER_RATE_LIMIT_HOST' | 'LADDER_RATE_LIMIT_WIDGET' | 'LADDER_RATE_LIMIT_ACCOUNT' | 'LADDER_RATE_LIMIT_ADMIN';
const RATE_LIMIT_WINDOW_VAR = 'LADDER_RATE_LIMIT_WINDOW_SECONDS';
const DEFAULT_WINDOW_SECONDS = 60;
/** Counters kept before expired windows are swept; past it after a sweep, counting restarts (fails open). */
const MAX_KEYS = 50_000;

export type RateLimitOptions = {
  /** What is limited, in the 429 message: `secret key`, `user`, `admin key`. */
  scope: string;
  /** The variable holding the limit per window; unset or not a positive integer → `defaultLimit`. */
  limitVar: RateLimitVar;
  defaultLimit: number;
  /** The credential's identity to count under; runs after authentication. */
  key: (c: Context<AppEnv>) => string;
};

const setting = (c: Context<AppEnv>, name: string, fallback: number) => {
  const raw = (c.env as unknown as Record<string, unknown> | undefined)?.[name];
  const n = typeof raw === 'number' ? raw : Number(raw);
  return typeof raw !== 'undefined' && raw !== '' && Number.isInteger(n) && n > 0 ? n : fallback;
};

/**
 * Limit requests per credential with a fixed-window counter held in this isolate's memory:
 * past the limit, 429 `rate_limited` with `Retry-After` (seconds to the next window). Limits
 * come from the environment (`LADDER_RATE_LIMIT_*`, window `LADDER_RATE_LIMIT_WINDOW_SECONDS`,
 * default 60). Each isolate counts on its own, so this bounds one machine; across Cloudflare's
 * network the Rate Limiting binding or a Durable Object per key is the shared counter
 * (docs/scale.md).
 * @example app.use('/v1/widget/*', userToken(), rateLimit({ scope: 'user', limitVar: 'LADDER_RATE_LIMIT_WIDGET', defaultLimit: 1200, key: (c) => c.get('user').sub }))
 */
export const rateLimit = (opts: RateLimitOptions): MiddlewareHandler<AppEnv> => {
  const windows = new Map<string, { start: number; count: number }>();
  return async (c, next) => {
    const limit = setting(c, opts.limitVar, opts.defaultLimit);
    const windowMs = setting(c, RATE_LIMIT_WINDOW_VAR, DEFAULT_WINDOW_SECONDS) * 1000;
    const now = c.get('now');
    const start = now - (now % windowMs);
    const key = opts.key(c);
    let w = windows.get(key);
    if (!w || w.start !== start) {
      if (!w && windows.size >= MAX_KEYS) {
        for (const [k, v] of windows) if (v.start !== start) windows.delete(k);
        if (windows.size >= MAX_KEYS) windows.clear();
      }
      w = { start, count: 0 };
      windows.set(key, w);
    }
    if (w.count >= limit) {
      const retryAfter = Math.max(1, Math.ceil((start + windowMs - now) / 1000));
      throw new ApiError(
        429,
        'rate_limited',
        `Too many requests for this ${opts.scope}: at most ${limit} every ${windowMs / 1000} s. Retry after ${retryAfter} s.`,
        [{ path: '', message: `limit ${limit} per ${windowMs / 1000} s` }],
        { 'Retry-After': String(retryAfter) },
      );
    }
    w.count += 1;
    await next();
  };
};
