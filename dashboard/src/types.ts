/** Shapes of the admin API answers the dashboard reads (../shared/API.md and shared/analyticsSchemas.ts). */
export type { AdminAccount, FunnelResponse, FunnelRow, PromptHistoryResponse, UpgradesResponse } from '../../shared/analyticsSchemas';
export type { PromptCopy, PromptDefinition } from '../../shared/prompts';
export type { VariantResult } from '../../shared/statistics';
import type { RevenueMetrics } from '../../shared/revenue';
import type { VariantResult } from '../../shared/statistics';

export type RevenueResponse = RevenueMetrics & { from: string; to: string };

export interface Experiment {
  id: string;
  key: string;
  prompt_id: string;
  unit: 'account' | 'user';
  holdout_pct: number;
  attribution_days: number;
  min_conversions: number;
  variants: { id: string; weight: number; copy: { title: string; body: string; cta_label: string; secondary_label: string } }[];
  control_id: string | null;
  status: 'draft' | 'running' | 'stopped' | 'shipped';
  started_at: string | null;
  stopped_at: string | null;
  shipped_variant_id: string | null;
  created_at: string;
}

export interface ExperimentResults {
  experiment_id?: string;
  control_id?: string;
  variants: VariantResult[];
  srm: { p_value: number; flagged: boolean };
  verdict?: { status: string; winner_id: string | null; message: string };
  /** e.g. the peeking warning while the test runs. */
  warnings?: string[];
  incremental?: { holdout?: VariantResult; lift?: number | null; lift_ci?: [number, number] | null; p_value?: number | null } | null;
}

export interface Webhook {
  id: string;
  url: string;
  format: 'json' | 'slack';
  events: string[];
  enabled: boolean;
  /** Disabled by Ladder after 15 failed attempts in a row; saving the webhook enables it again. */
  disabled?: boolean;
  disabled_reason?: string | null;
  secret_prefix?: string;
  deliveries?: { pending: number; delivered: number; last_delivered_at: string | null; last_error: string | null };
}
