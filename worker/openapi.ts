/**
 * The OpenAPI 3 document, generated from the route declarations (`route({ … })` in
 * worker/routes/, each with its request and response schemas and its error codes).
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from './env';
import { VERSION } from './routes/health';

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

/** The document of `app`: every operation it declares, nothing else. */
export function openapiDocument(app: OpenAPIHono<AppEnv>) {
  const doc = app.getOpenAPIDocument({
    openapi: '3.0.3',
    info: { title: 'Ladder API', version: VERSION, description: 'In-product expansion engine: usage, limits, prompts, upgrades, PQA. The contract is API.md.', license: { name: 'UNLICENSED' } },
    servers: [{ url: '/', description: 'This worker' }],
  }) as unknown as { openapi: string; info: { title: string; version: string }; paths: Record<string, Record<string, unknown>>; components?: Record<string, unknown> };
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
