import type { Context } from 'hono';
import type { z } from 'zod';
import { eventTimeProblems } from '../../shared/schemas';
import { ApiError, validate } from '../errors';

export const MAX_BODY_BYTES = 1024 * 1024;

/**
 * Read the request's JSON body (at most 1 MiB, else 413) and validate it with `schema`.
 * Malformed JSON is a 400 `invalid_json`; a schema failure a 400 naming each field.
 * @example const batch = await readJson(c, usageBatchSchema);
 */
export async function readJson<S extends z.ZodType>(c: Context, schema: S): Promise<z.output<S>> {
  const raw = await readBodyText(c);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new ApiError(400, 'invalid_json', 'The body must be a JSON document.', [{ path: '', message: raw ? 'malformed JSON' : 'empty body' }]);
  }
  return validate(schema, parsed);
}

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
  new ApiError(413, 'body_too_large', `The body is over ${MAX_BODY_BYTES} bytes.`, [{ path: '', message: 'too large' }]);

/**
 * Refuse (400, naming each) event timestamps more than 5 minutes ahead of `now` and, with
 * `maxAgeMs`, older than that; nothing of the batch is applied then.
 * @example checkEventTimes(events, c.get('now'), MAX_WIDGET_EVENT_AGE_MS)
 */
export function checkEventTimes(events: { timestamp?: number | undefined }[], now: number, maxAgeMs?: number): void {
  const problems = eventTimeProblems(events, now, maxAgeMs);
  if (problems.length) throw new ApiError(400, 'validation_failed', 'The request is not valid; nothing was recorded.', problems);
}

/** Validate the query string with `schema` (strict, so unknown parameters are refused). */
export function readQuery<S extends z.ZodType>(c: Context, schema: S): z.output<S> {
  return validate(schema, c.req.query());
}
