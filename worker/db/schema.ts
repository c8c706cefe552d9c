/**
 * The one source of truth for Ladder's tables. Migrations in ./migrations are generated
 * from this file by `npm run db:generate` (drizzle-kit) and applied by wrangler.
 * Times are epoch milliseconds; money is integer minor units.
 */
import { sql } from 'drizzle-orm';
import { index, integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core';

const json = <T>(name: string) => text(name, { mode: 'json' }).$type<T>();

export const metrics = sqliteTable('metrics', {
  id: text('id').primaryKey(),
  position: integer('position').notNull(),
  name: text('name').notNull(),
  unit: text('unit').notNull(),
  kind: text('kind', { enum: ['counter', 'gauge'] }).notNull(),
  reset: text('reset', { enum: ['billing_period', 'month', 'never'] }).notNull(),
});

export const features = sqliteTable('features', {
  id: text('id').primaryKey(),
  position: integer('position').notNull(),
  name: text('name').notNull(),
  description: text('description').notNull(),
  trialDays: integer('trial_days').notNull(),
});

export const plans = sqliteTable('plans', {
  id: text('id').primaryKey(),
  position: integer('position').notNull(),
  name: text('name').notNull(),
  rank: integer('rank').notNull(),
  currency: text('currency').notNull(),
  priceCents: integer('price_cents').notNull(),
  interval: text('interval', { enum: ['month', 'year'] }).notNull(),
  stripePriceId: text('stripe_price_id'),
  seatPriceCents: integer('seat_price_cents').notNull(),
  stripeSeatPriceId: text('stripe_seat_price_id'),
  limits: json<Record<string, number | null>>('limits').notNull(),
  features: json<string[]>('features').notNull(),
});

export const accounts = sqliteTable('accounts', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  planId: text('plan_id').notNull(),
  seats: integer('seats').notNull(),
  createdAt: integer('created_at').notNull(),
  stripeCustomerId: text('stripe_customer_id'),
  stripeSubscriptionId: text('stripe_subscription_id'),
  periodStart: integer('period_start'),
  periodEnd: integer('period_end'),
  status: text('status', { enum: ['active', 'past_due', 'canceled'] }).notNull().default('active'),
  activatedAt: integer('activated_at'),
  updatedAt: integer('updated_at').notNull(),
});

/** Current value per account and metric. Counters carry the period they count. */
export const usageCounters = sqliteTable(
  'usage_counters',
  {
    accountId: text('account_id').notNull(),
    metric: text('metric').notNull(),
    periodStart: integer('period_start').notNull(),
    used: integer('used').notNull(),
    /** Highest of 50/75/90/100 crossed in this period, so a crossing counts once. */
    highestThreshold: integer('highest_threshold'),
    /** Timestamp of the newest `set` applied, so an older gauge value never overwrites a newer one. */
    setAt: integer('set_at').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.metric] })],
);

/** Every accepted usage event, keyed by its idempotency key so a retry changes nothing. */
export const usageEvents = sqliteTable(
  'usage_events',
  {
    accountId: text('account_id').notNull(),
    idempotencyKey: text('idempotency_key').notNull(),
    metric: text('metric').notNull(),
    value: integer('value').notNull(),
    mode: text('mode', { enum: ['increment', 'set'] }).notNull(),
    timestamp: integer('timestamp').notNull(),
    periodStart: integer('period_start').notNull(),
    batchId: text('batch_id').notNull(),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.idempotencyKey] }), index('usage_events_batch').on(t.batchId)],
);

/** Behavioural events for PQA scoring. */
export const trackEvents = sqliteTable(
  'track_events',
  {
    accountId: text('account_id').notNull(),
    idempotencyKey: text('idempotency_key').notNull(),
    userId: text('user_id'),
    event: text('event').notNull(),
    timestamp: integer('timestamp').notNull(),
    properties: json<Record<string, unknown>>('properties'),
    batchId: text('batch_id').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.accountId, t.idempotencyKey] }),
    index('track_events_account_time').on(t.accountId, t.timestamp),
    index('track_events_batch').on(t.batchId),
  ],
);

export const trials = sqliteTable(
  'trials',
  {
    accountId: text('account_id').notNull(),
    featureId: text('feature_id').notNull(),
    startedAt: integer('started_at').notNull(),
    endsAt: integer('ends_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.featureId] })],
);

/** Current PQA score per account (written by scoring on events and by the daily cron). */
export const pqaScores = sqliteTable(
  'pqa_scores',
  {
    accountId: text('account_id').primaryKey(),
    score: integer('score').notNull(),
    band: text('band').notNull(),
    enteredBandAt: integer('entered_band_at').notNull(),
    topSignals: json<string[]>('top_signals').notNull(),
    computedAt: integer('computed_at').notNull(),
  },
  (t) => [index('pqa_scores_band_score').on(t.band, t.score)],
);

/** Small key/value settings (e.g. the PQA points table) as JSON. */
export const settings = sqliteTable('settings', {
  key: text('key').primaryKey(),
  value: json<unknown>('value').notNull(),
  updatedAt: integer('updated_at').notNull().default(sql`0`),
});
