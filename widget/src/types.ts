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
  kind: 'limit_notice' | 'feature_gate' | 'invite' | 'milestone';
  metric?: string;
  feature_id?: string;
  threshold?: number;
  blocking: boolean;
  variant_id?: string | null;
  experiment_id?: string | null;
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

export interface PlanOption {
  plan_id: string;
  name: string;
  price_cents: number;
  currency: string;
  /** Not in API.md yet; used when present. */
  limits?: Record<string, number | null>;
  interval?: string;
}

export interface WidgetState {
  account: {
    id: string;
    name: string;
    role: Role;
    plan: { id: string; name: string; price_cents: number; currency: string; interval?: string };
    seats: { used: number; limit: number | null };
  };
  meters: Meter[];
  features: Record<string, Feature>;
  prompts: Prompt[];
  upgrade_options: PlanOption[];
  caps: { session_prompts_left?: number };
}

/** What an upgrade is for: a plan, or a seat count. Also the request body. */
export type UpgradeChoice = { plan_id: string; seats?: never } | { seats: number; plan_id?: never };

export interface Preview {
  amount_due_now_cents: number;
  currency: string;
  next_amount_cents: number;
  next_billing_date: string;
  proration_date: number;
  message: string;
  billing?: 'stripe' | 'local';
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
