/**
 * Ladder's worker: the HTTP API of ../shared/API.md on Hono, D1 through drizzle.
 * Route groups carry their own credentials; errors all leave through `errorResponse`.
 */
import { Hono } from 'hono';
import type { AppEnv, Env } from './env';
import { errorResponse } from './errors';
import { consumeIngest } from './ingest';
import { adminKey, secretKey, userToken } from './middleware/auth';
import { widgetCors } from './middleware/cors';
import { rateLimit } from './middleware/rateLimit';
import { accountRoutes } from './routes/accounts';
import { adminCsrf, adminSessionRoutes } from './routes/admin';
import { adminAccountRoutes, analyticsRoutes } from './routes/analytics';
import { billingRoutes } from './routes/billing';
import { catalogRoutes } from './routes/catalog';
import { dashboardRoutes } from './routes/dashboard';
import { experimentRoutes } from './routes/experiments';
import { demoRoutes } from './routes/demo';
import { devSeedRoutes } from './routes/devSeed';
import { healthRoutes } from './routes/health';
import { ingestAdminRoutes } from './routes/ingest';
import { openapiRoutes } from './routes/openapi';
import { pqaAdminRoutes, pqaRoutes, readinessRoutes } from './routes/pqa';
import { promptRoutes } from './routes/prompts';
import { revenueRoutes } from './routes/revenue';
import { stripeRoutes } from './routes/stripe';
import { tokenRoutes } from './routes/tokens';
import { trackRoutes } from './routes/track';
import { usageRoutes } from './routes/usage';
import { webhookRoutes } from './routes/webhooks';
import { widgetRoutes } from './routes/widget';
import { scaleOptions } from './scale';
import { scheduled } from './scheduled';

export { AccountCounters } from './accountCounters';

export const app = new Hono<AppEnv>();

app.use('*', async (c, next) => {
  c.set('now', Date.now());
  scaleOptions(c.env); // a misconfigured LADDER_COUNTERS / LADDER_INGEST refuses every request (503, naming the setting)
  await next();
});
app.onError(errorResponse);
app.notFound((c) => c.json({ error: { code: 'not_found', message: `No route ${c.req.method} ${c.req.path}.`, details: [] } }, 404));

// Per-credential limits (429 with Retry-After), counted after authentication; see middleware/rateLimit.ts.
const hostLimit = rateLimit({ scope: 'secret key', limitVar: 'LADDER_RATE_LIMIT_HOST', defaultLimit: 60_000, key: () => 'host' });
const widgetLimit = rateLimit({ scope: 'user', limitVar: 'LADDER_RATE_LIMIT_WIDGET', defaultLimit: 1_200, key: (c) => `${c.get('user').acct}\u0000${c.get('user').sub}` });
const adminLimit = rateLimit({ scope: 'admin key', limitVar: 'LADDER_RATE_LIMIT_ADMIN', defaultLimit: 6_000, key: () => 'admin' });
// Host backend (secret key). No CORS: these are called server to server.
for (const path of ['/v1/catalog', '/v1/accounts/*', '/v1/usage', '/v1/track', '/v1/check', '/v1/entitlements/*', '/v1/tokens', '/v1/pqa'])
  app.use(path, secretKey(), hostLimit);
// Widget (user token), with CORS for the allowed origins; preflights are answered before auth.
app.use('/v1/widget/*', widgetCors(), userToken(), widgetLimit);
// Dashboard and admin (admin key or session cookie), login and logout excepted; a cookie-authenticated write
// must also pass the CSRF check.
app.use(
  '/v1/admin/*',
  async (c, next) =>
    c.req.path === '/v1/admin/login' || c.req.path === '/v1/admin/logout' ? next() : adminKey()(c, async () => void (await adminLimit(c, next))),
  adminCsrf(),
);

app.route('/v1/health', healthRoutes);
app.route('/v1/catalog', catalogRoutes);
app.route('/v1/accounts', accountRoutes);
app.route('/v1/accounts', readinessRoutes);
app.route('/v1/pqa', pqaRoutes);
app.route('/v1', usageRoutes);
app.route('/v1/track', trackRoutes);
app.route('/v1/tokens', tokenRoutes);
app.route('/v1/widget', widgetRoutes);
app.route('/v1/widget', billingRoutes);
// Stripe webhooks: no bearer credential, the Stripe-Signature header is verified instead.
app.route('/v1/stripe', stripeRoutes);
app.route('/v1/admin/analytics', revenueRoutes);
app.route('/v1/admin/prompts', promptRoutes);
app.route('/v1/admin/experiments', experimentRoutes);
app.route('/v1/admin/pqa', pqaAdminRoutes);
app.route('/v1/admin/webhooks', webhookRoutes);
app.route('/v1/admin', adminSessionRoutes);
app.route('/v1/admin/analytics', analyticsRoutes);
app.route('/v1/admin/accounts', adminAccountRoutes);
app.route('/v1/admin/dev', devSeedRoutes);
app.route('/v1/admin/ingest', ingestAdminRoutes);
app.route('/', openapiRoutes);
app.route('/', dashboardRoutes);
app.route('/demo', demoRoutes);

export default {
  fetch: (request: Request, env: Env, ctx: unknown) => app.fetch(request, env, ctx as never),
  scheduled,
  // The consumer of the ingestion queue and its dead-letter queue (LADDER_INGEST=queue; worker/ingest.ts).
  queue: consumeIngest,
} satisfies { fetch: (r: Request, e: Env, c: unknown) => Response | Promise<Response>; scheduled: typeof scheduled; queue: typeof consumeIngest };
