/**
 * The OpenAPI 3 document, generated from the route declarations (`route({ … })` in
 * worker/routes/, each with its request and response schemas and its error codes).
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import { z } from 'zod';
import * as analytics from '../shared/analyticsSchemas';
import { seedHistorySchema as devSeedSchema } from './routes/devSeed';
import * as ex from '../shared/experimentSchemas';
import { activationRuleSchema, promptInputSchema } from '../shared/prompts';
import { routingSchema } from '../shared/routing';
import { simulationRequestSchema } from '../shared/simulationSchemas';
import { pqaConfigSchema } from '../shared/pqaScore';
import * as billing from '../shared/billingSchemas';
import * as s from '../shared/schemas';
import * as wh from '../shared/webhookSchemas';
import type { AppEnv } from './env';
import { VERSION } from './routes/health';

type Auth = 'secret' | 'user' | 'admin' | 'stripe' | null;
type Operation = {
  method: 'get' | 'put' | 'post' | 'delete';
  path: string;
  auth: Auth;
  summary: string;
  body?: z.ZodType;
  query?: z.ZodObject;
};

const operations: Operation[] = [
  { method: 'get', path: '/demo', auth: null, summary: 'Demo host app (development only)' },
  { method: 'get', path: '/demo/token', auth: null, summary: 'Demo host backend: mint a user token (development only)' },
  { method: 'post', path: '/demo/projects', auth: null, summary: 'Demo host backend: check-and-record one project (development only)' },
  { method: 'get', path: '/demo/app.js', auth: null, summary: 'Demo host app script (development only)' },
  { method: 'get', path: '/demo/app.css', auth: null, summary: 'Demo host app styles (development only)' },
  { method: 'post', path: '/v1/usage', auth: 'secret', summary: 'Record up to 1,000 usage events in one transaction (200 { accepted, duplicates }); with LADDER_INGEST=queue, validate and queue them (202 { queued })', body: s.usageBatchSchema },
  { method: 'post', path: '/v1/track', auth: 'secret', summary: 'Record behavioural events for PQA scoring (200 { accepted, duplicates }); with LADDER_INGEST=queue, validate and queue them (202 { queued })', body: s.trackBatchSchema },
  { method: 'get', path: '/v1/admin/ingest/dead-letters', auth: 'admin', summary: 'Queued usage and track batches that could not be applied (LADDER_INGEST=queue), newest first' },
  { method: 'post', path: '/v1/check', auth: 'secret', summary: 'Atomic check-and-record of a metric, or a feature check', body: z.union([s.checkMetricSchema, s.checkFeatureSchema]) },
  { method: 'get', path: '/v1/entitlements/{accountId}/{key}', auth: 'secret', summary: 'Whether an account may use a feature or metric' },
  { method: 'get', path: '/v1/widget/state', auth: 'user', summary: 'Everything the widget needs in one round trip', query: s.widgetStateQuerySchema },
  { method: 'post', path: '/v1/widget/upgrade/preview', auth: 'user', summary: 'Quote a plan or seat upgrade: amount now, next amount and date, and the sentence', body: billing.upgradePreviewSchema },
  { method: 'post', path: '/v1/widget/upgrade', auth: 'user', summary: 'Confirm a previewed upgrade (admins only; once per idempotency key)', body: billing.upgradeSchema },
  { method: 'post', path: '/v1/widget/upgrade-requests', auth: 'user', summary: "Ask the account's admins for a plan or seats (the same ask within 24 hours answers 200 with the open request)", body: billing.upgradeRequestSchema },
  { method: 'post', path: '/v1/widget/upgrade-requests/{id}/decline', auth: 'user', summary: "An admin declines a member's open upgrade request" },
  { method: 'post', path: '/v1/widget/trials', auth: 'user', summary: "Start a feature's trial, once per account", body: billing.trialStartSchema },
  { method: 'post', path: '/v1/widget/downgrade/preview', auth: 'user', summary: 'What a downgrade takes away (features, lower limits, metrics over the new limit) and when it takes effect (admins only)', body: billing.downgradePreviewSchema },
  { method: 'post', path: '/v1/widget/downgrade', auth: 'user', summary: 'Schedule a downgrade for the period end, undoable until then (admins only; once per idempotency key)', body: billing.downgradeSchema },
  { method: 'delete', path: '/v1/widget/scheduled-change', auth: 'user', summary: 'Undo the scheduled downgrade or cancellation (admins only)' },
  { method: 'post', path: '/v1/widget/cancel/offer', auth: 'user', summary: 'Start a cancellation with its reason; answers the save offer for that reason (admins only)', body: billing.cancelOfferSchema },
  { method: 'post', path: '/v1/widget/cancel/accept', auth: 'user', summary: 'Accept a save offer: discount, pause, downgrade or yearly billing (admins only; once per offer)', body: billing.cancelAcceptSchema },
  { method: 'post', path: '/v1/widget/cancel', auth: 'user', summary: 'Cancel at the period end, undoable until then (admins only; once per idempotency key)', body: billing.cancelSchema },
  { method: 'post', path: '/v1/widget/events', auth: 'user', summary: 'Prompt events (impression, click, dismiss, snooze, gate_hit, invite_sent)', body: s.widgetEventsSchema },
  { method: 'get', path: '/v1/admin/routing', auth: 'admin', summary: 'Routing rules over PQA band, plan, seats and expansion size (first match wins)' },
  { method: 'put', path: '/v1/admin/routing', auth: 'admin', summary: 'Set the routing rules: self-serve, CSM or sales, and the webhooks of each route', body: routingSchema },
  { method: 'get', path: '/v1/admin/analytics/funnel', auth: 'admin', summary: 'Impressions, clicks, upgrade previews and upgrades per prompt and variant, with step conversion (JSON, or CSV with Accept: text/csv)', query: analytics.funnelQuerySchema },
  { method: 'get', path: '/v1/admin/analytics/upgrades', auth: 'admin', summary: 'Self-serve upgrade rate per day or week: accounts shown a prompt that upgraded self-serve ÷ accounts shown a prompt, plus upgrades by prompt kind (JSON, or CSV)', query: analytics.upgradesQuerySchema },
  { method: 'get', path: '/v1/admin/accounts', auth: 'admin', summary: 'Accounts with their PQA score, band and signals, filterable (JSON, or CSV)', query: analytics.adminAccountsQuerySchema },
  { method: 'get', path: '/v1/admin/accounts/{id}/prompt-history', auth: 'admin', summary: 'Which prompts each user of an account saw, clicked, dismissed or snoozed, and when (JSON, or CSV)', query: analytics.promptHistoryQuerySchema },
  { method: 'post', path: '/v1/admin/dev/seed-history', auth: 'admin', summary: 'Development only (403 in production): seed six weeks of demo history for the dashboard', body: devSeedSchema },
  { method: 'post', path: '/v1/admin/simulations', auth: 'admin', summary: 'Replay up to the last 90 days of usage and prompt history under proposed definitions and activation, next to the rules in force: per prompt and day, accounts and users shown, session-cap hold-backs, dismissal suppressions, threshold crossings, projected upgrades as ranges (JSON, or CSV with Accept: text/csv)', body: simulationRequestSchema },
];

const security: Record<Exclude<Auth, null>, Record<string, unknown>> = {
  secret: { secretKey: [] },
  user: { userToken: [] },
  admin: { adminKey: [] },
  stripe: { stripeSignature: [] },
};

const jsonSchema = (schema: z.ZodType) => z.toJSONSchema(schema, { target: 'openapi-3.0', io: 'input', unrepresentable: 'any' });
const errorResponse = { description: 'Error', content: { 'application/json': { schema: jsonSchema(s.errorBodySchema()) } } };

/** The document for the operations registered so far. @example openapiDocument().paths['/v1/usage'].post */
function legacyPaths() {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of operations) {
    const params = [...op.path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    const query = op.query
      ? Object.entries(op.query.shape).map(([name, schema]) => ({
          name,
          in: 'query',
          required: !(schema as z.ZodType).safeParse(undefined).success,
          schema: jsonSchema(schema as z.ZodType),
        }))
      : [];
    (paths[op.path] ??= {})[op.method] = {
      summary: op.summary,
      security: op.auth ? [security[op.auth]] : [],
      ...(params.length + query.length > 0 && { parameters: [...params, ...query] }),
      ...(op.body && { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(op.body) } } } }),
      responses: { '200': { description: 'OK' }, '4XX': errorResponse },
    };
  }
  return paths;
}

/**
 * OpenAPI 3.0 allows `nullable` only beside a `type`; zod's "any value" (`z.unknown()`, a `null`
 * member of a union) comes out as a bare `{ nullable: true }`, which already admits null without it.
 */
function untypedNullable(node: unknown): void {
  if (!node || typeof node !== 'object') return;
  const o = node as Record<string, unknown>;
  if (o.nullable === true && o.type === undefined) delete o.nullable;
  for (const v of Object.values(o)) untypedNullable(v);
}

/** The document of `app`: every operation it declares (with the ones not yet declared, above). */
export function openapiDocument(app: OpenAPIHono<AppEnv>) {
  const doc = app.getOpenAPIDocument({
    openapi: '3.0.3',
    info: { title: 'Ladder API', version: VERSION, description: 'In-product expansion engine: usage, limits, prompts, upgrades, PQA. The contract is API.md.', license: { name: 'UNLICENSED' } },
    servers: [{ url: '/', description: 'This worker' }],
  }) as unknown as { openapi: string; info: { title: string; version: string }; paths: Record<string, Record<string, unknown>>; components?: Record<string, unknown> };
  for (const [path, ops] of Object.entries(legacyPaths())) doc.paths[path] = { ...ops, ...doc.paths[path] };
  untypedNullable(doc);
  doc.components = {
    ...doc.components,
    securitySchemes: {
      secretKey: { type: 'http', scheme: 'bearer', description: 'LADDER_SECRET_KEY (host backend)' },
      userToken: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'HS256 user token (widget)' },
      adminKey: { type: 'http', scheme: 'bearer', description: 'LADDER_ADMIN_KEY, or the dashboard session cookie' },
      stripeSignature: { type: 'apiKey', in: 'header', name: 'Stripe-Signature' },
    },
  };
  return doc;
}
