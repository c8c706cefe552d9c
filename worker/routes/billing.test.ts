import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runScheduled } from '../scheduled';
import { ADMIN, api, apiWith, DAY, env, STRIPE, stripeMock, uid, userToken } from '../test/api';

const START = Date.UTC(2026, 10, 1); // a 30-day period: Nov 1 → Dec 1, 2026
const END = Date.UTC(2026, 11, 1);
const MID = Date.UTC(2026, 10, 16); // 15 of 30 days left
const s = (ms: number) => Math.floor(ms / 1000);

const P = 'bt_'; // Stripe ids of this file (the mock is shared with other test files)
const plan = (id: string, rank: number, price: number, extra: Record<string, unknown> = {}) => ({
  id, name: id[0]!.toUpperCase() + id.slice(1), rank, currency: 'usd', price_cents: price, interval: 'month',
  stripe_price_id: `${P}price_${id}`, seat_price_cents: 1000, stripe_seat_price_id: `${P}price_seat`,
  limits: { seats: 5 }, features: [], ...extra,
});
const catalog = {
  metrics: [{ id: 'seats', name: 'Seats', unit: 'seat', kind: 'gauge' }],
  features: [
    { id: 'sso', name: 'Single sign-on', trial_days: 14 },
    { id: 'audit_log', name: 'Audit log', trial_days: 0 },
    { id: 'exports', name: 'Exports', trial_days: 7 },
  ],
  plans: [
    plan('starter', 1, 5000),
    plan('business', 2, 10000, {
      features: ['exports'], annual_price_cents: 96000, stripe_annual_price_id: `${P}price_business_year`,
      annual_seat_price_cents: 10000, stripe_annual_seat_price_id: `${P}price_seat_year`,
    }),
    plan('enterprise', 3, 30000, { features: ['exports', 'sso', 'audit_log'] }),
    plan('annual', 4, 100000, { interval: 'year' }),
    plan('lite', 10, 5001, { seat_price_cents: 0, stripe_seat_price_id: null }),
    plan('liteplus', 11, 10002, { seat_price_cents: 0, stripe_seat_price_id: null }),
  ],
};
const stripePrices = catalog.plans
  .map((p) => ({ id: p.stripe_price_id, unit_amount: p.price_cents, interval: p.interval }))
  .concat([{ id: `${P}price_seat`, unit_amount: 1000, interval: 'month' }, { id: `${P}price_business_year`, unit_amount: 96000, interval: 'year' }, { id: `${P}price_seat_year`, unit_amount: 10000, interval: 'year' }]);

type Setup = { plan?: string; seats?: number; stripe?: boolean; card?: 'ok' | 'decline' | 'requires_action'; fail?: Record<string, unknown> };

/** An account on `plan` with `seats` bought in the Nov 2026 period, with Stripe objects in the mock when `stripe`. */
async function account(o: Setup = {}) {
  const acct = uid();
  const planId = o.plan ?? 'starter';
  const seats = o.seats ?? 0;
  expect((await api('PUT', '/v1/catalog', { body: catalog })).status).toBe(200);
  const ids = { customer: `${P}cus_${acct}`, subscription: `${P}sub_${acct}`, planItem: `${P}si_plan_${acct}`, seatItem: `${P}si_seat_${acct}` };
  if (o.stripe) {
    await stripeMock('POST', '/__mock/seed', {
      prices: stripePrices,
      customers: [{ id: ids.customer, card: o.card ?? 'ok', fail: o.fail ?? {} }],
      subscriptions: [{
        id: ids.subscription, customer: ids.customer, current_period_start: s(START), current_period_end: s(END),
        items: [{ id: ids.planItem, price: `${P}price_${planId}`, quantity: 1 }, ...(seats > 0 ? [{ id: ids.seatItem, price: `${P}price_seat`, quantity: seats }] : [])],
      }],
    });
  }
  const res = await api('PUT', `/v1/accounts/${acct}`, {
    body: {
      name: acct, plan_id: planId, seats, created_at: START - 90 * DAY, period_start: START, period_end: END,
      ...(o.stripe && { stripe_customer_id: ids.customer, stripe_subscription_id: ids.subscription }),
    },
  });
  expect(res.status).toBe(200);
  const admin = await userToken({ acct, sub: 'admin-1', role: 'admin' });
  const member = await userToken({ acct, sub: 'member-1', role: 'member' });
  const call = (method: string, path: string, body?: unknown, token = admin, bindings: Record<string, string> = {}) =>
    apiWith({ ...(o.stripe && STRIPE), ...bindings }, method, path, { token, ...(body !== undefined && { body }) });
  return { acct, ids, admin, member, call };
}

const accountRow = async (acct: string) => (await api('GET', `/v1/accounts/${acct}`)).json;
const rows = async (query: string, ...params: unknown[]) => (await env.DB.prepare(query).bind(...params).all()).results as Record<string, any>[];
const ledger = (acct: string) => rows('SELECT kind, mrr_before_cents, mrr_after_cents, source, prompt_id, variant_id, experiment_id FROM mrr_ledger WHERE account_id = ? ORDER BY id', acct);
const invoices = (acct: string) => rows('SELECT amount_cents, currency, status, proration_date FROM invoices WHERE account_id = ? ORDER BY created_at', acct);
const stripeSeen = async (sub: string) => (await stripeMock('GET', `/__mock/subscriptions/${sub}`)) as { subscription: any; invoices: any[]; requests: any[] };

const SEED_MESSAGE = 'You will be charged $25.00 now for the remainder of this billing period, then $100.00/month starting December 1, 2026.';

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(MID);
});
afterEach(() => {
  vi.useRealTimers();
});

describe.each(['local', 'stripe'] as const)('upgrades with the %s provider', (mode) => {
  const stripe = mode === 'stripe';

  it('the seed example: $50 → $100/month with 15 of 30 days left charges $25.00 now, then $100.00/month from the period end', async () => {
    const a = await account({ stripe });
    const preview = await a.call('POST', '/v1/widget/upgrade/preview', { plan_id: 'business' });
    expect(preview.status).toBe(200);
    expect(preview.json).toEqual({
      amount_due_now_cents: 2500, currency: 'usd', next_amount_cents: 10000, next_billing_date: '2026-12-01T00:00:00.000Z',
      proration_date: s(MID), message: SEED_MESSAGE, plan_id: 'business', seats: 0, interval: 'month', billing: mode,
    });

    const done = await a.call('POST', '/v1/widget/upgrade', { plan_id: 'business', proration_date: preview.json.proration_date, idempotency_key: 'click-1' });
    expect(done.status).toBe(200);
    expect(done.json).toMatchObject({ status: 'succeeded', plan_id: 'business', seats: 0, amount_charged_cents: 2500, billing: mode });
    expect(done.json.message).toContain('$25.00');
    expect((await accountRow(a.acct)).plan_id).toBe('business');
    expect(await ledger(a.acct)).toEqual([
      { kind: 'new', mrr_before_cents: 0, mrr_after_cents: 5000, source: 'sales', prompt_id: null, variant_id: null, experiment_id: null },
      { kind: 'expansion', mrr_before_cents: 5000, mrr_after_cents: 10000, source: 'self_serve', prompt_id: null, variant_id: null, experiment_id: null },
    ]);
    if (stripe) {
      const seen = await stripeSeen(a.ids.subscription);
      const update = seen.requests.find((r) => r.method === 'POST' && r.path === `/v1/subscriptions/${a.ids.subscription}`);
      expect(update.params).toMatchObject({
        items: [{ id: a.ids.planItem, price: `${P}price_business`, quantity: '1' }],
        proration_date: String(s(MID)), proration_behavior: 'always_invoice', payment_behavior: 'pending_if_incomplete',
      });
      expect(update.idempotencyKey).toMatch(/^ladder-upgrade-[0-9a-f]{64}$/);
      const preview = seen.requests.find((r) => r.path === '/v1/invoices/create_preview');
      expect(preview.params).toMatchObject({
        customer: a.ids.customer, subscription: a.ids.subscription,
        subscription_details: { items: [{ id: a.ids.planItem, price: `${P}price_business`, quantity: '1' }], proration_date: String(s(MID)), proration_behavior: 'always_invoice' },
      });
      expect(seen.invoices.map((i) => [i.status, i.amount_paid])).toEqual([['paid', 2500]]);
      expect(await invoices(a.acct)).toEqual([]);
    } else {
      expect(await invoices(a.acct)).toEqual([{ amount_cents: 2500, currency: 'usd', status: 'paid', proration_date: s(MID) }]);
    }
  });

  it('an admin drops from 8 bought seats to 5 at the period end: shown pending, nothing refunded now, applied by the cron without proration', async () => {
    const a = await account({ stripe, plan: 'business', seats: 8 });
    const state = async () => (await a.call('GET', '/v1/widget/state?session=s1')).json;
    expect((await state()).seats_bought).toBe(8);
    expect((await a.call('GET', '/v1/widget/state?session=s1', undefined, a.member)).json.seats_bought).toBeUndefined();
    const preview = await a.call('POST', '/v1/widget/downgrade/preview', { seats: 5 });
    expect(preview.json).toMatchObject({ effective_at: '2026-12-01T00:00:00.000Z', plan_id: 'business', seats: 5, next_amount_cents: 15000, losing: { features: [] } });
    expect((await a.call('POST', '/v1/widget/downgrade/preview', { seats: 8 })).json.error.code).toBe('not_a_downgrade');
    const done = await a.call('POST', '/v1/widget/downgrade', { seats: 5, idempotency_key: 'fewer' });
    expect(done.json).toEqual({ status: 'scheduled', kind: 'downgrade', effective_at: '2026-12-01T00:00:00.000Z' });
    expect((await state()).scheduled_change).toEqual({ kind: 'downgrade', plan_id: 'business', seats: 5, effective_at: '2026-12-01T00:00:00.000Z' });
    expect(await accountRow(a.acct)).toMatchObject({ seats: 8 });
    await runScheduled({ ...env, ...(stripe && STRIPE) }, END + 60_000);
    expect(await accountRow(a.acct)).toMatchObject({ plan_id: 'business', seats: 5 });
    expect((await ledger(a.acct)).at(-1)).toMatchObject({ kind: 'contraction', mrr_before_cents: 18000, mrr_after_cents: 15000 });
    if (stripe) {
      const seen = await stripeSeen(a.ids.subscription);
      expect(seen.subscription.items.data.map((i: any) => [i.price.id, i.quantity])).toEqual([[`${P}price_business`, 1], [`${P}price_seat`, 5]]);
      expect(seen.invoices).toEqual([]);
      expect(seen.requests.find((r) => r.method === 'POST')!.params).toMatchObject({ proration_behavior: 'none' });
    }
  });

  it('switches Business with 3 bought seats to yearly: plan and seats on their yearly prices, $1,260.00 less $65.00 unused is $1,195.00 now', async () => {
    const a = await account({ stripe, plan: 'business', seats: 3 });
    const preview = await a.call('POST', '/v1/widget/upgrade/preview', { interval: 'year' });
    expect(preview.status).toBe(200);
    // $100 + 3 × $10 a month, half of it unused; a year is $960 + 3 × $100 (the yearly seat price).
    expect(preview.json).toEqual({
      amount_due_now_cents: 119500, currency: 'usd', next_amount_cents: 126000, next_billing_date: '2027-11-16T00:00:00.000Z',
      proration_date: s(MID), plan_id: 'business', seats: 3, interval: 'year', annual_saving_cents: 30000, billing: mode,
      message: 'You will be charged $1,195.00 now for a year of Business ($1,260.00 less $65.00 for the unused part of this billing period), then $1,260.00/year starting November 16, 2027.',
    });
    const done = await a.call('POST', '/v1/widget/upgrade', { interval: 'year', proration_date: preview.json.proration_date, idempotency_key: 'yearly-seats' });
    expect(done.json).toMatchObject({ status: 'succeeded', plan_id: 'business', seats: 3, amount_charged_cents: 119500 });
    expect(await accountRow(a.acct)).toMatchObject({ plan_id: 'business', seats: 3, period_end: '2027-11-16T00:00:00.000Z' });
    expect((await ledger(a.acct)).at(-1)).toMatchObject({ mrr_before_cents: 13000, mrr_after_cents: 10500 });
    if (stripe) {
      const seen = await stripeSeen(a.ids.subscription);
      expect(seen.subscription.items.data.map((i: any) => [i.price.id, i.quantity])).toEqual([[`${P}price_business_year`, 1], [`${P}price_seat_year`, 3]]);
      expect(seen.invoices.map((i) => [i.status, i.amount_paid])).toEqual([['paid', 119500]]);
    } else {
      expect(await invoices(a.acct)).toEqual([{ amount_cents: 119500, currency: 'usd', status: 'paid', proration_date: s(MID) }]);
    }
  });

  it('switches Business to yearly on November 16 with 15 of 30 days left: $960.00 less $50.00 unused is $910.00 now, then $960.00/year', async () => {
    const a = await account({ stripe, plan: 'business' });
    const preview = await a.call('POST', '/v1/widget/upgrade/preview', { interval: 'year' });
    expect(preview.status).toBe(200);
    expect(preview.json).toEqual({
      amount_due_now_cents: 91000, currency: 'usd', next_amount_cents: 96000, next_billing_date: '2027-11-16T00:00:00.000Z',
      proration_date: s(MID), plan_id: 'business', seats: 0, interval: 'year', annual_saving_cents: 24000, billing: mode,
      message: 'You will be charged $910.00 now for a year of Business ($960.00 less $50.00 for the unused part of this billing period), then $960.00/year starting November 16, 2027.',
    });
    const done = await a.call('POST', '/v1/widget/upgrade', { interval: 'year', proration_date: preview.json.proration_date, idempotency_key: 'yearly' });
    expect(done.json).toMatchObject({ status: 'succeeded', plan_id: 'business', amount_charged_cents: preview.json.amount_due_now_cents });
    expect(done.json.message).toContain('billed yearly');
    expect(await accountRow(a.acct)).toMatchObject({ plan_id: 'business', period_start: new Date(MID).toISOString(), period_end: '2027-11-16T00:00:00.000Z' });
    // $100/month becomes $960/year = $80 MRR: the discount for paying a year ahead is contraction.
    expect((await ledger(a.acct)).at(-1)).toMatchObject({ kind: 'contraction', mrr_before_cents: 10000, mrr_after_cents: 8000, source: 'self_serve' });
    const again = await a.call('POST', '/v1/widget/upgrade/preview', { interval: 'year' });
    expect(again.json.error.code).toBe('already_on_plan');
    expect((await a.call('POST', '/v1/widget/upgrade/preview', { interval: 'month' })).json.error).toMatchObject({ code: 'not_an_upgrade', details: [{ path: 'interval' }] });
    if (stripe) {
      const seen = await stripeSeen(a.ids.subscription);
      expect(seen.subscription.items.data.map((i: any) => i.price.id)).toEqual([`${P}price_business_year`]);
      expect(seen.invoices.map((i) => [i.status, i.amount_paid])).toEqual([['paid', 91000]]);
    } else {
      expect(await invoices(a.acct)).toEqual([{ amount_cents: 91000, currency: 'usd', status: 'paid', proration_date: s(MID) }]);
    }
  });

  it('a plan with no yearly price cannot be switched to yearly (422), and the same idempotency key switches once', async () => {
    const a = await account({ stripe });
    const res = await a.call('POST', '/v1/widget/upgrade/preview', { interval: 'year' });
    expect(res.status).toBe(422);
    expect(res.json.error).toMatchObject({ code: 'plan_not_offered', details: [{ path: 'interval' }] });
    expect((await a.call('POST', '/v1/widget/upgrade/preview', { interval: 'year', seats: 3 })).status).toBe(400);
    // Starter → Business yearly in one step.
    const up = await a.call('POST', '/v1/widget/upgrade/preview', { plan_id: 'business', interval: 'year' });
    expect(up.json).toMatchObject({ amount_due_now_cents: 96000 - 2500, next_amount_cents: 96000, interval: 'year' });
    const body = { plan_id: 'business', interval: 'year', proration_date: up.json.proration_date, idempotency_key: 'y2' };
    const [one, two] = await Promise.all([a.call('POST', '/v1/widget/upgrade', body), a.call('POST', '/v1/widget/upgrade', body)]);
    expect(one.json).toEqual(two.json);
    expect(one.json).toMatchObject({ status: 'succeeded', amount_charged_cents: 93500 });
    expect((await ledger(a.acct)).filter((l) => l.source === 'self_serve')).toEqual([expect.objectContaining({ kind: 'expansion', mrr_before_cents: 5000, mrr_after_cents: 8000 })]);
  });

  it('adds seats mid-period at the prorated seat price', async () => {
    const a = await account({ stripe, seats: 6 });
    const preview = await a.call('POST', '/v1/widget/upgrade/preview', { seats: 8 });
    expect(preview.json).toMatchObject({
      amount_due_now_cents: 1000, next_amount_cents: 13000, plan_id: 'starter', seats: 8,
      message: 'You will be charged $10.00 now for the remainder of this billing period, then $130.00/month starting December 1, 2026.',
    });
    const done = await a.call('POST', '/v1/widget/upgrade', { seats: 8, proration_date: preview.json.proration_date, idempotency_key: 'seats-1' });
    expect(done.json).toMatchObject({ status: 'succeeded', plan_id: 'starter', seats: 8, amount_charged_cents: 1000 });
    expect((await accountRow(a.acct)).seats).toBe(8);
    expect((await ledger(a.acct)).at(-1)).toMatchObject({ kind: 'expansion', mrr_before_cents: 11000, mrr_after_cents: 13000 });
    if (stripe) {
      const update = (await stripeSeen(a.ids.subscription)).requests.find((r) => r.method === 'POST' && r.path.startsWith('/v1/subscriptions/'));
      expect(update.params.items).toEqual([{ id: a.ids.seatItem, price: `${P}price_seat`, quantity: '8' }]);
    }
  });

  it('charges what the preview showed when confirmed later, at the preview’s proration date', async () => {
    vi.setSystemTime(START + 9 * DAY + 3 * 3600_000 + 17_000); // an odd second
    const a = await account({ stripe });
    const preview = await a.call('POST', '/v1/widget/upgrade/preview', { plan_id: 'enterprise' });
    expect(preview.json.amount_due_now_cents).toBe(17396); // 25000 × 1,803,583 s ÷ 2,592,000 s = 17395.6, to the second
    vi.setSystemTime(Date.now() + 20 * 60_000); // the user reads for 20 minutes
    const done = await a.call('POST', '/v1/widget/upgrade', { plan_id: 'enterprise', proration_date: preview.json.proration_date, idempotency_key: 'later' });
    expect(done.json).toMatchObject({ status: 'succeeded', amount_charged_cents: preview.json.amount_due_now_cents });
  });

  it('a double click charges once and returns the first result, also when the clicks arrive together', async () => {
    const a = await account({ stripe });
    const t = (await a.call('POST', '/v1/widget/upgrade/preview', { plan_id: 'business' })).json.proration_date;
    const body = { plan_id: 'business', proration_date: t, idempotency_key: 'dbl' };
    const together = await Promise.all([1, 2, 3].map(() => a.call('POST', '/v1/widget/upgrade', body)));
    const again = await a.call('POST', '/v1/widget/upgrade', body);
    for (const r of [...together, again]) {
      expect(r.status).toBe(200);
      expect(r.json).toEqual(together[0]!.json);
    }
    expect(together[0]!.json).toMatchObject({ status: 'succeeded', amount_charged_cents: 2500 });
    expect((await ledger(a.acct)).filter((l) => l.source === 'self_serve')).toHaveLength(1);
    if (stripe) {
      const seen = await stripeSeen(a.ids.subscription);
      expect(seen.requests.filter((r) => r.method === 'POST' && r.path.startsWith('/v1/subscriptions/'))).toHaveLength(1);
      expect(seen.invoices).toHaveLength(1);
    } else {
      expect(await invoices(a.acct)).toHaveLength(1);
    }
    // The same key for another change is refused rather than silently returning the old result.
    const reused = await a.call('POST', '/v1/widget/upgrade', { ...body, plan_id: 'enterprise' });
    expect(reused.status).toBe(422);
    expect(reused.json.error.code).toBe('idempotency_key_reused');
  });

  it('a declined payment leaves the plan and seats unchanged and says so', async () => {
    const a = await account({ stripe, seats: 6, card: 'decline' });
    const decline: Record<string, string> = stripe ? {} : { LADDER_LOCAL_CARD: 'decline' };
    const t = (await a.call('POST', '/v1/widget/upgrade/preview', { plan_id: 'business' })).json.proration_date;
    const res = await a.call('POST', '/v1/widget/upgrade', { plan_id: 'business', proration_date: t, idempotency_key: 'no-funds' }, a.admin, decline);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ status: 'failed', plan_id: 'starter', seats: 6, amount_charged_cents: 0 });
    expect(res.json.message).toMatch(stripe ? /^Your card has insufficient funds\. Your plan and seats were not changed\.$/ : /declined.*not changed/);
    expect(await accountRow(a.acct)).toMatchObject({ plan_id: 'starter', seats: 6 });
    expect(await ledger(a.acct)).toEqual([]);
    if (stripe) {
      const seen = await stripeSeen(a.ids.subscription);
      expect(seen.subscription.items.data.map((i: any) => i.price.id)).toEqual([`${P}price_starter`, `${P}price_seat`]);
      expect(seen.subscription.pending_update).not.toBeNull();
    } else {
      expect(await invoices(a.acct)).toMatchObject([{ status: 'failed', amount_cents: 2500 }]);
    }
  });

  it('a member cannot upgrade but may preview and ask the admins', async () => {
    const a = await account({ stripe });
    const t = s(MID);
    const res = await a.call('POST', '/v1/widget/upgrade', { plan_id: 'business', proration_date: t, idempotency_key: 'm' }, a.member);
    expect(res.status).toBe(403);
    expect(res.json.error.code).toBe('admin_required');
    expect((await a.call('POST', '/v1/widget/upgrade/preview', { plan_id: 'business' }, a.member)).json.amount_due_now_cents).toBe(2500);
    expect((await a.call('POST', '/v1/widget/upgrade-requests', { plan_id: 'business', note: 'We need SSO' }, a.member)).status).toBe(201);
    expect((await accountRow(a.acct)).plan_id).toBe('starter');
  });

  it('refuses a lower plan (422), an unknown plan (404), a plan not offered (422) and fewer seats (422)', async () => {
    const a = await account({ stripe, plan: 'business', seats: 3 });
    const expectError = async (body: unknown, status: number, code: string, path: string) => {
      for (const route of ['/v1/widget/upgrade/preview', '/v1/widget/upgrade']) {
        const full = route.endsWith('preview') ? body : { ...(body as object), proration_date: s(MID), idempotency_key: uid('k') };
        const res = await a.call('POST', route, full);
        expect(res.status, `${route} ${JSON.stringify(body)}`).toBe(status);
        expect(res.json.error).toMatchObject({ code, details: [{ path }] });
      }
    };
    await expectError({ plan_id: 'starter' }, 422, 'not_an_upgrade', 'plan_id');
    await expectError({ plan_id: 'platinum' }, 404, 'plan_not_found', 'plan_id');
    await expectError({ plan_id: 'annual' }, 422, 'plan_not_offered', 'plan_id');
    await expectError({ plan_id: 'business' }, 422, 'already_on_plan', 'plan_id');
    await expectError({ seats: 3 }, 422, 'not_an_upgrade', 'seats');
    const both = await a.call('POST', '/v1/widget/upgrade/preview', { plan_id: 'enterprise', seats: 9 });
    expect(both.status).toBe(400);
    expect((await a.call('POST', '/v1/widget/upgrade/preview', { plan: 'enterprise' })).json.error.details[0].path).toBe('plan');
    expect(await ledger(a.acct)).toEqual([]);
  });

  it('refuses a confirmation whose preview is too old', async () => {
    const a = await account({ stripe });
    const res = await a.call('POST', '/v1/widget/upgrade', { plan_id: 'business', proration_date: s(MID) - 2 * 3600, idempotency_key: 'old' });
    expect(res.status).toBe(422);
    expect(res.json.error.code).toBe('preview_expired');
  });
});

describe('upgrades through Stripe', () => {
  it("shows Stripe's own amount, which rounds each proration line, not a recomputed one", async () => {
    // $50.01 → $100.02 at half the period: Stripe credits −$25.01 (2500.5 rounded) and charges $50.01,
    // so $25.00 is due, where prorating the difference would give $25.01.
    vi.setSystemTime(START + 15 * DAY);
    const a = await account({ stripe: true, plan: 'lite' });
    const preview = await a.call('POST', '/v1/widget/upgrade/preview', { plan_id: 'liteplus' });
    expect(preview.json.amount_due_now_cents).toBe(2500);
    const local = await account({ plan: 'lite' });
    expect((await local.call('POST', '/v1/widget/upgrade/preview', { plan_id: 'liteplus' })).json.amount_due_now_cents).toBe(2501);
  });

  it("answers 502 with Stripe's reason when Stripe fails, never a $0 preview", async () => {
    const fail = { status: 500, type: 'api_error', message: 'An unknown error occurred while processing the request.' };
    const a = await account({ stripe: true, fail: { preview: fail, update: fail } });
    const preview = await a.call('POST', '/v1/widget/upgrade/preview', { plan_id: 'business' });
    expect(preview.status).toBe(502);
    expect(preview.json.error.code).toBe('billing_provider_failed');
    expect(preview.json.error.message).toContain(fail.message);
    expect(preview.json).not.toHaveProperty('amount_due_now_cents');

    const done = await a.call('POST', '/v1/widget/upgrade', { plan_id: 'business', proration_date: s(MID), idempotency_key: 'k502' });
    expect(done.status).toBe(502);
    expect((await accountRow(a.acct)).plan_id).toBe('starter');
    // Nothing happened, so the same click may be retried once Stripe is back.
    await stripeMock('POST', '/__mock/seed', { customers: [{ id: a.ids.customer }] });
    const retried = await a.call('POST', '/v1/widget/upgrade', { plan_id: 'business', proration_date: s(MID), idempotency_key: 'k502' });
    expect(retried.json).toMatchObject({ status: 'succeeded', amount_charged_cents: 2500 });
  });

  it('a payment that needs the customer’s confirmation leaves the plan unchanged for now', async () => {
    const a = await account({ stripe: true, card: 'requires_action' });
    const res = await a.call('POST', '/v1/widget/upgrade', { plan_id: 'business', proration_date: s(MID), idempotency_key: '3ds' });
    expect(res.json).toMatchObject({ status: 'requires_action', plan_id: 'starter', amount_charged_cents: 0 });
    expect((await accountRow(a.acct)).plan_id).toBe('starter');
  });
});

describe('attribution', () => {
  it('the ledger row of a self-serve upgrade carries the prompt click that preceded it within 7 days', async () => {
    const a = await account();
    const click = (key: string, at: number, prompt: string, userId = 'admin-1') =>
      env.DB.prepare(`INSERT INTO prompt_events (account_id, idempotency_key, user_id, session_id, type, prompt_id, variant_id, experiment_id, timestamp)
                      VALUES (?, ?, ?, 's1', 'click', ?, 'b', 'exp_1', ?)`).bind(a.acct, key, userId, prompt, at).run();
    await click('old', MID - 8 * DAY, 'too-old');
    await click('recent', MID - 2 * DAY, 'limit-seats-90');
    await click('other-user', MID - DAY, 'someone-else', 'member-1');
    const res = await a.call('POST', '/v1/widget/upgrade', { plan_id: 'business', proration_date: s(MID), idempotency_key: 'attr' });
    expect(res.json.status).toBe('succeeded');
    expect((await ledger(a.acct)).at(-1)).toMatchObject({ source: 'self_serve', prompt_id: 'limit-seats-90', variant_id: 'b', experiment_id: 'exp_1' });
  });
});

describe('upgrade.succeeded', () => {
  it('goes to each enabled webhook subscribed to it, once per upgrade however often the click is retried', async () => {
    const a = await account();
    await env.DB.prepare(`INSERT INTO webhooks (id, url, format, events, secret, enabled, created_at, updated_at) VALUES ('won', 'https://hooks.example.com/w', 'json', '["upgrade.succeeded"]', 'whsec', 1, 0, 0)
                          ON CONFLICT (id) DO NOTHING`).run();
    const body = { plan_id: 'business', proration_date: s(MID), idempotency_key: 'hooked' };
    expect((await a.call('POST', '/v1/widget/upgrade', body)).json.status).toBe('succeeded');
    await a.call('POST', '/v1/widget/upgrade', body);
    const outbox = await rows("SELECT payload FROM webhook_outbox WHERE event = 'upgrade.succeeded' AND dedupe_key = ?", `upgrade:${a.acct}:hooked`);
    expect(outbox).toHaveLength(1);
    expect(JSON.parse(outbox[0]!.payload)).toMatchObject({ account_id: a.acct, from_plan_id: 'starter', plan_id: 'business' });
  });
});

describe('upgrade requests', () => {
  it('are stored and fire upgrade.requested to each enabled webhook subscribed to it', async () => {
    const a = await account();
    const hook = (id: string, events: string[], enabled: number) =>
      env.DB.prepare(`INSERT INTO webhooks (id, url, format, events, secret, enabled, created_at, updated_at) VALUES (?, 'https://hooks.example.com/x', 'json', ?, 'whsec', ?, 0, 0)
                      ON CONFLICT (id) DO NOTHING`).bind(id, JSON.stringify(events), enabled).run();
    await hook('crm', ['upgrade.requested', 'pqa.sales_ready'], 1);
    await hook('slack-off', ['upgrade.requested'], 0);
    await hook('pqa-only', ['pqa.sales_ready'], 1);
    const res = await a.call('POST', '/v1/widget/upgrade-requests', { seats: 12, note: 'Two teams joining' }, a.member);
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({ account_id: a.acct, user_id: 'member-1', plan_id: null, seats: 12, note: 'Two teams joining' });
    expect(await rows('SELECT user_id, seats, note FROM upgrade_requests WHERE id = ?', res.json.id)).toEqual([{ user_id: 'member-1', seats: 12, note: 'Two teams joining' }]);
    const outbox = await rows('SELECT webhook_id, event, dedupe_key, payload, next_attempt_at FROM webhook_outbox WHERE dedupe_key = ?', res.json.id);
    expect(outbox.map((o) => o.webhook_id)).toEqual(['crm']);
    expect(outbox[0]).toMatchObject({ event: 'upgrade.requested', next_attempt_at: MID });
    expect(JSON.parse(outbox[0]!.payload)).toMatchObject({ event: 'upgrade.requested', account: { id: a.acct, plan_id: 'starter' }, request: { id: res.json.id, seats: 12 } });
  });

  it('the same ask from the same user within 24 hours answers 200 with the open request and sends no second webhook', async () => {
    const a = await account();
    await env.DB.prepare(`INSERT INTO webhooks (id, url, format, events, secret, enabled, created_at, updated_at) VALUES ('crm-dedupe', 'https://hooks.example.com/y', 'json', '["upgrade.requested"]', 'whsec', 1, 0, 0)
                          ON CONFLICT (id) DO NOTHING`).run();
    const first = await a.call('POST', '/v1/widget/upgrade-requests', { plan_id: 'business', note: 'SSO please' }, a.member);
    expect(first.status).toBe(201);
    const again = await a.call('POST', '/v1/widget/upgrade-requests', { plan_id: 'business', note: 'Any news?' }, a.member);
    expect(again.status).toBe(200);
    expect(again.json).toEqual(first.json);
    expect(await rows("SELECT id FROM webhook_outbox WHERE webhook_id = 'crm-dedupe' AND event = 'upgrade.requested' AND dedupe_key = ?", first.json.id)).toHaveLength(1);
    const seats = await a.call('POST', '/v1/widget/upgrade-requests', { seats: 9 }, a.member);
    expect(seats.status).toBe(201);
    vi.setSystemTime(Date.now() + DAY + 1000);
    expect((await a.call('POST', '/v1/widget/upgrade-requests', { plan_id: 'business' }, await userToken({ acct: a.acct, sub: 'member-1', role: 'member' }))).status).toBe(201);
  });

  it("reach the account's admins in the widget state; an admin declines one, and an upgrade approves the one it meets", async () => {
    const a = await account({ seats: 5 });
    const ana = await userToken({ acct: a.acct, sub: 'member-1', role: 'member', name: 'Ana Member' });
    const plan = (await a.call('POST', '/v1/widget/upgrade-requests', { plan_id: 'business', note: 'We need SSO' }, ana)).json;
    const seats = (await a.call('POST', '/v1/widget/upgrade-requests', { seats: 8 }, ana)).json;
    const stateOf = async (token: string) => (await a.call('GET', '/v1/widget/state?session=s1', undefined, token)).json;
    expect((await stateOf(a.admin)).upgrade_requests).toEqual([
      { id: plan.id, user_id: 'member-1', user_name: 'Ana Member', plan_id: 'business', seats: null, note: 'We need SSO', created_at: plan.created_at },
      { id: seats.id, user_id: 'member-1', user_name: 'Ana Member', plan_id: null, seats: 8, note: '', created_at: seats.created_at },
    ]);
    expect((await stateOf(a.member)).upgrade_requests).toBeUndefined();

    const memberDecline = await a.call('POST', `/v1/widget/upgrade-requests/${seats.id}/decline`, {}, a.member);
    expect(memberDecline.status).toBe(403);
    expect(memberDecline.json.error.code).toBe('admin_required');
    const declined = await a.call('POST', `/v1/widget/upgrade-requests/${seats.id}/decline`, {});
    expect(declined.status).toBe(200);
    expect(declined.json).toMatchObject({ id: seats.id, status: 'declined' });
    expect((await a.call('POST', `/v1/widget/upgrade-requests/${seats.id}/decline`, {})).status).toBe(200); // a retry
    const other = await account();
    expect((await other.call('POST', `/v1/widget/upgrade-requests/${plan.id}/decline`, {})).status).toBe(404);
    expect((await a.call('POST', '/v1/widget/upgrade-requests/nope/decline', {})).status).toBe(400);
    expect((await stateOf(a.admin)).upgrade_requests.map((r: { id: string }) => r.id)).toEqual([plan.id]);

    const t = (await a.call('POST', '/v1/widget/upgrade/preview', { plan_id: 'business' })).json.proration_date;
    expect((await a.call('POST', '/v1/widget/upgrade', { plan_id: 'business', proration_date: t, idempotency_key: 'approve' })).json.status).toBe('succeeded');
    expect((await stateOf(a.admin)).upgrade_requests).toEqual([]);
    expect((await a.call('POST', `/v1/widget/upgrade-requests/${plan.id}/decline`, {})).status).toBe(409);

    const listed = await api('GET', `/v1/admin/upgrade-requests?status=approved&from=${START - DAY}`, { token: ADMIN });
    expect(listed.json.requests.filter((r: { account_id: string }) => r.account_id === a.acct)).toMatchObject([{ id: plan.id, status: 'approved', plan_id: 'business', user_name: 'Ana Member' }]);
    const declinedList = await api('GET', '/v1/admin/upgrade-requests?status=declined', { token: ADMIN });
    expect(declinedList.json.requests.map((r: { id: string }) => r.id)).toContain(seats.id);
    const csv = await api('GET', '/v1/admin/upgrade-requests?status=approved', { token: ADMIN, headers: { accept: 'text/csv' } });
    expect((csv.json as string).split('\r\n')[0]).toBe('id,account_id,user_id,user_name,plan_id,seats,note,status,created_at,resolved_at');
    expect(csv.json).toContain(`${plan.id},${a.acct},member-1,Ana Member,business,,We need SSO,approved,`);
    expect((await api('GET', '/v1/admin/upgrade-requests?status=maybe', { token: ADMIN })).status).toBe(400);
  });

  it('need a known plan or a seat count', async () => {
    const a = await account();
    expect((await a.call('POST', '/v1/widget/upgrade-requests', { plan_id: 'nope' }, a.member)).status).toBe(404);
    expect((await a.call('POST', '/v1/widget/upgrade-requests', { note: 'hi' }, a.member)).status).toBe(400);
  });
});

describe('trials', () => {
  it("start once per account and feature, only for a feature with a trial that the plan lacks", async () => {
    const a = await account();
    const start = await a.call('POST', '/v1/widget/trials', { feature_id: 'sso' }, a.member);
    expect(start.status).toBe(201);
    expect(start.json).toEqual({ feature_id: 'sso', trial_ends_at: new Date(MID + 14 * DAY).toISOString() });
    expect((await accountRow(a.acct)).entitlements.sso).toBe(true);
    const again = await a.call('POST', '/v1/widget/trials', { feature_id: 'sso' });
    expect(again.status).toBe(409);
    expect(again.json.error.code).toBe('trial_already_used');
    expect((await a.call('POST', '/v1/widget/trials', { feature_id: 'audit_log' })).json.error.code).toBe('trial_not_available');
    expect((await a.call('POST', '/v1/widget/trials', { feature_id: 'nope' })).status).toBe(404);
    const business = await account({ plan: 'business' });
    expect((await business.call('POST', '/v1/widget/trials', { feature_id: 'exports' })).json.error.code).toBe('already_entitled');
  });
});
