import type { MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import { isProduction } from '../config';
import type { AppEnv } from '../env';

/** The origins a widget may call from; `*` is honoured only outside production. */
export function allowedOrigin(origin: string, configured: string | undefined, production: boolean): string | null {
  const list = (configured ?? '').split(',').map((o) => o.trim()).filter(Boolean);
  if (list.includes('*') && !production) return origin || '*';
  return list.includes(origin) ? origin : null;
}

/**
 * CORS for the widget endpoints only: an origin not in LADDER_ALLOWED_ORIGINS gets no grant.
 * @example app.use('/v1/widget/*', widgetCors())
 */
export const widgetCors = (): MiddlewareHandler<AppEnv> =>
  cors({
    origin: (origin, c) => allowedOrigin(origin, c.env.LADDER_ALLOWED_ORIGINS, isProduction(c.env)),
    // DELETE: undoing a scheduled downgrade or cancellation (DELETE /v1/widget/scheduled-change).
    allowMethods: ['GET', 'POST', 'DELETE', 'OPTIONS'],
    allowHeaders: ['Authorization', 'Content-Type', 'If-None-Match'],
    // the widget revalidates its state with the ETag (304 without a body)
    exposeHeaders: ['ETag'],
    maxAge: 600,
  });
