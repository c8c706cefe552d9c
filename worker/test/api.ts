/** Test client: real requests through the worker's app, in workerd, on the test file's D1. */
import { createExecutionContext, createMessageBatch, getQueueResult, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { sign } from 'hono/jwt';
import worker, { app } from '../index';
import { scaleOptions } from '../scale';
import { signServe } from '../serveToken';
import { expectDeclared } from './declared';
import { DAY_MS as DAY } from '../../shared/time';

export const SECRET = 'sk_test_secret';
export const ADMIN = 'ak_test_admin';
export const TOKEN_SECRET = 'ut_test_token_secret';
export { env };

type Init = { body?: unknown; token?: string | null; headers?: Record<string, string>; raw?: string };

/** Call the API; `token` defaults to the secret key. Returns status, parsed JSON and headers. */
export const api = (method: string, path: string, init: Init = {}) => apiWith({}, method, path, init);

/** A user token as a host backend would sign it. */
export async function userToken(claims: { sub?: string; acct: string; role?: 'admin' | 'member'; exp?: number; locale?: string; name?: string }, secret = TOKEN_SECRET) {
  return sign({ sub: claims.sub ?? 'u1', acct: claims.acct, role: claims.role ?? 'admin', exp: claims.exp ?? Math.floor(Date.now() / 1000) + 3600, ...(claims.locale && { locale: claims.locale }), ...(claims.name && { name: claims.name }) }, secret, 'HS256');
}

export { DAY };

/** The demo-like catalog tests build on: three plans 4x apart. */
export const catalog = {
  metrics: [
    { id: 'api_calls', name: 'API calls', unit: 'call', kind: 'counter', reset: 'billing_period' },
    { id: 'seats', name: 'Seats', unit: 'seat', kind: 'gauge' },
    { id: 'projects', name: 'Projects', unit: 'project', kind: 'gauge' },
  ],
  features: [
    { id: 'sso', name: 'Single sign-on', description: 'SAML SSO', trial_days: 14 },
    { id: 'audit_log', name: 'Audit log', description: 'Who did what', trial_days: 0 },
  ],
  plans: [
    { id: 'starter', name: 'Starter', rank: 1, currency: 'usd', price_cents: 5000, interval: 'month', limits: { api_calls: 10000, seats: 5, projects: 3 }, features: [] },
    { id: 'pro', name: 'Pro', rank: 2, currency: 'usd', price_cents: 20000, interval: 'month', limits: { api_calls: 50000, seats: 20, projects: 20 }, features: ['audit_log'] },
    { id: 'business', name: 'Business', rank: 3, currency: 'usd', price_cents: 80000, interval: 'month', limits: { api_calls: 250000, seats: 100, projects: null }, features: ['audit_log', 'sso'] },
  ],
};

/** Put the catalog and an account on Starter with a 30-day period around now. */
export async function seedAccount(accountId: string, extra: Record<string, unknown> = {}) {
  await api('PUT', '/v1/catalog', { body: catalog });
  const now = Date.now();
  const res = await api('PUT', `/v1/accounts/${accountId}`, {
    body: { name: accountId, plan_id: 'starter', seats: 5, period_start: now - 15 * DAY, period_end: now + 15 * DAY, ...extra },
  });
  if (res.status !== 200) throw new Error(`seed failed: ${JSON.stringify(res.json)}`);
  return res.json;
}

let n = 0;
/** A unique id per call, so tests in one file never share rows. */
export const uid = (prefix = 'acct') => `${prefix}-${++n}-${Math.random().toString(36).slice(2, 8)}`;

/** The test webhook receiver (worker/test/receiver.global.ts): a URL that records what it gets, failing the first `fail` requests. */
export const receiverUrl = (key: string, fail = 0, status = 500) =>
  `${(env as unknown as { TEST_WEBHOOK_RECEIVER: string }).TEST_WEBHOOK_RECEIVER}/hooks/${key}${fail ? `?fail=${fail}&status=${status}` : ''}`;

/** What the test webhook receiver got at `key`, oldest first. */
export async function received(key: string): Promise<{ method: string; headers: Record<string, string>; body: string; answered: number }[]> {
  const res = await fetch(`${(env as unknown as { TEST_WEBHOOK_RECEIVER: string }).TEST_WEBHOOK_RECEIVER}/received/${key}`);
  return res.json();
}

/**
 * The scale options this run of the suite is under (docs/scale.md): vitest.config.ts runs the
 * worker suite once per combination of LADDER_COUNTERS × LADDER_INGEST, passed as bindings.
 */
export const OPTIONS = scaleOptions(env);
/** Under LADDER_INGEST=queue, POST /v1/usage and /v1/track answer 202 `{ queued: N }` instead of 200 `{ accepted, duplicates }`. */
export const QUEUED = OPTIONS.ingest === 'queue';
/** The status a usage or track batch is answered with when it is taken: 200 once stored, or 202 once queued. */
export const TAKEN = QUEUED ? 202 : 200;
/**
 * The answer of POST /v1/usage or /v1/track to a batch of which `accepted` events are new and
 * `duplicates` seen before: the direct contract, or under LADDER_INGEST=queue `{ queued: n }`
 * (how many were duplicates is not known until the consumer applies it; README, queued ingestion).
 */
export const taken = (accepted: number, duplicates = 0) => (QUEUED ? { queued: accepted + duplicates } : { accepted, duplicates });

/**
 * Under LADDER_COUNTERS=durable_object the account's object holds the live counters and writes
 * them (events, counters, roll-ups, threshold webhooks) to D1 on its alarm: run it, so what a test
 * then reads from D1 is what the object recorded. Under d1 there is nothing to wait for.
 */
export async function flushCounters(accountId: string, bindings: { LADDER_COUNTERS?: string } = {}) {
  if ((bindings.LADDER_COUNTERS ?? OPTIONS.counters) !== 'durable_object') return;
  const stub = env.ACCOUNT_COUNTERS!.get(env.ACCOUNT_COUNTERS!.idFromName(accountId));
  if (await runDurableObjectAlarm(stub)) return;
  // No alarm to run: right only if the object has nothing waiting for D1. Otherwise its alarm fired on
  // its own (or is running now), and D1 is not yet what the object recorded: fail rather than race it.
  // (The object's constructor creates its tables, so they exist here.)
  const waiting = await runInDurableObject(stub, (_, state) => {
    const some = (query: string) => state.storage.sql.exec(query).toArray().length > 0;
    return (
      some(`SELECT 1 FROM events WHERE flushed = 0 LIMIT 1`) ||
      some(`SELECT 1 FROM counters WHERE version > flushed_version LIMIT 1`) ||
      some(`SELECT 1 FROM crossings WHERE flushed = 0 LIMIT 1`)
    );
  });
  if (waiting) throw new Error(`account object of "${accountId}" has writes not in D1 but no alarm to run (did it fire on its own?)`);
}

let delivered = 0;
/**
 * A queue producer that keeps what the route sends, JSON round-tripped as the queue carries it,
 * so the request helper can hand it to the consumer itself and return once it is applied.
 */
function capturingQueue() {
  const sent: unknown[] = [];
  const keep = (body: unknown) => sent.push(JSON.parse(JSON.stringify(body)));
  const queue = {
    send: async (body: unknown) => void keep(body),
    sendBatch: async (messages: Iterable<{ body: unknown }>) => {
      for (const m of messages) keep(m.body);
    },
  };
  return { queue, sent };
}

/**
 * `app.request` on the test's env with some bindings replaced. Under the suite's LADDER_INGEST=queue
 * (unless the test sets LADDER_INGEST or the queue itself), a batch answered 202 is handed to the
 * worker's queue consumer, as the queue would deliver it, before this returns; a message the
 * consumer did not acknowledge fails the test. So every test asserts the same end state under
 * either ingestion; the real queue's delivery, retries and dead-lettering are tested in
 * worker/ingest.test.ts and by the system matrix (test/system/matrix.mjs).
 */
export async function request(path: string, init: RequestInit, bindings: Partial<typeof env> = {}) {
  const capture = QUEUED && !('LADDER_INGEST' in bindings) && !('LADDER_INGEST_QUEUE' in bindings) ? capturingQueue() : null;
  const bound = { ...env, ...bindings, ...(capture && { LADDER_INGEST_QUEUE: capture.queue }) } as typeof env;
  const res = await app.request(path, init, bound);
  if (capture?.sent.length) {
    if (res.status !== 202) throw new Error(`${path} put messages on the queue but answered ${res.status}`);
    const batch = createMessageBatch(
      'ladder-ingest',
      capture.sent.map((body) => ({ id: `test-${++delivered}`, timestamp: new Date(), attempts: 1, body })),
    );
    const ctx = createExecutionContext();
    await worker.queue(batch, bound);
    const result = await getQueueResult(batch, ctx);
    if (result.retryMessages.length || result.explicitAcks.length !== capture.sent.length)
      throw new Error(`the queue consumer did not apply ${path}'s batch: ${JSON.stringify(result)}`);
  }
  return res;
}

/** `api` with some bindings overridden (e.g. STRIPE to switch billing to the Stripe provider). */
export async function apiWith(bindings: Partial<typeof env>, method: string, path: string, init: Init = {}) {
  // Each call from its own client address, so failed credentials of one test never block another (authFailures.ts).
  const headers: Record<string, string> = { 'cf-connecting-ip': `198.51.100.${Math.floor(Math.random() * 254) + 1}`, ...init.headers };
  const token = init.token === undefined ? SECRET : init.token;
  if (token) headers.authorization = `Bearer ${token}`;
  let body: string | undefined = init.raw;
  if (init.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(init.body);
  }
  const res = await request(path, { method, headers, body }, bindings);
  const text = await res.text();
  let json: any = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = text;
  }
  // Every answer is checked against the route's declared response schema (./declared.ts).
  expectDeclared(method, path, res.status, res.headers.get('content-type') ?? '', json);
  return { status: res.status, json, headers: res.headers };
}

/**
 * The serve token the widget state would carry for this prompt (worker/serveToken.ts), for the
 * user of `token`: prompt events need it.
 */
export async function serveToken(token: string, prompt_id: string, variant_id: string | null = null, experiment_id: string | null = null) {
  const claims = JSON.parse(atob(token.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/'))) as { acct: string; sub: string };
  return signServe(TOKEN_SECRET, { acct: claims.acct, sub: claims.sub, prompt_id, variant_id, experiment_id }, Date.now());
}

/** Keys of a safe production configuration: each 32+ characters and distinct (worker/config.ts). */
export const PROD_KEYS = {
  LADDER_SECRET_KEY: 'sk_prod_0123456789abcdef0123456789abcdef',
  LADDER_ADMIN_KEY: 'ak_prod_0123456789abcdef0123456789abcdef',
  LADDER_USER_TOKEN_SECRET: 'ut_prod_0123456789abcdef0123456789abcdef',
};
/** Bindings of a production worker that is safe to serve: production mode, strong keys, one origin, local billing chosen explicitly. */
export const PRODUCTION = { ...PROD_KEYS, LADDER_ENV: 'production', LADDER_ALLOWED_ORIGINS: 'https://app.example.com', LADDER_BILLING: 'local' };

/** The counter stores (docs/scale.md) the usage and check tests run against: `describe.each(COUNTERS)` with `apiWith(counters, …)`. */
export const COUNTERS = [{ LADDER_COUNTERS: 'd1' }, { LADDER_COUNTERS: 'durable_object' }] as const;

/** Bindings that switch billing to the Stripe provider, talking to the wire-format mock (worker/test/stripe.mock.ts). */
export const STRIPE = { STRIPE_SECRET_KEY: 'sk_test_ladder_mock' };

/** Call a test control of the Stripe mock: `stripeMock('POST', '/__mock/seed', { … })`. */
export async function stripeMock(method: 'GET' | 'POST', path: string, body?: unknown): Promise<any> {
  const res = await fetch(`http://127.0.0.1:${env.STRIPE_API_PORT}${path}`, {
    method,
    ...(body !== undefined && { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  if (!res.ok) throw new Error(`stripe mock ${method} ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}
