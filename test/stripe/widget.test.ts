/// <reference types="node" />
/**
 * The widget end to end against Stripe: Debian's Chromium on a host page that loads the widget
 * from a real `wrangler dev` worker whose billing is Stripe, through the real `stripe` client,
 * against the project's Stripe wire-format mock (worker/test/stripe.mock.ts). An admin with
 * bought seats switches to yearly billing from "Manage plan" and then schedules fewer seats;
 * each step is checked on both sides: what the widget said, what Ladder stored, what Stripe holds.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startStripeMock } from '../../worker/test/stripe.mock';
import { startWorker, type DevWorker } from '../system/devWorker.mjs';
import { call, catalog, DAY, signUserToken, uid } from '../system/fixtures';
import { seedStripeSubscription, stripeMockClient, type StripeMockClient } from '../system/stripe';

let dir: string;
let profile: string;
let worker: DevWorker;
let mock: Awaited<ReturnType<typeof startStripeMock>>;
let host: Server;
let browser: BrowserContext;
/** The token the host page's /ladder-token answers. */
let token = '';

/** The system catalog, with Pro also sold yearly: $1,920 a year and $100 a year per extra seat. */
const stripeCatalog = {
  ...catalog,
  plans: catalog.plans.map((p) =>
    p.id === 'pro' ? { ...p, annual_price_cents: 192_000, stripe_annual_price_id: 'price_sys_pro_year', annual_seat_price_cents: 10_000, stripe_annual_seat_price_id: 'price_sys_seat_year' } : p,
  ),
};

let mockCall: StripeMockClient;

beforeAll(async () => {
  mock = await startStripeMock();
  mockCall = stripeMockClient(mock.port);
  dir = mkdtempSync(join(tmpdir(), 'ladder-stripe-widget-'));
  cpSync(inject('systemTemplate'), dir, { recursive: true });
  worker = await startWorker({
    persistDir: dir,
    vars: {
      STRIPE_SECRET_KEY: 'sk_test_widget_e2e',
      STRIPE_API_PROTOCOL: 'http',
      STRIPE_API_HOST: '127.0.0.1',
      STRIPE_API_PORT: String(mock.port),
      STRIPE_WEBHOOK_SECRET: 'whsec_widget_e2e',
    },
  });
  // The host app: its own origin, loading the widget from the worker.
  host = createServer((req, res) => {
    if (req.url === '/ladder-token') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token }));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Host app</title>` +
        `<script async src="${worker.base}/ladder.js" data-token-url="/ladder-token" data-api-base="${worker.base}"></script></head>` +
        `<body><main><h1>Host app</h1><ladder-plan></ladder-plan></main></body></html>`,
    );
  });
  await new Promise<void>((r) => host.listen(0, '127.0.0.1', r));
  profile = mkdtempSync(join(tmpdir(), 'ladder-stripe-widget-chromium-'));
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
});

afterAll(async () => {
  await browser?.close();
  await worker?.stop();
  await new Promise((r) => host?.close(r));
  await mock?.close();
  rmSync(dir, { recursive: true, force: true });
  if (profile) rmSync(profile, { recursive: true, force: true });
});

describe('Manage plan in the widget, billed by Stripe', () => {
  it('an admin with 5 bought seats switches Pro to yearly (plan and seats on their yearly Stripe prices, charged what the preview said), then schedules 3 seats and undoes it', async () => {
    const acct = uid('stripe-widget');
    const { ids, period } = await seedStripeSubscription(mockCall, stripeCatalog, acct, [{ price: 'price_sys_pro', quantity: 1 }, { price: 'price_sys_seat', quantity: 5 }]);
    expect((await call(worker.base, 'PUT', '/v1/catalog', { body: stripeCatalog })).status).toBe(200);
    const put = await call(worker.base, 'PUT', `/v1/accounts/${acct}`, {
      body: {
        name: acct, plan_id: 'pro', seats: 5, created_at: Date.now() - 60 * DAY, ...period,
        stripe_customer_id: ids.customer, stripe_subscription_id: ids.subscription,
      },
    });
    expect(put.status).toBe(200);
    token = signUserToken({ acct, sub: `${acct}-admin`, role: 'admin' });

    const page = await browser.newPage();
    const errors: Error[] = [];
    page.on('pageerror', (e) => errors.push(e));
    await page.goto(`http://127.0.0.1:${(host.address() as AddressInfo).port}/`);
    await page.locator('ladder-plan').getByRole('button', { name: 'Manage plan' }).click();
    const dialog = page.getByRole('dialog', { name: 'Manage plan' });
    await dialog.getByText('Current plan: Pro · $200.00/month').waitFor({ timeout: 30_000 });

    // Twelve months of $200 + 5 × $10 is $3,000; a year is $1,920 + 5 × $100 = $2,420.
    await dialog.getByRole('button', { name: 'Switch to yearly · Save $580.00 a year' }).click();
    const yearly = page.getByRole('dialog', { name: 'Switch to yearly billing' });
    const sentence = yearly.getByText(/^You will be charged \$[\d,]+\.\d\d now for a year of Pro \(\$2,420\.00 less \$[\d,]+\.\d\d for the unused part of this billing period\), then \$2,420\.00\/year starting /);
    await sentence.waitFor({ timeout: 30_000 });
    const shown = Math.round(Number((await sentence.innerText()).match(/charged \$([\d,]+\.\d\d) now/)![1]!.replace(/,/g, '')) * 100);
    await yearly.getByRole('button', { name: 'Switch to yearly' }).click();
    await yearly.getByRole('status').filter({ hasText: /^You are now on Pro, billed yearly/ }).waitFor({ timeout: 30_000 });

    const seen = await mockCall('GET', `/__mock/subscriptions/${ids.subscription}`);
    expect(seen.subscription.items.data.map((i: any) => [i.price.id, i.quantity])).toEqual([['price_sys_pro_year', 1], ['price_sys_seat_year', 5]]);
    expect(seen.invoices.map((i: any) => [i.status, i.amount_paid])).toEqual([['paid', shown]]);
    const account = (await call(worker.base, 'GET', `/v1/accounts/${acct}`)).json;
    expect(account).toMatchObject({ plan_id: 'pro', seats: 5 });
    expect(Date.parse(account.period_end) - Date.parse(account.period_start)).toBeGreaterThan(364 * DAY);

    // Fewer seats from the end of the (now yearly) period, shown pending, then undone.
    await yearly.getByRole('button', { name: 'Done' }).click();
    await page.locator('ladder-plan').getByRole('button', { name: 'Manage plan' }).click();
    await dialog.getByRole('button', { name: 'Remove seats' }).click();
    const input = dialog.getByRole('spinbutton', { name: /Seats bought from the end of this billing period \(now 5\)/ });
    await input.fill('3');
    await input.press('Tab');
    await dialog.getByText(/then \$2,220\.00\/year/).waitFor({ timeout: 30_000 });
    await dialog.getByRole('button', { name: 'Schedule seat change' }).click();
    await dialog.getByText(/^Your seats drop to 3 on /).waitFor({ timeout: 30_000 });
    const state = (await call(worker.base, 'GET', '/v1/widget/state?session=e2e', { token })).json;
    expect(state.scheduled_change).toMatchObject({ kind: 'downgrade', plan_id: 'pro', seats: 3, effective_at: account.period_end });
    await dialog.getByRole('button', { name: 'Undo' }).click();
    await dialog.getByText('Undone: your plan stays as it is.').waitFor({ timeout: 30_000 });
    expect((await call(worker.base, 'GET', '/v1/widget/state?session=e2e', { token })).json.scheduled_change).toBeNull();
    // Nothing more was charged by scheduling or undoing.
    expect((await mockCall('GET', `/__mock/subscriptions/${ids.subscription}`)).invoices).toHaveLength(1);
    expect(errors).toEqual([]);
    await page.close();
  });
});
