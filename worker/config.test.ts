import { describe, expect, it } from 'vitest';
import { billingChoice, configProblems, ladderMode, productionProblems } from './config';
import type { Env } from './env';
import { app } from './index';
import { env, PROD_KEYS, PRODUCTION, seedAccount, uid } from './test/api';

const call = (path: string, bindings: Record<string, unknown>, init: RequestInit = {}) =>
  app.request(path, init, { ...env, ...bindings } as Env);

/** A production configuration with `changes` applied (`undefined` removes a setting). */
const prod = (changes: Record<string, string | undefined> = {}) => ({ ...PRODUCTION, ...changes }) as Env;

describe('the mode', () => {
  it('is production unless LADDER_ENV says development or test exactly', () => {
    expect(ladderMode({})).toBe('production');
    for (const value of ['', 'prod', 'Development', 'staging', 'dev', 'TEST']) expect(ladderMode({ LADDER_ENV: value }), value).toBe('production');
    expect(ladderMode({ LADDER_ENV: 'development' })).toBe('development');
    expect(ladderMode({ LADDER_ENV: 'test' })).toBe('test');
  });

  it('production with no Stripe key does not fall back to free upgrades unless LADDER_BILLING=local is chosen', () => {
    expect(productionProblems(prod({ LADDER_BILLING: undefined }))).toEqual(
      expect.arrayContaining([expect.stringMatching(/^STRIPE_SECRET_KEY: missing/), expect.stringMatching(/^STRIPE_WEBHOOK_SECRET: missing/)]),
    );
    expect(productionProblems(prod({ LADDER_BILLING: undefined, STRIPE_SECRET_KEY: 'sk_live_x', STRIPE_WEBHOOK_SECRET: 'whsec_x' }))).toEqual([]);
    expect(billingChoice({ LADDER_BILLING: 'local', STRIPE_SECRET_KEY: 'sk_live_x' })).toBe('local');
    expect(billingChoice({ STRIPE_SECRET_KEY: 'sk_live_x' })).toBe('stripe');
  });
});

describe('an unsafe production configuration', () => {
  const cases: [string, Record<string, string | undefined>, RegExp][] = [
    ['a missing secret key', { LADDER_SECRET_KEY: undefined }, /^LADDER_SECRET_KEY: missing/],
    ['a short admin key', { LADDER_ADMIN_KEY: 'a'.repeat(31) }, /^LADDER_ADMIN_KEY: shorter than 32 characters/],
    ['an empty user-token secret', { LADDER_USER_TOKEN_SECRET: '' }, /^LADDER_USER_TOKEN_SECRET: missing/],
    ['two equal keys', { LADDER_ADMIN_KEY: PROD_KEYS.LADDER_SECRET_KEY }, /^LADDER_SECRET_KEY, LADDER_ADMIN_KEY: equal/],
    ['no allowed origins', { LADDER_ALLOWED_ORIGINS: undefined }, /^LADDER_ALLOWED_ORIGINS: empty/],
    ['blank allowed origins', { LADDER_ALLOWED_ORIGINS: ' , ' }, /^LADDER_ALLOWED_ORIGINS: empty/],
    ['any origin', { LADDER_ALLOWED_ORIGINS: 'https://app.example.com,*' }, /^LADDER_ALLOWED_ORIGINS: "\*" is not allowed/],
    ['an origin with a path', { LADDER_ALLOWED_ORIGINS: 'https://app.example.com/x' }, /^LADDER_ALLOWED_ORIGINS: every entry must be an origin/],
    ['no billing at all', { LADDER_BILLING: undefined }, /^STRIPE_SECRET_KEY: missing/],
    ['a Stripe key without its webhook secret', { LADDER_BILLING: undefined, STRIPE_SECRET_KEY: 'sk_live_x', STRIPE_WEBHOOK_SECRET: undefined }, /^STRIPE_WEBHOOK_SECRET: missing/],
    ['an unknown billing mode', { LADDER_BILLING: 'free' }, /^LADDER_BILLING: must be "stripe" or "local"/],
  ];

  it.each(cases)('with %s: every route answers 503 misconfigured and health names the setting, never its value', async (_name, changes, problem) => {
    const bindings = prod(changes);
    expect(configProblems(bindings)).toEqual(expect.arrayContaining([expect.stringMatching(problem)]));
    const health = await call('/v1/health', bindings);
    expect(health.status).toBe(503);
    const body = (await health.json()) as { ok: boolean; problems: string[] };
    expect(body.ok).toBe(false);
    expect(body.problems).toEqual(expect.arrayContaining([expect.stringMatching(problem)]));
    const text = JSON.stringify(body);
    for (const value of Object.values(changes)) if (value && value.length > 3) expect(text).not.toContain(value);
    for (const key of Object.values(PROD_KEYS)) expect(text).not.toContain(key);
    const routes: [string, RequestInit][] = [
      ['/v1/catalog', { headers: { authorization: `Bearer ${PROD_KEYS.LADDER_SECRET_KEY}` } }],
      ['/v1/widget/state?session=s', {}],
      ['/v1/admin/prompts', { headers: { authorization: `Bearer ${PROD_KEYS.LADDER_ADMIN_KEY}` } }],
      ['/v1/admin/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ key: PROD_KEYS.LADDER_ADMIN_KEY }) }],
      ['/v1/stripe/webhook', { method: 'POST', body: '{}' }],
      ['/openapi.json', {}],
      ['/dashboard', {}],
      ['/demo', {}],
      ['/nowhere', {}],
    ];
    for (const [path, init] of routes) {
      const res = await call(path, bindings, init);
      expect(res.status, path).toBe(503);
      expect(((await res.json()) as { error: { code: string } }).error.code, path).toBe('misconfigured');
    }
  });

  it('with the committed wrangler.toml values alone (production, no origins, no secrets) refuses to serve', async () => {
    const bare = { DB: env.DB, LADDER_ENV: 'production', LADDER_ALLOWED_ORIGINS: '' } as unknown as Env;
    const res = await app.request('/v1/health', {}, bare);
    expect(res.status).toBe(503);
    const { problems } = (await res.json()) as { problems: string[] };
    expect(problems).toEqual([
      'LADDER_SECRET_KEY: missing',
      'LADDER_ADMIN_KEY: missing',
      'LADDER_USER_TOKEN_SECRET: missing',
      'LADDER_ALLOWED_ORIGINS: empty (list the origins of the app that embeds the widget)',
      'STRIPE_SECRET_KEY: missing (set it, or LADDER_BILLING=local to apply upgrades without charging)',
      'STRIPE_WEBHOOK_SECRET: missing (set it, or LADDER_BILLING=local to apply upgrades without charging)',
    ]);
  });
});

describe('a safe production configuration', () => {
  it('serves, says its billing, and has no development-only route', async () => {
    const health = await call('/v1/health', PRODUCTION);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ ok: true, version: expect.any(String), billing: 'local' });
    const acct = uid();
    await seedAccount(acct);
    const account = await call(`/v1/accounts/${acct}`, PRODUCTION, { headers: { authorization: `Bearer ${PROD_KEYS.LADDER_SECRET_KEY}` } });
    expect(account.status).toBe(200);
    for (const path of ['/demo', '/demo/', `/demo/token?account=${acct}&role=admin`, '/demo/app.js']) expect((await call(path, PRODUCTION)).status, path).toBe(404);
    const projects = await call(`/demo/projects`, PRODUCTION, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ account: acct }) });
    expect(projects.status).toBe(404);
    const seed = await call('/v1/admin/dev/seed-history', PRODUCTION, {
      method: 'POST',
      headers: { authorization: `Bearer ${PROD_KEYS.LADDER_ADMIN_KEY}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(seed.status).toBe(404);
  });

  it('grants CORS to the configured origin only, never to any origin', async () => {
    const preflight = (origin: string) =>
      call('/v1/widget/state', PRODUCTION, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'GET' } });
    expect((await preflight('https://app.example.com')).headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect((await preflight('https://evil.example')).headers.get('access-control-allow-origin')).toBeNull();
  });

  it('in development lists what production would refuse, so npm run dev can warn', async () => {
    const res = await call('/v1/health', { LADDER_ENV: 'development', LADDER_ALLOWED_ORIGINS: '*' });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { mode: string; production_problems: string[] };
    expect(body.mode).toBe('development');
    expect(body.production_problems).toContain('LADDER_ALLOWED_ORIGINS: "*" is not allowed in production');
  });
});
