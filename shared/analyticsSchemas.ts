/**
 * Admin analytics and dashboard sessions (../shared/API.md, "Dashboard and admin"): the
 * query and body schemas the worker validates with and the response shapes the dashboard
 * reads. Times in queries are ISO-8601 or epoch milliseconds.
 */
import { z } from 'zod';
import { id } from './schemas';

const PQA_BAND_IDS = ['nurture', 'warm', 'sales_assist', 'sales_ready'] as const;
export type PqaBandId = (typeof PQA_BAND_IDS)[number];

/** Query times outside these bounds are refused (400), never carried into date arithmetic. */
const QUERY_TIME_MIN = Date.UTC(2000, 0, 1);
const QUERY_TIME_MAX = Date.UTC(2200, 0, 1);

/** A query-string time: ISO-8601 with offset, a date (`2026-11-01`, UTC), or epoch milliseconds, within 2000-01-01…2200-01-01. */
export const queryTime = z
  .string()
  .refine((v) => /^\d{1,16}$/.test(v) || (/^\d{4}-\d{2}-\d{2}/.test(v) && Number.isFinite(Date.parse(v))), 'an ISO-8601 time or epoch milliseconds')
  .transform((v) => (/^\d+$/.test(v) ? Number(v) : Date.parse(v)))
  .refine((t) => t >= QUERY_TIME_MIN && t <= QUERY_TIME_MAX, 'must be between 2000-01-01 and 2200-01-01');

const range = {
  from: queryTime.optional(),
  to: queryTime.optional(),
};

/** `POST /v1/admin/login`. */
export const loginSchema = z.strictObject({ key: z.string().min(1).max(512) });
/** `POST /v1/admin/login` answer (the cookie is set beside it). */
export const loginResultSchema = z.object({ ok: z.literal(true), expires_at: z.string() });
/** `POST /v1/admin/logout` answer. */
export const logoutResultSchema = z.object({ ok: z.literal(true) });
/** `GET /v1/admin/session`: how the caller is authenticated, and until when a session lasts. */
export const sessionStateSchema = z.object({ ok: z.literal(true), via: z.enum(['session', 'admin_key']), expires_at: z.string().nullable() });

/** `GET /v1/admin/analytics/funnel?from&to&prompt_id`. */
export const funnelQuerySchema = z.strictObject({ ...range, prompt_id: z.string().min(1).max(200).optional() });

/** `GET /v1/admin/analytics/upgrades?from&to&interval=day|week|month&by=kind` (`by=kind`: the CSV lists the rate per prompt kind instead of the series). */
export const upgradesQuerySchema = z.strictObject({ ...range, interval: z.enum(['day', 'week', 'month']).default('day'), by: z.enum(['time', 'kind']).default('time') });

/** `GET /v1/admin/accounts/:id/prompt-history?from&to&limit`. */
export const promptHistoryQuerySchema = z.strictObject({
  ...range,
  limit: z.coerce.number().int().min(1).max(5000).default(500),
});

/** `GET /v1/admin/accounts?band&q&min_score&limit`: accounts with their PQA score, for the dashboard. */
export const adminAccountsQuerySchema = z.strictObject({
  band: z.enum(PQA_BAND_IDS).optional(),
  q: z.string().max(128).optional(),
  min_score: z.coerce.number().int().min(0).max(100).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
});

export const accountIdParam = id;

const rate = z.number().nullable();

/** One step of a prompt's funnel, per variant. `*_rate` is the conversion from the step before (null when it had none). */
const funnelRowSchema = z.object({
  prompt_id: z.string(),
  kind: z.string().nullable(),
  experiment_id: z.string().nullable(),
  variant_id: z.string().nullable(),
  impressions: z.number(),
  clicks: z.number(),
  previews: z.number(),
  upgrades: z.number(),
  expansion_mrr_cents: z.number(),
  click_rate: rate,
  preview_rate: rate,
  /** upgrades ÷ previews: a step of the funnel, not the self-serve upgrade rate. */
  upgrades_per_preview: rate,
});
export type FunnelRow = z.output<typeof funnelRowSchema>;

/** `GET /v1/admin/analytics/funnel` answer (JSON; CSV of `rows` with `Accept: text/csv`). */
export const funnelSchema = z.object({ from: z.string(), to: z.string(), previews_rule: z.string(), rates_rule: z.string(), rows: z.array(funnelRowSchema) });
export type FunnelResponse = z.output<typeof funnelSchema>;

/** Self-serve upgrades by the kind of prompt clicked before them, as a rate of the accounts shown that kind. */
const upgradesByKindSchema = z.object({
  kind: z.string(),
  /** Accounts shown a prompt of this kind in the period; null for `no_prompt`. */
  accounts_shown: z.number().nullable(),
  upgraded_accounts: z.number(),
  rate,
  upgrades: z.number(),
  expansion_mrr_cents: z.number(),
});
export type UpgradesByKind = z.output<typeof upgradesByKindSchema>;

/** `GET /v1/admin/analytics/upgrades` answer (JSON; CSV of the series, or of `by_kind` with `by=kind`). */
export const upgradesSchema = z.object({
  from: z.string(),
  to: z.string(),
  interval: z.enum(['day', 'week', 'month']),
  series: z.array(z.object({ start: z.string(), eligible_accounts: z.number(), upgraded_accounts: z.number(), rate })),
  total: z.object({ eligible_accounts: z.number(), upgraded_accounts: z.number(), rate }),
  by_kind: z.array(upgradesByKindSchema),
  by_kind_rule: z.string(),
  /** The playbooks' healthy self-serve upgrade rate per month (3–7%), for reference. */
  benchmark: z.object({ low: z.number(), high: z.number(), interval: z.literal('month') }),
});
export type UpgradesResponse = z.output<typeof upgradesSchema>;

const promptHistoryRowSchema = z.object({
  user_id: z.string(),
  prompt_id: z.string(),
  kind: z.string().nullable(),
  impressions: z.number(),
  clicks: z.number(),
  dismisses: z.number(),
  snoozes: z.number(),
  first_seen_at: z.string().nullable(),
  last_seen_at: z.string().nullable(),
  last_event_at: z.string(),
});
export type PromptHistoryRow = z.output<typeof promptHistoryRowSchema>;

/** `GET /v1/admin/accounts/{id}/prompt-history` answer (JSON; CSV of `prompts`). */
export const promptHistorySchema = z.object({
  account_id: z.string(),
  from: z.string(),
  to: z.string(),
  prompts: z.array(promptHistoryRowSchema),
  events: z.array(
    z.object({
      timestamp: z.string(),
      user_id: z.string(),
      session_id: z.string(),
      type: z.string(),
      prompt_id: z.string().nullable(),
      variant_id: z.string().nullable(),
      experiment_id: z.string().nullable(),
      feature_id: z.string().nullable(),
    }),
  ),
});
export type PromptHistoryResponse = z.output<typeof promptHistorySchema>;

const adminAccountSchema = z.object({
  account_id: z.string(),
  name: z.string(),
  plan_id: z.string(),
  status: z.string(),
  seats: z.number(),
  score: z.number().nullable(),
  band: z.enum(PQA_BAND_IDS).nullable(),
  entered_band_at: z.string().nullable(),
  top_signals: z.array(z.string()),
  computed_at: z.string().nullable(),
  /** Where the routing rules send the account: self-serve, a CSM or sales. */
  route: z.enum(['self_serve', 'csm', 'sales']),
});
export type AdminAccount = z.output<typeof adminAccountSchema>;
/** `GET /v1/admin/accounts` answer (JSON; CSV of the accounts). */
export const adminAccountsSchema = z.object({ accounts: z.array(adminAccountSchema) });

const UPGRADE_REQUEST_STATUSES = ['open', 'approved', 'declined'] as const;

/** `GET /v1/admin/upgrade-requests?status&from&to` (JSON, or CSV with `Accept: text/csv`). */
export const upgradeRequestsQuerySchema = z.strictObject({ ...range, status: z.enum(UPGRADE_REQUEST_STATUSES).optional() });

/** A member's request for a plan or seats, as admins (and the widget) see it. */
export const upgradeRequestViewSchema = z.object({
  id: z.string(),
  account_id: z.string(),
  user_id: z.string(),
  user_name: z.string().nullable(),
  plan_id: z.string().nullable(),
  seats: z.number().nullable(),
  note: z.string(),
  status: z.enum(UPGRADE_REQUEST_STATUSES),
  created_at: z.string(),
  resolved_at: z.string().nullable(),
});
export type UpgradeRequestView = z.output<typeof upgradeRequestViewSchema>;
/** `GET /v1/admin/upgrade-requests` answer (JSON; CSV with `Accept: text/csv`). */
export const upgradeRequestListSchema = z.object({ requests: z.array(upgradeRequestViewSchema) });
