/**
 * Billing-domain errors as API answers: a provider failure is a 502 with the provider's
 * reason; a change the provider cannot make for the account is a 422.
 */
import { ApiError } from '../errors';
import { BillingNotPossibleError, BillingProviderError } from './provider';

/**
 * Rethrow a provider's error as the API error it answers with; other errors pass through.
 * @example await provider.preview(change, t).catch(providerFailed)
 */
export const providerFailed = (err: unknown): never => {
  if (err instanceof BillingProviderError) throw new ApiError(502, 'billing_provider_failed', err.message);
  if (err instanceof BillingNotPossibleError) throw new ApiError(422, err.code, err.message, [{ path: err.path, message: err.detail }]);
  throw err;
};
