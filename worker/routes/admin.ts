/**
 * Dashboard sessions: `POST /v1/admin/login` trades the admin key for the HttpOnly session
 * cookie, `POST /v1/admin/logout` clears it, `GET /v1/admin/session` says whether it holds.
 * `adminCsrf()` guards every cookie-authenticated write under /v1/admin.
 */
import { Hono, type MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { timingSafeEqual } from 'hono/utils/buffer';
import { loginSchema } from '../../shared/analyticsSchemas';
import { ladderMode } from '../config';
import type { AppEnv, Env } from '../env';
import { ApiError } from '../errors';
import { readJson } from '../middleware/body';
import { database } from '../db';
import { endSession, openSession, SESSION_COOKIE, SESSION_TTL_MS } from '../session';

/** The header the dashboard sends on every write; a cross-site form or image cannot set it. */
const CSRF_HEADER = 'X-Ladder-CSRF';
const COOKIE_PATH = '/v1/admin';

const secureCookie = (env: Env) => ladderMode(env) !== 'development';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Refuses (403 `csrf_failed`) a write under /v1/admin that the session cookie authorises (or,
 * for login and logout, that carries the cookie) unless it sends `X-Ladder-CSRF: 1` or an
 * `Origin` equal to the worker's own. Only a bearer admin key that authenticated skips it: any
 * other `Authorization` header does not. SameSite=Strict already keeps the cookie off
 * cross-site requests; this holds even where that attribute is ignored. Runs after `adminKey()`.
 * @example app.use('/v1/admin/*', adminKey(), adminCsrf())
 */
export const adminCsrf = (): MiddlewareHandler<AppEnv> => async (c, next) => {
  if (SAFE_METHODS.has(c.req.method) || c.get('adminVia') === 'key' || !getCookie(c, SESSION_COOKIE)) return next();
  const origin = c.req.header('origin');
  const sameOrigin = origin !== undefined && origin === new URL(c.req.url).origin;
  if (c.req.header(CSRF_HEADER) !== '1' && !sameOrigin)
    throw new ApiError(403, 'csrf_failed', `A dashboard write must send the ${CSRF_HEADER}: 1 header or a same-origin Origin.`, [
      { path: `headers.${CSRF_HEADER}`, message: 'missing' },
    ]);
  await next();
};

/** Login, logout and session state for the dashboard. */
export const adminSessionRoutes = new Hono<AppEnv>()
  .post('/login', async (c) => {
    const { key } = await readJson(c, loginSchema);
    const expected = c.env.LADDER_ADMIN_KEY;
    if (!expected || !(await timingSafeEqual(key, expected)))
      throw new ApiError(401, 'invalid_admin_key', 'The admin key is not valid.', [{ path: 'key', message: 'does not match' }], {
        'WWW-Authenticate': 'Bearer realm="ladder-admin", error="invalid_token"',
      });
    const { value, expiresAt } = await openSession(database(c.env.DB), expected, c.get('now'));
    setCookie(c, SESSION_COOKIE, value, {
      httpOnly: true,
      secure: secureCookie(c.env),
      sameSite: 'Strict',
      path: COOKIE_PATH,
      maxAge: Math.floor(SESSION_TTL_MS / 1000),
    });
    c.header('Cache-Control', 'no-store');
    return c.json({ ok: true, expires_at: new Date(expiresAt).toISOString() });
  })
  .post('/logout', async (c) => {
    await endSession(database(c.env.DB), getCookie(c, SESSION_COOKIE));
    deleteCookie(c, SESSION_COOKIE, { path: COOKIE_PATH, secure: secureCookie(c.env), httpOnly: true, sameSite: 'Strict' });
    return c.json({ ok: true });
  })
  .get('/session', async (c) => {
    // Only reached through the admin middleware, so the caller holds a key or a session.
    const expires = c.get('adminVia') === 'session' ? c.get('adminSessionExpiresAt') : null;
    c.header('Cache-Control', 'no-store');
    return c.json({ ok: true, via: expires ? 'session' : 'admin_key', expires_at: expires ? new Date(expires).toISOString() : null });
  });
