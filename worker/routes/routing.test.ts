import { afterEach, describe, expect, it } from 'vitest';
import { defaultRouting } from '../../shared/routing';
import { ADMIN, api, env, receiverUrl, seedAccount, uid, userToken } from '../test/api';

const put = (body: unknown) => api('PUT', '/v1/admin/routing', { token: ADMIN, body });
const get = async () => (await api('GET', '/v1/admin/routing', { token: ADMIN })).json;
const track = (acct: string, events: string[]) =>
  api('POST', '/v1/track', { body: { events: events.map((event, i) => ({ account_id: acct, event, idempotency_key: `${event}-${i}` })) } });
const routeOf = async (acct: string) =>
  ((await api('GET', '/v1/pqa?limit=500')).json.accounts as { account_id: string; route: string; band: string }[]).find((a) => a.account_id === acct);

afterEach(async () => {
  await put(defaultRouting);
});

describe('routing rules', () => {
  it('default to the playbooks (sales from $1,000 and 30% added MRR), are replaced whole, and a bad body is a 400 that changes nothing', async () => {
    expect(await get()).toEqual({ rules: [{ id: 'large-expansion', when: { min_added_mrr_cents: 100_000, min_added_pct: 30 }, route: 'sales', webhook_ids: [] }] });
    const rules = [
      { id: 'hot', when: { bands: ['sales_ready'] }, route: 'sales', webhook_ids: ['ae-hook'] },
      { id: 'mid', when: { min_seats: 20, max_seats: 199, plan_ids: ['pro'] }, route: 'csm' },
    ];
    for (const bad of [
      { rules: [{ ...rules[0], route: 'ae' }] },
      { rules: [{ ...rules[0], when: { bands: ['hot'] } }] },
      { rules: [rules[0], rules[0]] },
      { rules: [{ ...rules[1], when: { min_seats: 30, max_seats: 5 } }] },
      { rules: 'all' },
    ]) {
      const res = await put(bad);
      expect(res.status, JSON.stringify(bad)).toBe(400);
      expect(res.json.error.code).toBe('validation_failed');
    }
    expect(await get()).toEqual(defaultRouting);
    const saved = await put({ rules });
    expect(saved.status).toBe(200);
    expect(await get()).toEqual({ rules: [rules[0], { ...rules[1], webhook_ids: [] }] });
    // a member's token or no credential cannot read them
    expect((await api('GET', '/v1/admin/routing', { token: await userToken({ acct: 'x' }) })).status).toBe(401);
  });

  it('GET /v1/pqa shows each account’s route, first matching rule winning', async () => {
    const small = uid();
    const mid = uid();
    await seedAccount(small);
    await seedAccount(mid);
    await env.DB.prepare('UPDATE accounts SET plan_id = ?, seats = 40 WHERE id = ?').bind('pro', mid).run();
    // Starter → Pro adds $150 a month: self-serve by default; so does Pro → Business (+$600)
    expect((await routeOf(small))!.route).toBe('self_serve');
    expect((await routeOf(mid))!.route).toBe('self_serve');

    await put({
      rules: [
        { id: 'mid-market', when: { min_seats: 20 }, route: 'csm' },
        { id: 'any-pro', when: { plan_ids: ['pro'] }, route: 'sales' },
        { id: 'big-share', when: { min_added_pct: 200 }, route: 'sales' },
      ],
    });
    expect((await routeOf(mid))!.route).toBe('csm'); // 40 seats: the first rule, though the second matches too
    expect((await routeOf(small))!.route).toBe('sales'); // +300% of $50
    await put({ rules: [{ id: 'big', when: { min_added_mrr_cents: 50_000 }, route: 'sales' }] });
    expect((await routeOf(small))!.route).toBe('self_serve'); // +$150
    expect((await routeOf(mid))!.route).toBe('sales'); // +$600
  });

  it("a sales-ready account is pushed to its route's webhooks, with the route in the payload; a route naming none uses every subscribed webhook", async () => {
    const hook = (id: string) =>
      api('PUT', `/v1/admin/webhooks/${id}`, { token: ADMIN, body: { url: receiverUrl(id), format: 'json', events: ['pqa.sales_ready'], secret: 'whsec_0123456789abcdef', enabled: true } });
    await hook('route-ae');
    await hook('route-crm');
    await put({ rules: [{ id: 'hot-pro', when: { bands: ['sales_ready'], plan_ids: ['pro'] }, route: 'sales', webhook_ids: ['route-ae'] }] });
    const outbox = async (acct: string) =>
      (
        await env.DB.prepare(`SELECT webhook_id, payload FROM webhook_outbox WHERE event = 'pqa.sales_ready' AND dedupe_key LIKE ? ORDER BY webhook_id`)
          .bind(`%:${acct}:%`)
          .all<{ webhook_id: string; payload: string }>()
      ).results.filter((r) => r.webhook_id.startsWith('route-'));
    const onPro = uid();
    const onStarter = uid();
    await seedAccount(onPro);
    await seedAccount(onStarter);
    await env.DB.prepare('UPDATE accounts SET plan_id = ? WHERE id = ?').bind('pro', onPro).run();
    // core 20 + API 30 + admin 15 + limit hit 25 = 90: sales-ready at once
    for (const acct of [onPro, onStarter]) await track(acct, ['core_feature_activated', 'api_integration_built', 'admin_settings_configured', 'limit_hit']);

    const pro = await outbox(onPro);
    expect(pro.map((r) => r.webhook_id)).toEqual(['route-ae']);
    expect(JSON.parse(pro[0]!.payload)).toMatchObject({ account_id: onPro, band: 'sales_ready', route: 'sales' });
    const starter = await outbox(onStarter);
    expect(starter.map((r) => r.webhook_id)).toEqual(['route-crm', 'route-ae'].sort());
    expect(JSON.parse(starter[0]!.payload)).toMatchObject({ account_id: onStarter, route: 'self_serve' });
    expect((await routeOf(onPro))!).toMatchObject({ band: 'sales_ready', route: 'sales' });
  });

  it('an upgrade routed to sales previews as "talk to us" with no charge, and cannot be confirmed', async () => {
    const acct = uid();
    await seedAccount(acct);
    const token = await userToken({ acct });
    // Starter → Business adds $750 a month: sales from $500
    await put({ rules: [{ id: 'big', when: { min_added_mrr_cents: 50_000 }, route: 'sales' }] });
    const preview = await api('POST', '/v1/widget/upgrade/preview', { token, body: { plan_id: 'business' } });
    expect(preview.status).toBe(200);
    expect(preview.json).toEqual({
      route: 'sales',
      message: 'Moving to Business adds $750.00 a month, so our team sets it up with you: talk to us and we will be in touch. Nothing is charged now.',
      plan_id: 'business',
      seats: 5,
      added_mrr_cents: 75_000,
      currency: 'usd',
    });
    const confirm = await api('POST', '/v1/widget/upgrade', { token, body: { plan_id: 'business', proration_date: Math.floor(Date.now() / 1000), idempotency_key: 'k-sales-1' } });
    expect(confirm.status).toBe(422);
    expect(confirm.json.error.code).toBe('talk_to_sales');
    const account = await env.DB.prepare('SELECT plan_id FROM accounts WHERE id = ?').bind(acct).first<{ plan_id: string }>();
    expect(account!.plan_id).toBe('starter');
    // a smaller upgrade stays self-serve: a real quote
    const pro = await api('POST', '/v1/widget/upgrade/preview', { token, body: { plan_id: 'pro' } });
    expect(pro.status).toBe(200);
    expect(pro.json.route).toBeUndefined();
    expect(pro.json).toMatchObject({ plan_id: 'pro', amount_due_now_cents: expect.any(Number) });
  });
});
