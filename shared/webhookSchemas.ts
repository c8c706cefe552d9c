/**
 * Zod schemas of the outgoing-webhook and PQA endpoints (../shared/API.md): admin webhook
 * configuration, the test-send body and the PQA list query. Request objects are strict.
 */
import { z } from 'zod';

/** Events an outgoing webhook can subscribe to. */
export const WEBHOOK_EVENTS = [
  'pqa.sales_ready',
  'upgrade.requested',
  'upgrade.succeeded',
  'plan.downgrade_scheduled',
  'subscription.cancel_scheduled',
  'save_offer.accepted',
] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

export const PQA_BANDS = ['nurture', 'warm', 'sales_assist', 'sales_ready'] as const;

/** An http(s) URL; production additionally refuses plain http (checked by the route). */
export const webhookUrl = z
  .string()
  .max(2048)
  .refine((value) => {
    try {
      const url = new URL(value);
      return (url.protocol === 'https:' || url.protocol === 'http:') && url.hostname !== '';
    } catch {
      return false;
    }
  }, 'must be an absolute http:// or https:// URL');

/**
 * `PUT /v1/admin/webhooks/:id`. `secret` signs deliveries (`Ladder-Signature`); a JSON
 * webhook needs one when it is created, a Slack one may leave it out (one is generated).
 * Leaving `secret` out of an update keeps the current one.
 */
export const webhookInputSchema = z.strictObject({
  url: webhookUrl,
  format: z.enum(['json', 'slack']),
  events: z.array(z.enum(WEBHOOK_EVENTS)).min(1).max(WEBHOOK_EVENTS.length),
  secret: z.string().min(16, 'at least 16 characters').max(200).optional(),
  enabled: z.boolean().default(true),
});
export type WebhookInput = z.output<typeof webhookInputSchema>;

/** `POST /v1/admin/webhooks/:id/test`: which event's shape to send a sample of (optional body). */
export const webhookTestSchema = z.strictObject({
  event: z.enum(WEBHOOK_EVENTS).default('pqa.sales_ready'),
});

/** `GET /v1/pqa?band=&limit=`. */
export const pqaListQuerySchema = z.strictObject({
  band: z.enum(PQA_BANDS).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(50),
});
