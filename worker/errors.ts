import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { z } from 'zod';
import { ERROR_STATUS, type ErrorCode, type ErrorDetail } from '../shared/errors';

export type { ErrorCode, ErrorDetail };
import { fieldError } from '../shared/errors';

/**
 * An error the client can act on: rendered as `{ error: { code, message, details } }` with the
 * status the code has in shared/errors.ts. Anything else thrown becomes a 500 that reveals nothing.
 * @example throw new ApiError('account_not_found', 'No account "acme".', [fieldError('account_id', 'not found')])
 */
export class ApiError extends Error {
  readonly status: ContentfulStatusCode;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: ErrorDetail[] = [],
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.status = ERROR_STATUS[code];
  }
}

/** Zod issues as API error details, each naming the failing field's path (`events.0.metric`). */
export function zodDetails(error: z.ZodError, prefix: (string | number)[] = []): ErrorDetail[] {
  return error.issues.map((issue) => {
    const path = [...prefix, ...issue.path].map(String);
    if (issue.code === 'unrecognized_keys') {
      return { path: [...path, issue.keys[0] ?? ''].filter(Boolean).join('.'), message: `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}` };
    }
    return { path: path.join('.'), message: issue.message };
  });
}

/** Parse `value` with `schema`, or throw a 400 `validation_failed` naming every failing field. */
export function validate<S extends z.ZodType>(schema: S, value: unknown, prefix: (string | number)[] = []): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new ApiError('validation_failed', 'The request is not valid.', zodDetails(result.error, prefix));
}

/** The one place errors become responses. */
export function errorResponse(err: unknown, c: Context): Response {
  if (err instanceof ApiError) {
    for (const [k, v] of Object.entries(err.headers)) c.header(k, v);
    return c.json({ error: { code: err.code, message: err.message, details: err.details } }, err.status);
  }
  console.error('[ladder] unhandled error', err instanceof Error ? err.stack ?? err.message : err);
  return c.json({ error: { code: 'internal', message: 'Something went wrong on our side.', details: [] } }, 500);
}

type Thing = 'account' | 'catalog_version' | 'experiment' | 'feature' | 'feature_or_metric' | 'offer' | 'plan' | 'webhook';

/** A 404 `<thing>_not_found` naming the field that held the id. @example throw notFound('plan', id, 'plan_id') */
export const notFound = (what: Thing, idValue: string, path: string) =>
  new ApiError(`${what}_not_found`, `No ${what.replace(/_/g, ' ')} "${idValue}".`, [{ path, message: 'not found' }]);

/**
 * The error of one failing field, its status from the code: the one helper route and domain code
 * throw for a refusal that names a field (`detail` defaults to the message).
 * @example throw refuse('plan_not_offered', 'Legacy is not offered.', 'plan_id', 'a hidden plan is never offered')
 */
export const refuse = (code: ErrorCode, message: string, path = '', detail = message) => new ApiError(code, message, [fieldError(path, detail)]);
