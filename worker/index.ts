/**
 * Ladder's worker: the HTTP API of ../shared/API.md on Hono, D1 through drizzle.
 * Route groups carry their own credentials; errors all leave through `errorResponse`.
 */
import { OpenAPIHono } from '@hono/zod-openapi';
import { configProblems, isProduction } from './config';
import { configWritten } from './configCache';
import type { AppEnv, Env } from './env';
import { ApiError, errorResponse } from './errors';
import { consumeIngest } from './ingest';
import { accountRoutes } from './routes/accounts';
import { loginRoutes } from './routes/login';
import { sessionRoutes } from './routes/session';
import { adminAccountRoutes, analyticsRoutes } from './routes/analytics';
import { billingRoutes } from './routes/billing';
import { catalogRoutes } from './routes/catalog';
import { adminCatalogRoutes } from './routes/adminCatalog';
import { dashboardRoutes } from './routes/dashboard';
import { experimentRoutes } from './routes/experiments';
import { demoRoutes } from './routes/demo';
import { devSeedRoutes } from './routes/devSeed';
import { healthRoutes } from './routes/health';
import { ingestAdminRoutes } from './routes/ingest';
import { openapiRoutes } from './routes/openapi';
import { pqaRoutes } from './routes/pqa';
import { pqaConfigRoutes } from './routes/pqaConfig';
import { promptRoutes } from './routes/prompts';
import { activationRoutes } from './routes/activation';
import { routingRoutes } from './routes/routing';
import { upgradeRequestRoutes } from './routes/upgradeRequests';
import { retentionRoutes } from './routes/retention';
import { saveOfferRoutes } from './routes/saveOffers';
import { savesRoutes } from './routes/saves';
import { revenueRoutes } from './routes/revenue';
import { stripeRoutes } from './routes/stripe';
import { tokenRoutes } from './routes/tokens';
import { trackRoutes } from './routes/track';
import { usageRoutes } from './routes/usage';
import { webhookRoutes } from './routes/webhooks';
import { widgetRoutes } from './routes/widget';
import { simulationRoutes } from './routes/simulations';
import { scaleOptions } from './scale';
import { scheduled } from './scheduled';


/** Paths whose writes may change config tables: the catalog and the admin API (prompts, activation, experiments, dev seed). */
const CONFIG_WRITES = /^\/v1\/(admin|catalog)(\/|$)/;

/**
 * The worker's routes. Development-only routes (`/demo`, `/v1/admin/dev/*`) are registered only
 * when `devRoutes` is set, so in production they do not exist at all (404, like any unknown path).
 */
function buildApp({ devRoutes }: { devRoutes: boolean }) {
  const app = new OpenAPIHono<AppEnv>();
  app.use('*', async (c, next) => {
    c.set('now', Date.now());
    // Fail closed: an unsafe production configuration serves nothing but the health check's list of problems.
    const problems = configProblems(c.env);
    if (problems.length) {
      if (c.req.path === '/v1/health') return c.json({ ok: false, problems }, 503);
      throw new ApiError('misconfigured', 'This Ladder worker is not safely configured; GET /v1/health lists what to fix.', []);
    }
    scaleOptions(c.env); // a misconfigured LADDER_COUNTERS / LADDER_INGEST refuses every request (503, naming the setting)
    await next();
    // Config (catalog, prompts, activation rule, experiments) is written only through these paths: after such a
    // write this isolate's copy is dropped, so its next widget state reads the config in its own batch (worker/configCache.ts).
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD' && CONFIG_WRITES.test(c.req.path)) configWritten();
  });
  app.onError(errorResponse);
  app.notFound((c) => c.json({ error: { code: 'not_found', message: `No route ${c.req.method} ${c.req.path}.`, details: [] } }, 404));

  // Every router is made by its credential's factory (routes/groups.ts): the group sets the auth, so no path list does.
  // Public: no credential.
  app.route('/v1', healthRoutes);
  app.route('/', openapiRoutes(() => app));
  app.route('/', dashboardRoutes);
  app.route('/v1/admin', loginRoutes);
  // Stripe: the Stripe-Signature header over the raw body.
  app.route('/v1/stripe', stripeRoutes);
  // Admin (admin key or session).
  app.route('/v1/admin', sessionRoutes);
  app.route('/v1/catalog', catalogRoutes);
  app.route('/v1/accounts', accountRoutes);
  app.route('/v1/pqa', pqaRoutes);
  app.route('/v1', usageRoutes);
  app.route('/v1/track', trackRoutes);
  app.route('/v1/tokens', tokenRoutes);
  app.route('/v1/widget', widgetRoutes);
  app.route('/v1/widget', billingRoutes);
  app.route('/v1/widget', retentionRoutes);
  app.route('/v1/admin/analytics/revenue', revenueRoutes);
  app.route('/v1/admin/analytics/saves', savesRoutes);
  app.route('/v1/admin/save-offers', saveOfferRoutes);
  app.route('/v1/admin/prompts', promptRoutes);
  app.route('/v1/admin/activation', activationRoutes);
  app.route('/v1/admin/routing', routingRoutes);
  app.route('/v1/admin/upgrade-requests', upgradeRequestRoutes);
  app.route('/v1/admin/experiments', experimentRoutes);
  app.route('/v1/admin/pqa', pqaConfigRoutes);
  app.route('/v1/admin/webhooks', webhookRoutes);
  app.route('/v1/admin/analytics', analyticsRoutes);
  app.route('/v1/admin/accounts', adminAccountRoutes);
  app.route('/v1/admin/catalog', adminCatalogRoutes);
  app.route('/v1/admin/simulations', simulationRoutes);
  app.route('/v1/admin/ingest', ingestAdminRoutes);
  if (devRoutes) {
    app.route('/v1/admin/dev', devSeedRoutes);
    app.route('/demo', demoRoutes);
  }
  return app;
}

const withDevRoutes = buildApp({ devRoutes: true });
const production = buildApp({ devRoutes: false });

/** The app for this environment: production (the default) never has the development-only routes. */
const appFor = (env: Env | undefined) => (env && !isProduction(env) ? withDevRoutes : production);

/**
 * The worker as tests drive it: `app.request(path, init, env)` picks the app for `env` as `fetch`
 * does; `app.routes` lists every route of the development build.
 */
export const app = {
  routes: withDevRoutes.routes,
  /** The declared operations of the development build (request and response schemas, error codes). */
  registry: withDevRoutes.openAPIRegistry,
  fetch: (request: Request, env: Env, ctx?: unknown) => appFor(env).fetch(request, env, ctx as never),
  request: (input: string | Request, init?: RequestInit, env?: Env, ctx?: unknown) => appFor(env).request(input, init, env, ctx as never),
};

export default {
  fetch: (request: Request, env: Env, ctx: unknown) => app.fetch(request, env, ctx),
  scheduled,
  // The consumer of the ingestion queue and its dead-letter queue (LADDER_INGEST=queue; worker/ingest.ts).
  queue: consumeIngest,
} satisfies { fetch: (r: Request, e: Env, c: unknown) => Response | Promise<Response>; scheduled: typeof scheduled; queue: typeof consumeIngest };
