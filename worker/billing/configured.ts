/**
 * The billing provider in force: Stripe when `LADDER_BILLING`/`STRIPE_SECRET_KEY` choose it,
 * else the local provider, so the demo upgrades offline.
 */
import { billingChoice } from '../config';
import type { Env } from '../env';
import { localProvider } from './local';
import type { BillingProvider } from './provider';
import { stripeProvider } from './stripe';

/**
 * The configured provider: Stripe with a secret key, else local.
 * @example const provider = billingProvider(c.env); await provider.preview(change, t)
 */
export function billingProvider(env: Env): BillingProvider {
  return billingChoice(env) === 'stripe' ? stripeProvider(env) : localProvider(env);
}
