import type { MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';
import type { AppEnv } from '../env';
import { ApiError } from '../errors';
import { SESSION_COOKIE } from '../session';

/** The header the dashboard sends on every write; a cross-site form or image cannot set it. */
const CSRF_HEADER = 'X-Ladder-CSRF';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Refuses (403 `csrf_failed`) a write under /v1/admin that the session cookie authorises (or,
 * for login and logout, that carries the cookie) unless it sends `X-Ladder-CSRF: 1` or an
 * `Origin` equal to the worker's own. Only a bearer admin key that authenticated skips it: any
 * other `Authorization` header does not. SameSite=Strict already keeps the cookie off
 * cross-site requests; this holds even where that attribute is ignored. Runs after `adminKey()`.
 * @example adminRouter() // adminKey(), then adminCsrf(), on every route
 */
export const adminCsrf = (): MiddlewareHandler<AppEnv> => async (c, next) => {
  if (SAFE_METHODS.has(c.req.method) || c.get('adminVia') === 'key' || !getCookie(c, SESSION_COOKIE)) return next();
  const origin = c.req.header('origin');
  const sameOrigin = origin !== undefined && origin === new URL(c.req.url).origin;
  if (c.req.header(CSRF_HEADER) !== '1' && !sameOrigin)
    throw new ApiError('csrf_failed', `A dashboard write must send the ${CSRF_HEADER}: 1 header or a same-origin Origin.`, [
      { path: `headers.${CSRF_HEADER}`, message: 'missing' },
    ]);
  await next();
};
