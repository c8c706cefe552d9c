import type { Context, MiddlewareHandler } from 'hono';
import { eventTimeProblems } from '../../shared/schemas';
import { ApiError } from '../errors';

export const MAX_BODY_BYTES = 1024 * 1024;

/**
 * Route middleware for an operation with a JSON body (added by worker/routes/groups.ts): reads
 * the body (at most 1 MiB, else 413), refuses malformed JSON (400 `invalid_json`) and hands the
 * parsed document to the route's schema validator, whatever Content-Type the client sent (as
 * `readJson` always did). The schema then refuses unknown fields and names each failing one.
 * A body the route declares optional may be left out: it reads as `{}`.
 */
export const jsonBody = (required = true): MiddlewareHandler => async (c, next) => {
  // An optional body left out (no body at all) is an empty object for the schema (its defaults
  // apply); a body sent empty or blank is malformed JSON, as for every other operation.
  const absent = c.req.raw.body === null;
  let raw = await readBodyText(c);
  if (!required && absent) raw = '{}';
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new ApiError('invalid_json', 'The body must be a JSON document.', [{ path: '', message: raw ? 'malformed JSON' : 'empty body' }]);
  }
  const headers = new Headers(c.req.raw.headers);
  headers.set('content-type', 'application/json');
  headers.delete('content-length');
  c.req.raw = new Request(c.req.url, { method: c.req.method, headers, body: raw });
  c.req.bodyCache = { json: Promise.resolve(parsed) } as typeof c.req.bodyCache;
  await next();
};

/**
 * The request body as text, at most `MAX_BODY_BYTES` whether or not a Content-Length is sent
 * (a chunked body is counted as it arrives and cut off past the limit): 413 otherwise.
 * @example const payload = await readBodyText(c)
 */
export async function readBodyText(c: Context): Promise<string> {
  const declared = Number(c.req.header('content-length') ?? 0);
  if (declared > MAX_BODY_BYTES) throw tooLarge();
  const body = c.req.raw.body;
  let raw = '';
  if (body) {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let size = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > MAX_BODY_BYTES) {
        await reader.cancel();
        throw tooLarge();
      }
      raw += decoder.decode(value, { stream: true });
    }
    raw += decoder.decode();
  }
  return raw;
}

const tooLarge = () =>
  new ApiError('body_too_large', `The body is over ${MAX_BODY_BYTES} bytes.`, [{ path: '', message: 'too large' }]);

/**
 * Refuse (400, naming each) event timestamps more than 5 minutes ahead of `now` and, with
 * `maxAgeMs`, older than that; nothing of the batch is applied then.
 * @example checkEventTimes(events, c.get('now'), MAX_WIDGET_EVENT_AGE_MS)
 */
export function checkEventTimes(events: { timestamp?: number | undefined }[], now: number, maxAgeMs?: number): void {
  const problems = eventTimeProblems(events, now, maxAgeMs);
  if (problems.length) throw new ApiError('validation_failed', 'The request is not valid; nothing was recorded.', problems);
}

