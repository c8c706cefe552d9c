/**
 * Zod schemas of the HTTP API (../shared/API.md): the one validation path, used by the
 * worker's routes, the host-backend client and the OpenAPI document.
 * Request objects are strict: an unknown field is refused, so a typo never passes silently.
 */
import { z } from 'zod';
import { ERROR_STATUS, type ErrorCode } from './errors';

export const MAX_BATCH = 1000;
const MAX_TIME = 8_640_000_000_000_000; // the largest epoch ms a Date can hold

export const id = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9_.:@-]+$/, 'may contain letters, digits and _ . : @ - only');
export const idempotencyKey = z.string().min(1).max(255);
const text = (max: number) => z.string().max(max);
const cents = z.number().int().min(0).max(1e12);

/** A point in time: ISO-8601 with offset, or epoch milliseconds. Parsed to epoch ms. */
const time = z
  .union([
    z.number().int().min(0).max(MAX_TIME),
    z.iso.datetime({ offset: true }),
  ])
  .transform((v) => (typeof v === 'number' ? v : Date.parse(v)));

/** How far ahead of the worker's clock an event's timestamp may be (clock drift), so a future-dated gauge `set` cannot freeze a gauge. */
const MAX_CLOCK_AHEAD_MS = 5 * 60_000;
/** Widget events older than this are refused: the widget sends them as they happen. */
export const MAX_WIDGET_EVENT_AGE_MS = 24 * 3600_000;

/**
 * The events whose `timestamp` is more than `MAX_CLOCK_AHEAD_MS` after `now`, or (with `maxAgeMs`)
 * older than that, as error details naming each (`events.3.timestamp`).
 * @example eventTimeProblems([{ timestamp: now + 3_600_000 }], now) // [{ path: 'events.0.timestamp', message: 'more than 5 minutes in the future' }]
 */
export function eventTimeProblems(events: { timestamp?: number | undefined }[], now: number, maxAgeMs?: number): { path: string; message: string }[] {
  const problems: { path: string; message: string }[] = [];
  events.forEach((e, i) => {
    if (e.timestamp === undefined) return;
    if (e.timestamp > now + MAX_CLOCK_AHEAD_MS) problems.push({ path: `events.${i}.timestamp`, message: 'more than 5 minutes in the future' });
    else if (maxAgeMs !== undefined && e.timestamp < now - maxAgeMs) problems.push({ path: `events.${i}.timestamp`, message: `older than ${Math.round(maxAgeMs / 3600_000)} hours` });
  });
  return problems;
}

// ---------------------------------------------------------------- catalog

const metricSchema = z.strictObject({
  id,
  name: text(120).min(1),
  unit: text(40).default(''),
  kind: z.enum(['counter', 'gauge']),
  /** When a counter starts again from zero: each billing period, each calendar month, or never. */
  reset: z.enum(['billing_period', 'month', 'never']).default('billing_period'),
});

const featureSchema = z.strictObject({
  id,
  name: text(120).min(1),
  description: text(2000).default(''),
  /** The playbooks' default: a 7-day trial of a locked feature; 0 means no trial. */
  trial_days: z.number().int().min(0).max(365).default(7),
});

/** A plan's behaviour at a metric's limit: `grace` lets `/v1/check` allow up to limit × (1 + grace_pct / 100). */
const overageSchema = z.strictObject({
  mode: z.enum(['block', 'grace']),
  grace_pct: z.number().int().min(0).max(1000).default(0),
});
type Overage = z.output<typeof overageSchema>;

const planSchema = z.strictObject({
  id,
  name: text(120).min(1),
  rank: z.number().int().min(0).max(1000),
  currency: z.string().regex(/^[a-z]{3}$/, 'a lower-case ISO 4217 code such as usd'),
  price_cents: cents,
  interval: z.enum(['month', 'year']).default('month'),
  stripe_price_id: text(255).nullable().default(null),
  seat_price_cents: cents.default(0),
  stripe_seat_price_id: text(255).nullable().default(null),
  /** A monthly plan's price when billed yearly (typically 15–20% off twelve months); null when not sold yearly. */
  annual_price_cents: cents.nullable().optional(),
  stripe_annual_price_id: text(255).nullable().optional(),
  /** One extra seat's price for a year when the plan is billed yearly; null or absent = twelve times `seat_price_cents`. */
  annual_seat_price_cents: cents.nullable().optional(),
  /** The Stripe price of that yearly seat; needed to switch an account with bought seats to yearly billing through Stripe. */
  stripe_annual_seat_price_id: text(255).nullable().optional(),
  /** Metric id → limit, one for every metric of the catalog; `null` is unlimited and must be written. */
  limits: z.record(id, z.number().int().min(0).max(1e15).nullable()).default({}),
  features: z.array(id).max(200).default([]),
  /** Accounts may stay on a hidden plan (grandfathered, internal); it is never offered as an upgrade. */
  hidden: z.boolean().default(false),
  /** Metric id → what happens at the limit: a hard stop (`block`, the default) or `grace_pct` percent more allowed. */
  overage: z.record(id, overageSchema).optional(),
});

export const catalogSchema = z
  .strictObject({
    metrics: z.array(metricSchema).max(200),
    features: z.array(featureSchema).max(200),
    plans: z.array(planSchema).min(1).max(100),
  })
  .superRefine((cat, ctx) => {
    const unique = (list: { id: string }[], key: string) => {
      const seen = new Set<string>();
      list.forEach((item, i) => {
        if (seen.has(item.id)) ctx.addIssue({ code: 'custom', path: [key, i, 'id'], message: `duplicate id "${item.id}"` });
        seen.add(item.id);
      });
      return seen;
    };
    const metrics = unique(cat.metrics, 'metrics');
    const features = unique(cat.features, 'features');
    unique(cat.plans, 'plans');
    const ranks = new Set<number>();
    cat.plans.forEach((plan, i) => {
      if (ranks.has(plan.rank)) ctx.addIssue({ code: 'custom', path: ['plans', i, 'rank'], message: `rank ${plan.rank} is used by another plan` });
      ranks.add(plan.rank);
      for (const m of Object.keys(plan.limits))
        if (!metrics.has(m)) ctx.addIssue({ code: 'custom', path: ['plans', i, 'limits', m], message: `unknown metric "${m}"` });
      // No implicit unlimited: a metric the plan forgets would otherwise be free on it.
      for (const m of metrics)
        if (!Object.hasOwn(plan.limits, m))
          ctx.addIssue({ code: 'custom', path: ['plans', i, 'limits', m], message: `plan "${plan.id}" has no limit for metric "${m}"; write a number, or null for unlimited` });
      for (const m of Object.keys(plan.overage ?? {}))
        if (!metrics.has(m)) ctx.addIssue({ code: 'custom', path: ['plans', i, 'overage', m], message: `unknown metric "${m}"` });
      // No year given away: a paid plan (or seat) whose yearly price is 0 is a typo, not an offer.
      if (plan.annual_price_cents === 0 && plan.price_cents > 0)
        ctx.addIssue({ code: 'custom', path: ['plans', i, 'annual_price_cents'], message: `plan "${plan.id}" costs ${plan.price_cents} cents a ${plan.interval} but 0 a year; write the yearly price, or leave it out when the plan is not sold yearly` });
      if (plan.annual_seat_price_cents === 0 && plan.seat_price_cents > 0)
        ctx.addIssue({ code: 'custom', path: ['plans', i, 'annual_seat_price_cents'], message: `plan "${plan.id}" charges ${plan.seat_price_cents} cents a seat but 0 a year; write the yearly seat price, or leave it out for twelve times the seat price` });
      plan.features.forEach((f, j) => {
        if (!features.has(f)) ctx.addIssue({ code: 'custom', path: ['plans', i, 'features', j], message: `unknown feature "${f}"` });
      });
    });
  });

/** `PUT /v1/catalog?dry_run=true`: answer the changes and the accounts affected, apply nothing. */
export const catalogPutQuerySchema = z.strictObject({
  dry_run: z.enum(['true', 'false']).optional().transform((v) => v === 'true'),
});
/** A catalog version in a path: a whole number from 1. */
const catalogVersionNumber = z.string().regex(/^[1-9]\d{0,9}$/, 'a version number: 1, 2, 3…').transform(Number);
export const catalogVersionsQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);
/** One change between two catalogs (shared/catalogDiff.ts `CatalogChange`). */
const catalogChangeSchema = z.object({
  kind: z.enum([
    'metric_added', 'metric_removed', 'metric_changed', 'feature_added', 'feature_removed', 'feature_changed',
    'plan_added', 'plan_removed', 'plan_changed', 'limit_changed', 'overage_changed', 'plan_feature_added', 'plan_feature_removed',
  ]),
  metric: z.string().optional(),
  feature: z.string().optional(),
  plan: z.string().optional(),
  field: z.string().optional(),
  from: scalar.optional(),
  to: scalar.optional(),
});
/** `PUT /v1/catalog?dry_run=true` answer: what would change and whom it would affect; nothing applied. */
export const catalogImpactSchema = z.object({
  changes: z.array(catalogChangeSchema),
  affected_accounts: z.array(z.object({ account_id: z.string(), metric: z.string(), used: z.number(), new_limit: z.number() })),
  accounts_losing_features: z.array(z.object({ account_id: z.string(), plan_id: z.string(), feature: z.string() })),
});
/** One applied catalog in the history. */
export const catalogVersionSchema = z.object({ version: z.number().int(), created_at: z.string(), changes: z.array(catalogChangeSchema) });
/** `GET /v1/catalog/versions/{version}`: the version with its whole catalog. */
export const catalogVersionWithCatalogSchema = catalogVersionSchema.extend({ catalog: catalogSchema });
export const catalogVersionParams = z.strictObject({ version: catalogVersionNumber });

export type Metric = z.output<typeof metricSchema>;
export type Feature = z.output<typeof featureSchema>;
export type Plan = z.output<typeof planSchema>;
export type Catalog = z.output<typeof catalogSchema>;

// ---------------------------------------------------------------- accounts

export const accountInputSchema = z.strictObject({
  name: text(200).min(1),
  plan_id: id,
  /** Seats bought; the seat limit is the larger of this and the plan's included seats. */
  seats: z.number().int().min(0).max(1_000_000).default(0),
  created_at: time.optional(),
  stripe_customer_id: text(255).nullable().optional(),
  stripe_subscription_id: text(255).nullable().optional(),
  period_start: time.optional(),
  period_end: time.optional(),
}).refine((a) => (a.period_start === undefined) === (a.period_end === undefined), {
  message: 'period_start and period_end come together',
  path: ['period_end'],
}).refine((a) => a.period_start === undefined || a.period_end! > a.period_start, {
  message: 'period_end must be after period_start',
  path: ['period_end'],
});
export type AccountInput = z.output<typeof accountInputSchema>;

// ---------------------------------------------------------------- usage and behaviour

export const usageEventSchema = z.strictObject({
  account_id: id,
  metric: id,
  value: z.number().int().min(0).max(1e12),
  mode: z.enum(['increment', 'set']).default('increment'),
  idempotency_key: idempotencyKey,
  timestamp: time.optional(),
});
export const usageBatchSchema = z.strictObject({
  events: z.array(usageEventSchema).min(1).max(MAX_BATCH),
});
export type UsageEvent = z.output<typeof usageEventSchema>;

export const TRACK_EVENTS = [
  'core_feature_activated',
  'user_active',
  'teammate_invited',
  'limit_hit',
  'feature_gate_hit',
  'api_integration_built',
  'data_imported',
  'admin_settings_configured',
] as const;

const properties = z
  .record(z.string().max(64), z.union([z.string().max(1000), z.number(), z.boolean(), z.null()]))
  .refine((p) => Object.keys(p).length <= 50, 'at most 50 properties');

export const trackEventSchema = z.strictObject({
  account_id: id,
  user_id: id.nullable().optional(),
  event: id,
  idempotency_key: idempotencyKey,
  timestamp: time.optional(),
  properties: properties.nullable().optional(),
});
export const trackBatchSchema = z.strictObject({
  events: z.array(trackEventSchema).min(1).max(MAX_BATCH),
});
export type TrackEvent = z.output<typeof trackEventSchema>;

/** Any JSON object; the route then picks the schema by the fields present. */
export const jsonObject = z.record(z.string(), z.unknown());

export const checkMetricSchema = z.strictObject({
  account_id: id,
  metric: id,
  amount: z.number().int().min(1).max(1e12).default(1),
  idempotency_key: idempotencyKey.optional(),
});
export const checkFeatureSchema = z.strictObject({
  account_id: id,
  feature: id,
});

export const tokenRequestSchema = z.strictObject({
  user_id: id,
  account_id: id,
  role: z.enum(['admin', 'member']),
  ttl_seconds: z.number().int().min(60).max(30 * 86400).default(3600),
  name: text(200).optional(),
  email: z.email().max(320).optional(),
  locale: z.string().regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/).optional(),
});

/** `POST /v1/usage` and `POST /v1/track` answer: events recorded now, and those seen before (same idempotency key). */
export const batchResultSchema = z.object({ accepted: z.number().int(), duplicates: z.number().int() });
/** `POST /v1/usage` and `POST /v1/track` answer (202) with LADDER_INGEST=queue: the events validated and queued. */
export const queuedResultSchema = z.object({ queued: z.number().int() });
/** `POST /v1/check` and `GET /v1/entitlements/{accountId}/{key}` answer: a metric's room, or a feature's entitlement. */
export const checkResultSchema = z.object({
  allowed: z.boolean(),
  used: z.number().optional(),
  limit: z.number().nullable().optional(),
  remaining: z.number().nullable().optional(),
  required_plan: z.string().optional(),
  trial_ends_at: z.string().optional(),
});

/** `POST /v1/tokens` answer. */
export const tokenResultSchema = z.object({ token: z.string(), expires_at: z.string() });

/** An account id in a path. */
export const accountParams = z.strictObject({ accountId: id });

const planSummary = z.object({ id: z.string(), name: z.string(), price_cents: z.number(), currency: z.string(), interval: z.enum(['month', 'year']) });
export const pqaBand = z.enum(['nurture', 'warm', 'sales_assist', 'sales_ready']);

/** `GET`/`PUT /v1/accounts/{accountId}` answer: the account with its usage, entitlements and PQA. */
export const accountViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  plan_id: z.string(),
  seats: z.number(),
  status: z.string(),
  created_at: z.string().nullable(),
  activated_at: z.string().nullable(),
  stripe_customer_id: z.string().nullable(),
  stripe_subscription_id: z.string().nullable(),
  period_start: z.string().nullable(),
  period_end: z.string().nullable(),
  usage: z.record(z.string(), z.object({ used: z.number(), limit: z.number().nullable(), pct: z.number().nullable() })),
  entitlements: z.record(z.string(), z.boolean()),
  pqa: z.object({ score: z.number(), band: pqaBand }),
});

/** `GET /v1/accounts/{accountId}/readiness`: what a CSM reads before a call. */
export const readinessSchema = z.object({
  account_id: z.string(),
  name: z.string(),
  status: z.string(),
  plan: planSummary,
  next_plan: planSummary.nullable(),
  pqa: z.object({
    score: z.number(),
    band: pqaBand,
    entered_band_at: z.string().nullable(),
    top_signals: z.array(z.string()),
    signals: z.array(z.object({ signal: z.string(), points: z.number(), label: z.string() })),
    last_active_at: z.string().nullable(),
    computed_at: z.string().nullable(),
  }),
  seats: z.object({ used: z.number(), limit: z.number().nullable(), pct: z.number().nullable() }),
  usage: z.array(
    z.object({
      metric: z.string(),
      name: z.string(),
      used: z.number(),
      limit: z.number().nullable(),
      pct: z.number().nullable(),
      threshold: z.number().nullable(),
      projected_at_period_end: z.number().nullable(),
      /** Where the plan allows going past the limit: the ceiling, what is left of it, and whether the account is in grace. */
      grace: z.object({ limit: z.number(), remaining: z.number(), in_grace: z.boolean() }).optional(),
    }),
  ),
  created_at: z.string().nullable(),
  days_since_created: z.number(),
  activated_at: z.string().nullable(),
  days_since_activation: z.number().nullable(),
});

/** Where an expansion goes: self-serve in the product, a CSM, or sales (shared/routing.ts picks it). */
export const routeSchema = z.enum(['self_serve', 'csm', 'sales']);

/** `GET /v1/pqa` answer: accounts by score, highest first. */
export const pqaListSchema = z.object({
  accounts: z.array(
    z.object({ account_id: z.string(), score: z.number(), band: pqaBand, entered_band_at: z.string().nullable(), top_signals: z.array(z.string()), route: routeSchema }),
  ),
});

/** Claims of a user token (HS256 JWT signed with LADDER_USER_TOKEN_SECRET). */
export const userClaimsSchema = z.object({
  sub: id,
  acct: id,
  role: z.enum(['admin', 'member']),
  exp: z.number().int(),
  name: z.string().max(200).optional(),
  email: z.string().max(320).optional(),
  locale: z.string().max(35).optional(),
});
export type UserClaims = z.output<typeof userClaimsSchema>;

// ---------------------------------------------------------------- widget

export const widgetStateQuerySchema = z.strictObject({
  session: z.string().min(1).max(128),
  path: z.string().max(2048).optional(),
});

const widgetEventSchema = z.strictObject({
  type: z.enum(['impression', 'click', 'dismiss', 'snooze', 'gate_hit', 'invite_sent']),
  prompt_id: z.string().max(200).nullable().optional(),
  variant_id: z.string().max(128).nullable().optional(),
  experiment_id: z.string().max(128).nullable().optional(),
  session_id: z.string().min(1).max(128),
  feature_id: id.nullable().optional(),
  timestamp: time.optional(),
  idempotency_key: idempotencyKey,
  /** The prompt's `serve_token` from the widget state: required with a `prompt_id`. */
  serve_token: z.string().max(100).optional(),
});
export const widgetEventsSchema = z.strictObject({
  events: z.array(widgetEventSchema).min(1).max(200),
});
export type WidgetEvent = z.output<typeof widgetEventSchema>;

// ---------------------------------------------------------------- responses

/**
 * The error body of an operation that can answer `codes` (all codes when left out).
 * @example errorBodySchema(['account_not_found']).parse(res.json)
 */
export const errorBodySchema = (codes: readonly ErrorCode[] = Object.keys(ERROR_STATUS) as ErrorCode[]) =>
  z.strictObject({
    error: z.strictObject({
      code: z.enum(codes as [ErrorCode, ...ErrorCode[]]),
      message: z.string(),
      details: z.array(z.strictObject({ path: z.string(), message: z.string() })),
    }),
  });

/** `GET /v1/health`: ok, or (503) the problems of an unsafe production configuration; outside production, what production would refuse. */
export const healthSchema = z.object({
  ok: z.boolean(),
  version: z.string().optional(),
  billing: z.enum(['stripe', 'local']).optional(),
  mode: z.enum(['development', 'test']).optional(),
  production_problems: z.array(z.string()).optional(),
  problems: z.array(z.string()).optional(),
});

/** `GET /openapi.json`: an OpenAPI 3 document (its inside is OpenAPI's own schema). */
export const openapiDocumentSchema = z.looseObject({ openapi: z.string(), info: z.looseObject({ title: z.string(), version: z.string() }), paths: z.record(z.string(), z.unknown()) });

export const meterSchema = z.object({
  metric: z.string(),
  name: z.string(),
  unit: z.string(),
  kind: z.enum(['counter', 'gauge']),
  used: z.number(),
  limit: z.number().nullable(),
  pct: z.number().nullable(),
  threshold: z.union([z.literal(50), z.literal(75), z.literal(90), z.literal(100)]).nullable(),
  period_end: z.string().nullable(),
  projected_at_period_end: z.number().nullable(),
  /** When the limit is reached at the recent daily rate (widget state only); null when not this period. */
  forecast: z.object({ limit_at: z.string().nullable(), days_to_limit: z.number().nullable() }).optional(),
});
export type Meter = z.output<typeof meterSchema>;


const featureStateSchema = z.object({
  name: z.string(),
  description: z.string(),
  trial_days: z.number(),
  entitled: z.boolean(),
  trial_available: z.boolean(),
  trial_ends_at: z.string().nullable(),
  required_plan: z.string().nullable(),
});

/** A prompt as the widget state serves it (rendered copy, its experiment arm and serve token). */
const servedPromptSchema = z.object({
  id: z.string(),
  kind: z.enum(['limit_notice', 'feature_gate', 'invite', 'milestone', 'forecast']),
  metric: z.string().optional(),
  threshold: z.number().optional(),
  feature_id: z.string().optional(),
  blocking: z.boolean(),
  title: z.string(),
  body: z.string(),
  cta_label: z.string().nullable(),
  secondary_label: z.string().nullable(),
  variant_id: z.string().nullable().optional(),
  experiment_id: z.string().nullable().optional(),
  /** Signed by the worker; prompt events carry it back so they can only name what was served. */
  serve_token: z.string(),
});

const planOptionSchema = z.object({ plan_id: z.string(), name: z.string(), price_cents: z.number(), currency: z.string(), interval: z.string() });

/** `GET /v1/widget/state` answer: everything the widget needs in one round trip. */
export const widgetStateSchema = z.object({
  account: z.object({
    id: z.string(),
    name: z.string(),
    role: z.enum(['admin', 'member']),
    plan: z.object({
      id: z.string(),
      name: z.string(),
      price_cents: z.number(),
      currency: z.string(),
      interval: z.string(),
      annual_amount_cents: z.number().optional(),
      annual_saving_cents: z.number().optional(),
    }),
    seats: z.object({ used: z.number(), limit: z.number().nullable() }),
  }),
  /** A downgrade or cancellation waiting for the period end. */
  scheduled_change: z
    .object({ kind: z.enum(['downgrade', 'cancel']), plan_id: z.string().nullable().optional(), seats: z.number().nullable().optional(), reason: z.string().nullable().optional(), effective_at: z.string() })
    .nullable(),
  /** Admins: lower plans to move to at the period end. */
  downgrade_options: z.array(planOptionSchema).optional(),
  /** Admins, on a plan that sells extra seats: how many are bought. */
  seats_bought: z.number().optional(),
  meters: z.array(meterSchema.extend({ grace: z.object({ limit: z.number(), remaining: z.number(), in_grace: z.boolean() }).optional() })),
  features: z.record(z.string(), featureStateSchema),
  prompts: z.array(servedPromptSchema),
  upgrade_options: z.array(
    planOptionSchema.extend({
      rank: z.number(),
      annual_price_cents: z.number().optional(),
      /** The plan's limits per metric (null: unlimited). */
      limits: z.record(z.string(), z.number().nullable()),
      /** The plan's feature ids. */
      features: z.array(z.string()),
    }),
  ),
  caps: z.object({ session_prompts_left: z.number() }),
  /** Admins only: members' open upgrade requests. */
  upgrade_requests: z
    .array(z.object({ id: z.string(), user_id: z.string(), user_name: z.string().nullable(), plan_id: z.string().nullable(), seats: z.number().nullable(), note: z.string(), created_at: z.string() }))
    .optional(),
});
export type WidgetState = z.output<typeof widgetStateSchema>;
