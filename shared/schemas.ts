/**
 * Zod schemas of the HTTP API (../shared/API.md): the one validation path, used by the
 * worker's routes, the host-backend client and the OpenAPI document.
 * Request objects are strict: an unknown field is refused, so a typo never passes silently.
 */
import { z } from 'zod';

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
export const catalogVersionNumber = z.string().regex(/^[1-9]\d{0,9}$/, 'a version number: 1, 2, 3…').transform(Number);
export const catalogVersionsQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

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

export const errorBodySchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  }),
});
export type ErrorBody = z.output<typeof errorBodySchema>;

const meterSchema = z.object({
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
});
export type Meter = z.output<typeof meterSchema>;

