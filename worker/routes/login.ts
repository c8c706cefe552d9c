/**
 * Dashboard login: `POST /v1/admin/login` trades the admin key for the HttpOnly session cookie,
 * `POST /v1/admin/logout` clears it. No credential to present (the key is the body), so they are
 * public routes; failed logins count as failed credentials and a write carrying the session
 * cookie passes the CSRF check. `GET /v1/admin/session` is in session.ts (admin).
 */
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { timingSafeEqual } from 'hono/utils/buffer';
import { loginResultSchema, loginSchema, logoutResultSchema } from '../../shared/analyticsSchemas';
import { ladderMode } from '../config';
import type { Env } from '../env';
import { ApiError } from '../errors';
import { limitAuthFailures } from '../middleware/authFailures';
import { adminCsrf } from '../middleware/csrf';
import { database } from '../db';
import { endSession, openSession, SESSION_COOKIE, SESSION_TTL_MS } from '../session';
import { body, json, publicRouter, route } from './groups';

const COOKIE_PATH = '/v1/admin';

const secureCookie = (env: Env) => ladderMode(env) !== 'development';

const login = route({
  method: 'post',
  path: '/login',
  summary: 'Trade the admin key for the HttpOnly dashboard session cookie (401 on a wrong key)',
  middleware: [limitAuthFailures(), adminCsrf()],
  request: { body: body(loginSchema) },
  responses: { 200: json(loginResultSchema, 'The session cookie is set') },
  errors: ['invalid_admin_key', 'rate_limited', 'csrf_failed'],
});

const logout = route({
  method: 'post',
  path: '/logout',
  summary: 'Clear the dashboard session cookie',
  middleware: [limitAuthFailures(), adminCsrf()],
  responses: { 200: json(logoutResultSchema, 'The session is ended') },
  errors: ['rate_limited', 'csrf_failed'],
});

/** Login and logout for the dashboard; mounted at `/v1/admin`. */
export const loginRoutes = publicRouter()
  .openapi(login, async (c) => {
    const { key } = c.req.valid('json');
    const expected = c.env.LADDER_ADMIN_KEY;
    if (!expected || !(await timingSafeEqual(key, expected)))
      throw new ApiError('invalid_admin_key', 'The admin key is not valid.', [{ path: 'key', message: 'does not match' }], {
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
    return c.json({ ok: true as const, expires_at: new Date(expiresAt).toISOString() }, 200);
  })
  .openapi(logout, async (c) => {
    await endSession(database(c.env.DB), getCookie(c, SESSION_COOKIE));
    deleteCookie(c, SESSION_COOKIE, { path: COOKIE_PATH, secure: secureCookie(c.env), httpOnly: true, sameSite: 'Strict' });
    return c.json({ ok: true as const }, 200);
  });
