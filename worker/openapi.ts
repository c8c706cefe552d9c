/**
 * The OpenAPI 3 document, generated from the route declarations (`route({ … })` in
 * worker/routes/, each with its request and response schemas and its error codes).
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import { z } from 'zod';
import * as analytics from '../shared/analyticsSchemas';
import * as s from '../shared/schemas';
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
  { method: 'get', path: '/v1/admin/analytics/funnel', auth: 'admin', summary: 'Impressions, clicks, upgrade previews and upgrades per prompt and variant, with step conversion (JSON, or CSV with Accept: text/csv)', query: analytics.funnelQuerySchema },
  { method: 'get', path: '/v1/admin/analytics/upgrades', auth: 'admin', summary: 'Self-serve upgrade rate per day or week: accounts shown a prompt that upgraded self-serve ÷ accounts shown a prompt, plus upgrades by prompt kind (JSON, or CSV)', query: analytics.upgradesQuerySchema },
  { method: 'get', path: '/v1/admin/accounts', auth: 'admin', summary: 'Accounts with their PQA score, band and signals, filterable (JSON, or CSV)', query: analytics.adminAccountsQuerySchema },
  { method: 'get', path: '/v1/admin/accounts/{id}/prompt-history', auth: 'admin', summary: 'Which prompts each user of an account saw, clicked, dismissed or snoozed, and when (JSON, or CSV)', query: analytics.promptHistoryQuerySchema },
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
