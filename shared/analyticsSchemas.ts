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

/** One step of a prompt's funnel, per variant. `*_rate` is the conversion from the step before (null when it had none). */
export interface FunnelRow {
  prompt_id: string;
  kind: string | null;
  experiment_id: string | null;
  variant_id: string | null;
  impressions: number;
  clicks: number;
  previews: number;
  upgrades: number;
  expansion_mrr_cents: number;
  click_rate: number | null;
  preview_rate: number | null;
  /** upgrades ÷ previews: a step of the funnel, not the self-serve upgrade rate. */
  upgrades_per_preview: number | null;
}

export interface FunnelResponse {
  from: string;
  to: string;
  previews_rule: string;
  rates_rule: string;
  rows: FunnelRow[];
}

interface UpgradeBucket {
  start: string;
  eligible_accounts: number;
  upgraded_accounts: number;
  rate: number | null;
}

export interface UpgradesResponse {
  from: string;
  to: string;
  interval: 'day' | 'week' | 'month';
  series: UpgradeBucket[];
  total: { eligible_accounts: number; upgraded_accounts: number; rate: number | null };
  by_kind: UpgradesByKind[];
  by_kind_rule: string;
  /** The playbooks' healthy self-serve upgrade rate per month (3–7%), for reference. */
  benchmark: { low: number; high: number; interval: 'month' };
}

/** Self-serve upgrades by the kind of prompt clicked before them, as a rate of the accounts shown that kind. */
export interface UpgradesByKind {
  kind: string;
  /** Accounts shown a prompt of this kind in the period; null for `no_prompt`. */
  accounts_shown: number | null;
  upgraded_accounts: number;
  rate: number | null;
  upgrades: number;
  expansion_mrr_cents: number;
}

interface PromptHistoryEvent {
  timestamp: string;
  user_id: string;
  session_id: string;
  type: string;
  prompt_id: string | null;
  variant_id: string | null;
  experiment_id: string | null;
  feature_id: string | null;
}

export interface PromptHistoryRow {
  user_id: string;
  prompt_id: string;
  kind: string | null;
  impressions: number;
  clicks: number;
  dismisses: number;
  snoozes: number;
  first_seen_at: string | null;
  last_seen_at: string | null;
  last_event_at: string;
}

export interface PromptHistoryResponse {
  account_id: string;
  from: string;
  to: string;
  prompts: PromptHistoryRow[];
  events: PromptHistoryEvent[];
}

export interface AdminAccount {
  account_id: string;
  name: string;
  plan_id: string;
  status: string;
  seats: number;
  score: number | null;
  band: PqaBandId | null;
  entered_band_at: string | null;
  top_signals: string[];
  computed_at: string | null;
  /** Where the routing rules send the account: self-serve, a CSM or sales. */
  route: 'self_serve' | 'csm' | 'sales';
}

const UPGRADE_REQUEST_STATUSES = ['open', 'approved', 'declined'] as const;

/** `GET /v1/admin/upgrade-requests?status&from&to` (JSON, or CSV with `Accept: text/csv`). */
export const upgradeRequestsQuerySchema = z.strictObject({ ...range, status: z.enum(UPGRADE_REQUEST_STATUSES).optional() });

/** A member's request for a plan or seats, as admins see it. */
export interface UpgradeRequestView {
  id: string;
  account_id: string;
  user_id: string;
  user_name: string | null;
  plan_id: string | null;
  seats: number | null;
  note: string;
  status: (typeof UPGRADE_REQUEST_STATUSES)[number];
  created_at: string;
  resolved_at: string | null;
}
