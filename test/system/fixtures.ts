/// <reference types="node" />
/**
 * Shared setup of the system tests: the catalog they run on, accounts on it, user tokens, a
 * loopback receiver for outgoing webhooks and Stripe's webhook signature.
 */
import { createHmac } from 'node:crypto';
import { expect } from 'vitest';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { call, signUserToken } from './client.mjs';
import { DAY_MS } from '../../shared/time';

export { call, signUserToken };
export { KEYS } from './devWorker.mjs';
export { DAY_MS as DAY };

/** Three plans 4× apart with a seat price, Stripe price ids for the webhook tests. */
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
    { id: 'starter', name: 'Starter', rank: 1, currency: 'usd', price_cents: 5000, interval: 'month', stripe_price_id: 'price_sys_starter', seat_price_cents: 1000, stripe_seat_price_id: 'price_sys_seat', limits: { api_calls: 10_000_000, seats: 5, projects: 3 }, features: [] },
    { id: 'pro', name: 'Pro', rank: 2, currency: 'usd', price_cents: 20000, interval: 'month', stripe_price_id: 'price_sys_pro', seat_price_cents: 1000, stripe_seat_price_id: 'price_sys_seat', limits: { api_calls: 50_000_000, seats: 20, projects: 20 }, features: ['audit_log'] },
    { id: 'business', name: 'Business', rank: 3, currency: 'usd', price_cents: 80000, interval: 'month', stripe_price_id: 'price_sys_business', seat_price_cents: 1000, stripe_seat_price_id: 'price_sys_seat', limits: { api_calls: 250_000_000, seats: 100, projects: null }, features: ['audit_log', 'sso'] },
  ],
};

let n = 0;
/** A unique id per call, so tests never share rows. */
export const uid = (prefix = 'sys') => `${prefix}-${++n}-${Math.random().toString(36).slice(2, 8)}`;

/** Put the catalog (idempotent) and an account on Starter with a 30-day period around now. */
export async function seedAccount(base: string, accountId: string, extra: Record<string, unknown> = {}) {
  const cat = await call(base, 'PUT', '/v1/catalog', { body: catalog });
  if (cat.status !== 200) throw new Error(`catalog: ${cat.status} ${cat.text}`);
  const now = Date.now();
  const res = await call(base, 'PUT', `/v1/accounts/${accountId}`, {
    body: { name: accountId, plan_id: 'starter', seats: 5, created_at: now - 60 * DAY_MS, period_start: now - 15 * DAY_MS, period_end: now + 15 * DAY_MS, ...extra },
  });
  if (res.status !== 200) throw new Error(`account: ${res.status} ${res.text}`);
  return res.json;
}

/** The same request `copies` times at once (a retry storm); resolves with every answer. */
export const storm = <T>(copies: number, send: (i: number) => Promise<T>) => Promise.all(Array.from({ length: copies }, (_, i) => send(i)));

/** A `Stripe-Signature` header for `payload`, as Stripe signs webhook deliveries. */
export function stripeSignature(payload: string, secret: string, t = Math.floor(Date.now() / 1000)) {
  return `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${payload}`).digest('hex')}`;
}

/** A loopback HTTP server that records what it receives (outgoing webhooks), answering 200. */
export async function startReceiver() {
  const got: { path: string; headers: Record<string, unknown>; body: string }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      got.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, got, close: () => new Promise<void>((r) => (server.close(() => r()), server.closeAllConnections())) };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Poll `check` until it returns a truthy value or `ms` pass. */
export async function eventually<T>(check: () => T | Promise<T>, ms = 15_000, every = 200): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v || Date.now() > until) return v;
    await sleep(every);
  }
}

/**
 * The scale options the system worker runs with (test/system/devWorker.mjs takes them from the
 * environment). With `LADDER_INGEST=queue`, `POST /v1/usage` and `/v1/track` answer
 * `202 {"queued": N}` and the queue's consumer applies the batch afterwards (README, "The 202
 * contract of queued ingestion"); with `LADDER_COUNTERS=durable_object` the account's object
 * answers and D1 gets its events on the object's alarm.
 */
export const QUEUED = process.env.LADDER_INGEST === 'queue';
export const OBJECTS = process.env.LADDER_COUNTERS === 'durable_object';

/** How long a queued batch may take to be applied on this busy machine (the consumer waits up to 1 s for a batch). */
export const APPLY_MS = 60_000;
/**
 * After the expected end state is reached with queued ingestion: long enough for any further
 * (duplicate) delivery of what was queued to be applied too — several consumer batch timeouts.
 */
export const SETTLE_MS = 4_000;

/** Every answer is the queue contract's `202 {"queued": n}`. */
export function expectQueued(answers: { status: number; json: any }[], n: number) {
  expect(answers.map((a) => [a.status, a.json])).toEqual(answers.map(() => [202, { queued: n }]));
}
