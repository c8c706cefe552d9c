/// <reference types="node" />
/**
 * Stripe failing under a real `wrangler dev` worker: the worker's `stripe` client talks to the
 * billing tests' wire-format mock (worker/test/stripe.mock.ts) through a loopback proxy that
 * can answer 500, drop the connection after Stripe applied the change (the answer is lost),
 * or hang and then reset. Whatever happens, no half-upgrade is left in Ladder (plan, upgrade
 * record and ledger move together), and the same click retried charges exactly once.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startStripeMock } from '../../worker/test/stripe.mock';
import { query } from '../system/d1';
import { startWorker, type DevWorker } from '../system/devWorker.mjs';
import { call, catalog, DAY, seedAccount, signUserToken, storm, stripeSignature, uid } from '../system/fixtures';
import { seedStripeSubscription, stripeMockClient, type StripeMockClient } from '../system/stripe';

type Fault = 'none' | 'drop_answer' | 'hang_then_reset';

let dir: string;
let worker: DevWorker;
let mock: Awaited<ReturnType<typeof startStripeMock>>;
let proxy: Server;
/** What the proxy does to the next subscription update (then back to 'none'). */
let nextUpdate: Fault = 'none';

beforeAll(async () => {
  mock = await startStripeMock();
  mockCall = stripeMockClient(mock.port);
  proxy = createServer((req, res) => {
    const isUpdate = req.method === 'POST' && /^\/v1\/subscriptions\/[^/]+$/.test(req.url ?? '');
    const fault = isUpdate ? nextUpdate : 'none';
    if (isUpdate) nextUpdate = 'none';
    if (fault === 'hang_then_reset') {
      req.resume();
      setTimeout(() => req.socket.destroy(), 1500);
      return;
    }
    const upstream = request({ host: '127.0.0.1', port: mock.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      if (fault === 'drop_answer') {
        answer.resume();
        answer.on('end', () => req.socket.destroy()); // Stripe applied it; the worker never hears
        return;
      }
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    req.pipe(upstream);
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  dir = mkdtempSync(join(tmpdir(), 'ladder-stripe-fault-'));
  cpSync(inject('systemTemplate'), dir, { recursive: true });
  worker = await startWorker({
    persistDir: dir,
    vars: {
      STRIPE_SECRET_KEY: 'sk_test_fault_tests',
      STRIPE_API_PROTOCOL: 'http',
      STRIPE_API_HOST: '127.0.0.1',
      STRIPE_API_PORT: String((proxy.address() as AddressInfo).port),
      STRIPE_WEBHOOK_SECRET: 'whsec_fault_tests',
    },
  });
});

afterAll(async () => {
  await worker?.stop();
  await new Promise((r) => proxy?.close(r));
  await mock?.close();
  rmSync(dir, { recursive: true, force: true });
});

let mockCall: StripeMockClient;

/** An account on Starter billed by a Stripe subscription in the mock, and an admin's token. */
async function stripeAccount(fail: Record<string, unknown> = {}) {
  const acct = uid('stripe-fault');
  const { ids, period } = await seedStripeSubscription(mockCall, catalog, acct, [{ price: 'price_sys_starter', quantity: 1 }], fail);
  await seedAccount(worker.base, acct, { stripe_customer_id: ids.customer, stripe_subscription_id: ids.subscription, ...period, created_at: Date.now() - 90 * DAY });
  const token = signUserToken({ acct, sub: 'admin-1', role: 'admin' });
  const preview = await call(worker.base, 'POST', '/v1/widget/upgrade/preview', { token, body: { plan_id: 'pro' } });
  expect(preview.status).toBe(200);
  const click = { plan_id: 'pro', proration_date: preview.json.proration_date, idempotency_key: `click-${acct}` };
  const upgrade = () => call(worker.base, 'POST', '/v1/widget/upgrade', { token, body: click });
  return { acct, ids, upgrade, amount: preview.json.amount_due_now_cents as number };
}

/** Ladder's side: plan, upgrade records, ledger rows — all move together or not at all. */
const ladder = (acct: string) => ({
  plan_id: query<{ plan_id: string }>(dir, `SELECT plan_id FROM accounts WHERE id = '${acct}'`)[0]?.plan_id,
  upgrades: query<{ status: string }>(dir, `SELECT status FROM upgrades WHERE account_id = '${acct}'`).map((r) => r.status),
  expansions: query(dir, `SELECT kind FROM mrr_ledger WHERE account_id = '${acct}' AND kind = 'expansion'`).length,
});
/** Stripe's side: the plan's price on the subscription (seat items aside) and the invoices it charged. */
const stripe = async (sub: string) => {
  const s = await mockCall('GET', `/__mock/subscriptions/${sub}`);
  return { price: s.subscription.items.data.map((i: any) => i.price.id).filter((p: string) => p !== 'price_sys_seat').join(','), invoices: s.invoices.length };
};
const untouched = { plan_id: 'starter', upgrades: [], expansions: 0 };
const upgraded = { plan_id: 'pro', upgrades: ['succeeded'], expansions: 1 };

describe('Stripe failing during an upgrade', () => {
  it('answers 500: 502 to the user, nothing changed on either side (also under a retry storm); once Stripe is back the same click charges once', async () => {
    const fail = { status: 500, type: 'api_error', message: 'An unknown error occurred while processing the request.' };
    const a = await stripeAccount({ update: fail });
    const first = await a.upgrade();
    expect(first.status).toBe(502);
    expect(first.json.error.code).toBe('billing_provider_failed');
    const stormed = await storm(4, a.upgrade);
    for (const r of stormed) expect([502, 409]).toContain(r.status);
    expect(ladder(a.acct)).toEqual(untouched);
    expect(await stripe(a.ids.subscription)).toEqual({ price: 'price_sys_starter', invoices: 0 });

    await mockCall('POST', '/__mock/seed', { customers: [{ id: a.ids.customer }] }); // Stripe recovers
    const retried = await storm(4, a.upgrade);
    for (const r of retried) expect(r.json).toMatchObject({ status: 'succeeded', plan_id: 'pro', amount_charged_cents: a.amount });
    expect(ladder(a.acct)).toEqual(upgraded);
    expect(await stripe(a.ids.subscription)).toEqual({ price: 'price_sys_pro', invoices: 1 });
  });

  it('applies the change but the answer is lost: 502 and Ladder unchanged; a retry storm and Stripe\'s webhook together apply it once, charged once', async () => {
    const a = await stripeAccount();
    nextUpdate = 'drop_answer';
    const lost = await a.upgrade();
    expect(lost.status).toBe(502);
    expect(ladder(a.acct)).toEqual(untouched);
    expect(await stripe(a.ids.subscription)).toEqual({ price: 'price_sys_pro', invoices: 1 }); // Stripe did it
    const retried = await storm(3, a.upgrade);
    for (const r of retried) expect(r.json).toMatchObject({ status: 'succeeded', plan_id: 'pro', amount_charged_cents: a.amount });
    expect((await stripe(a.ids.subscription)).invoices).toBe(1); // never charged twice
    expect(ladder(a.acct)).toEqual(upgraded);
    // Stripe's own customer.subscription.updated delivery arrives as well: nothing moves twice.
    for (const event of await mockCall('GET', `/__mock/events/${a.ids.subscription}`)) {
      const payload = JSON.stringify(event);
      const res = await call(worker.base, 'POST', '/v1/stripe/webhook', { token: null, raw: payload, headers: { 'content-type': 'application/json', 'stripe-signature': stripeSignature(payload, 'whsec_fault_tests') } });
      expect(res.status).toBe(200);
    }
    expect(ladder(a.acct)).toEqual(upgraded);
    expect(await stripe(a.ids.subscription)).toEqual({ price: 'price_sys_pro', invoices: 1 });
  });

  it('applies the change but the answer is lost: the retried click answers succeeded, charged once', async () => {
    const a = await stripeAccount();
    nextUpdate = 'drop_answer';
    expect((await a.upgrade()).status).toBe(502);
    const retried = await a.upgrade();
    expect(retried.json).toMatchObject({ status: 'succeeded', plan_id: 'pro', amount_charged_cents: a.amount });
    expect(ladder(a.acct)).toEqual(upgraded);
    expect(await stripe(a.ids.subscription)).toEqual({ price: 'price_sys_pro', invoices: 1 });
  });

  it('hangs, then resets the connection: 502, nothing changed anywhere; the retry charges once', async () => {
    const a = await stripeAccount();
    nextUpdate = 'hang_then_reset';
    const timedOut = await a.upgrade();
    expect(timedOut.status).toBe(502);
    expect(ladder(a.acct)).toEqual(untouched);
    expect(await stripe(a.ids.subscription)).toEqual({ price: 'price_sys_starter', invoices: 0 });
    const retried = await a.upgrade();
    expect(retried.json).toMatchObject({ status: 'succeeded', plan_id: 'pro', amount_charged_cents: a.amount });
    expect(ladder(a.acct)).toEqual(upgraded);
    expect(await stripe(a.ids.subscription)).toEqual({ price: 'price_sys_pro', invoices: 1 });
  });
});
