/// <reference types="node" />
/**
 * Rate limits on a real `wrangler dev` worker started with small limits: per secret key, per
 * widget user and per admin key, a 429 `rate_limited` with `Retry-After` and the error body
 * once the window's budget is spent, and a refused request writes nothing.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { query } from '../system/d1';
import { startWorker, type DevWorker } from '../system/devWorker.mjs';
import { call, KEYS, seedAccount, signUserToken } from '../system/fixtures';

const LIMITS = { LADDER_RATE_LIMIT_HOST: '12', LADDER_RATE_LIMIT_WIDGET: '4', LADDER_RATE_LIMIT_ADMIN: '3', LADDER_RATE_LIMIT_WINDOW_SECONDS: '600' };

let dir: string;
let worker: DevWorker;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ladder-ratelimit-'));
  cpSync(inject('systemTemplate'), dir, { recursive: true });
  worker = await startWorker({ persistDir: dir, vars: LIMITS });
});

afterAll(async () => {
  await worker?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function limited(res: Awaited<ReturnType<typeof call>>) {
  expect(res.status).toBe(429);
  expect(res.json.error).toMatchObject({ code: 'rate_limited', message: expect.stringContaining('Retry after'), details: [{ path: '' }] });
  const retryAfter = Number(res.headers.get('retry-after'));
  expect(retryAfter).toBeGreaterThan(0);
  expect(retryAfter).toBeLessThanOrEqual(600);
}

describe('rate limits per credential', () => {
  it('the secret key: its budget is shared by every host endpoint; past it, 429 with Retry-After and nothing written', async () => {
    // Two accounts (2 catalog PUTs + 2 account PUTs), then usage until the budget of 12 is spent.
    await seedAccount(worker.base, 'rl-a');
    await seedAccount(worker.base, 'rl-b');
    let sent = 4;
    for (; sent < 12; sent++) {
      const res = await call(worker.base, 'POST', '/v1/usage', { body: { events: [{ account_id: 'rl-a', metric: 'api_calls', value: 1, idempotency_key: `k${sent}` }] } });
      expect(res.status).toBe(200);
    }
    const rows = query<{ n: number }>(dir, `SELECT count(*) AS n FROM usage_events`)[0]!.n;
    limited(await call(worker.base, 'POST', '/v1/usage', { body: { events: [{ account_id: 'rl-a', metric: 'api_calls', value: 1, idempotency_key: 'over' }] } }));
    limited(await call(worker.base, 'GET', '/v1/accounts/rl-b'));
    expect(query<{ n: number }>(dir, `SELECT count(*) AS n FROM usage_events`)[0]!.n).toBe(rows);
    // A wrong key is still a 401, not a 429: limits count only authenticated callers.
    expect((await call(worker.base, 'GET', '/v1/accounts/rl-b', { token: 'wrong' })).status).toBe(401);
  });

  it('widget users: each user token has its own budget', async () => {
    const alice = signUserToken({ acct: 'rl-a', sub: 'alice' });
    const bob = signUserToken({ acct: 'rl-a', sub: 'bob' });
    for (let i = 0; i < 4; i++) expect((await call(worker.base, 'GET', '/v1/widget/state?session=s1', { token: alice })).status).toBe(200);
    limited(await call(worker.base, 'GET', '/v1/widget/state?session=s1', { token: alice }));
    limited(await call(worker.base, 'POST', '/v1/widget/events', { token: alice, body: { events: [{ type: 'impression', prompt_id: 'limit-api_calls-90', session_id: 's1', idempotency_key: 'i1' }] } }));
    expect((await call(worker.base, 'GET', '/v1/widget/state?session=s1', { token: bob })).status).toBe(200);
  });

  it('the admin key', async () => {
    for (let i = 0; i < 3; i++) expect((await call(worker.base, 'GET', '/v1/admin/prompts', { token: KEYS.LADDER_ADMIN_KEY })).status).toBe(200);
    limited(await call(worker.base, 'GET', '/v1/admin/prompts', { token: KEYS.LADDER_ADMIN_KEY }));
  });
});
