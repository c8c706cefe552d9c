import { Hono } from 'hono';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AppEnv, Env } from '../env';
import { errorResponse } from '../errors';
import { ADMIN, api, apiWith, env, SECRET, seedAccount, uid, userToken } from '../test/api';
import { AUTH_FAILURE_LIMIT, failureCounter, limitAuthFailures } from './authFailures';

const address = () => `203.0.113.${Math.floor(Math.random() * 254) + 1}-${uid('ip')}`;

describe('failed credentials per client address', () => {
  afterEach(() => vi.useRealTimers());

  it('after 10 failures of any kind in a minute, the address gets 429 with Retry-After even with a good key, until the minute is over', async () => {
    const t0 = Date.UTC(2026, 11, 1, 12, 0, 5);
    vi.useFakeTimers({ now: t0, toFake: ['Date'] });
    const acct = uid();
    await seedAccount(acct);
    const ip = address();
    const from = { 'cf-connecting-ip': ip };
    // The in-isolate counter alone (no Rate Limiting binding), so the test can move the minute on.
    const inIsolate = { AUTH_FAILURES: undefined } as never;
    const failures = [
      () => apiWith(inIsolate, 'GET', `/v1/accounts/${acct}`, { token: 'wrong-secret', headers: from }),
      () => apiWith(inIsolate, 'GET', '/v1/admin/prompts', { token: 'wrong-admin', headers: from }),
      () => apiWith(inIsolate, 'GET', '/v1/widget/state?session=s', { token: 'not.a.jwt', headers: from }),
      () => apiWith(inIsolate, 'POST', '/v1/admin/login', { token: null, headers: { ...from, 'x-ladder-csrf': '1' }, body: { key: 'guess' } }),
    ];
    for (let i = 0; i < AUTH_FAILURE_LIMIT; i++) expect((await failures[i % failures.length]!()).status, `failure ${i + 1}`).toBe(401);
    const blocked = await apiWith(inIsolate, 'GET', `/v1/accounts/${acct}`, { token: SECRET, headers: from });
    expect(blocked.status).toBe(429);
    expect(blocked.json.error.code).toBe('rate_limited');
    expect(Number(blocked.headers.get('retry-after'))).toBe(55);
    expect((await apiWith(inIsolate, 'GET', '/v1/admin/prompts', { token: ADMIN, headers: from })).status).toBe(429);
    expect((await apiWith(inIsolate, 'GET', '/v1/widget/state?session=s', { token: await userToken({ acct }), headers: from })).status).toBe(429);
    // Another address is not affected; a route without a credential is not either.
    expect((await apiWith(inIsolate, 'GET', `/v1/accounts/${acct}`, { token: SECRET, headers: { 'cf-connecting-ip': address() } })).status).toBe(200);
    expect((await apiWith(inIsolate, 'GET', '/v1/health', { token: null, headers: from })).status).toBe(200);
    vi.setSystemTime(t0 + 55_000);
    expect((await apiWith(inIsolate, 'GET', `/v1/accounts/${acct}`, { token: SECRET, headers: from })).status).toBe(200);
  });

  it('nine failures and a success do not block', async () => {
    const acct = uid();
    await seedAccount(acct);
    const from = { 'cf-connecting-ip': address() };
    for (let i = 0; i < AUTH_FAILURE_LIMIT - 1; i++) expect((await api('GET', `/v1/accounts/${acct}`, { token: 'wrong', headers: from })).status).toBe(401);
    expect((await api('GET', `/v1/accounts/${acct}`, { token: SECRET, headers: from })).status).toBe(200);
    expect((await api('GET', `/v1/accounts/${acct}`, { token: SECRET, headers: from })).status).toBe(200);
  });

  it('through the Rate Limiting binding, failures counted in one isolate block the address in another', async () => {
    // Two counters stand for two isolates; what they share is the AUTH_FAILURES binding of wrangler.toml.
    const binding = (env as unknown as Env).AUTH_FAILURES;
    expect(binding, 'wrangler.toml binds AUTH_FAILURES').toBeDefined();
    const isolate = () => {
      const app = new Hono<AppEnv>();
      app.onError(errorResponse);
      app.use('*', async (c, next) => {
        c.set('now', Date.now());
        await next();
      });
      app.use('*', limitAuthFailures(failureCounter()));
      app.get('/', (c) => (c.req.header('authorization') === 'Bearer good' ? c.json({ ok: true }) : c.json({ error: { code: 'unauthorized' } }, 401)));
      return (ip: string, token: string) => app.request('/', { headers: { authorization: `Bearer ${token}`, 'cf-connecting-ip': ip } }, env);
    };
    const [first, second] = [isolate(), isolate()];
    const ip = address();
    for (let i = 0; i < AUTH_FAILURE_LIMIT; i++) expect((await first(ip, 'bad')).status).toBe(401);
    // The second isolate has seen nothing from this address yet: the good key passes there...
    expect((await second(ip, 'good')).status).toBe(200);
    // ...but its first failure is the 11th the binding counts, so from then on it blocks the address too.
    expect((await second(ip, 'bad')).status).toBe(401);
    const res = await second(ip, 'good');
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
  });
});
