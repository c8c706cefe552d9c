/**
 * Zod schemas of the outgoing-webhook and PQA endpoints (../shared/API.md): admin webhook
 * configuration, the test-send body and the PQA list query. Request objects are strict.
 */
import { z } from 'zod';

/** Events an outgoing webhook can subscribe to. */
const WEBHOOK_EVENTS = [
  'pqa.sales_ready',
  'upgrade.requested',
  'upgrade.succeeded',
  'usage.threshold_crossed',
  'usage.growth',
  'pqa.band_changed',
  'plan.downgrade_scheduled',
  'subscription.cancel_scheduled',
  'save_offer.accepted',
] as const;

/**
 * Joins the parts of an outbox dedupe key. Ids match /^[A-Za-z0-9_.:@-]+$/, so `|` can never
 * appear inside a part and two different events never share a key.
 * @example dedupeKey('usage.threshold_crossed', 'acme', 'api_calls', 1793491200000, 90) // 'usage.threshold_crossed|acme|api_calls|1793491200000|90'
 */
export const dedupeKey = (...parts: (string | number)[]) => parts.join('|');
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

export const PQA_BANDS = ['nurture', 'warm', 'sales_assist', 'sales_ready'] as const;

/** An http(s) URL; production additionally refuses plain http (checked by the route). */
const webhookUrl = z
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

/** Host names that only mean something inside a network: never a production webhook target. */
const PRIVATE_SUFFIXES = ['.localhost', '.local', '.internal', '.intranet', '.lan', '.home.arpa', '.corp', '.private'];

/**
 * Why `value` may not receive webhooks from a production worker, or null when it may: it must be
 * `https` on port 443 to a public host name (no IP literal, `localhost`, `*.local`, `*.internal`
 * or single-label name, no credentials in the URL), and a Slack webhook must be
 * `https://hooks.slack.com/…`. This keeps a deployed worker from being turned on the network
 * it runs in.
 * @example productionWebhookUrlProblem('http://10.0.0.5/hook', 'json') // 'must be https:// in production'
 */
export function productionWebhookUrlProblem(value: string, format: 'json' | 'slack'): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be an absolute https:// URL';
  }
  if (url.protocol !== 'https:') return 'must be https:// in production';
  if (url.port !== '' && url.port !== '443') return 'must use port 443 in production';
  if (url.username || url.password) return 'must not carry credentials';
  const host = url.hostname.toLowerCase().replace(/\.$/, '');
  if (host.startsWith('[') || /^[\d.]+$/.test(host) || /^0x/i.test(host)) return 'must name a public host, not an IP address';
  if (host === 'localhost' || PRIVATE_SUFFIXES.some((s) => host.endsWith(s))) return 'must name a public host';
  if (!host.includes('.')) return 'must name a public host (a single-label name is not)';
  if (format === 'slack' && host !== 'hooks.slack.com') return 'a slack webhook must be https://hooks.slack.com/…';
  return null;
}

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
