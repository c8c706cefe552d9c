/**
 * The one source of truth for Ladder's tables. Migrations in ./migrations are generated
 * from this file by `npm run db:generate` (drizzle-kit) and applied by wrangler.
 * Times are epoch milliseconds; money is integer minor units.
 */
import { sql } from 'drizzle-orm';
import { index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import type { CatalogChange } from '../../shared/catalogDiff';
import type { Catalog } from '../../shared/schemas';

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
  /** A monthly plan's price when billed yearly; null when not sold yearly. */
  annualPriceCents: integer('annual_price_cents'),
  stripeAnnualPriceId: text('stripe_annual_price_id'),
  /** One extra seat's yearly price when billed yearly; null = twelve times the monthly seat price. */
  annualSeatPriceCents: integer('annual_seat_price_cents'),
  stripeAnnualSeatPriceId: text('stripe_annual_seat_price_id'),
  limits: json<Record<string, number | null>>('limits').notNull(),
  features: json<string[]>('features').notNull(),
  /** Kept for the accounts on it, never offered as an upgrade. */
  hidden: integer('hidden', { mode: 'boolean' }).notNull().default(false),
  /** Metric id → `{ mode, grace_pct }` at the limit; null when every metric blocks at its limit. */
  overage: json<Record<string, { mode: 'block' | 'grace'; grace_pct: number }>>('overage'),
});

/**
 * Every applied catalog, numbered from 1, with its changes from the one before (a catalog
 * PUT that changes nothing adds no version). A few rows a year: kept for good, as the
 * catalog's history.
 */
export const catalogVersions = sqliteTable('catalog_versions', {
  version: integer('version').primaryKey(),
  createdAt: integer('created_at').notNull(),
  catalog: json<Catalog>('catalog').notNull(),
  changes: json<CatalogChange[]>('changes').notNull(),
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
  /** How the account is billed when not as its plan's own interval (a monthly plan billed yearly); null = the plan's. */
  billingInterval: text('billing_interval', { enum: ['month', 'year'] }),
  /** A save offer's discount in force: percent off until `discount_ends_at`. */
  discountPercent: integer('discount_percent'),
  discountEndsAt: integer('discount_ends_at'),
  /** Billing paused by a save offer until then. */
  pausedUntil: integer('paused_until'),
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

/**
 * The PQA aggregate of each account's `track_events`, kept by triggers on that table in the
 * same statement as every insert and delete (migration 0020): whatever writes an event (track,
 * the widget's gate hits, usage limit hits, the ingest consumer, a test), the row moves with it,
 * and a duplicate that inserts nothing moves nothing. The cron's recompute reads these rows
 * instead of every event (worker/pqa.ts). Counts per built-in kind; the newest time of a kind
 * (retention keeps the newest event of each kind, so a delete never lowers one except by hand,
 * when the trigger looks the newest up again); `max_at`, the newest event of any kind, tells
 * the reader whether an event lies after its `now` (then it reads the events themselves).
 */
export const pqaCounters = sqliteTable('pqa_counters', {
  accountId: text('account_id').primaryKey(),
  maxAt: integer('max_at').notNull(),
  core: integer('core').notNull().default(0),
  api: integer('api').notNull().default(0),
  admin: integer('admin').notNull().default(0),
  invites: integer('invites').notNull().default(0),
  limitHitAt: integer('limit_hit_at'),
  gateHitAt: integer('gate_hit_at'),
  activeAt: integer('active_at'),
  /** Distinct (user, UTC day) pairs, users and days of `user_active` (rows of pqa_user_days). */
  userDays: integer('user_days').notNull().default(0),
  users: integer('users').notNull().default(0),
  days: integer('days').notNull().default(0),
});

/** `user_active` events per account, user (null as '') and UTC day: what tells the triggers a (user, day), user or day is new or gone. */
export const pqaUserDays = sqliteTable(
  'pqa_user_days',
  {
    accountId: text('account_id').notNull(),
    userKey: text('user_key').notNull(),
    day: integer('day').notNull(),
    events: integer('events').notNull(),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.userKey, t.day] }), index('pqa_user_days_day').on(t.accountId, t.day)],
);

/** `data_imported` events per account and row count (`key`: 'u' none, 'n…' a number, 't…' text), so the largest and the texts survive deletes. */
export const pqaImports = sqliteTable(
  'pqa_imports',
  {
    accountId: text('account_id').notNull(),
    key: text('key').notNull(),
    rowsNumber: real('rows_number'),
    rowsText: text('rows_text'),
    events: integer('events').notNull(),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.key] })],
);

/** Events of names outside the built-in list (shared/schemas.ts TRACK_EVENTS), per account: the custom events of the points table. */
export const pqaCustomCounts = sqliteTable(
  'pqa_custom_counts',
  {
    accountId: text('account_id').notNull(),
    event: text('event').notNull(),
    events: integer('events').notNull(),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.event] })],
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
  (t) => [
    index('pqa_scores_band_score').on(t.band, t.score),
    // The accounts list's order (best score first, then id), walked from the top so a page reads only its rows.
    index('pqa_scores_rank').on(sql`score DESC`, t.accountId),
  ],
);

/** Small key/value settings (e.g. the PQA points table) as JSON. */
export const settings = sqliteTable('settings', {
  key: text('key').primaryKey(),
  value: json<unknown>('value').notNull(),
  updatedAt: integer('updated_at').notNull().default(sql`0`),
});

/**
 * One row: a random token that changes on every write to what the widget state's isolate
 * cache holds (catalog, prompt definitions, the activation rule, experiments). Triggers
 * (migration `config_version_triggers`) change it, so no writer can forget to; random rather
 * than a counter, so a database restored or rolled back never reuses a token for other content.
 */
export const configVersion = sqliteTable('config_version', {
  id: integer('id').primaryKey(),
  token: text('token').notNull(),
});

// ---------------------------------------------------------------- prompts (issue 3)

/** Prompt definitions (admin API); trigger, caps and copy as in `shared/prompts.ts`. */
export const prompts = sqliteTable('prompts', {
  id: text('id').primaryKey(),
  kind: text('kind').notNull(),
  trigger: json<Record<string, unknown>>('trigger').notNull(),
  caps: json<Record<string, number>>('caps').notNull(),
  copy: json<Record<string, string>>('copy').notNull(),
  enabled: integer('enabled', { mode: 'boolean' }).notNull(),
  updatedAt: integer('updated_at').notNull(),
});

/** What each user saw and did with prompts: the history frequency caps are enforced from. */
export const promptEvents = sqliteTable(
  'prompt_events',
  {
    accountId: text('account_id').notNull(),
    idempotencyKey: text('idempotency_key').notNull(),
    userId: text('user_id').notNull(),
    sessionId: text('session_id').notNull(),
    type: text('type').notNull(),
    promptId: text('prompt_id'),
    variantId: text('variant_id'),
    experimentId: text('experiment_id'),
    featureId: text('feature_id'),
    timestamp: integer('timestamp').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.accountId, t.idempotencyKey] }),
    index('prompt_events_user').on(t.accountId, t.userId, t.timestamp),
    // with the account, so the accounts shown a prompt in part of a day read the index alone (worker/analytics.ts)
    index('prompt_events_prompt').on(t.promptId, t.type, t.timestamp, t.accountId),
  ],
);

/**
 * Impressions per user and prompt, ever: what the caps that hold for good need (a feature
 * preview once per feature per user), kept apart from `prompt_events`, which retention trims.
 * One small row per user and prompt shown.
 */
export const userPromptCaps = sqliteTable(
  'user_prompt_caps',
  {
    accountId: text('account_id').notNull(),
    userId: text('user_id').notNull(),
    promptId: text('prompt_id').notNull(),
    impressions: integer('impressions').notNull(),
    firstShownAt: integer('first_shown_at').notNull(),
    lastShownAt: integer('last_shown_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.userId, t.promptId] })],
);

// ---------------------------------------------------------------- billing (issue 4)

/** Invoices of the local billing provider (Stripe keeps its own). */
export const invoices = sqliteTable(
  'invoices',
  {
    id: text('id').primaryKey(),
    accountId: text('account_id').notNull(),
    provider: text('provider', { enum: ['local', 'stripe'] }).notNull(),
    amountCents: integer('amount_cents').notNull(),
    currency: text('currency').notNull(),
    status: text('status', { enum: ['paid', 'open', 'failed'] }).notNull(),
    description: text('description').notNull(),
    prorationDate: integer('proration_date'),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [index('invoices_account').on(t.accountId, t.createdAt)],
);

/** One row per upgrade intent (idempotency key), holding the first result for retries. */
export const upgrades = sqliteTable(
  'upgrades',
  {
    accountId: text('account_id').notNull(),
    idempotencyKey: text('idempotency_key').notNull(),
    userId: text('user_id').notNull(),
    intent: json<Record<string, unknown>>('intent').notNull(),
    status: text('status', { enum: ['pending', 'succeeded', 'requires_action', 'failed'] }).notNull(),
    result: json<Record<string, unknown>>('result'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.idempotencyKey] })],
);

export const upgradeRequests = sqliteTable(
  'upgrade_requests',
  {
    id: text('id').primaryKey(),
    accountId: text('account_id').notNull(),
    userId: text('user_id').notNull(),
    planId: text('plan_id'),
    seats: integer('seats'),
    note: text('note').notNull(),
    createdAt: integer('created_at').notNull(),
    /** The member's name from the token, so admins see who asked. */
    userName: text('user_name'),
    /** `open` until an admin declines it or an upgrade reaches its plan or seats (`approved`). */
    status: text('status', { enum: ['open', 'approved', 'declined'] }).notNull().default('open'),
    resolvedAt: integer('resolved_at'),
    resolvedBy: text('resolved_by'),
  },
  (t) => [index('upgrade_requests_account').on(t.accountId, t.createdAt), index('upgrade_requests_status').on(t.status, t.createdAt)],
);

/** Stripe webhook events seen, so each is processed once. */
export const stripeEvents = sqliteTable('stripe_events', {
  id: text('id').primaryKey(),
  type: text('type').notNull(),
  created: integer('created').notNull(),
  receivedAt: integer('received_at').notNull(),
});

/**
 * The ledger of MRR changes every revenue metric is computed from. `source` says how the
 * change happened; a self-serve change carries the prompt and variant that preceded it.
 */
export const mrrLedger = sqliteTable(
  'mrr_ledger',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    accountId: text('account_id').notNull(),
    at: integer('at').notNull(),
    kind: text('kind', { enum: ['new', 'expansion', 'contraction', 'churn', 'reactivation'] }).notNull(),
    mrrBeforeCents: integer('mrr_before_cents').notNull(),
    mrrAfterCents: integer('mrr_after_cents').notNull(),
    source: text('source', { enum: ['self_serve', 'sales', 'webhook'] }).notNull(),
    promptId: text('prompt_id'),
    variantId: text('variant_id'),
    experimentId: text('experiment_id'),
    /** What caused it (upgrade idempotency key, Stripe event id): a retry writes nothing twice. */
    dedupeKey: text('dedupe_key').notNull().unique(),
    /**
     * When the account's next change happened (the next row by `at`, then `id`), or null for
     * its latest: kept by triggers (migration 0022), so revenue finds each account's MRR at a
     * moment without a look-up per account (`worker/analytics.ts` revenue).
     */
    nextAt: integer('next_at'),
  },
  (t) => [
    index('mrr_ledger_at').on(t.at),
    index('mrr_ledger_account').on(t.accountId, t.at),
    // each account's latest change, by time, with its MRR: the MRR of accounts that did not change since
    index('mrr_ledger_latest').on(t.at, t.mrrAfterCents).where(sql`next_at IS NULL`),
    // changes by when the account changed next (a revenue period's starting rows)
    index('mrr_ledger_next').on(t.nextAt).where(sql`next_at IS NOT NULL`),
  ],
);

/** Newest Stripe object state applied per account, so out-of-order deliveries never roll back. */
export const billingState = sqliteTable('billing_state', {
  accountId: text('account_id').primaryKey(),
  stripeObjectUpdatedAt: integer('stripe_object_updated_at').notNull(),
  mrrCents: integer('mrr_cents').notNull(),
  churned: integer('churned', { mode: 'boolean' }).notNull().default(false),
});

// ---------------------------------------------------------------- outgoing webhooks (issue 6)

export const webhooks = sqliteTable('webhooks', {
  id: text('id').primaryKey(),
  url: text('url').notNull(),
  format: text('format', { enum: ['json', 'slack'] }).notNull(),
  events: json<string[]>('events').notNull(),
  secret: text('secret').notNull(),
  enabled: integer('enabled', { mode: 'boolean' }).notNull().default(true),
  /** Failed attempts since the last delivered one; at `WEBHOOK_DISABLE_AFTER` the endpoint is disabled. */
  consecutiveFailures: integer('consecutive_failures').notNull().default(0),
  /** Set when Ladder disabled the endpoint itself (why, for the dashboard); a PUT clears it. */
  disabledReason: text('disabled_reason'),
  createdAt: integer('created_at').notNull(),
  updatedAt: integer('updated_at').notNull(),
});

/** Deliveries to make, retried with backoff by the cron; `dedupe_key` makes each entry send once. */
export const webhookOutbox = sqliteTable(
  'webhook_outbox',
  {
    id: text('id').primaryKey(),
    webhookId: text('webhook_id').notNull(),
    event: text('event').notNull(),
    dedupeKey: text('dedupe_key').notNull(),
    payload: json<Record<string, unknown>>('payload').notNull(),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: integer('next_attempt_at').notNull(),
    deliveredAt: integer('delivered_at'),
    lastError: text('last_error'),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [
    uniqueIndex('webhook_outbox_dedupe').on(t.webhookId, t.dedupeKey),
    index('webhook_outbox_due').on(t.deliveredAt, t.nextAttemptAt),
  ],
);

// ---------------------------------------------------------------- experiments (issue 7)

export const experiments = sqliteTable('experiments', {
  id: text('id').primaryKey(),
  key: text('key').notNull().unique(),
  promptId: text('prompt_id').notNull(),
  unit: text('unit', { enum: ['account', 'user'] }).notNull(),
  holdoutPct: integer('holdout_pct').notNull(),
  attributionDays: integer('attribution_days').notNull(),
  minConversions: integer('min_conversions').notNull(),
  /** `[{ id, weight, copy }]`; the first variant is the control. */
  variants: json<{ id: string; weight: number; copy: Record<string, string> }[]>('variants').notNull(),
  status: text('status', { enum: ['draft', 'running', 'stopped', 'shipped'] }).notNull(),
  startedAt: integer('started_at'),
  stoppedAt: integer('stopped_at'),
  shippedVariantId: text('shipped_variant_id'),
  createdAt: integer('created_at').notNull(),
});

/** First exposure per unit (holdout units too, with a null variant). */
export const experimentExposures = sqliteTable(
  'experiment_exposures',
  {
    experimentId: text('experiment_id').notNull(),
    unitId: text('unit_id').notNull(),
    accountId: text('account_id').notNull(),
    variantId: text('variant_id'),
    firstExposedAt: integer('first_exposed_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.experimentId, t.unitId] }), index('experiment_exposures_account').on(t.accountId)],
);

// ---------------------------------------------------------------- analytics roll-ups (issue 8)

/**
 * Prompt events counted per UTC day, prompt, experiment, variant and account, so the dashboard's
 * overview reads thousands of rows instead of millions of events. Filled incrementally from
 * `prompt_events` in rowid order (late events included) by `worker/analytics.ts`;
 * `''` stands for no experiment or variant.
 */
export const promptDaily = sqliteTable(
  'prompt_daily',
  {
    day: integer('day').notNull(),
    promptId: text('prompt_id').notNull(),
    experimentId: text('experiment_id').notNull(),
    variantId: text('variant_id').notNull(),
    accountId: text('account_id').notNull(),
    impressions: integer('impressions').notNull(),
    clicks: integer('clicks').notNull(),
    dismisses: integer('dismisses').notNull(),
    snoozes: integer('snoozes').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.day, t.promptId, t.experimentId, t.variantId, t.accountId] }),
    index('prompt_daily_account').on(t.accountId, t.day),
  ],
);

/**
 * `prompt_daily` without the account: one row per UTC day, prompt, experiment and variant, so
 * the funnel reads days × prompts × variants rows whatever the number of accounts. Filled in
 * the same transaction as `prompt_daily`, from the same events.
 */
export const promptDayTotals = sqliteTable(
  'prompt_day_totals',
  {
    day: integer('day').notNull(),
    promptId: text('prompt_id').notNull(),
    experimentId: text('experiment_id').notNull(),
    variantId: text('variant_id').notNull(),
    impressions: integer('impressions').notNull(),
    clicks: integer('clicks').notNull(),
    dismisses: integer('dismisses').notNull(),
    snoozes: integer('snoozes').notNull(),
  },
  (t) => [primaryKey({ columns: [t.day, t.promptId, t.experimentId, t.variantId] })],
);

/**
 * The days each account was shown a prompt (an impression), per prompt kind: `kind` is `''` for
 * any prompt, or the kind of the prompt id (`limit_notice`, `feature_gate`, `invite`,
 * `milestone`, `other`). `prev_day` is the account's previous such day of that kind (−1 for
 * none), so the accounts shown a prompt in [lo, hi) are the rows with lo ≤ day < hi and
 * prev_day < lo — each account's first day in the range, counted without DISTINCT. Whether an
 * upgrading account was shown a prompt is a primary-key lookup here.
 */
export const promptShownDays = sqliteTable(
  'prompt_shown_days',
  {
    kind: text('kind').notNull(),
    accountId: text('account_id').notNull(),
    day: integer('day').notNull(),
    prevDay: integer('prev_day').notNull(),
  },
  (t) => [primaryKey({ columns: [t.kind, t.accountId, t.day] }), index('prompt_shown_days_day').on(t.day)],
);

/**
 * `prompt_shown_days` counted per kind, day and previous day: `accounts` rows have that
 * (kind, day, prev_day). The distinct accounts shown a prompt in [lo, hi) are
 * sum(accounts) over lo ≤ day < hi and prev_day < lo, so the upgrade rate's eligible accounts
 * (per bucket, in total, per kind) read days × a few rows whatever the number of accounts.
 * Kept exact by the same roll-up transaction that moves `prompt_shown_days`.
 */
export const promptShownCounts = sqliteTable(
  'prompt_shown_counts',
  {
    kind: text('kind').notNull(),
    day: integer('day').notNull(),
    prevDay: integer('prev_day').notNull(),
    accounts: integer('accounts').notNull(),
  },
  (t) => [primaryKey({ columns: [t.kind, t.day, t.prevDay] })],
);

/** How far each roll-up has read its source table (the last rowid counted). */
export const rollupState = sqliteTable('rollup_state', {
  name: text('name').primaryKey(),
  lastRowid: integer('last_rowid').notNull(),
});

// ---------------------------------------------------------------- production mode (issue 12)

/**
 * Dashboard sessions, stored so logout ends one on the server. The cookie holds a random id;
 * only its SHA-256 is kept. `key_fingerprint` ties the session to the admin key that opened
 * it, so rotating the key ends every session.
 */
export const adminSessions = sqliteTable(
  'admin_sessions',
  {
    idHash: text('id_hash').primaryKey(),
    keyFingerprint: text('key_fingerprint').notNull(),
    createdAt: integer('created_at').notNull(),
    lastSeenAt: integer('last_seen_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
  },
  (t) => [index('admin_sessions_expires').on(t.expiresAt)],
);

// ---------------------------------------------------------------- forecasts and signals (issue 17)

/**
 * Increments per account, metric and UTC day (`timestamp / 86400000`), moved in the same D1
 * batch as the counters: the recent daily rate of a forecast and the week-over-week growth of
 * `usage.growth` read at most 60 rows per metric instead of the events. Kept 70 days (cron).
 */
export const usageDaily = sqliteTable(
  'usage_daily',
  {
    accountId: text('account_id').notNull(),
    metric: text('metric').notNull(),
    day: integer('day').notNull(),
    used: integer('used').notNull(),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.metric, t.day] }), index('usage_daily_day').on(t.day)],
);

// ---------------------------------------------------------------- keeping customers (issue 16)

/**
 * A plan change waiting for the period end: a downgrade (`plan_id`, `seats`) or a
 * cancellation. One per account; deleted when undone, applied by the cron at `effective_at`.
 */
export const scheduledChanges = sqliteTable('scheduled_changes', {
  accountId: text('account_id').primaryKey(),
  kind: text('kind', { enum: ['downgrade', 'cancel'] }).notNull(),
  planId: text('plan_id'),
  seats: integer('seats'),
  effectiveAt: integer('effective_at').notNull(),
  /** The request that scheduled it: the same key again answers the same result. */
  idempotencyKey: text('idempotency_key').notNull(),
  userId: text('user_id').notNull(),
  reason: text('reason'),
  createdAt: integer('created_at').notNull(),
});

/**
 * Each cancellation an admin started: the reason, the save offer shown (`offer_kind` `none` when
 * none) and how it ended. The saves report and the 90-day offer cap read it.
 */
export const cancelFlows = sqliteTable(
  'cancel_flows',
  {
    id: text('id').primaryKey(),
    accountId: text('account_id').notNull(),
    userId: text('user_id').notNull(),
    reason: text('reason').notNull(),
    note: text('note').notNull(),
    offerKind: text('offer_kind', { enum: ['discount', 'downgrade', 'pause', 'annual', 'none'] }).notNull(),
    offer: json<Record<string, unknown>>('offer').notNull(),
    status: text('status', { enum: ['offered', 'accepted', 'canceled'] }).notNull(),
    mrrCents: integer('mrr_cents').notNull(),
    savedMrrCents: integer('saved_mrr_cents').notNull().default(0),
    /** The accept or cancel request that resolved it, and its answer for a retry. */
    idempotencyKey: text('idempotency_key'),
    result: json<Record<string, unknown>>('result'),
    createdAt: integer('created_at').notNull(),
    resolvedAt: integer('resolved_at'),
  },
  (t) => [index('cancel_flows_account').on(t.accountId, t.createdAt), index('cancel_flows_created').on(t.createdAt)],
);

// ---------------------------------------------------------------- scale (issue 19)

/**
 * Queued ingestion batches that could not be applied (`LADDER_INGEST=queue`): refused on
 * arrival (an account or metric gone since it was queued) or dead-lettered by the queue after
 * its retries. Kept for the dashboard (`GET /v1/admin/ingest/dead-letters`), never dropped silently.
 */
export const ingestDeadLetters = sqliteTable(
  'ingest_dead_letters',
  {
    /** The queue message id, so a dead letter delivered twice is stored once. */
    messageId: text('message_id').primaryKey(),
    queue: text('queue').notNull(),
    kind: text('kind').notNull(),
    eventCount: integer('event_count').notNull(),
    body: json<unknown>('body').notNull(),
    reason: text('reason').notNull(),
    attempts: integer('attempts').notNull(),
    queuedAt: integer('queued_at').notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [index('ingest_dead_letters_created').on(t.createdAt)],
);
