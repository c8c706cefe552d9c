/**
 * The OpenAPI 3 document, generated from the same zod schemas the routes validate with.
 * Each route group adds its operations to `operations`; a test checks that every route
 * the app serves is listed here.
 */
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
  { method: 'get', path: '/v1/health', auth: null, summary: 'Readiness of the worker and its database' },
  { method: 'get', path: '/openapi.json', auth: null, summary: 'This document' },
  { method: 'get', path: '/demo', auth: null, summary: 'Demo host app (development only)' },
  { method: 'get', path: '/demo/token', auth: null, summary: 'Demo host backend: mint a user token (development only)' },
  { method: 'post', path: '/demo/projects', auth: null, summary: 'Demo host backend: check-and-record one project (development only)' },
  { method: 'get', path: '/demo/app.js', auth: null, summary: 'Demo host app script (development only)' },
  { method: 'get', path: '/demo/app.css', auth: null, summary: 'Demo host app styles (development only)' },
  { method: 'get', path: '/v1/catalog', auth: 'secret', summary: 'The catalog of metrics, features and plans' },
  { method: 'put', path: '/v1/catalog', auth: 'secret', summary: 'Replace the whole catalog atomically, kept as a version; with dry_run=true, the changes and the accounts it would put over a lowered limit, applying nothing', body: s.catalogSchema, query: s.catalogPutQuerySchema },
  { method: 'get', path: '/v1/catalog/versions', auth: 'secret', summary: 'Applied catalogs with their changes, newest first', query: s.catalogVersionsQuerySchema },
  { method: 'get', path: '/v1/catalog/versions/{version}', auth: 'secret', summary: 'One applied catalog, whole, with its changes' },
  { method: 'get', path: '/v1/admin/catalog', auth: 'admin', summary: 'The catalog, read-only, for the dashboard' },
  { method: 'get', path: '/v1/admin/catalog/versions', auth: 'admin', summary: 'The catalog history, read-only, for the dashboard', query: s.catalogVersionsQuerySchema },
  { method: 'get', path: '/v1/accounts/{accountId}', auth: 'secret', summary: 'An account with usage, entitlements and PQA' },
  { method: 'put', path: '/v1/accounts/{accountId}', auth: 'secret', summary: 'Create or update an account', body: s.accountInputSchema },
  { method: 'post', path: '/v1/usage', auth: 'secret', summary: 'Record up to 1,000 usage events in one transaction (200 { accepted, duplicates }); with LADDER_INGEST=queue, validate and queue them (202 { queued })', body: s.usageBatchSchema },
  { method: 'post', path: '/v1/track', auth: 'secret', summary: 'Record behavioural events for PQA scoring (200 { accepted, duplicates }); with LADDER_INGEST=queue, validate and queue them (202 { queued })', body: s.trackBatchSchema },
  { method: 'get', path: '/v1/admin/ingest/dead-letters', auth: 'admin', summary: 'Queued usage and track batches that could not be applied (LADDER_INGEST=queue), newest first' },
  { method: 'post', path: '/v1/check', auth: 'secret', summary: 'Atomic check-and-record of a metric, or a feature check', body: z.union([s.checkMetricSchema, s.checkFeatureSchema]) },
  { method: 'get', path: '/v1/entitlements/{accountId}/{key}', auth: 'secret', summary: 'Whether an account may use a feature or metric' },
  { method: 'post', path: '/v1/tokens', auth: 'secret', summary: 'Mint a user token for the widget', body: s.tokenRequestSchema },
  { method: 'get', path: '/v1/widget/state', auth: 'user', summary: 'Everything the widget needs in one round trip', query: s.widgetStateQuerySchema },
  { method: 'post', path: '/v1/widget/upgrade/preview', auth: 'user', summary: 'Quote a plan or seat upgrade: amount now, next amount and date, and the sentence', body: billing.upgradePreviewSchema },
  { method: 'post', path: '/v1/widget/upgrade', auth: 'user', summary: 'Confirm a previewed upgrade (admins only; once per idempotency key)', body: billing.upgradeSchema },
  { method: 'post', path: '/v1/widget/upgrade-requests', auth: 'user', summary: "Ask the account's admins for a plan or seats (the same ask within 24 hours answers 200 with the open request)", body: billing.upgradeRequestSchema },
  { method: 'post', path: '/v1/widget/upgrade-requests/{id}/decline', auth: 'user', summary: "An admin declines a member's open upgrade request" },
  { method: 'get', path: '/v1/admin/upgrade-requests', auth: 'admin', summary: 'Upgrade requests by status and time (JSON, or CSV with Accept: text/csv)', query: analytics.upgradeRequestsQuerySchema },
  { method: 'post', path: '/v1/widget/trials', auth: 'user', summary: "Start a feature's trial, once per account", body: billing.trialStartSchema },
  { method: 'post', path: '/v1/widget/downgrade/preview', auth: 'user', summary: 'What a downgrade takes away (features, lower limits, metrics over the new limit) and when it takes effect (admins only)', body: billing.downgradePreviewSchema },
  { method: 'post', path: '/v1/widget/downgrade', auth: 'user', summary: 'Schedule a downgrade for the period end, undoable until then (admins only; once per idempotency key)', body: billing.downgradeSchema },
  { method: 'delete', path: '/v1/widget/scheduled-change', auth: 'user', summary: 'Undo the scheduled downgrade or cancellation (admins only)' },
  { method: 'post', path: '/v1/widget/cancel/offer', auth: 'user', summary: 'Start a cancellation with its reason; answers the save offer for that reason (admins only)', body: billing.cancelOfferSchema },
  { method: 'post', path: '/v1/widget/cancel/accept', auth: 'user', summary: 'Accept a save offer: discount, pause, downgrade or yearly billing (admins only; once per offer)', body: billing.cancelAcceptSchema },
  { method: 'post', path: '/v1/widget/cancel', auth: 'user', summary: 'Cancel at the period end, undoable until then (admins only; once per idempotency key)', body: billing.cancelSchema },
  { method: 'get', path: '/v1/admin/save-offers', auth: 'admin', summary: 'The save offer per cancellation reason' },
  { method: 'put', path: '/v1/admin/save-offers', auth: 'admin', summary: 'Set the save offers per cancellation reason (reasons left out use the defaults)', body: billing.saveOffersSchema },
  { method: 'get', path: '/v1/admin/analytics/saves', auth: 'admin', summary: 'Per cancellation reason: started, offers shown and accepted, canceled, save rate and MRR saved (JSON, or CSV)', query: billing.revenueQuerySchema },
  { method: 'post', path: '/v1/stripe/webhook', auth: 'stripe', summary: 'Stripe webhook deliveries (Stripe-Signature verified)' },
  { method: 'get', path: '/v1/admin/analytics/revenue', auth: 'admin', summary: 'Starting MRR, expansion, contraction, churn, NRR, GRR and expansion by source (JSON, or CSV with Accept: text/csv)', query: billing.revenueQuerySchema },
  { method: 'get', path: '/v1/pqa', auth: 'secret', summary: 'Accounts by PQA score, highest first, optionally one band', query: wh.pqaListQuerySchema },
  { method: 'get', path: '/v1/accounts/{accountId}/readiness', auth: 'secret', summary: 'Expansion readiness: PQA signals, seat and usage utilisation, activation' },
  { method: 'get', path: '/v1/admin/pqa/config', auth: 'admin', summary: 'The PQA points table, decay and band edges' },
  { method: 'put', path: '/v1/admin/pqa/config', auth: 'admin', summary: 'Replace the PQA points table (every account is rescored by the next cron run); ?dry_run=true previews how accounts would score and band', query: s.catalogPutQuerySchema, body: pqaConfigSchema },
  { method: 'get', path: '/v1/admin/webhooks', auth: 'admin', summary: 'Outgoing webhooks (secrets shown as a prefix) with their delivery counts' },
  { method: 'put', path: '/v1/admin/webhooks/{id}', auth: 'admin', summary: 'Create or replace an outgoing webhook', body: wh.webhookInputSchema },
  { method: 'post', path: '/v1/admin/webhooks/{id}/test', auth: 'admin', summary: 'Send a signed sample event to a webhook now', body: wh.webhookTestSchema },
  { method: 'post', path: '/v1/widget/events', auth: 'user', summary: 'Prompt events (impression, click, dismiss, snooze, gate_hit, invite_sent)', body: s.widgetEventsSchema },
  { method: 'get', path: '/v1/admin/prompts', auth: 'admin', summary: 'Prompt definitions in force' },
  { method: 'put', path: '/v1/admin/prompts/{id}', auth: 'admin', summary: 'Create or replace a prompt definition', body: promptInputSchema },
  { method: 'get', path: '/v1/admin/activation', auth: 'admin', summary: 'The activation rule: which events, how many, minimum account age' },
  { method: 'get', path: '/v1/admin/routing', auth: 'admin', summary: 'Routing rules over PQA band, plan, seats and expansion size (first match wins)' },
  { method: 'put', path: '/v1/admin/routing', auth: 'admin', summary: 'Set the routing rules: self-serve, CSM or sales, and the webhooks of each route', body: routingSchema },
  { method: 'put', path: '/v1/admin/activation', auth: 'admin', summary: 'Set the activation rule; soft prompts wait for it, hard blocks do not', body: activationRuleSchema },
  { method: 'post', path: '/v1/admin/login', auth: null, summary: 'Trade the admin key for the HttpOnly dashboard session cookie (401 on a wrong key)', body: analytics.loginSchema },
  { method: 'post', path: '/v1/admin/logout', auth: null, summary: 'Clear the dashboard session cookie' },
  { method: 'get', path: '/v1/admin/session', auth: 'admin', summary: 'Whether the caller holds a dashboard session (or the admin key), and until when' },
  { method: 'get', path: '/v1/admin/analytics/funnel', auth: 'admin', summary: 'Impressions, clicks, upgrade previews and upgrades per prompt and variant, with step conversion (JSON, or CSV with Accept: text/csv)', query: analytics.funnelQuerySchema },
  { method: 'get', path: '/v1/admin/analytics/upgrades', auth: 'admin', summary: 'Self-serve upgrade rate per day or week: accounts shown a prompt that upgraded self-serve ÷ accounts shown a prompt, plus upgrades by prompt kind (JSON, or CSV)', query: analytics.upgradesQuerySchema },
  { method: 'get', path: '/v1/admin/accounts', auth: 'admin', summary: 'Accounts with their PQA score, band and signals, filterable (JSON, or CSV)', query: analytics.adminAccountsQuerySchema },
  { method: 'get', path: '/v1/admin/accounts/{id}/prompt-history', auth: 'admin', summary: 'Which prompts each user of an account saw, clicked, dismissed or snoozed, and when (JSON, or CSV)', query: analytics.promptHistoryQuerySchema },
  { method: 'get', path: '/dashboard', auth: null, summary: 'The dashboard (HTML; its API calls need the session)' },
  { method: 'post', path: '/v1/admin/dev/seed-history', auth: 'admin', summary: 'Development only (403 in production): seed six weeks of demo history for the dashboard', body: devSeedSchema },
  { method: 'get', path: '/v1/admin/experiments', auth: 'admin', summary: 'Experiments on prompt copy, newest first', query: ex.experimentListQuerySchema },
  { method: 'post', path: '/v1/admin/experiments', auth: 'admin', summary: 'Create a draft experiment (201); the first variant is the control', body: ex.experimentInputSchema },
  { method: 'get', path: '/v1/admin/experiments/{id}', auth: 'admin', summary: 'One experiment' },
  { method: 'put', path: '/v1/admin/experiments/{id}', auth: 'admin', summary: 'Replace a draft experiment; a started one is locked (409)', body: ex.experimentInputSchema },
  { method: 'post', path: '/v1/admin/experiments/{id}/start', auth: 'admin', summary: 'Start a draft; one running experiment per prompt (409)' },
  { method: 'post', path: '/v1/admin/experiments/{id}/stop', auth: 'admin', summary: 'Stop a running experiment' },
  { method: 'post', path: '/v1/admin/experiments/{id}/ship', auth: 'admin', summary: "Write a variant's copy into the prompt and end the experiment", body: ex.experimentShipSchema },
  { method: 'post', path: '/v1/admin/simulations', auth: 'admin', summary: 'Replay up to the last 90 days of usage and prompt history under proposed definitions and activation, next to the rules in force: per prompt and day, accounts and users shown, session-cap hold-backs, dismissal suppressions, threshold crossings, projected upgrades as ranges (JSON, or CSV with Accept: text/csv)', body: simulationRequestSchema },
  { method: 'get', path: '/v1/admin/experiments/{id}/results', auth: 'admin', summary: 'Per-arm exposures, conversions, intervals, lift, p-values, chance to beat control, SRM check and verdict' },
];

const security: Record<Exclude<Auth, null>, Record<string, unknown>> = {
  secret: { secretKey: [] },
  user: { userToken: [] },
  admin: { adminKey: [] },
  stripe: { stripeSignature: [] },
};

const jsonSchema = (schema: z.ZodType) => z.toJSONSchema(schema, { target: 'openapi-3.0', io: 'input', unrepresentable: 'any' });
const errorResponse = { description: 'Error', content: { 'application/json': { schema: jsonSchema(s.errorBodySchema) } } };

/** The document for the operations registered so far. @example openapiDocument().paths['/v1/usage'].post */
export function openapiDocument() {
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
      ...(op.auth && { security: [security[op.auth]] }),
      ...(params.length + query.length > 0 && { parameters: [...params, ...query] }),
      ...(op.body && { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(op.body) } } } }),
      responses: { '200': { description: 'OK' }, '4XX': errorResponse },
    };
  }
  return {
    openapi: '3.0.3',
    info: { title: 'Ladder API', version: VERSION },
    components: {
      securitySchemes: {
        secretKey: { type: 'http', scheme: 'bearer', description: 'LADDER_SECRET_KEY (host backend)' },
        userToken: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'HS256 user token (widget)' },
        adminKey: { type: 'http', scheme: 'bearer', description: 'LADDER_ADMIN_KEY, or the dashboard session cookie' },
        stripeSignature: { type: 'apiKey', in: 'header', name: 'Stripe-Signature' },
      },
    },
    paths,
  };
}
