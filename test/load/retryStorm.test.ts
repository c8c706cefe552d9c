/// <reference types="node" />
/**
 * A retry storm against a real `wrangler dev` worker: every retryable write sent 4 times at
 * once (as a client with a short timeout and no patience would) leaves counts, charges and
 * deliveries exactly as one send does. Counts are read from the worker's D1 file. Under
 * LADDER_INGEST=queue usage and track batches answer 202 and the same end state is awaited.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { query } from '../system/d1';
import { APPLY_MS, call, eventually, expectQueued, KEYS, OBJECTS, QUEUED, seedAccount, SETTLE_MS, signUserToken, sleep, startReceiver, storm, stripeSignature, uid } from '../system/fixtures';

const base = inject('systemBase');
const dir = inject('systemPersistDir');
const COPIES = 4;
const count = (sql: string) => Number(query<{ n: number }>(dir, sql)[0]?.n ?? 0);
const q = (s: string) => `'${s.replace(/'/g, "''")}'`;
const used = async (acct: string, metric = 'api_calls') => (await call(base, 'GET', `/v1/accounts/${acct}`)).json.usage[metric].used as number;

/**
 * With LADDER_INGEST=queue a usage or track batch answers 202 and the consumer applies it later:
 * wait (bounded) until `reached` holds, then long enough for any duplicate delivery to land too,
 * so the exact assertions that follow would see a second application. Direct ingestion: no wait.
 */
async function applied(reached: () => boolean | Promise<boolean>) {
  if (!QUEUED) return;
  await eventually(reached, APPLY_MS);
  await sleep(SETTLE_MS);
}

/** What billing wrote for an account, comparable between two accounts: plan, counts, ledger moves. */
function effects(acct: string) {
  const where = `WHERE account_id = ${q(acct)}`;
  return {
    plan_id: query<{ plan_id: string }>(dir, `SELECT plan_id FROM accounts WHERE id = ${q(acct)}`)[0]?.plan_id,
    invoices: count(`SELECT count(*) AS n FROM invoices ${where}`),
    upgrades: count(`SELECT count(*) AS n FROM upgrades ${where}`),
    ledger: query(dir, `SELECT kind, mrr_before_cents, mrr_after_cents, source FROM mrr_ledger ${where} ORDER BY rowid`),
    outbox: count(`SELECT count(*) AS n FROM webhook_outbox WHERE payload LIKE ${q(`%${acct}%`)}`),
  };
}

describe('a retry storm (every write sent 4 times at once)', () => {
  it('usage events: the counter moves once, each event is stored once', async () => {
    const acct = uid('storm-usage');
    await seedAccount(base, acct);
    const events = Array.from({ length: 50 }, (_, i) => ({ account_id: acct, metric: 'api_calls', value: i + 1, idempotency_key: `u-${i}` }));
    const answers = await storm(COPIES, () => call(base, 'POST', '/v1/usage', { body: { events } }));
    const stored = () => count(`SELECT count(*) AS n FROM usage_events WHERE account_id = ${q(acct)}`);
    if (QUEUED) {
      // Each copy is queued whole; the idempotency keys make the consumer apply the events once.
      expectQueued(answers, 50);
      await applied(async () => (await used(acct)) >= (50 * 51) / 2 && stored() >= 50);
    } else {
      expect(answers.map((a) => a.status)).toEqual(Array(COPIES).fill(200));
      expect(answers.reduce((n, a) => n + a.json.accepted, 0)).toBe(50);
      expect(answers.reduce((n, a) => n + a.json.duplicates, 0)).toBe(50 * (COPIES - 1));
    }
    expect(await used(acct)).toBe((50 * 51) / 2);
    // With LADDER_COUNTERS=durable_object the events reach D1 on the account object's alarm.
    if (OBJECTS) await eventually(() => stored() >= 50, APPLY_MS);
    expect(stored()).toBe(50);
  });

  it('check-and-record: one key records its amount once, and every copy gets the same answer', async () => {
    const acct = uid('storm-check');
    await seedAccount(base, acct);
    const answers = await storm(COPIES, () => call(base, 'POST', '/v1/check', { body: { account_id: acct, metric: 'projects', amount: 1, idempotency_key: 'new-project' } }));
    expect(answers.map((a) => a.status)).toEqual(Array(COPIES).fill(200));
    for (const a of answers) expect(a.json).toMatchObject({ allowed: true });
    expect((await call(base, 'GET', `/v1/accounts/${acct}`)).json.usage.projects.used).toBe(1);
  });

  it('behavioural (PQA) events: each stored once', async () => {
    const acct = uid('storm-track');
    await seedAccount(base, acct);
    const events = Array.from({ length: 20 }, (_, i) => ({ account_id: acct, user_id: `u${i % 3}`, event: i % 2 ? 'user_active' : 'teammate_invited', idempotency_key: `t-${i}` }));
    const answers = await storm(COPIES, () => call(base, 'POST', '/v1/track', { body: { events } }));
    const tracked = () => count(`SELECT count(*) AS n FROM track_events WHERE account_id = ${q(acct)} AND idempotency_key LIKE 't-%'`);
    if (QUEUED) {
      expectQueued(answers, 20);
      await applied(() => tracked() >= 20);
    } else expect(answers.map((a) => a.status)).toEqual(Array(COPIES).fill(200));
    expect(tracked()).toBe(20);
  });

  it('prompt events from the widget: each stored once', async () => {
    const acct = uid('storm-prompt');
    await seedAccount(base, acct);
    const token = signUserToken({ acct, sub: 'u1' });
    // At the limit the 100% notice is served (a hard block, whatever the caps); events carry its serve token.
    const account = await call(base, 'GET', `/v1/accounts/${acct}`);
    expect(account.status, JSON.stringify(account.json)).toBe(200);
    const limit = account.json.usage.api_calls.limit as number;
    const full = await call(base, 'POST', '/v1/usage', { body: { events: [{ account_id: acct, metric: 'api_calls', value: limit, idempotency_key: 'full' }] } });
    if (QUEUED) {
      expectQueued([full], 1);
      await applied(async () => (await used(acct)) >= limit);
    } else expect(full.status).toBe(200);
    const served = (await call(base, 'GET', '/v1/widget/state?session=s1', { token })).json.prompts.find((p: { id: string }) => p.id === 'limit-api_calls-100');
    expect(served?.serve_token).toEqual(expect.any(String));
    const events = Array.from({ length: 12 }, (_, i) => ({ type: i % 3 ? 'impression' : 'click', prompt_id: served.id, serve_token: served.serve_token, session_id: 's1', idempotency_key: `p-${i}` }));
    const answers = await storm(COPIES, () => call(base, 'POST', '/v1/widget/events', { token, body: { events } }));
    expect(answers.map((a) => a.status)).toEqual(Array(COPIES).fill(200));
    expect(answers.reduce((n, a) => n + a.json.accepted, 0)).toBe(12);
    expect(count(`SELECT count(*) AS n FROM prompt_events WHERE account_id = ${q(acct)}`)).toBe(12);
  });

  it('an upgrade (local billing): charges, plan, ledger and answer exactly as one send', async () => {
    const upgrade = async (copies: number) => {
      const acct = uid('storm-upgrade');
      await seedAccount(base, acct);
      const token = signUserToken({ acct, sub: 'admin-1', role: 'admin' });
      const preview = await call(base, 'POST', '/v1/widget/upgrade/preview', { token, body: { plan_id: 'pro' } });
      expect(preview.status).toBe(200);
      const body = { plan_id: 'pro', proration_date: preview.json.proration_date, idempotency_key: 'upgrade-click-1' };
      const answers = await storm(copies, () => call(base, 'POST', '/v1/widget/upgrade', { token, body }));
      expect(answers.map((a) => a.status)).toEqual(Array(copies).fill(200));
      for (const a of answers) expect(a.json).toEqual(answers[0]!.json);
      expect(answers[0]!.json).toMatchObject({ status: 'succeeded', plan_id: 'pro', amount_charged_cents: preview.json.amount_due_now_cents });
      return { answer: answers[0]!.json, ...effects(acct) };
    };
    const once = await upgrade(1);
    const stormed = await upgrade(COPIES);
    expect(stormed).toEqual(once);
    expect(once).toMatchObject({ plan_id: 'pro', invoices: 1, upgrades: 1 });
  });

  it('a Stripe webhook delivery: applied exactly as one delivery', async () => {
    const deliver = async (copies: number) => {
      const acct = uid('storm-stripe');
      await seedAccount(base, acct, { stripe_customer_id: `cus_${acct}`, stripe_subscription_id: `sub_${acct}` });
      const now = Math.floor(Date.now() / 1000);
      const item = { id: `si_${acct}`, object: 'subscription_item', quantity: 1, current_period_start: now - 15 * 86_400, current_period_end: now + 15 * 86_400, price: { id: 'price_sys_pro', object: 'price', unit_amount: 20000, currency: 'usd', recurring: { interval: 'month', interval_count: 1 } } };
      const subscription = { id: `sub_${acct}`, object: 'subscription', customer: `cus_${acct}`, status: 'active', metadata: {}, items: { object: 'list', data: [item] } };
      const event = { id: `evt_${acct}`, object: 'event', type: 'customer.subscription.updated', created: now, api_version: '2026-10-28.endive', livemode: false, data: { object: subscription } };
      const payload = JSON.stringify(event);
      const headers = { 'content-type': 'application/json', 'stripe-signature': stripeSignature(payload, 'whsec_system_tests') };
      const answers = await storm(copies, () => call(base, 'POST', '/v1/stripe/webhook', { token: null, raw: payload, headers }));
      expect(answers.map((a) => a.status)).toEqual(Array(copies).fill(200));
      expect(count(`SELECT count(*) AS n FROM stripe_events WHERE id = ${q(event.id)}`)).toBe(1);
      return effects(acct);
    };
    const once = await deliver(1);
    const stormed = await deliver(COPIES);
    expect(stormed).toEqual(once);
    expect(once).toMatchObject({ plan_id: 'pro' });
    expect(once.ledger.length).toBeGreaterThan(0);
  });

  describe('outgoing webhook deliveries', () => {
    let receiver: Awaited<ReturnType<typeof startReceiver>>;
    beforeAll(async () => {
      receiver = await startReceiver();
    });
    afterAll(() => receiver.close());

    it('the delivery job run 4 times at once delivers each event once', async () => {
      const acct = uid('storm-hook');
      await seedAccount(base, acct);
      const hook = uid('hook');
      const put = await call(base, 'PUT', `/v1/admin/webhooks/${hook}`, {
        token: KEYS.LADDER_ADMIN_KEY,
        body: { url: `${receiver.url}/${hook}`, format: 'json', events: ['upgrade.requested'], secret: 'whsec_system_receiver_secret' },
      });
      expect(put.status).toBeLessThan(300);
      const member = signUserToken({ acct, sub: 'member-1', role: 'member' });
      const asked = await call(base, 'POST', '/v1/widget/upgrade-requests', { token: member, body: { plan_id: 'pro', note: 'we are at the limit' } });
      expect(asked.status).toBe(201);
      const outbox = `SELECT count(*) AS n FROM webhook_outbox WHERE webhook_id = ${q(hook)}`;
      expect(count(outbox)).toBe(1);
      // The cron (which delivers the outbox) triggered 4 times at once.
      await storm(COPIES, () => fetch(`${base}/__scheduled?cron=${encodeURIComponent('*/15 * * * *')}`).then((r) => r.text()));
      const mine = () => receiver.got.filter((g) => g.path === `/${hook}`);
      await eventually(() => mine().length > 0 && count(`${outbox} AND delivered_at IS NOT NULL`) === 1, 20_000);
      await sleep(1500); // any second delivery would arrive by now
      expect(mine()).toHaveLength(1);
      expect(JSON.parse(mine()[0]!.body)).toMatchObject({ type: 'upgrade.requested' });
      expect(count(outbox)).toBe(1);
    });
  });
});

describe('concurrent writes to one account', () => {
  it('40 batches of 25 increments sent at once add up exactly', async () => {
    const acct = uid('concurrent');
    await seedAccount(base, acct);
    const answers = await storm(40, (b) =>
      call(base, 'POST', '/v1/usage', { body: { events: Array.from({ length: 25 }, (_, i) => ({ account_id: acct, metric: 'api_calls', value: 1, idempotency_key: `b${b}-e${i}` })) } }),
    );
    if (QUEUED) {
      expectQueued(answers, 25);
      await applied(async () => (await used(acct)) >= 1000);
    } else {
      expect(answers.map((a) => a.status)).toEqual(Array(40).fill(200));
      expect(answers.reduce((n, a) => n + a.json.accepted, 0)).toBe(1000);
    }
    expect(await used(acct)).toBe(1000);
  });

  it('30 parallel check-and-records against 10 remaining allow exactly 10 and never overshoot', async () => {
    const acct = uid('overshoot');
    await seedAccount(base, acct);
    // Bring the api_calls counter to 10 below its limit, then race 30 checks of 1 for the rest.
    const account = await call(base, 'GET', `/v1/accounts/${acct}`);
    expect(account.status, JSON.stringify(account.json)).toBe(200);
    const limit = account.json.usage.api_calls.limit as number;
    const fill = await call(base, 'POST', '/v1/usage', { body: { events: [{ account_id: acct, metric: 'api_calls', value: limit - 10, idempotency_key: 'fill' }] } });
    if (QUEUED) {
      expectQueued([fill], 1);
      await applied(async () => (await used(acct)) >= limit - 10);
    } else expect(fill.status).toBe(200);
    const answers = await storm(30, (i) => call(base, 'POST', '/v1/check', { body: { account_id: acct, metric: 'api_calls', amount: 1, idempotency_key: `c-${i}` } }));
    expect(answers.filter((a) => a.status !== 200).map((a) => `${a.status} ${a.text.slice(0, 300)}`)).toEqual([]);
    expect(answers.filter((a) => a.json.allowed)).toHaveLength(10);
    expect((await call(base, 'GET', `/v1/accounts/${acct}`)).json.usage.api_calls.used).toBe(limit);
  });
});

