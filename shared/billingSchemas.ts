/**
 * Zod schemas of the billing endpoints (../shared/API.md, "Widget" upgrade endpoints and
 * "Dashboard and admin" revenue analytics), used by the worker's routes, the widget and
 * the OpenAPI document. Request objects are strict: an unknown field is refused.
 */
import { z } from 'zod';
import { queryTime } from './analyticsSchemas';
import { id, idempotencyKey } from './schemas';

const seats = z.number().int().min(1).max(1_000_000);

/** `{ plan_id }` or `{ seats }`: exactly one of them. */
const oneChange = <T extends { plan_id?: string | undefined; seats?: number | undefined }>(v: T, ctx: z.RefinementCtx) => {
  if ((v.plan_id === undefined) === (v.seats === undefined))
    ctx.addIssue({ code: 'custom', path: [v.plan_id === undefined ? 'plan_id' : 'seats'], message: 'give either plan_id or seats, not both or neither' });
};

/** `POST /v1/widget/upgrade/preview`. */
export const upgradePreviewSchema = z
  .strictObject({ plan_id: id.optional(), seats: seats.optional() })
  .superRefine(oneChange);
export type UpgradePreviewInput = z.output<typeof upgradePreviewSchema>;

/** `POST /v1/widget/upgrade`: the previewed change, the preview's `proration_date` (epoch seconds) and an idempotency key. */
export const upgradeSchema = z
  .strictObject({
    plan_id: id.optional(),
    seats: seats.optional(),
    proration_date: z.number().int().min(0).max(253_402_300_799),
    idempotency_key: idempotencyKey,
  })
  .superRefine(oneChange);
export type UpgradeInput = z.output<typeof upgradeSchema>;

/** `POST /v1/widget/upgrade-requests`: a member asks the account's admins for a plan or seats. */
export const upgradeRequestSchema = z
  .strictObject({ plan_id: id.optional(), seats: seats.optional(), note: z.string().max(2000).optional() })
  .superRefine(oneChange);
export type UpgradeRequestInput = z.output<typeof upgradeRequestSchema>;

/** `:id` of `POST /v1/widget/upgrade-requests/:id/decline`. */
export const upgradeRequestIdSchema = z.string().regex(/^upr_[0-9a-f]{32}$/, 'an upgrade request id (upr_…)');

/** `POST /v1/widget/trials`. */
export const trialStartSchema = z.strictObject({ feature_id: id });

/** `GET /v1/admin/analytics/revenue?from&to` (ISO-8601 or epoch ms; `to` defaults to now, `from` to 30 days before `to`). */
export const revenueQuerySchema = z.strictObject({ from: queryTime.optional(), to: queryTime.optional() });

export const billingModeSchema = z.enum(['stripe', 'local']);

export const upgradePreviewResponseSchema = z.object({
  amount_due_now_cents: z.number().int(),
  currency: z.string(),
  next_amount_cents: z.number().int(),
  next_billing_date: z.string(),
  proration_date: z.number().int(),
  message: z.string(),
  plan_id: z.string(),
  seats: z.number().int(),
  billing: billingModeSchema,
});
export type UpgradePreview = z.output<typeof upgradePreviewResponseSchema>;

export const upgradeResultSchema = z.object({
  status: z.enum(['succeeded', 'requires_action', 'failed']),
  plan_id: z.string(),
  seats: z.number().int(),
  amount_charged_cents: z.number().int(),
  message: z.string(),
  billing: billingModeSchema,
});
export type UpgradeResult = z.output<typeof upgradeResultSchema>;
