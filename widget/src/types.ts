/** Shapes of the widget API (API.md, "Widget"). */

export type Role = 'admin' | 'member';
export type Theme = 'light' | 'dark' | 'auto';

export interface Meter {
  metric: string;
  name: string;
  used: number;
  limit: number | null;
  pct: number | null;
  threshold: number | null;
  period_end?: string | null;
  projected_at_period_end?: number | null;
  /** When the limit is reached at the recent daily rate; null dates when not this period. */
  forecast?: { limit_at: string | null; days_to_limit: number | null };
}

export interface Prompt {
  id: string;
  kind: 'limit_notice' | 'feature_gate' | 'invite' | 'milestone' | 'forecast';
  metric?: string;
  feature_id?: string;
  threshold?: number;
  blocking: boolean;
  variant_id?: string | null;
  experiment_id?: string | null;
  /** Signed by the worker; prompt events carry it back so they can only name what was served. */
  serve_token?: string;
  title: string;
  body: string;
  cta_label?: string | null;
  secondary_label?: string | null;
}

export interface Feature {
  entitled: boolean;
  trial_available: boolean;
  required_plan: string | null;
  trial_ends_at?: string | null;
  /** Not in API.md yet; used when present. */
  name?: string;
  description?: string;
  trial_days?: number;
}

interface PlanOption {
  plan_id: string;
  name: string;
  price_cents: number;
  currency: string;
  /** Not in API.md yet; used when present. */
  limits?: Record<string, number | null>;
  /** The plan's feature ids; the dialog lists those the current plan lacks. */
  features?: string[];
  interval?: string;
}

export interface WidgetState {
  account: {
    id: string;
    name: string;
    role: Role;
    plan: { id: string; name: string; price_cents: number; currency: string; interval?: string; annual_amount_cents?: number; annual_saving_cents?: number };
    seats: { used: number; limit: number | null };
  };
  /** A downgrade or cancellation waiting for the period end. */
  scheduled_change?: { kind: 'downgrade' | 'cancel'; plan_id?: string | null; seats?: number | null; reason?: string | null; effective_at: string } | null;
  /** Lower plans an admin can move to at the period end. */
  downgrade_options?: PlanOption[];
  /** Admins, on a plan that sells extra seats: how many are bought (fewer can be scheduled for the period end). */
  seats_bought?: number;
  meters: Meter[];
  features: Record<string, Feature>;
  prompts: Prompt[];
  upgrade_options: PlanOption[];
  caps: { session_prompts_left?: number };
  /** Admins only: members' open upgrade requests. */
  upgrade_requests?: UpgradeRequest[];
}

export interface UpgradeRequest {
  id: string;
  user_id: string;
  user_name: string | null;
  plan_id: string | null;
  seats: number | null;
  note: string;
  created_at: string;
}

/**
 * What an upgrade is for: a plan, a seat count, or yearly billing (of the current plan, or of
 * `plan_id`). Also the request body. `manage` opens the "Manage plan" view instead.
 */
export type UpgradeChoice =
  | { plan_id: string; seats?: never; interval?: 'year'; manage?: never }
  | { seats: number; plan_id?: never; interval?: never; manage?: never }
  | { interval: 'year'; plan_id?: string; seats?: never; manage?: never }
  | { manage: true; plan_id?: never; seats?: never; interval?: never };

export interface Preview {
  amount_due_now_cents: number;
  currency: string;
  next_amount_cents: number;
  next_billing_date: string;
  proration_date: number;
  message: string;
  billing?: 'stripe' | 'local';
  /** An upgrade routed to sales: no charge, the widget offers "Talk to us". */
  route?: 'sales';
}

export interface UpgradeResult {
  status: 'succeeded' | 'requires_action' | 'failed';
  plan_id?: string;
  seats?: number;
  amount_charged_cents?: number;
  message: string;
  billing?: 'stripe' | 'local';
}

export type EventType = 'impression' | 'click' | 'dismiss' | 'snooze' | 'gate_hit' | 'invite_sent';

export interface Options {
  token?: string;
  getToken?: () => string | Promise<string>;
  tokenUrl?: string;
  apiBase?: string;
  locale?: string;
  theme?: Theme;
  inviteUrl?: string;
}

export interface Claims {
  sub?: string;
  acct?: string;
  role?: Role;
  locale?: string;
  exp?: number;
}
