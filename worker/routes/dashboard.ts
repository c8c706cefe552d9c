import { Hono } from 'hono';
import type { AppEnv } from '../env';
import { ApiError } from '../errors';

/** What the dashboard page may load and talk to: only this worker. */
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

/**
 * `GET /dashboard`: the dashboard's page from the static assets (dist/public/dashboard/, built
 * by dashboard/build.mjs), with a strict Content-Security-Policy; its data needs the session.
 */
export const dashboardRoutes = new Hono<AppEnv>().get('/dashboard', async (c) => {
  if (!c.env.ASSETS)
    throw new ApiError(503, 'assets_missing', 'The dashboard is not built: run `npm run build`.', []);
  const page = await c.env.ASSETS.fetch(new Request(new URL('/dashboard/', c.req.url)));
  if (!page.ok) throw new ApiError(503, 'assets_missing', 'The dashboard is not built: run `npm run build`.', []);
  const headers = new Headers(page.headers);
  headers.set('Content-Security-Policy', CSP);
  headers.set('X-Frame-Options', 'DENY');
  headers.set('Referrer-Policy', 'no-referrer');
  headers.set('X-Content-Type-Options', 'nosniff');
  headers.set('Cache-Control', 'no-cache');
  return new Response(page.body, { status: 200, headers });
});
