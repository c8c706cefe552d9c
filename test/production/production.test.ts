/// <reference types="node" />
/**
 * Production mode on real `wrangler dev` workers, driven from outside over HTTP: the committed
 * wrangler.toml with weak settings refuses to serve, and a safely configured production worker
 * serves without any development-only route, limits credential guessing per address, ends
 * dashboard sessions at logout, keeps CORS to its origins, bounds timestamps and refuses
 * webhook URLs that point inside.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startWorker, type DevWorker } from '../system/devWorker.mjs';
import { call, signUserToken } from '../system/fixtures';
import { DAY_MS } from '../../shared/time';

/** A safe production configuration: distinct 32+ character keys, one origin, local billing chosen explicitly. */
const SAFE = {
  LADDER_ENV: 'production',
  LADDER_SECRET_KEY: 'sk_live_system_0123456789abcdefghijklmnop',
  LADDER_ADMIN_KEY: 'ak_live_system_0123456789abcdefghijklmnop',
  LADDER_USER_TOKEN_SECRET: 'ut_live_system_0123456789abcdefghijklmnop',
  LADDER_ALLOWED_ORIGINS: 'https://app.example.com',
  LADDER_BILLING: 'local',
};

const dirs: string[] = [];
const workers: DevWorker[] = [];
const stateDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'ladder-prod-'));
  cpSync(inject('systemTemplate'), dir, { recursive: true });
  dirs.push(dir);
  return dir;
};

afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop()));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('a production worker with the committed settings and weak keys', () => {
  let worker: DevWorker;
  beforeAll(async () => {
    // The system keys are short and no origin or billing is set: what a careless deploy looks like.
    // /ladder.js is a static file, so the worker counts as started although every route refuses.
    worker = await startWorker({ persistDir: stateDir(), vars: { LADDER_ENV: 'production', LADDER_ALLOWED_ORIGINS: '' }, healthPath: '/ladder.js' });
    workers.push(worker);
  });

  it('answers 503 on every route and names each unsafe setting on /v1/health, never a value', async () => {
    const health = await call(worker.base, 'GET', '/v1/health', { token: null });
    expect(health.status).toBe(503);
    expect(health.json.ok).toBe(false);
    expect(health.json.problems).toEqual([
      'LADDER_SECRET_KEY: shorter than 32 characters',
      'LADDER_ADMIN_KEY: shorter than 32 characters',
      'LADDER_USER_TOKEN_SECRET: shorter than 32 characters',
      'LADDER_ALLOWED_ORIGINS: empty (list the origins of the app that embeds the widget)',
      'STRIPE_SECRET_KEY: missing (set it, or LADDER_BILLING=local to apply upgrades without charging)',
      'STRIPE_WEBHOOK_SECRET: missing (set it, or LADDER_BILLING=local to apply upgrades without charging)',
    ]);
    expect(health.text).not.toContain('sk_system_secret');
    for (const [method, path, token] of [
      ['GET', '/v1/catalog', undefined],
      ['GET', '/demo', null],
      ['GET', '/demo/token?account=acme&role=admin', null],
      ['POST', '/v1/admin/login', null],
      ['GET', '/dashboard', null],
      ['GET', '/dashboard/index.html', null],
      ['GET', '/openapi.json', null],
    ] as const) {
      const res = await call(worker.base, method, path, { token });
      expect(res.status, `${method} ${path}`).toBe(503);
      expect(res.json.error.code, `${method} ${path}`).toBe('misconfigured');
    }
  });
});

describe('a safely configured production worker', () => {
  let base: string;
  beforeAll(async () => {
    const worker = await startWorker({ persistDir: stateDir(), vars: SAFE });
    workers.push(worker);
    base = worker.base;
    const catalog = {
      metrics: [{ id: 'api_calls', name: 'API calls', unit: 'call', kind: 'counter', reset: 'billing_period' }, { id: 'seats', name: 'Seats', unit: 'seat', kind: 'gauge' }],
      features: [],
      plans: [{ id: 'starter', name: 'Starter', rank: 1, currency: 'usd', price_cents: 5000, interval: 'month', limits: { api_calls: 1000, seats: 5 }, features: [] }],
    };
    expect((await call(base, 'PUT', '/v1/catalog', { token: SAFE.LADDER_SECRET_KEY, body: catalog })).status).toBe(200);
    expect((await call(base, 'PUT', '/v1/accounts/acme', { token: SAFE.LADDER_SECRET_KEY, body: { name: 'Acme', plan_id: 'starter', seats: 2 } })).status).toBe(200);
  });

  it('serves, with local billing chosen explicitly, and has no development-only route', async () => {
    expect((await call(base, 'GET', '/v1/health', { token: null })).json).toEqual({ ok: true, version: expect.any(String), billing: 'local' });
    for (const path of ['/demo', '/demo/', '/demo/token?account=acme&role=admin', '/demo/app.js']) {
      const res = await call(base, 'GET', path, { token: null });
      expect(res.status, path).toBe(404);
    }
    expect((await call(base, 'POST', '/demo/projects', { token: null, body: { account: 'acme' } })).status).toBe(404);
    expect((await call(base, 'POST', '/v1/admin/dev/seed-history', { token: SAFE.LADDER_ADMIN_KEY, body: {} })).status).toBe(404);
  });

  it('serves every dashboard path with its Content-Security-Policy and frame headers', async () => {
    for (const path of ['/dashboard', '/dashboard/', '/dashboard/index.html']) {
      const res = await fetch(base + path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-security-policy'), path).toContain("frame-ancestors 'none'");
      expect(res.headers.get('x-frame-options'), path).toBe('DENY');
    }
  });

  it('grants CORS to its origin only', async () => {
    const preflight = async (origin: string) =>
      (await fetch(`${base}/v1/widget/state`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'GET' } })).headers.get('access-control-allow-origin');
    expect(await preflight('https://app.example.com')).toBe('https://app.example.com');
    expect(await preflight('https://evil.example')).toBeNull();
  });

  it('after 10 failed credentials from one address, answers it 429 with Retry-After even with the right key; other addresses are served', async () => {
    const from = { 'cf-connecting-ip': '203.0.113.77' };
    const guesses = [
      () => call(base, 'GET', '/v1/accounts/acme', { token: 'sk_guess', headers: from }),
      () => call(base, 'GET', '/v1/admin/prompts', { token: 'ak_guess', headers: from }),
      () => call(base, 'GET', '/v1/widget/state?session=s', { token: signUserToken({ acct: 'acme' }, 'not-the-secret'), headers: from }),
      () => call(base, 'POST', '/v1/admin/login', { token: null, headers: { ...from, 'x-ladder-csrf': '1' }, body: { key: 'guess' } }),
    ];
    for (let i = 0; i < 10; i++) expect((await guesses[i % guesses.length]!()).status, `guess ${i + 1}`).toBe(401);
    const blocked = await call(base, 'GET', '/v1/accounts/acme', { token: SAFE.LADDER_SECRET_KEY, headers: from });
    expect(blocked.status).toBe(429);
    expect(blocked.json.error.code).toBe('rate_limited');
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await call(base, 'GET', '/v1/accounts/acme', { token: SAFE.LADDER_SECRET_KEY, headers: { 'cf-connecting-ip': '203.0.113.78' } })).status).toBe(200);
  });

  it('ends a dashboard session at logout, on the server', async () => {
    const login = await fetch(`${base}/v1/admin/login`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-ladder-csrf': '1' }, body: JSON.stringify({ key: SAFE.LADDER_ADMIN_KEY }) });
    expect(login.status).toBe(200);
    const setCookie = login.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/; Secure/);
    const cookie = setCookie.split(';')[0]!;
    expect((await call(base, 'GET', '/v1/admin/session', { token: null, headers: { cookie } })).status).toBe(200);
    expect((await call(base, 'POST', '/v1/admin/logout', { token: null, headers: { cookie, 'x-ladder-csrf': '1' } })).status).toBe(200);
    expect((await call(base, 'GET', '/v1/admin/session', { token: null, headers: { cookie } })).status).toBe(401);
  });

  it('refuses timestamps from the future and query times out of range with 400', async () => {
    const future = await call(base, 'POST', '/v1/usage', {
      token: SAFE.LADDER_SECRET_KEY,
      body: { events: [{ account_id: 'acme', metric: 'seats', value: 1, mode: 'set', idempotency_key: 'f', timestamp: Date.now() + DAY_MS }] },
    });
    expect(future.status).toBe(400);
    expect((await call(base, 'GET', '/v1/admin/analytics/funnel?from=9999999999999999', { token: SAFE.LADDER_ADMIN_KEY })).status).toBe(400);
  });

  it('refuses webhook URLs that point inside the network', async () => {
    for (const url of ['http://crm.example.com/h', 'https://127.0.0.1/h', 'https://localhost/h', 'https://db.internal/h', 'https://intranet/h', 'https://crm.example.com:8443/h']) {
      const res = await call(base, 'PUT', '/v1/admin/webhooks/crm', { token: SAFE.LADDER_ADMIN_KEY, body: { url, format: 'json', events: ['upgrade.succeeded'], secret: 'whsec_0123456789abcdef' } });
      expect(res.status, url).toBe(400);
    }
    const ok = await call(base, 'PUT', '/v1/admin/webhooks/crm', { token: SAFE.LADDER_ADMIN_KEY, body: { url: 'https://crm.example.com/h', format: 'json', events: ['upgrade.succeeded'], secret: 'whsec_0123456789abcdef' } });
    expect(ok.status).toBe(201);
  });
});
