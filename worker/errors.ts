import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { z } from 'zod';

export type ErrorDetail = { path: string; message: string };

/**
 * An error the client can act on: rendered as `{ error: { code, message, details } }`
 * with its status. Anything else thrown becomes a 500 that reveals nothing.
 * @example throw new ApiError(404, 'account_not_found', 'No account "acme".', [{ path: 'account_id', message: 'not found' }])
 */
export class ApiError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly details: ErrorDetail[] = [],
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** Zod issues as API error details, each naming the failing field's path (`events.0.metric`). */
function zodDetails(error: z.ZodError, prefix: (string | number)[] = []): ErrorDetail[] {
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
  throw new ApiError(400, 'validation_failed', 'The request is not valid.', zodDetails(result.error, prefix));
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

export const notFound = (what: string, idValue: string, path: string) =>
  new ApiError(404, `${what}_not_found`, `No ${what.replace(/_/g, ' ')} "${idValue}".`, [{ path, message: 'not found' }]);
