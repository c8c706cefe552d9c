import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { savesByReason, type CancelFlow } from '../../shared/retention';
import { runScheduled } from '../scheduled';
import { api, apiWith, ADMIN, DAY, env, flushCounters, STRIPE, stripeMock, uid, userToken } from '../test/api';

const START = Date.UTC(2026, 10, 1); // a 30-day period: Nov 1 → Dec 1, 2026
const END = Date.UTC(2026, 11, 1);
const MID = Date.UTC(2026, 10, 16);
const s = (ms: number) => Math.floor(ms / 1000);

const P = 'rt_'; // Stripe ids of this file (the mock is shared with other test files)
const plan = (id: string, rank: number, price: number, extra: Record<string, unknown> = {}) => ({
  id, name: id[0]!.toUpperCase() + id.slice(1), rank, currency: 'usd', price_cents: price, interval: 'month',
  stripe_price_id: `${P}price_${id}`, seat_price_cents: 0, stripe_seat_price_id: null, features: [], ...extra,
});
const catalog = {
  metrics: [
    { id: 'api_calls', name: 'API calls', unit: 'call', kind: 'counter' },
    { id: 'seats', name: 'Seats', unit: 'seat', kind: 'gauge' },
  ],
  features: [{ id: 'sso', name: 'Single sign-on', trial_days: 0 }],
  plans: [
    plan('starter', 1, 5000, { limits: { api_calls: 10_000, seats: 5 } }),
    plan('business', 2, 10000, { limits: { api_calls: 100_000, seats: 20 }, features: ['sso'], annual_price_cents: 96000, stripe_annual_price_id: `${P}price_business_year` }),
  ],
};
const prices = [
  { id: `${P}price_starter`, unit_amount: 5000 },
  { id: `${P}price_business`, unit_amount: 10000 },
  { id: `${P}price_business_year`, unit_amount: 96000, interval: 'year' },
];

/** An account on Business in the Nov 2026 period, with its Stripe subscription in the mock when `stripe`. */
async function account(stripe: boolean, acct = uid()) {
  expect((await api('PUT', '/v1/catalog', { body: catalog })).status).toBe(200);
  const ids = { customer: `${P}cus_${acct}`, subscription: `${P}sub_${acct}`, item: `${P}si_${acct}` };
  if (stripe)
    await stripeMock('POST', '/__mock/seed', {
      prices,
      customers: [{ id: ids.customer }],
      subscriptions: [{ id: ids.subscription, customer: ids.customer, current_period_start: s(START), current_period_end: s(END), items: [{ id: ids.item, price: `${P}price_business` }] }],
    });
  const res = await api('PUT', `/v1/accounts/${acct}`, {
    body: {
      name: acct, plan_id: 'business', seats: 0, created_at: START - 90 * DAY, period_start: START, period_end: END,
      ...(stripe && { stripe_customer_id: ids.customer, stripe_subscription_id: ids.subscription }),
    },
  });
  expect(res.status).toBe(200);
  const admin = await userToken({ acct, sub: 'admin-1', role: 'admin' });
  const member = await userToken({ acct, sub: 'member-1', role: 'member' });
  const call = (method: string, path: string, body?: unknown, token = admin) =>
    apiWith(stripe ? STRIPE : {}, method, path, { token, ...(body !== undefined && { body }) });
  const state = async () => (await call('GET', '/v1/widget/state?session=s1')).json;
  return { acct, ids, admin, member, call, state };
}

const rows = async (query: string, ...params: unknown[]) => (await env.DB.prepare(query).bind(...params).all()).results as Record<string, any>[];
const ledger = (acct: string) => rows('SELECT kind, at, mrr_before_cents, mrr_after_cents, source FROM mrr_ledger WHERE account_id = ? ORDER BY id', acct);
const accountRow = async (acct: string) => (await api('GET', `/v1/accounts/${acct}`)).json;
const stripeSeen = async (sub: string) => (await stripeMock('GET', `/__mock/subscriptions/${sub}`)) as { subscription: any; invoices: any[]; requests: any[] };
const cron = (stripe: boolean, at: number) => runScheduled({ ...env, ...(stripe && STRIPE) }, at);

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(MID);
});
afterEach(() => vi.useRealTimers());

describe.each(['local', 'stripe'] as const)('keeping customers with the %s provider', (mode) => {
  const stripe = mode === 'stripe';

  it('a downgrade says what is lost and when, is scheduled once for the period end, can be undone, and the cron applies it', async () => {
    const a = await account(stripe);
    await api('POST', '/v1/usage', { body: { events: [{ account_id: a.acct, metric: 'api_calls', value: 14_200, idempotency_key: 'u1' }] } });
    // The preview's over_limit reads the counters in D1: with account objects, as of the object's last flush.
    await flushCounters(a.acct);
    const preview = await a.call('POST', '/v1/widget/downgrade/preview', { plan_id: 'starter' });
    expect(preview.status).toBe(200);
    expect(preview.json).toEqual({
      effective_at: '2026-12-01T00:00:00.000Z', plan_id: 'starter', seats: 0, next_amount_cents: 5000, currency: 'usd', interval: 'month',
      message:
        'Your plan changes to Starter on December 1, 2026, then $50.00/month; nothing is refused until then. You lose Single sign-on. ' +
        'API calls drop from 100,000 to 10,000 (you use 14,200 now, so new use is blocked until it is below the limit). Seats drop from 20 to 5.',
      losing: { features: ['sso'], limits: { api_calls: { from: 100_000, to: 10_000 }, seats: { from: 20, to: 5 } } },
      over_limit: [{ metric: 'api_calls', used: 14_200, limit: 10_000 }],
    });

    const body = { plan_id: 'starter', idempotency_key: 'down-1' };
    const clicks = await Promise.all([a.call('POST', '/v1/widget/downgrade', body), a.call('POST', '/v1/widget/downgrade', body)]);
    for (const r of clicks) expect(r.json).toEqual({ status: 'scheduled', kind: 'downgrade', effective_at: '2026-12-01T00:00:00.000Z' });
    expect((await a.state()).scheduled_change).toEqual({ kind: 'downgrade', plan_id: 'starter', seats: 0, effective_at: '2026-12-01T00:00:00.000Z' });
    expect((await accountRow(a.acct)).plan_id).toBe('business'); // nothing changes, nothing is refunded mid-period
    const cancelToo = await a.call('POST', '/v1/widget/cancel', { reason: 'other', idempotency_key: 'c-while-down' });
    expect(cancelToo.status).toBe(409);
    expect(cancelToo.json.error.code).toBe('change_already_scheduled');

    expect((await a.call('DELETE', '/v1/widget/scheduled-change')).json).toEqual({ status: 'undone', kind: 'downgrade' });
    expect((await a.state()).scheduled_change).toBeNull();
    expect((await a.call('DELETE', '/v1/widget/scheduled-change')).json).toEqual({ status: 'none' });

    expect((await a.call('POST', '/v1/widget/downgrade', { plan_id: 'starter', idempotency_key: 'down-2' })).json.status).toBe('scheduled');
    await cron(stripe, END - 1000);
    expect((await accountRow(a.acct)).plan_id).toBe('business');
    const report = await cron(stripe, END + 60_000);
    expect(report.scheduled_changes_applied).toBeGreaterThanOrEqual(1);
    const after = await accountRow(a.acct);
    expect(after.plan_id).toBe('starter');
    expect(after.usage.api_calls).toMatchObject({ limit: 10_000 });
    expect((await a.state()).scheduled_change).toBeNull();
    expect(await ledger(a.acct)).toEqual([
      { kind: 'new', at: START - 90 * DAY, mrr_before_cents: 0, mrr_after_cents: 10000, source: 'sales' },
      { kind: 'contraction', at: END, mrr_before_cents: 10000, mrr_after_cents: 5000, source: 'self_serve' },
    ]);
    await cron(stripe, END + 120_000); // applied once
    expect(await ledger(a.acct)).toHaveLength(2);
    if (stripe) {
      const seen = await stripeSeen(a.ids.subscription);
      expect(seen.subscription.items.data.map((i: any) => i.price.id)).toEqual([`${P}price_starter`]);
      expect(seen.invoices).toEqual([]);
      const update = seen.requests.find((r) => r.method === 'POST');
      expect(update.params).toMatchObject({ items: [{ id: a.ids.item, price: `${P}price_starter` }], proration_behavior: 'none' });
      expect(update.idempotencyKey).toBe(`ladder-downgrade-${a.acct}-down-2`);
    }
  });

  it('cancel → offer → accept: a price-driven cancellation gets 25% off for 3 months, applied once however often it is clicked', async () => {
    const a = await account(stripe);
    const offered = await a.call('POST', '/v1/widget/cancel/offer', { reason: 'too_expensive', note: 'Budget cuts' });
    expect(offered.status).toBe(200);
    expect(offered.json.offer).toEqual({
      id: expect.stringMatching(/^sof_/), kind: 'discount', percent_off: 25, months: 3, title: 'Stay for less', message: 'Keep Business at 25% off for the next 3 months.',
    });
    const body = { offer_id: offered.json.offer.id, idempotency_key: 'save-1' };
    const clicks = await Promise.all([a.call('POST', '/v1/widget/cancel/accept', body), a.call('POST', '/v1/widget/cancel/accept', body)]);
    const again = await a.call('POST', '/v1/widget/cancel/accept', body);
    for (const r of [...clicks, again]) expect(r.json).toEqual(clicks[0]!.json);
    expect(clicks[0]!.json).toEqual({ status: 'accepted', kind: 'discount', message: 'Done: 25% off for the next 3 months.', until: '2027-03-01T00:00:00.000Z', saved_mrr_cents: 7500 });
    expect(await rows('SELECT status, saved_mrr_cents FROM cancel_flows WHERE account_id = ?', a.acct)).toEqual([{ status: 'accepted', saved_mrr_cents: 7500 }]);
    expect((await accountRow(a.acct)).status).toBe('active');
    if (stripe) {
      const seen = await stripeSeen(a.ids.subscription);
      expect(seen.subscription.discounts.map((d: any) => [d.coupon.percent_off, d.coupon.duration, d.coupon.duration_in_months])).toEqual([[25, 'repeating', 3]]);
      expect(new Set(seen.requests.filter((r) => r.method === 'POST').map((r) => r.idempotencyKey)).size).toBe(1);
    }
    // One offer per account per 90 days.
    const second = await a.call('POST', '/v1/widget/cancel/offer', { reason: 'too_expensive' });
    expect(second.json.offer).toMatchObject({ kind: 'none' });
    const none = await a.call('POST', '/v1/widget/cancel/accept', { offer_id: second.json.offer.id, idempotency_key: 'n' });
    expect(none.status).toBe(422);
  });

  it('a seasonal customer pauses billing instead of cancelling', async () => {
    const a = await account(stripe);
    const offer = (await a.call('POST', '/v1/widget/cancel/offer', { reason: 'temporary' })).json.offer;
    expect(offer).toMatchObject({ kind: 'pause', pause_months: 3 });
    const res = await a.call('POST', '/v1/widget/cancel/accept', { offer_id: offer.id, idempotency_key: 'p' });
    expect(res.json).toMatchObject({ status: 'accepted', kind: 'pause', until: '2027-02-16T00:00:00.000Z', saved_mrr_cents: 10000 });
    if (stripe) expect((await stripeSeen(a.ids.subscription)).subscription.pause_collection).toEqual({ behavior: 'void', resumes_at: s(Date.UTC(2027, 1, 16)) });
  });

  it('an unused account is offered the lower plan, and accepting schedules that downgrade', async () => {
    const a = await account(stripe);
    const offer = (await a.call('POST', '/v1/widget/cancel/offer', { reason: 'not_using' })).json.offer;
    expect(offer).toMatchObject({ kind: 'downgrade', plan_id: 'starter', message: 'Move to Starter at $50.00/month and keep your data.' });
    const res = await a.call('POST', '/v1/widget/cancel/accept', { offer_id: offer.id, idempotency_key: 'd' });
    expect(res.json).toMatchObject({ status: 'accepted', kind: 'downgrade', effective_at: '2026-12-01T00:00:00.000Z', saved_mrr_cents: 5000 });
    expect((await a.state()).scheduled_change).toMatchObject({ kind: 'downgrade', plan_id: 'starter' });
  });

  it('a customer switching away is offered yearly billing, charged now less the unused part of the period', async () => {
    const a = await account(stripe);
    const offer = (await a.call('POST', '/v1/widget/cancel/offer', { reason: 'switching' })).json.offer;
    expect(offer).toMatchObject({ kind: 'annual', message: 'Switch Business to yearly billing and save $240.00 a year.' });
    const res = await a.call('POST', '/v1/widget/cancel/accept', { offer_id: offer.id, idempotency_key: 'y' });
    expect(res.json).toMatchObject({ status: 'accepted', kind: 'annual', saved_mrr_cents: 8000 });
    expect(res.json.message).toContain('$910.00 was charged');
    expect((await a.state()).account.plan).toMatchObject({ id: 'business', interval: 'year' });
  });

  it('cancel → offer → decline: cancels at the period end, undoable until then; the cron ends the subscription as churn', async () => {
    const a = await account(stripe);
    await a.call('POST', '/v1/widget/cancel/offer', { reason: 'too_expensive' });
    const body = { reason: 'too_expensive', idempotency_key: 'bye' };
    const [one, two] = await Promise.all([a.call('POST', '/v1/widget/cancel', body), a.call('POST', '/v1/widget/cancel', body)]);
    expect(one.json).toEqual({ status: 'scheduled', kind: 'cancel', effective_at: '2026-12-01T00:00:00.000Z' });
    expect(two.json).toEqual(one.json);
    expect((await a.state()).scheduled_change).toEqual({ kind: 'cancel', reason: 'too_expensive', effective_at: '2026-12-01T00:00:00.000Z' });
    expect(await rows('SELECT reason, offer_kind, status FROM cancel_flows WHERE account_id = ?', a.acct)).toEqual([{ reason: 'too_expensive', offer_kind: 'discount', status: 'canceled' }]);
    if (stripe) expect((await stripeSeen(a.ids.subscription)).subscription.cancel_at_period_end).toBe(true);

    expect((await a.call('DELETE', '/v1/widget/scheduled-change')).json).toEqual({ status: 'undone', kind: 'cancel' });
    if (stripe) expect((await stripeSeen(a.ids.subscription)).subscription.cancel_at_period_end).toBe(false);
    expect((await rows('SELECT status FROM cancel_flows WHERE account_id = ?', a.acct))[0]!.status).toBe('offered');

    expect((await a.call('POST', '/v1/widget/cancel', { reason: 'other', idempotency_key: 'bye-2' })).json.status).toBe('scheduled');
    await cron(stripe, END + 60_000);
    expect((await accountRow(a.acct)).status).toBe('canceled');
    expect((await ledger(a.acct)).at(-1)).toEqual({ kind: 'churn', at: END, mrr_before_cents: 10000, mrr_after_cents: 0, source: 'self_serve' });
  });

  it('a member sees the plan but gets 403 admin_required for every one of these, and nothing changes', async () => {
    const a = await account(stripe);
    const calls: [string, string, unknown?][] = [
      ['POST', '/v1/widget/downgrade/preview', { plan_id: 'starter' }],
      ['POST', '/v1/widget/downgrade', { plan_id: 'starter', idempotency_key: 'm1' }],
      ['DELETE', '/v1/widget/scheduled-change'],
      ['POST', '/v1/widget/cancel/offer', { reason: 'too_expensive' }],
      ['POST', '/v1/widget/cancel/accept', { offer_id: 'sof_x', idempotency_key: 'm2' }],
      ['POST', '/v1/widget/cancel', { reason: 'too_expensive', idempotency_key: 'm3' }],
    ];
    for (const [method, path, body] of calls) {
      const res = await a.call(method, path, body, a.member);
      expect(res.status, path).toBe(403);
      expect(res.json.error.code).toBe('admin_required');
    }
    expect(await rows('SELECT * FROM cancel_flows WHERE account_id = ?', a.acct)).toEqual([]);
    expect((await a.call('GET', '/v1/widget/state?session=s1', undefined, a.member)).json.account.plan).toMatchObject({ id: 'business', annual_saving_cents: 24000 });
  });
});

describe('the local provider bills renewals as the save offers say', () => {
  const invoices = (acct: string) => rows('SELECT amount_cents, currency, status, created_at, description FROM invoices WHERE account_id = ? ORDER BY created_at', acct);
  /** The cron on the first day of each month from December 2026 to March 2027 (twice, to show a rerun bills nothing twice). */
  const renewThroughMarch = async () => {
    for (const month of [11, 12, 13, 14]) {
      await cron(false, Date.UTC(2026, month, 1, 0, 15));
      await cron(false, Date.UTC(2026, month, 1, 0, 30));
    }
  };

  it('without an offer each monthly renewal is invoiced at the plan price, once', async () => {
    const a = await account(false);
    await renewThroughMarch();
    const got = await invoices(a.acct);
    expect(got.map((i) => [i.amount_cents, new Date(i.created_at).toISOString().slice(0, 10)])).toEqual([
      [10000, '2026-12-01'], [10000, '2027-01-01'], [10000, '2027-02-01'], [10000, '2027-03-01'],
    ]);
    expect(got[0]).toMatchObject({ currency: 'usd', status: 'paid', description: 'Business, monthly renewal from December 1, 2026' });
  });

  it('25% off for 3 months lowers the next three invoices (December, January, February) to $75.00, then $100.00 again', async () => {
    const a = await account(false);
    const offer = (await a.call('POST', '/v1/widget/cancel/offer', { reason: 'too_expensive' })).json.offer;
    expect((await a.call('POST', '/v1/widget/cancel/accept', { offer_id: offer.id, idempotency_key: 'd' })).json.until).toBe('2027-03-01T00:00:00.000Z');
    await renewThroughMarch();
    const got = await invoices(a.acct);
    expect(got.map((i) => i.amount_cents)).toEqual([7500, 7500, 7500, 10000]);
    expect(got[0]!.description).toBe('Business, monthly renewal from December 1, 2026: $100.00 less 25% (save offer)');
  });

  it('a 3-month pause from November 16 charges nothing on December 1, January 1 and February 1, and the full price on March 1', async () => {
    const a = await account(false);
    const offer = (await a.call('POST', '/v1/widget/cancel/offer', { reason: 'temporary' })).json.offer;
    expect((await a.call('POST', '/v1/widget/cancel/accept', { offer_id: offer.id, idempotency_key: 'p' })).json.until).toBe('2027-02-16T00:00:00.000Z');
    await renewThroughMarch();
    const got = await invoices(a.acct);
    expect(got.map((i) => i.amount_cents)).toEqual([0, 0, 0, 10000]);
    expect(got[0]!.description).toBe('Business, monthly renewal from December 1, 2026: billing paused until February 16, 2027, nothing charged');
    expect((await accountRow(a.acct)).status).toBe('active');
  });

  it('a cron that missed months invoices each renewal it rolls over, with the discount where it ran', async () => {
    const a = await account(false);
    const offer = (await a.call('POST', '/v1/widget/cancel/offer', { reason: 'too_expensive' })).json.offer;
    await a.call('POST', '/v1/widget/cancel/accept', { offer_id: offer.id, idempotency_key: 'd' });
    await cron(false, Date.UTC(2027, 3, 1, 0, 15)); // first run after four renewals
    expect((await invoices(a.acct)).map((i) => i.amount_cents)).toEqual([7500, 7500, 7500, 10000, 10000]);
  });

  it('Stripe bills its own renewals: with Stripe configured, the cron writes no local invoice', async () => {
    const a = await account(true);
    await cron(true, Date.UTC(2026, 11, 1, 0, 15));
    expect(await invoices(a.acct)).toEqual([]);
  });
});

describe('bad input changes nothing', () => {
  it('refuses a higher plan (422), an unknown plan (404), more seats (422), both or neither (400), an unknown reason (400)', async () => {
    const a = await account(false);
    const expectError = async (path: string, body: unknown, status: number, code: string) => {
      const res = await a.call('POST', path, body);
      expect(res.status, `${path} ${JSON.stringify(body)}`).toBe(status);
      expect(res.json.error.code).toBe(code);
    };
    await expectError('/v1/widget/downgrade/preview', { plan_id: 'business' }, 422, 'already_on_plan');
    await expectError('/v1/widget/downgrade/preview', { plan_id: 'platinum' }, 404, 'plan_not_found');
    await expectError('/v1/widget/downgrade/preview', { seats: 2 }, 422, 'seats_not_sold');
    await expectError('/v1/widget/downgrade', { plan_id: 'starter', seats: 2, idempotency_key: 'x' }, 400, 'validation_failed');
    await expectError('/v1/widget/downgrade', { idempotency_key: 'x' }, 400, 'validation_failed');
    await expectError('/v1/widget/cancel/offer', { reason: 'bored' }, 400, 'validation_failed');
    await expectError('/v1/widget/cancel', { reason: 'other' }, 400, 'validation_failed');
    await expectError('/v1/widget/cancel/accept', { offer_id: 'sof_nope', idempotency_key: 'x' }, 404, 'offer_not_found');
    const starter = await account(false);
    await api('PUT', `/v1/accounts/${starter.acct}`, { body: { name: 'x', plan_id: 'starter', period_start: START, period_end: END } });
    expect((await starter.call('POST', '/v1/widget/downgrade/preview', { plan_id: 'business' })).json.error.code).toBe('not_a_downgrade');
    expect(await rows('SELECT * FROM scheduled_changes WHERE account_id IN (?, ?)', a.acct, starter.acct)).toEqual([]);
  });
});

describe('save offers and the saves report', () => {
  const admin = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => api(method, path, { token: ADMIN, headers, ...(body !== undefined && { body }) });

  it('an admin sets the offer per reason; reasons left out keep the defaults; bad offers are 400/422 and change nothing', async () => {
    await api('PUT', '/v1/catalog', { body: catalog });
    const put = await admin('PUT', '/v1/admin/save-offers', {
      too_expensive: { kind: 'discount', percent_off: 50, months: 2, copy: { title: 'Half off', body: '{percent_off}% off {plan} for {months} months' } },
      missing_feature: { kind: 'downgrade', plan_id: 'starter', copy: { title: 'Smaller plan', body: '{offer_plan} for {offer_price}' } },
    });
    expect(put.status).toBe(200);
    expect(put.json.too_expensive).toMatchObject({ kind: 'discount', percent_off: 50 });
    expect(put.json.temporary).toMatchObject({ kind: 'pause', pause_months: 3 });
    expect((await admin('PUT', '/v1/admin/save-offers', { too_expensive: { kind: 'discount', copy: { title: '', body: '' } } })).json.error.details.map((d: any) => d.path)).toEqual(['too_expensive.percent_off', 'too_expensive.months']);
    expect((await admin('PUT', '/v1/admin/save-offers', { bored: { kind: 'none', copy: { title: '', body: '' } } })).status).toBe(400);
    expect((await admin('PUT', '/v1/admin/save-offers', { other: { kind: 'downgrade', plan_id: 'nope', copy: { title: '', body: '' } } })).status).toBe(422);
    expect((await admin('GET', '/v1/admin/save-offers')).json.too_expensive.percent_off).toBe(50);

    const a = await account(false);
    expect((await a.call('POST', '/v1/widget/cancel/offer', { reason: 'too_expensive' })).json.offer).toMatchObject({ kind: 'discount', percent_off: 50, months: 2, message: '50% off Business for 2 months' });
    await admin('PUT', '/v1/admin/save-offers', {});
  });

  it('reports per reason what the flows give, in JSON and CSV, and revenue counts the MRR saved and the churn', async () => {
    vi.setSystemTime(Date.UTC(2031, 0, 10)); // a period of its own, away from the other tests' flows
    const from = Date.UTC(2031, 0, 1);
    const to = Date.UTC(2031, 1, 1);
    const saved = await account(false);
    await api('PUT', `/v1/accounts/${saved.acct}`, { body: { name: 'x', plan_id: 'business', period_start: Date.UTC(2031, 0, 1), period_end: to } });
    const o1 = (await saved.call('POST', '/v1/widget/cancel/offer', { reason: 'too_expensive' })).json.offer;
    await saved.call('POST', '/v1/widget/cancel/accept', { offer_id: o1.id, idempotency_key: 'k' });
    const lost = await account(false);
    await api('PUT', `/v1/accounts/${lost.acct}`, { body: { name: 'y', plan_id: 'business', period_start: Date.UTC(2031, 0, 1), period_end: to } });
    await lost.call('POST', '/v1/widget/cancel/offer', { reason: 'too_expensive' });
    await lost.call('POST', '/v1/widget/cancel', { reason: 'too_expensive', idempotency_key: 'c' });
    const quiet = await account(false);
    await api('PUT', `/v1/accounts/${quiet.acct}`, { body: { name: 'z', plan_id: 'business', period_start: Date.UTC(2031, 0, 1), period_end: to } });
    await quiet.call('POST', '/v1/widget/cancel', { reason: 'missing_feature', idempotency_key: 'c' });

    const res = await admin('GET', `/v1/admin/analytics/saves?from=${from}&to=${to}`);
    expect(res.status).toBe(200);
    // The same figures, computed independently from the stored flows.
    const flows = (await rows('SELECT reason, offer_kind, status, saved_mrr_cents FROM cancel_flows WHERE created_at >= ? AND created_at < ?', from, to)) as CancelFlow[];
    expect(res.json.reasons).toEqual(savesByReason(flows));
    expect(res.json.reasons[0]).toEqual({ reason: 'too_expensive', cancel_started: 2, offers_shown: 2, offers_accepted: 1, canceled: 1, save_rate: 0.5, saved_mrr_cents: 7500 });
    expect(res.json.reasons[2]).toEqual({ reason: 'missing_feature', cancel_started: 1, offers_shown: 0, offers_accepted: 0, canceled: 1, save_rate: 0, saved_mrr_cents: 0 });
    const csv = await admin('GET', `/v1/admin/analytics/saves?from=${from}&to=${to}`, undefined, { accept: 'text/csv' });
    expect((csv.json as string).split('\r\n').slice(0, 2)).toEqual(['reason,cancel_started,offers_shown,offers_accepted,canceled,save_rate,saved_mrr_cents', 'too_expensive,2,2,1,1,0.5,7500']);

    await runScheduled(env, to + 60_000);
    const revenue = await admin('GET', `/v1/admin/analytics/revenue?from=${from}&to=${to + DAY}`);
    expect(revenue.json.saved_mrr_cents).toBe(7500);
    const churned = (await rows("SELECT sum(mrr_before_cents) AS c FROM mrr_ledger WHERE kind = 'churn' AND at >= ? AND at < ?", from, to + DAY))[0]!.c;
    expect(churned).toBe(20000);
    expect(revenue.json.churn_cents).toBe(churned);
    expect((await admin('GET', '/v1/admin/analytics/saves?from=2031-02-01T00:00:00Z&to=2031-01-01T00:00:00Z')).status).toBe(400);
  });

  it('sends plan.downgrade_scheduled, subscription.cancel_scheduled and save_offer.accepted once each', async () => {
    await env.DB.prepare(`INSERT INTO webhooks (id, url, format, events, secret, enabled, created_at, updated_at)
      VALUES ('csm', 'https://hooks.example.com/csm', 'json', '["plan.downgrade_scheduled","subscription.cancel_scheduled","save_offer.accepted"]', 'whsec', 1, 0, 0) ON CONFLICT (id) DO NOTHING`).run();
    const a = await account(false);
    const o = (await a.call('POST', '/v1/widget/cancel/offer', { reason: 'not_using' })).json.offer;
    await a.call('POST', '/v1/widget/cancel/accept', { offer_id: o.id, idempotency_key: 'w' });
    await a.call('POST', '/v1/widget/cancel/accept', { offer_id: o.id, idempotency_key: 'w' });
    await a.call('DELETE', '/v1/widget/scheduled-change');
    await a.call('POST', '/v1/widget/cancel', { reason: 'other', idempotency_key: 'w2' });
    const sent = await rows("SELECT event, payload FROM webhook_outbox WHERE webhook_id = 'csm' AND payload LIKE ? ORDER BY created_at", `%${a.acct}%`);
    expect(sent.map((r) => r.event).sort()).toEqual(['plan.downgrade_scheduled', 'save_offer.accepted', 'subscription.cancel_scheduled']);
    expect(JSON.parse(sent.find((r) => r.event === 'save_offer.accepted')!.payload)).toMatchObject({ account_id: a.acct, reason: 'not_using', kind: 'downgrade', to_plan_id: 'starter', saved_mrr_cents: 5000 });
  });
});

describe('scheduled-change webhooks of accounts whose ids hold the key separator', () => {
  it('account "x:a" with key "b" and account "x" with key "a:b" each get their plan.downgrade_scheduled', async () => {
    await env.DB.prepare(`INSERT INTO webhooks (id, url, format, events, secret, enabled, created_at, updated_at)
      VALUES ('csm-sep', 'https://hooks.example.com/csm-sep', 'json', '["plan.downgrade_scheduled"]', 'whsec', 1, 0, 0) ON CONFLICT (id) DO NOTHING`).run();
    const x = uid('sep');
    const colon = await account(false, `${x}:a`);
    const plain = await account(false, x);
    expect((await colon.call('POST', '/v1/widget/downgrade', { plan_id: 'starter', idempotency_key: 'b' })).json.status).toBe('scheduled');
    expect((await plain.call('POST', '/v1/widget/downgrade', { plan_id: 'starter', idempotency_key: 'a:b' })).json.status).toBe('scheduled');
    const sent = await rows("SELECT payload FROM webhook_outbox WHERE webhook_id = 'csm-sep' AND event = 'plan.downgrade_scheduled'");
    const accounts = sent.map((r) => JSON.parse(r.payload).account_id).filter((a) => a === x || a === `${x}:a`);
    expect(accounts.sort()).toEqual([x, `${x}:a`]);
  });
});

describe('Stripe webhooks reconcile what Ladder did not see', () => {
  const deliver = async (type: string, object: unknown) => {
    const { payload } = await stripeMock('POST', '/__mock/event', { type, object, created: s(Date.now()) });
    const { header } = await stripeMock('POST', '/__mock/sign', { payload, secret: env.STRIPE_WEBHOOK_SECRET, timestamp: s(Date.now()) });
    return api('POST', '/v1/stripe/webhook', { token: null, raw: payload, headers: { 'content-type': 'application/json', 'stripe-signature': header } });
  };

  it('a cancellation at period end made in Stripe shows as scheduled; taking it back there removes it; yearly billing is recognised', async () => {
    const a = await account(true);
    const sub = (await stripeSeen(a.ids.subscription)).subscription;
    expect((await deliver('customer.subscription.updated', { ...sub, cancel_at_period_end: true })).status).toBe(200);
    expect((await a.state()).scheduled_change).toEqual({ kind: 'cancel', reason: null, effective_at: '2026-12-01T00:00:00.000Z' });
    vi.setSystemTime(MID + 60_000);
    expect((await deliver('customer.subscription.updated', { ...sub, cancel_at_period_end: false })).status).toBe(200);
    expect((await a.state()).scheduled_change).toBeNull();
    vi.setSystemTime(MID + 120_000);
    const yearly = { ...sub, items: { ...sub.items, data: [{ ...sub.items.data[0], price: { id: `${P}price_business_year`, unit_amount: 96000, recurring: { interval: 'year', interval_count: 1 } } }] } };
    await deliver('customer.subscription.updated', yearly);
    expect((await a.state()).account.plan).toMatchObject({ id: 'business', interval: 'year' });
  });
});
