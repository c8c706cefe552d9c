import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import type { AppEnv } from '../env';
import { errorResponse } from '../errors';
import { apiWith, seedAccount, uid, userToken } from '../test/api';
import { rateLimit } from './rateLimit';

/** A tiny app with one limiter keyed by the `x-key` header and a clock the test moves. */
function limitedApp() {
  let now = Date.UTC(2026, 10, 1, 12, 0, 10);
  const app = new Hono<AppEnv>();
  app.onError(errorResponse);
  app.use('*', async (c, next) => {
    c.set('now', now);
    await next();
  });
  app.use('*', rateLimit({ scope: 'secret key', limitVar: 'LADDER_RATE_LIMIT_HOST', defaultLimit: 2, key: (c) => c.req.header('x-key') ?? 'none' }));
  app.get('/', (c) => c.json({ ok: true }));
  const get = async (key: string, env: Record<string, string> = {}) => {
    const res = await app.request('/', { headers: { 'x-key': key } }, env);
    return { status: res.status, retryAfter: res.headers.get('retry-after'), json: (await res.json()) as any };
  };
  return { get, advance: (ms: number) => (now += ms) };
}

describe('rate limiting per credential', () => {
  it('answers 429 rate_limited with Retry-After once a key passes its limit, and counts keys apart', async () => {
    const { get } = limitedApp();
    expect((await get('a')).status).toBe(200);
    expect((await get('a')).status).toBe(200);
    const third = await get('a');
    expect(third.status).toBe(429);
    expect(third.json.error).toMatchObject({ code: 'rate_limited', details: [{ path: '', message: 'limit 2 per 60 s' }] });
    expect(third.retryAfter).toBe('50');
    expect((await get('b')).status).toBe(200);
  });

  it('starts counting again in the next window', async () => {
    const { get, advance } = limitedApp();
    await get('a');
    await get('a');
    expect((await get('a')).status).toBe(429);
    advance(50_000);
    expect((await get('a')).status).toBe(200);
  });

  it('takes the limit and the window from the environment, ignoring values that are not positive integers', async () => {
    const { get } = limitedApp();
    const env = { LADDER_RATE_LIMIT_HOST: '3', LADDER_RATE_LIMIT_WINDOW_SECONDS: '10' };
    for (let i = 0; i < 3; i++) expect((await get('c', env)).status).toBe(200);
    const refused = await get('c', env);
    expect(refused.status).toBe(429);
    expect(refused.retryAfter).toBe('10');
    const bad = { LADDER_RATE_LIMIT_HOST: '-1', LADDER_RATE_LIMIT_WINDOW_SECONDS: 'soon' };
    expect((await get('d', bad)).status).toBe(200);
    expect((await get('d', bad)).status).toBe(200);
    expect((await get('d', bad)).status).toBe(429);
  });

  it('limits each widget user apart: one user over the limit does not block a teammate', async () => {
    const acct = uid();
    await seedAccount(acct);
    const limits = { LADDER_RATE_LIMIT_WIDGET: '3' } as never;
    const alice = await userToken({ acct, sub: `alice-${acct}` });
    const bob = await userToken({ acct, sub: `bob-${acct}` });
    for (let i = 0; i < 3; i++) expect((await apiWith(limits, 'GET', '/v1/widget/state?session=s1', { token: alice })).status).toBe(200);
    const refused = await apiWith(limits, 'GET', '/v1/widget/state?session=s1', { token: alice });
    expect(refused.status).toBe(429);
    expect(refused.json.error.code).toBe('rate_limited');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await apiWith(limits, 'GET', '/v1/widget/state?session=s1', { token: bob })).status).toBe(200);
  });
});

describe('rate limiting per account', () => {
  it('all the users of one account share the account budget beside their own, so one account cannot flood the database', async () => {
    const acct = uid();
    const other = uid();
    await seedAccount(acct);
    await seedAccount(other);
    const small = { LADDER_RATE_LIMIT_ACCOUNT: '5', LADDER_RATE_LIMIT_WIDGET: '100' } as never;
    const users = await Promise.all(['ann', 'bob', 'cat'].map((sub) => userToken({ acct, sub })));
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await apiWith(small, 'GET', '/v1/widget/state?session=s', { token: users[i % 3]! })).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    const refused = await apiWith(small, 'GET', '/v1/widget/state?session=s', { token: users[0]! });
    expect(refused.status).toBe(429);
    expect(refused.json.error.message).toMatch(/this account/);
    // Another account is not affected.
    expect((await apiWith(small, 'GET', '/v1/widget/state?session=s', { token: await userToken({ acct: other }) })).status).toBe(200);
  });
});
