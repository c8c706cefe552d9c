import { describe, expect, it } from 'vitest';
import { app } from '../index';
import { api, apiWith, DAY, env, STRIPE, stripeMock, uid, userToken } from '../test/api';

const P = 'wt_'; // Stripe ids of this file (the mock is shared with other test files)
const catalog = {
  metrics: [{ id: 'seats', name: 'Seats', unit: 'seat', kind: 'gauge' }],
  features: [],
  plans: [
    { id: 'starter', name: 'Starter', rank: 1, currency: 'usd', price_cents: 5000, interval: 'month', stripe_price_id: `${P}price_starter`, seat_price_cents: 1000, stripe_seat_price_id: `${P}price_seat`, limits: { seats: null }, features: [] },
    { id: 'business', name: 'Business', rank: 2, currency: 'usd', price_cents: 10000, interval: 'month', stripe_price_id: `${P}price_business`, seat_price_cents: 1000, stripe_seat_price_id: `${P}price_seat`, limits: { seats: null }, features: [] },
  ],
};
const prices = [
  { id: `${P}price_starter`, unit_amount: 5000 },
  { id: `${P}price_business`, unit_amount: 10000 },
  { id: `${P}price_seat`, unit_amount: 1000 },
];
const sec = (ms: number) => Math.floor(ms / 1000);
const rows = async (query: string, ...params: unknown[]) => (await env.DB.prepare(query).bind(...params).all()).results as Record<string, any>[];
const ledger = (acct: string) => rows('SELECT kind, mrr_before_cents, mrr_after_cents, source, dedupe_key FROM mrr_ledger WHERE account_id = ? ORDER BY id', acct);
const accountRow = async (acct: string) => (await api('GET', `/v1/accounts/${acct}`)).json;

/** An account on Starter with 2 seats bought, billed by a Stripe subscription in the mock. */
async function account(linked = true) {
  const acct = uid();
  const ids = { customer: `${P}cus_${acct}`, subscription: `${P}sub_${acct}` };
  const start = sec(Date.now() - 15 * DAY);
  const end = sec(Date.now() + 15 * DAY);
  await api('PUT', '/v1/catalog', { body: catalog });
  await subscription({ ids, start, end }, 'starter', 2);
  const res = await api('PUT', `/v1/accounts/${acct}`, {
    body: {
      name: acct, plan_id: 'starter', seats: 2, created_at: Date.now() - 60 * DAY, period_start: start * 1000, period_end: end * 1000,
      ...(linked && { stripe_customer_id: ids.customer, stripe_subscription_id: ids.subscription }),
    },
  });
  expect(res.status).toBe(200);
  return { acct, ids, start, end };
}

/** A Stripe-shaped subscription object from the mock for the account `a`, on `plan` with `seats`. */
async function subscription(a: { ids: { customer: string; subscription: string }; start: number; end: number }, plan: string, seats: number, status = 'active') {
  const { ids, start, end } = a;
  await stripeMock('POST', '/__mock/seed', {
    prices,
    customers: [{ id: ids.customer }],
    subscriptions: [{ id: ids.subscription, customer: ids.customer, status, current_period_start: start, current_period_end: end,
      items: [{ id: `si_plan_${ids.subscription}`, price: `${P}price_${plan}` }, { id: `si_seat_${ids.subscription}`, price: `${P}price_seat`, quantity: seats }] }],
  });
  return (await stripeMock('GET', `/__mock/subscriptions/${ids.subscription}`)).subscription;
}

/** A Stripe event from the mock, as Stripe serialises it. */
const event = async (type: string, object: unknown, created = sec(Date.now())): Promise<{ event: any; payload: string }> =>
  stripeMock('POST', '/__mock/event', { type, object, created });

/** Deliver `payload` as Stripe does, signed with the webhook secret at `timestamp` (now by default). */
async function deliver(payload: string, o: { secret?: string; timestamp?: number; header?: string | null } = {}) {
  const header =
    o.header !== undefined
      ? o.header
      : (await stripeMock('POST', '/__mock/sign', { payload, secret: o.secret ?? env.STRIPE_WEBHOOK_SECRET, timestamp: o.timestamp ?? sec(Date.now()) })).header;
  return api('POST', '/v1/stripe/webhook', { token: null, raw: payload, headers: { 'content-type': 'application/json', ...(header !== null && { 'stripe-signature': header }) } });
}

describe('Stripe webhook', () => {
  it('applies a subscription update without a bearer credential: plan, seats, period and an MRR ledger row', async () => {
    const a = await account();
    const e = await event('customer.subscription.updated', await subscription(a, 'business', 4));
    const res = await deliver(e.payload);
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ received: true, id: e.event.id, outcome: 'processed' });
    expect(await accountRow(a.acct)).toMatchObject({ plan_id: 'business', seats: 4, period_start: new Date(a.start * 1000).toISOString() });
    expect(await ledger(a.acct)).toEqual([
      { kind: 'new', mrr_before_cents: 0, mrr_after_cents: 7000, source: 'sales', dedupe_key: `baseline:${a.acct}` },
      { kind: 'expansion', mrr_before_cents: 7000, mrr_after_cents: 14000, source: 'webhook', dedupe_key: `stripe:${e.event.id}` },
    ]);
  });

  it('refuses a bad signature, a tampered body and a missing header with 400, changing nothing', async () => {
    const a = await account();
    const e = await event('customer.subscription.updated', await subscription(a, 'business', 2));
    const wrongSecret = await deliver(e.payload, { secret: 'whsec_not_ours' });
    expect(wrongSecret.status).toBe(400);
    expect(wrongSecret.json.error).toMatchObject({ code: 'invalid_signature', details: [{ path: 'Stripe-Signature' }] });
    const signed = (await stripeMock('POST', '/__mock/sign', { payload: e.payload, secret: env.STRIPE_WEBHOOK_SECRET, timestamp: sec(Date.now()) })).header;
    expect((await deliver(e.payload.replace('"active"', '"canceled"'), { header: signed })).status).toBe(400);
    expect((await deliver(e.payload, { header: null })).status).toBe(400);
    expect((await deliver(e.payload, { header: 't=1,v1=abc' })).status).toBe(400);
    expect((await accountRow(a.acct)).plan_id).toBe('starter');
    expect(await rows('SELECT id FROM stripe_events WHERE id = ?', e.event.id)).toEqual([]);
  });

  it('refuses a delivery signed more than 300 seconds ago', async () => {
    const a = await account();
    const e = await event('customer.subscription.updated', await subscription(a, 'business', 2));
    const stale = await deliver(e.payload, { timestamp: sec(Date.now()) - 301 });
    expect(stale.status).toBe(400);
    expect(stale.json.error.message).toMatch(/tolerance/i);
    expect((await accountRow(a.acct)).plan_id).toBe('starter');
    expect((await deliver(e.payload, { timestamp: sec(Date.now()) - 290 })).json.outcome).toBe('processed');
  });

  it('processes each event once: a replayed event id changes nothing', async () => {
    const a = await account();
    const e = await event('customer.subscription.updated', await subscription(a, 'business', 2));
    expect((await deliver(e.payload)).json.outcome).toBe('processed');
    // Meanwhile the account moved on; a replay of the old event must not touch it.
    await api('PUT', `/v1/accounts/${a.acct}`, { body: { name: a.acct, plan_id: 'starter', seats: 9 } });
    const [again, concurrent] = await Promise.all([deliver(e.payload), deliver(e.payload)]);
    expect([again.json.outcome, concurrent.json.outcome]).toEqual(['duplicate', 'duplicate']);
    expect(await accountRow(a.acct)).toMatchObject({ plan_id: 'starter', seats: 9 });
    expect((await ledger(a.acct)).filter((l) => l.source === 'webhook')).toHaveLength(1);
  });

  it('keeps the newest subscription state when an older event arrives after a newer one', async () => {
    const a = await account();
    const t = sec(Date.now());
    const older = await event('customer.subscription.updated', await subscription(a, 'business', 3), t - 60);
    const newer = await event('customer.subscription.updated', await subscription(a, 'business', 5), t - 10);
    expect((await deliver(newer.payload)).json.outcome).toBe('processed');
    expect((await deliver(older.payload)).json.outcome).toBe('stale');
    expect(await accountRow(a.acct)).toMatchObject({ plan_id: 'business', seats: 5 });
    const late = await event('invoice.payment_failed', { id: 'in_late', object: 'invoice', customer: a.ids.customer, parent: { subscription_details: { subscription: a.ids.subscription } } }, t - 30);
    expect((await deliver(late.payload)).json.outcome).toBe('stale');
    expect((await ledger(a.acct)).map((l) => l.mrr_after_cents)).toEqual([7000, 15000]);
    expect((await rows('SELECT status FROM accounts WHERE id = ?', a.acct))[0]!.status).toBe('active');
  });

  it('churns the MRR of a deleted subscription; failed and paid invoices set the status', async () => {
    const a = await account();
    const invoice = { id: `in_${a.acct}`, object: 'invoice', customer: a.ids.customer, parent: { subscription_details: { subscription: a.ids.subscription } } };
    const t = sec(Date.now());
    await deliver((await event('invoice.payment_failed', invoice, t - 30)).payload);
    expect((await rows('SELECT status FROM accounts WHERE id = ?', a.acct))[0]!.status).toBe('past_due');
    await deliver((await event('invoice.paid', invoice, t - 20)).payload);
    expect((await rows('SELECT status FROM accounts WHERE id = ?', a.acct))[0]!.status).toBe('active');
    const gone = await event('customer.subscription.deleted', await subscription(a, 'starter', 2, 'canceled'), t - 10);
    expect((await deliver(gone.payload)).json.outcome).toBe('processed');
    expect((await rows('SELECT status FROM accounts WHERE id = ?', a.acct))[0]!.status).toBe('canceled');
    expect((await ledger(a.acct)).at(-1)).toMatchObject({ kind: 'churn', mrr_before_cents: 7000, mrr_after_cents: 0 });
    expect(await rows('SELECT mrr_cents, churned FROM billing_state WHERE account_id = ?', a.acct)).toEqual([{ mrr_cents: 0, churned: 1 }]);
  });

  it('links the customer and subscription of a completed checkout to the account', async () => {
    const a = await account(false);
    const session = { id: `cs_${a.acct}`, object: 'checkout.session', mode: 'subscription', client_reference_id: a.acct, customer: a.ids.customer, subscription: a.ids.subscription };
    expect((await deliver((await event('checkout.session.completed', session)).payload)).json.outcome).toBe('processed');
    expect(await rows('SELECT stripe_customer_id, stripe_subscription_id FROM accounts WHERE id = ?', a.acct)).toEqual([
      { stripe_customer_id: a.ids.customer, stripe_subscription_id: a.ids.subscription },
    ]);
  });

  it('an event for a customer not linked yet is answered 409 and not stored as seen, so Stripe’s retry applies it once linked', async () => {
    const a = await account(false);
    const e = await event('customer.subscription.updated', await subscription(a, 'business', 4));
    const early = await deliver(e.payload);
    expect(early.status).toBe(409);
    expect(early.json.error.code).toBe('account_not_linked');
    expect(await rows('SELECT id FROM stripe_events WHERE id = ?', e.event.id)).toEqual([]);
    expect((await accountRow(a.acct)).plan_id).toBe('starter');
    await api('PUT', `/v1/accounts/${a.acct}`, { body: { name: a.acct, plan_id: 'starter', seats: 2, stripe_customer_id: a.ids.customer, stripe_subscription_id: a.ids.subscription } });
    const retried = await deliver(e.payload);
    expect(retried.status).toBe(200);
    expect(retried.json.outcome).toBe('processed');
    expect(await accountRow(a.acct)).toMatchObject({ plan_id: 'business', seats: 4 });
  });

  it('a body over 1 MiB without a Content-Length (chunked) is refused with 413 before it is read whole', async () => {
    const big = new TextEncoder().encode(`{"pad":"${'x'.repeat(1_100_000)}"}`);
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < big.length; i += 64 * 1024) controller.enqueue(big.slice(i, i + 64 * 1024));
        controller.close();
      },
    });
    const res = await app.request('/v1/stripe/webhook', { method: 'POST', headers: { 'stripe-signature': 't=1,v1=abc' }, body, duplex: 'half' } as RequestInit, env);
    expect(res.status).toBe(413);
  });

  it('after a self-serve upgrade, Stripe’s own events for it add no second ledger row', async () => {
    const a = await account();
    const token = await userToken({ acct: a.acct, sub: 'admin-1' });
    const preview = await apiWith(STRIPE, 'POST', '/v1/widget/upgrade/preview', { token, body: { plan_id: 'business' } });
    expect(preview.status).toBe(200);
    const done = await apiWith(STRIPE, 'POST', '/v1/widget/upgrade', { token, body: { plan_id: 'business', proration_date: preview.json.proration_date, idempotency_key: 'k' } });
    expect(done.json).toMatchObject({ status: 'succeeded', amount_charged_cents: preview.json.amount_due_now_cents });
    const events: any[] = await stripeMock('GET', `/__mock/events/${a.ids.subscription}`);
    expect(events.map((e) => e.type)).toEqual(['customer.subscription.updated', 'invoice.paid']);
    for (const e of events) expect((await deliver(JSON.stringify(e))).status).toBe(200);
    expect(await accountRow(a.acct)).toMatchObject({ plan_id: 'business', seats: 2 });
    expect((await ledger(a.acct)).map((l) => [l.kind, l.source, l.mrr_after_cents])).toEqual([
      ['new', 'sales', 7000],
      ['expansion', 'self_serve', 12000],
    ]);
  });
});
