/**
 * Route groups by credential. Every router is made by one of these factories, and every route of
 * a router gets its group's authentication (and its rate limit) as route middleware, the
 * group's security scheme and the error codes it can answer in the OpenAPI document. So a route
 * cannot be added without its group's auth, and no list of paths decides who is checked.
 *
 * | group   | credential                                    | factory          |
 * | ------- | --------------------------------------------- | ---------------- |
 * | host    | `Bearer <LADDER_SECRET_KEY>`                  | `hostRouter()`   |
 * | widget  | a user token (HS256), CORS for the allowed origins | `widgetRouter()` |
 * | admin   | the admin key or the dashboard session (+ CSRF on cookie writes) | `adminRouter()` |
 * | stripe  | the `Stripe-Signature` of the raw body        | `stripeRouter()` |
 * | public  | none                                          | `publicRouter()` |
 *
 * A route is declared with `route({ … })`: method, path, request schemas (params, query, JSON
 * body), response schemas and the domain error codes it may answer (`errors`); the group adds
 * the codes every route of it can answer (validation, credentials, rate limit, 5xx).
 */
import { OpenAPIHono, createRoute, type RouteConfig } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { z } from 'zod';
import { ERROR_STATUS, type ErrorCode } from '../../shared/errors';
import { errorBodySchema } from '../../shared/schemas';
import type { AppEnv } from '../env';
import { ApiError, zodDetails } from '../errors';
import { adminKey, secretKey, stripeSignature, userToken } from '../middleware/auth';
import { limitAuthFailures } from '../middleware/authFailures';
import { jsonBody } from '../middleware/body';
import { adminCsrf } from '../middleware/csrf';
import { widgetCors } from '../middleware/cors';
import { rateLimit } from '../middleware/rateLimit';

export type Group = 'host' | 'widget' | 'admin' | 'stripe' | 'public';

type Declared = RouteConfig & {
  /** The domain error codes this operation may answer, beside the ones of its group and its inputs. */
  errors?: readonly ErrorCode[];
};

/**
 * Declare an operation: its request and response schemas and its error codes.
 * @example export const getAccount = route({ method: 'get', path: '/{accountId}', request: { params }, responses: { 200: json(accountSchema, 'The account') }, errors: ['account_not_found'] })
 */
export const route = <R extends Declared>(config: R) => createRoute(config);

/** A JSON response of `schema`. @example responses: { 200: json(catalogSchema, 'The catalog') } */
export const json = <S extends z.ZodType>(schema: S, description: string) => ({ description, content: { 'application/json': { schema } } }) as const;

/** A JSON response, or the same as CSV with `Accept: text/csv`. */
export const jsonOrCsv = <S extends z.ZodType>(schema: S, description: string) =>
  ({ description, content: { 'application/json': { schema }, 'text/csv': { schema: z.string() } } }) as const;

/** A JSON body (required), read at most 1 MiB (413), malformed JSON a 400 `invalid_json`, then validated strictly. */
export const body = <S extends z.ZodType>(schema: S, description?: string) =>
  ({ required: true, ...(description && { description }), content: { 'application/json': { schema } } }) as const;

/** Validation failures of params, query and body leave as the API's 400 `validation_failed` naming each field. */
const defaultHook = (result: { success: boolean; error?: unknown }) => {
  if (!result.success) throw new ApiError('validation_failed', 'The request is not valid.', zodDetails(result.error as z.ZodError));
};

// Per-credential limits (429 with Retry-After), counted after authentication; see middleware/rateLimit.ts.
const hostLimit = rateLimit({ scope: 'secret key', limitVar: 'LADDER_RATE_LIMIT_HOST', defaultLimit: 60_000, key: () => 'host' });
const widgetLimit = rateLimit({ scope: 'user', limitVar: 'LADDER_RATE_LIMIT_WIDGET', defaultLimit: 1_200, key: (c) => `${c.get('user').acct}\u0000${c.get('user').sub}` });
// Beside the per-user limit: all the users of one account together, so one account cannot flood D1 writes.
const widgetAccountLimit = rateLimit({ scope: 'account', limitVar: 'LADDER_RATE_LIMIT_ACCOUNT', defaultLimit: 6_000, key: (c) => c.get('user').acct });
const adminLimit = rateLimit({ scope: 'admin key', limitVar: 'LADDER_RATE_LIMIT_ADMIN', defaultLimit: 6_000, key: () => 'admin' });
const guessing = limitAuthFailures();

type GroupSpec = { auth: MiddlewareHandler<AppEnv>[]; security?: Record<string, string[]>; errors: ErrorCode[] };

const GROUPS: Record<Group, GroupSpec> = {
  host: { auth: [guessing, secretKey(), hostLimit], security: { secretKey: [] }, errors: ['unauthorized', 'rate_limited'] },
  // CORS first, so every answer (a 401 included) carries the origin's grant; preflights are answered by the router.
  widget: { auth: [widgetCors(), guessing, userToken(), widgetLimit, widgetAccountLimit], security: { userToken: [] }, errors: ['unauthorized', 'rate_limited'] },
  // A cookie-authenticated write must also pass the CSRF check (403 csrf_failed).
  admin: { auth: [guessing, adminKey(), adminLimit, adminCsrf()], security: { adminKey: [] }, errors: ['unauthorized', 'rate_limited', 'csrf_failed'] },
  stripe: { auth: [stripeSignature()], security: { stripeSignature: [] }, errors: ['invalid_signature', 'webhooks_not_configured'] },
  public: { auth: [], errors: [] },
};

/** Codes any operation can answer: a misconfigured production worker, and our own failure. */
const EVERYWHERE: ErrorCode[] = ['misconfigured', 'internal'];

/** The error responses of an operation, one per status, each listing its codes. */
function errorResponses(codes: Iterable<ErrorCode>) {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of new Set(codes)) {
    const status = ERROR_STATUS[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return Object.fromEntries(
    [...byStatus].map(([status, list]) => [String(status), { description: `Error: ${list.join(', ')}`, content: { 'application/json': { schema: errorBodySchema(list) } } }]),
  );
}

/** The declared responses plus the error ones; where both name a status (health's 503), either body. */
function withErrors(declared: RouteConfig['responses'], errors: ReturnType<typeof errorResponses>): RouteConfig['responses'] {
  const out: RouteConfig['responses'] = { ...declared };
  for (const [status, err] of Object.entries(errors)) {
    const mine = out[status] as { description: string; content?: Record<string, { schema: z.ZodType }> } | undefined;
    const own = mine?.content?.['application/json']?.schema;
    out[status] = own
      ? { ...mine, description: `${mine.description}; ${err.description}`, content: { ...mine.content, 'application/json': { schema: z.union([own, err.content['application/json'].schema]) } } }
      : err;
  }
  return out;
}

/** The codes an operation can answer: its group's, its inputs', its own. */
function errorCodesOf(group: Group, config: Declared): ErrorCode[] {
  const codes: ErrorCode[] = [...GROUPS[group].errors, ...EVERYWHERE, ...(config.errors ?? [])];
  const req = config.request;
  if (req?.params || req?.query || req?.body) codes.push('validation_failed');
  if (req?.body) codes.push('invalid_json', 'body_too_large');
  return codes;
}

/** A router whose every operation carries `group`'s auth, security scheme and error codes. */
function router(group: Group) {
  const spec = GROUPS[group];
  const app = new OpenAPIHono<AppEnv>({ defaultHook });
  // A widget's preflight (OPTIONS) is answered before any credential is asked for.
  if (group === 'widget') app.options('/*', widgetCors());
  const openapi = app.openapi;
  app.openapi = ((config: Declared, handler: never, hook?: never) => {
    const { errors: _own, ...rest } = config;
    const own = config.middleware ? (Array.isArray(config.middleware) ? config.middleware : [config.middleware]) : [];
    return openapi(
      {
        ...rest,
        // Public routes say so (`security: []`), so every operation states its credential.
        security: spec.security ? [spec.security] : [],
        // Auth first, then the body read (size limit, JSON), then the route's own middleware; the schemas' validators run after.
        middleware: [...spec.auth, ...(config.request?.body ? [jsonBody(config.request.body.required !== false)] : []), ...own],
        responses: withErrors(config.responses, errorResponses(errorCodesOf(group, config))),
      } as never,
      handler,
      hook,
    );
  }) as typeof openapi;
  return app;
}

/** Host-backend routes (secret key; server to server, no CORS). */
export const hostRouter = () => router('host');
/** Widget routes (a user token; CORS for LADDER_ALLOWED_ORIGINS, preflights answered before auth). */
export const widgetRouter = () => router('widget');
/** Dashboard and admin routes (admin key or session; CSRF on cookie-authenticated writes). */
export const adminRouter = () => router('admin');
/** Stripe's webhook deliveries (signature verified; the event is `c.var.stripeEvent`). */
export const stripeRouter = () => router('stripe');
/** Routes without a credential (health, this document, the dashboard page, login/logout, the dev demo). */
export const publicRouter = () => router('public');

