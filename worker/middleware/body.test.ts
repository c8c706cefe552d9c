import { describe, expect, it } from 'vitest';
import { app } from '../index';
import { ADMIN, api, env, seedAccount, SECRET, uid, userToken } from '../test/api';
import { MAX_BODY_BYTES } from './body';

const big = new TextEncoder().encode(`{"events":[${'"x",'.repeat(270_000)}"x"]}`);

/** The same 1.3 MiB in 32 KiB chunks from a stream: no Content-Length, the worker must count. */
const chunked = () =>
  new ReadableStream<Uint8Array>({
    start(controller) {
      for (let i = 0; i < big.length; i += 32 * 1024) controller.enqueue(big.slice(i, i + 32 * 1024));
      controller.close();
    },
  });

describe('request bodies over 1 MiB', () => {
  it('are refused with 413 and the error body on every operation that takes a body, with or without a Content-Length, writing nothing', async () => {
    expect(big.length).toBeGreaterThan(MAX_BODY_BYTES);
    const acct = uid();
    await seedAccount(acct);
    const token = await userToken({ acct });
    const counts = async () => (await env.DB.prepare('SELECT (SELECT count(*) FROM usage_events) + (SELECT count(*) FROM track_events) + (SELECT count(*) FROM prompt_events) AS n').first<{ n: number }>())?.n;
    const before = await counts();
    const doc = (await api('GET', '/openapi.json', { token: null })).json;
    const withBody = Object.entries(doc.paths as Record<string, Record<string, { requestBody?: unknown; security?: Record<string, unknown>[] }>>).flatMap(([path, ops]) =>
      Object.entries(ops).filter(([, op]) => op.requestBody).map(([method, op]) => ({ method: method.toUpperCase(), path: path.replace(/\{\w+\}/g, acct), auth: Object.keys(op.security?.[0] ?? {})[0] })),
    );
    expect(withBody.length).toBeGreaterThan(15);
    for (const op of withBody) {
      if (op.auth === 'stripeSignature') continue; // verified against the raw body first; its own tests cover bad bodies
      const bearer = op.auth === 'secretKey' ? SECRET : op.auth === 'adminKey' ? ADMIN : op.auth === 'userToken' ? token : null;
      const headers: Record<string, string> = { 'content-type': 'application/json', ...(bearer && { authorization: `Bearer ${bearer}` }) };
      for (const [kind, body] of [['sized', big], ['chunked', chunked()]] as const) {
        const res = await app.request(op.path, { method: op.method, headers, body, ...(kind === 'chunked' && { duplex: 'half' }) } as RequestInit, env);
        expect(res.status, `${op.method} ${op.path} ${kind}`).toBe(413);
        expect((await res.json()).error.code).toBe('body_too_large');
      }
    }
    expect(await counts()).toBe(before);
  });
});
