import type { Context } from 'hono';
import { z } from 'zod';
import type { AppEnv } from '../env';
import { ApiError } from '../errors';
import { publicRouter, route } from './groups';

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

const securityHeaders = (from: Headers) => {
  const headers = new Headers(from);
  headers.set('Content-Security-Policy', CSP);
  headers.set('X-Frame-Options', 'DENY');
  headers.set('Referrer-Policy', 'no-referrer');
  headers.set('X-Content-Type-Options', 'nosniff');
  return headers;
};

/**
 * `GET /dashboard` (and `/dashboard/`, `/dashboard/index.html`): the dashboard's page from the
 * static assets (dist/public/dashboard/, built by dashboard/build.mjs), with a strict
 * Content-Security-Policy; its data needs the session. Every other file under /dashboard/ runs
 * through the worker too (wrangler.toml `run_worker_first`), so no path of the dashboard is ever
 * served without these headers.
 */
const page = async (c: Context<AppEnv>) => {
  if (!c.env.ASSETS)
    throw new ApiError('assets_missing', 'The dashboard is not built: run `npm run build`.', []);
  const page = await c.env.ASSETS.fetch(new Request(new URL('/dashboard/', c.req.url)));
  if (!page.ok) throw new ApiError('assets_missing', 'The dashboard is not built: run `npm run build`.', []);
  const headers = securityHeaders(page.headers);
  headers.set('Cache-Control', 'no-cache');
  return new Response(page.body, { status: 200, headers });
};

const getDashboard = route({
  method: 'get',
  path: '/dashboard',
  summary: 'The dashboard (HTML; its API calls need the session)',
  responses: { 200: { description: 'The dashboard page', content: { 'text/html': { schema: z.string() } } } },
  errors: ['assets_missing'],
});

/** The dashboard page, and its static files (not API operations, so not in the document). Mounted at `/`. */
export const dashboardRoutes = publicRouter()
  .openapi(getDashboard, page as never)
  .get('/dashboard/*', async (c) => {
    if (c.req.path === '/dashboard/' || c.req.path === '/dashboard/index.html') return page(c);
    if (!c.env.ASSETS) throw new ApiError('not_found', `No route GET ${c.req.path}.`, []);
    const file = await c.env.ASSETS.fetch(new Request(c.req.url, { headers: c.req.raw.headers }));
    if (file.status === 404) throw new ApiError('not_found', `No route GET ${c.req.path}.`, []);
    return new Response(file.body, { status: file.status, headers: securityHeaders(file.headers) });
  });
