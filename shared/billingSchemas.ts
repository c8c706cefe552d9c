/**
 * Zod schemas of the billing endpoints (../shared/API.md, "Widget" upgrade endpoints and
 * "Dashboard and admin" revenue analytics), used by the worker's routes, the widget and
 * the OpenAPI document. Request objects are strict: an unknown field is refused.
 */
import { z } from 'zod';
import { queryTime } from './analyticsSchemas';
import { CANCEL_REASONS, OFFER_KINDS } from './retention';
import { id, idempotencyKey } from './schemas';

const seats = z.number().int().min(1).max(1_000_000);

/** `{ plan_id }` or `{ seats }`: exactly one of them. */
const oneChange = <T extends { plan_id?: string | undefined; seats?: number | undefined }>(v: T, ctx: z.RefinementCtx) => {
  if ((v.plan_id === undefined) === (v.seats === undefined))
    ctx.addIssue({ code: 'custom', path: [v.plan_id === undefined ? 'plan_id' : 'seats'], message: 'give either plan_id or seats, not both or neither' });
};

/**
 * `{ plan_id }`, `{ seats }`, or with `interval: "year"` a switch to yearly billing: of the
 * current plan (`{ interval }` alone) or of a higher one (`{ plan_id, interval }`).
 */
const upgradeChange = <T extends { plan_id?: string | undefined; seats?: number | undefined; interval?: 'month' | 'year' | undefined }>(v: T, ctx: z.RefinementCtx) => {
  if (v.interval === undefined) return oneChange(v, ctx);
  if (v.seats !== undefined) ctx.addIssue({ code: 'custom', path: ['seats'], message: 'a change of billing interval keeps the seats; give plan_id or nothing' });
};
const interval = z.enum(['month', 'year']).optional();

/** `POST /v1/widget/upgrade/preview`. */
export const upgradePreviewSchema = z
  .strictObject({ plan_id: id.optional(), seats: seats.optional(), interval })
  .superRefine(upgradeChange);
export type UpgradePreviewInput = z.output<typeof upgradePreviewSchema>;

/** `POST /v1/widget/upgrade`: the previewed change, the preview's `proration_date` (epoch seconds) and an idempotency key. */
export const upgradeSchema = z
  .strictObject({
    plan_id: id.optional(),
    seats: seats.optional(),
    interval,
    proration_date: z.number().int().min(0).max(253_402_300_799),
    idempotency_key: idempotencyKey,
  })
  .superRefine(upgradeChange);
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

const billingModeSchema = z.enum(['stripe', 'local']);

const upgradePreviewResponseSchema = z.object({
  amount_due_now_cents: z.number().int(),
  currency: z.string(),
  next_amount_cents: z.number().int(),
  next_billing_date: z.string(),
  proration_date: z.number().int(),
  message: z.string(),
  plan_id: z.string(),
  seats: z.number().int(),
  interval: z.enum(['month', 'year']),
  /** For a switch to yearly billing: twelve monthly payments less the yearly price. */
  annual_saving_cents: z.number().int().optional(),
  billing: billingModeSchema,
});
export type UpgradePreview = z.output<typeof upgradePreviewResponseSchema>;

const upgradeResultSchema = z.object({
  status: z.enum(['succeeded', 'requires_action', 'failed']),
  plan_id: z.string(),
  seats: z.number().int(),
  amount_charged_cents: z.number().int(),
  message: z.string(),
  billing: billingModeSchema,
});
export type UpgradeResult = z.output<typeof upgradeResultSchema>;

// ---------------------------------------------------------------- keeping customers

/** `POST /v1/widget/downgrade/preview`: a lower plan or fewer seats, from the period end. */
export const downgradePreviewSchema = z.strictObject({ plan_id: id.optional(), seats: z.number().int().min(0).max(1_000_000).optional() }).superRefine(oneChange);
export type DowngradePreviewInput = z.output<typeof downgradePreviewSchema>;

/** `POST /v1/widget/downgrade`. */
export const downgradeSchema = z
  .strictObject({ plan_id: id.optional(), seats: z.number().int().min(0).max(1_000_000).optional(), idempotency_key: idempotencyKey })
  .superRefine(oneChange);
export type DowngradeInput = z.output<typeof downgradeSchema>;

const cancelReasonSchema = z.enum(CANCEL_REASONS);

/** `POST /v1/widget/cancel/offer`. */
export const cancelOfferSchema = z.strictObject({ reason: cancelReasonSchema, note: z.string().max(2000).optional() });
/** `POST /v1/widget/cancel/accept`. */
export const cancelAcceptSchema = z.strictObject({ offer_id: id, idempotency_key: idempotencyKey });
/** `POST /v1/widget/cancel`. */
export const cancelSchema = z.strictObject({ reason: cancelReasonSchema, idempotency_key: idempotencyKey });

/** One reason's save offer (`PUT /v1/admin/save-offers`). */
export const saveOfferSchema = z
  .strictObject({
    kind: z.enum(OFFER_KINDS),
    percent_off: z.number().int().min(1).max(100).optional(),
    months: z.number().int().min(1).max(36).optional(),
    plan_id: id.optional(),
    pause_months: z.number().int().min(1).max(12).optional(),
    copy: z.strictObject({ title: z.string().max(120), body: z.string().max(1000) }),
  })
  .superRefine((o, ctx) => {
    const need = (key: 'percent_off' | 'months' | 'pause_months') => {
      if (o[key] === undefined) ctx.addIssue({ code: 'custom', path: [key], message: `required for a ${o.kind} offer` });
    };
    const refuse = (key: 'percent_off' | 'months' | 'plan_id' | 'pause_months') => {
      if (o[key] !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: `not used by a ${o.kind} offer` });
    };
    if (o.kind === 'discount') (need('percent_off'), need('months'));
    else (refuse('percent_off'), refuse('months'));
    if (o.kind === 'pause') need('pause_months');
    else refuse('pause_months');
    if (o.kind !== 'downgrade') refuse('plan_id');
  });
export const saveOffersSchema = z.strictObject(Object.fromEntries(CANCEL_REASONS.map((r) => [r, saveOfferSchema.optional()])) as Record<(typeof CANCEL_REASONS)[number], z.ZodOptional<typeof saveOfferSchema>>);

/** `GET /v1/admin/analytics/saves?from&to`. */
