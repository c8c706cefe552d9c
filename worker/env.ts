import type { D1Database, DurableObjectNamespace, Queue } from '@cloudflare/workers-types/latest';
import type { UserClaims } from '../shared/schemas';

/** Bindings and secrets of the worker (wrangler.toml, .dev.vars, `wrangler secret put`). */
export type Env = {
  DB: D1Database;
  /** `development` or `test`; anything else, unset included, is production (worker/config.ts). */
  LADDER_ENV?: string;
  /** `local` applies upgrades without charging (must be chosen explicitly in production); `stripe` or unset: Stripe when keyed. */
  LADDER_BILLING?: string;
  /** Cloudflare's Rate Limiting binding counting failed credentials per client address (wrangler.toml `[[ratelimits]]`). */
  AUTH_FAILURES?: { limit(options: { key: string }): Promise<{ success: boolean }> };
  LADDER_SECRET_KEY: string;
  LADDER_ADMIN_KEY: string;
  LADDER_USER_TOKEN_SECRET: string;
  /** Comma-separated origins the widget may be embedded on; `*` only outside production. */
  LADDER_ALLOWED_ORIGINS?: string;
  /** Static files of dist/public (widget, dashboard), from wrangler.toml `[assets]`. */
  ASSETS?: { fetch(request: Request): Promise<Response> };
  STRIPE_SECRET_KEY?: string;
  STRIPE_WEBHOOK_SECRET?: string;
  STRIPE_API_HOST?: string;
  STRIPE_API_PORT?: string;
  STRIPE_API_PROTOCOL?: string;
  /** Tests and demos only (ignored in production): `decline` makes the local billing provider's payments fail. */
  LADDER_LOCAL_CARD?: string;
  /** Where usage counters live (docs/scale.md): `d1` (default) or `durable_object` (one object per account, needs ACCOUNT_COUNTERS). */
  LADDER_COUNTERS?: string;
  /** How POST /v1/usage and /v1/track ingest: `direct` (default, answered 200 once stored) or `queue` (202 once queued, needs LADDER_INGEST_QUEUE). */
  LADDER_INGEST?: string;
  /** Milliseconds between an account object's first unflushed write and its flush to D1 (default 2000). */
  LADDER_COUNTERS_FLUSH_MS?: string;
  /** The AccountCounters Durable Object namespace (wrangler.toml `[[durable_objects.bindings]]`). */
  ACCOUNT_COUNTERS?: DurableObjectNamespace;
  /** The ingestion queue's producer (wrangler.toml `[[queues.producers]]`). */
  LADDER_INGEST_QUEUE?: Queue<unknown>;
};

/** Per-request values set by middleware. */
type Vars = {
  /** The request's clock, read once (tests move it with vi.setSystemTime). */
  now: number;
  /** Claims of a verified user token (widget routes only). */
  user: UserClaims;
  /** How an admin request authenticated: the admin key as a bearer, or the dashboard's session cookie. */
  adminVia: 'key' | 'session';
  /** When the dashboard session of this request expires (session-authenticated admin requests only). */
  adminSessionExpiresAt: number;
};

export type AppEnv = { Bindings: Env; Variables: Vars };
