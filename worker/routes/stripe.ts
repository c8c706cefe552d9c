import { applyStripeEvent } from '../billing/webhook';
import { database } from '../db';
import { ApiError } from '../errors';
import { stripeWebhookResultSchema } from '../../shared/billingSchemas';
import { json, route, stripeRouter } from './groups';


const receiveStripeEvent = route({
  method: 'post',
  path: '/webhook',
  summary: 'Stripe webhook deliveries (Stripe-Signature verified)',
  description: 'An event for a customer no account is linked to yet is answered 409 and not stored, so Stripe retries it.',
  responses: { 200: json(stripeWebhookResultSchema, 'The event was applied (or was seen before)') },
  errors: ['account_not_linked'],
});

/** `POST /v1/stripe/webhook`: applies a verified Stripe event once; mounted at `/v1/stripe`. */
export const stripeRoutes = stripeRouter().openapi(receiveStripeEvent, async (c) => {
  const event = c.get('stripeEvent');
  const outcome = await applyStripeEvent(database(c.env.DB), event, c.get('now'));
  // Not stored as seen: Stripe retries (for up to three days), so the event applies once the host links the account.
  if (outcome === 'unlinked')
    throw new ApiError('account_not_linked', `No account is linked to the Stripe customer or subscription of event ${event.id} yet; Stripe will retry it.`, [
      { path: 'data.object.customer', message: 'no account with this stripe_customer_id or stripe_subscription_id' },
    ]);
  return c.json({ received: true as const, id: event.id, outcome }, 200);
});
