import { sessionStateSchema } from '../../shared/analyticsSchemas';
import { adminRouter, json, route } from './groups';

const getSession = route({
  method: 'get',
  path: '/session',
  summary: 'Whether the caller holds a dashboard session (or the admin key), and until when',
  responses: { 200: json(sessionStateSchema, 'How the caller is authenticated') },
});

/** `GET /v1/admin/session` (admin); mounted at `/v1/admin`. */
export const sessionRoutes = adminRouter().openapi(getSession, (c) => {
  // Only reached through the admin auth, so the caller holds a key or a session.
  const expires = c.get('adminVia') === 'session' ? c.get('adminSessionExpiresAt') : null;
  c.header('Cache-Control', 'no-store');
  return c.json({ ok: true as const, via: expires ? ('session' as const) : ('admin_key' as const), expires_at: expires ? new Date(expires).toISOString() : null }, 200);
});
