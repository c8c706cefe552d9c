/**
 * Ladder's closed error vocabulary: every `error.code` the API can answer, with its HTTP status.
 * The worker throws only these (worker/errors.ts `ApiError` takes its status from here), the
 * OpenAPI document lists each operation's codes, and the widget, the dashboard and `ladder/server`
 * share one `LadderError`. No zod here: the widget imports this file.
 */

/** Every error code with its status. Adding a code here is the only way to answer a new one. */
export const ERROR_STATUS = {
  // 400: the request itself is wrong
  validation_failed: 400,
  invalid_json: 400,
  invalid_signature: 400,
  // 401/403: credentials and permissions
  unauthorized: 401,
  invalid_admin_key: 401,
  admin_required: 403,
  csrf_failed: 403,
  dev_only: 403,
  // 404: a thing named in the request does not exist
  not_found: 404,
  account_not_found: 404,
  catalog_version_not_found: 404,
  experiment_not_found: 404,
  feature_not_found: 404,
  feature_or_metric_not_found: 404,
  metric_not_found: 404,
  offer_not_found: 404,
  plan_not_found: 404,
  webhook_not_found: 404,
  // 409: the state does not allow it (now)
  plan_in_use: 409,
  account_not_linked: 409,
  upgrade_in_progress: 409,
  trial_already_used: 409,
  already_resolved: 409,
  change_already_scheduled: 409,
  offer_already_accepted: 409,
  offer_closed: 409,
  experiment_key_taken: 409,
  experiment_locked: 409,
  experiment_ended: 409,
  experiment_already_running: 409,
  experiment_not_running: 409,
  experiment_not_started: 409,
  // 413
  body_too_large: 413,
  // 422: understood, but not possible for this account or plan
  unknown_plan: 422,
  plan_not_offered: 422,
  prompt_not_found: 422,
  not_billable: 422,
  no_subscription: 422,
  talk_to_sales: 422,
  invalid_mode: 422,
  already_entitled: 422,
  trial_not_available: 422,
  not_an_upgrade: 422,
  not_a_downgrade: 422,
  already_on_plan: 422,
  already_canceled: 422,
  seats_not_sold: 422,
  idempotency_key_reused: 422,
  preview_expired: 422,
  offer_expired: 422,
  no_offer: 422,
  // 429
  rate_limited: 429,
  // 5xx
  internal: 500,
  billing_provider_failed: 502,
  misconfigured: 503,
  not_ready: 503,
  assets_missing: 503,
  webhooks_not_configured: 503,
} as const satisfies Record<string, number>;

/** A code the API answers. */
export type ErrorCode = keyof typeof ERROR_STATUS;

/** One failing field: its dotted path (`events.0.metric`, `headers.X-Ladder-CSRF`, '' for the whole body) and what is wrong. */
export type ErrorDetail = { path: string; message: string };

/** The body of every error response. */
export type ErrorBody = { error: { code: ErrorCode; message: string; details: ErrorDetail[] } };

/** The one helper for a field error. @example fieldError('plan_id', 'not among upgrade_options') */
export const fieldError = (path: string, message: string): ErrorDetail => ({ path, message });

/**
 * A refusal or failure from Ladder's API as a client sees it: the HTTP status, the API's error
 * code (or `http` when the answer carried no error body) and the failing fields. Thrown by
 * `ladder/server`, the dashboard's and the widget's API calls.
 * @example throw new LadderError(404, 'account_not_found', 'No account "acme".', [fieldError('account_id', 'not found')])
 */
export class LadderError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode | 'http',
    message: string,
    readonly details: ErrorDetail[] = [],
  ) {
    super(message);
    this.name = 'LadderError';
  }
}
