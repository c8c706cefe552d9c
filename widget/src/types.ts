/**
 * Shapes of the widget API (API.md, "Widget"). Those the worker declares a response schema for
 * come from shared/ with `import type` (no zod in the bundle).
 */
import type { z } from 'zod';
import type { UpgradePreview, UpgradeResult as UpgradeResultOf } from '../../shared/billingSchemas';
import type { meterSchema, WidgetState as WidgetStateOf } from '../../shared/schemas';


export type Role = 'admin' | 'member';
export type Theme = 'light' | 'dark' | 'auto';

/** A usage meter: the worker's declared response schema (shared/schemas.ts), as a type only. */
export type Meter = z.output<typeof meterSchema>;

/** `GET /v1/widget/state` answer: the worker's declared response schema (shared/schemas.ts), as types only. */
export type WidgetState = WidgetStateOf;
export type Prompt = WidgetState['prompts'][number];
export type Feature = WidgetState['features'][string];
export type UpgradeRequest = NonNullable<WidgetState['upgrade_requests']>[number];

/**
 * What an upgrade is for: a plan, a seat count, or yearly billing (of the current plan, or of
 * `plan_id`). Also the request body. `manage` opens the "Manage plan" view instead.
 */
export type UpgradeChoice =
  | { plan_id: string; seats?: never; interval?: 'year'; manage?: never }
  | { seats: number; plan_id?: never; interval?: never; manage?: never }
  | { interval: 'year'; plan_id?: string; seats?: never; manage?: never }
  | { manage: true; plan_id?: never; seats?: never; interval?: never };

/** `POST /v1/widget/upgrade/preview` answer (shared/billingSchemas.ts). */
export type Preview = UpgradePreview;

/** `POST /v1/widget/upgrade` answer (shared/billingSchemas.ts). */
export type UpgradeResult = UpgradeResultOf;

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
