import { Hono } from 'hono';
import Stripe from 'stripe';
import { applyStripeEvent } from '../billing/webhook';
import { database } from '../db';
import type { AppEnv } from '../env';
import { ApiError } from '../errors';
import { readBodyText } from '../middleware/body';

/** Seconds a signed delivery stays acceptable (Stripe's own default). */
const SIGNATURE_TOLERANCE_SECONDS = 300;

/**
 * `POST /v1/stripe/webhook` (no bearer: the `Stripe-Signature` header is the credential).
 * Verifies the signature with Web Crypto, then applies the event once; mounted at `/v1/stripe`.
 */
export const stripeRoutes = new Hono<AppEnv>().post('/webhook', async (c) => {
  const secret = c.env.STRIPE_WEBHOOK_SECRET;
  if (!secret) throw new ApiError(503, 'webhooks_not_configured', 'STRIPE_WEBHOOK_SECRET is not set.');
  const signature = c.req.header('stripe-signature');
  if (!signature) throw new ApiError(400, 'invalid_signature', 'The Stripe-Signature header is missing.', [{ path: 'Stripe-Signature', message: 'required' }]);
  const body = await readBodyText(c);
  let event: Stripe.Event;
  try {
    event = await Stripe.webhooks.constructEventAsync(body, signature, secret, SIGNATURE_TOLERANCE_SECONDS, Stripe.createSubtleCryptoProvider());
  } catch (err) {
    const reason = err instanceof Error ? err.message : 'verification failed';
    throw new ApiError(400, 'invalid_signature', `The Stripe signature does not verify: ${reason}`, [{ path: 'Stripe-Signature', message: 'does not verify' }]);
  }
  const outcome = await applyStripeEvent(database(c.env.DB), event, c.get('now'));
  // Not stored as seen: Stripe retries (for up to three days), so the event applies once the host links the account.
  if (outcome === 'unlinked')
    throw new ApiError(409, 'account_not_linked', `No account is linked to the Stripe customer or subscription of event ${event.id} yet; Stripe will retry it.`, [
      { path: 'data.object.customer', message: 'no account with this stripe_customer_id or stripe_subscription_id' },
    ]);
  return c.json({ received: true, id: event.id, outcome });
});
