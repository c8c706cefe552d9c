/**
 * The widget state's hot path: one D1 round trip on a warm isolate (counted by a wrapper over the
 * D1 binding, never timed), the isolate's config cache never stale after a write, and ETag
 * revalidation (304 without a body) with exposures still recorded once per unit.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cachedHotConfig, forgetHotConfig } from '../configCache';
import { ADMIN, api, apiWith, DAY, env, seedAccount, uid, userToken } from '../test/api';
import { countingD1 } from '../test/roundTrips';

afterEach(async () => {
  await env.DB.prepare("UPDATE experiments SET status = 'stopped' WHERE status = 'running'").run();
});

const state = (token: string, headers: Record<string, string> = {}, d1 = countingD1(env.DB)) =>
  apiWith({ DB: d1.db }, 'GET', '/v1/widget/state?session=s1&path=/settings', { token, headers });

/** An activated account on Starter at 93% of its 10,000 API calls, so `limit-api_calls-90` shows. */
async function accountAt93(acct = uid()) {
  await seedAccount(acct, { created_at: Date.now() - 60 * DAY });
  await api('POST', '/v1/track', { body: { events: [{ account_id: acct, event: 'core_feature_activated', idempotency_key: 'act' }] } });
  await api('POST', '/v1/usage', { body: { events: [{ account_id: acct, metric: 'api_calls', value: 9300, idempotency_key: 'u93' }] } });
  return acct;
}

const copy = (title: string) => ({ title, body: '{used} of {limit} {metric} used ({pct}).', cta_label: 'Upgrade', secondary_label: 'Later' });

async function runningExperiment(unit: 'account' | 'user' = 'account') {
  const created = await api('POST', '/v1/admin/experiments', {
    token: ADMIN,
    body: {
      key: uid('exp'),
      prompt_id: 'limit-90',
      unit,
      variants: [
        { id: 'control', weight: 1, copy: copy('Control at {pct}') },
        { id: 'urgent', weight: 1, copy: copy('Urgent at {pct}') },
      ],
    },
  });
  expect(created.status).toBe(201);
  expect((await api('POST', `/v1/admin/experiments/${created.json.id}/start`, { token: ADMIN })).status).toBe(200);
  return created.json.id as string;
}

const exposureRows = async (experimentId: string) =>
  (await env.DB.prepare('SELECT unit_id, variant_id, first_exposed_at FROM experiment_exposures WHERE experiment_id = ?').bind(experimentId).all()).results;

describe('widget state round trips (counted on the D1 binding)', () => {
  it('a warm isolate answers the state in one D1 round trip, for a member and for an admin', async () => {
    const acct = await accountAt93();
    for (const role of ['member', 'admin'] as const) {
      const token = await userToken({ acct, sub: `u-${role}`, role });
      expect((await state(token)).status).toBe(200); // warms the isolate's config
      const d1 = countingD1(env.DB);
      const res = await state(token, {}, d1);
      expect(res.status).toBe(200);
      expect(res.json.prompts.map((p: { id: string }) => p.id)).toContain('limit-api_calls-90');
      expect(d1.log).toEqual([expect.stringMatching(/^batch of \d+$/)]);
    }
  });

  it('a cold isolate also needs one round trip: the config comes in the same batch', async () => {
    const acct = await accountAt93();
    const token = await userToken({ acct });
    forgetHotConfig();
    const d1 = countingD1(env.DB);
    const res = await state(token, {}, d1);
    expect(res.status).toBe(200);
    expect(d1.count()).toBe(1);
    expect(cachedHotConfig()?.catalog.plans.map((p) => p.id)).toEqual(['starter', 'pro', 'business']);
  });

  it('the first exposure of a unit costs one more round trip, once; later states are one again', async () => {
    const acct = await accountAt93();
    const exp = await runningExperiment();
    const token = await userToken({ acct, sub: 'alice' });
    const first = countingD1(env.DB);
    expect((await state(token, {}, first)).status).toBe(200);
    expect(first.count()).toBe(2); // the state's batch, then the exposure's insert
    const again = countingD1(env.DB);
    const res = await state(token, {}, again);
    expect(res.json.prompts.find((p: { id: string }) => p.id === 'limit-api_calls-90')?.experiment_id).toBe(exp);
    expect(again.count()).toBe(1);
    expect(await exposureRows(exp)).toHaveLength(1);
  });
  it('a warm isolate\'s batch carries no config statement: only the token beside the state\'s own reads', async () => {
    const acct = await accountAt93();
    const token = await userToken({ acct });
    forgetHotConfig();
    const cold = countingD1(env.DB);
    expect((await state(token, {}, cold)).status).toBe(200);
    const warm = countingD1(env.DB);
    expect((await state(token, {}, warm)).status).toBe(200);
    const size = (d1: ReturnType<typeof countingD1>) => Number(/^batch of (\d+)$/.exec(d1.log[0] ?? '')?.[1]);
    // metrics, features, plans, prompts, the activation rule and the running experiments: read cold, not warm.
    expect(size(cold) - size(warm)).toBe(6);
  });
});

describe('the isolate config cache never serves a stale config', () => {
  it('a token moved elsewhere costs a warm isolate one more round trip, once; an admin write through this isolate costs none', async () => {
    const acct = await accountAt93();
    const token = await userToken({ acct });
    await state(token);
    await env.DB.prepare(`UPDATE plans SET name = 'Moved elsewhere' WHERE id = 'starter'`).run();
    const moved = countingD1(env.DB);
    const res = await state(token, {}, moved);
    expect(res.json.account.plan.name).toBe('Moved elsewhere');
    expect(moved.count()).toBe(2); // the state's batch saw the token move, then the config afresh
    const again = countingD1(env.DB);
    expect((await state(token, {}, again)).json.account.plan.name).toBe('Moved elsewhere');
    expect(again.count()).toBe(1);
    await env.DB.prepare(`UPDATE plans SET name = 'Starter' WHERE id = 'starter'`).run();
    await state(token);
    // Through this isolate's admin API: its copy is dropped, so the next state reads the config in its one batch.
    const limit90 = (await api('GET', '/v1/admin/prompts', { token: ADMIN })).json.prompts.find((p: { id: string }) => p.id === 'limit-90');
    const { updated_at: _u, builtin: _b, id: _i, ...definition } = limit90;
    expect((await api('PUT', '/v1/admin/prompts/limit-90', { token: ADMIN, body: { ...definition, enabled: false } })).status).toBe(200);
    const afterAdmin = countingD1(env.DB);
    expect((await state(token, {}, afterAdmin)).json.prompts.map((p: { id: string }) => p.id)).not.toContain('limit-api_calls-90');
    expect(afterAdmin.count()).toBe(1);
    expect((await api('PUT', '/v1/admin/prompts/limit-90', { token: ADMIN, body: definition })).status).toBe(200);
  });

  it('a catalog PUT between two calls is in the next state', async () => {
    const acct = await accountAt93();
    const token = await userToken({ acct });
    expect((await state(token)).json.account.plan.name).toBe('Starter');
    const before = cachedHotConfig()?.token;
    const { catalog } = await import('../test/api');
    const renamed = { ...catalog, plans: catalog.plans.map((p) => (p.id === 'starter' ? { ...p, name: 'Starter 2026' } : p)) };
    expect((await api('PUT', '/v1/catalog', { body: renamed })).status).toBe(200);
    const d1 = countingD1(env.DB);
    const res = await state(token, {}, d1);
    expect(res.json.account.plan.name).toBe('Starter 2026');
    expect(d1.count()).toBe(1); // the fresh config came in the same batch
    expect(cachedHotConfig()?.token).not.toBe(before);
    await api('PUT', '/v1/catalog', { body: catalog });
  });

  it('a write from another isolate (or by hand in SQL) moves the token: limits, prompts and the activation rule follow at once', async () => {
    const acct = await accountAt93();
    const token = await userToken({ acct });
    const first = await state(token);
    expect(first.json.meters.find((m: { metric: string }) => m.metric === 'api_calls').limit).toBe(10000);
    // Another isolate's writes reach only D1, never this isolate's memory.
    await env.DB.prepare(`UPDATE plans SET limits = json_set(limits, '$.api_calls', 20000) WHERE id = 'starter'`).run();
    const second = await state(token);
    expect(second.json.meters.find((m: { metric: string }) => m.metric === 'api_calls').limit).toBe(20000);
    expect(second.json.prompts.map((p: { id: string }) => p.id)).not.toContain('limit-api_calls-90'); // 46% now
    await env.DB.prepare(`UPDATE plans SET limits = json_set(limits, '$.api_calls', 10000) WHERE id = 'starter'`).run();
    expect((await state(token)).json.prompts.map((p: { id: string }) => p.id)).toContain('limit-api_calls-90');
    // A prompt disabled through the admin API.
    const limit90 = (await api('GET', '/v1/admin/prompts', { token: ADMIN })).json.prompts.find((p: { id: string }) => p.id === 'limit-90');
    const { updated_at: _u, builtin: _b, id: _i, ...definition } = limit90;
    expect((await api('PUT', '/v1/admin/prompts/limit-90', { token: ADMIN, body: { ...definition, enabled: false } })).status).toBe(200);
    expect((await state(token)).json.prompts.map((p: { id: string }) => p.id)).not.toContain('limit-api_calls-90');
    expect((await api('PUT', '/v1/admin/prompts/limit-90', { token: ADMIN, body: definition })).status).toBe(200);
    expect((await state(token)).json.prompts.map((p: { id: string }) => p.id)).toContain('limit-api_calls-90');
  });

  it('two isolates: one with a copy cached from before a write reads the write, not its copy', async () => {
    const acct = await accountAt93();
    const token = await userToken({ acct });
    await state(token);
    const stale = cachedHotConfig();
    expect(stale).not.toBeNull();
    await env.DB.prepare(`UPDATE plans SET name = 'Renamed elsewhere' WHERE id = 'starter'`).run();
    // "Isolate B" (a fresh one) and "isolate A" (this one, holding the copy from before) both read the new name.
    forgetHotConfig();
    expect((await state(token)).json.account.plan.name).toBe('Renamed elsewhere');
    const fresh = cachedHotConfig();
    expect(fresh?.token).not.toBe(stale?.token);
    expect((await state(token)).json.account.plan.name).toBe('Renamed elsewhere');
    await env.DB.prepare(`UPDATE plans SET name = 'Starter' WHERE id = 'starter'`).run();
    expect((await state(token)).json.account.plan.name).toBe('Starter');
  });
});

describe('conditional widget state (ETag / If-None-Match)', () => {
  it('answers 304 without a body when nothing changed, and 200 with a new ETag when it did', async () => {
    const acct = await accountAt93();
    const token = await userToken({ acct });
    const origin = 'https://app.example.com';
    const first = await state(token, { origin });
    expect(first.status).toBe(200);
    const tag = first.headers.get('etag');
    expect(tag).toMatch(/^"[0-9a-f]+"$/);
    expect(first.headers.get('access-control-expose-headers')).toContain('ETag');
    const d1 = countingD1(env.DB);
    const same = await state(token, { origin, 'if-none-match': tag! }, d1);
    expect(same.status).toBe(304);
    expect(same.json).toBeNull(); // no body
    expect(same.headers.get('etag')).toBe(tag);
    expect(same.headers.get('access-control-allow-origin')).toBe(origin); // the cross-origin widget can read it
    expect(d1.count()).toBe(1);
    await api('POST', '/v1/usage', { body: { events: [{ account_id: acct, metric: 'api_calls', value: 100, idempotency_key: 'more' }] } });
    const changed = await state(token, { origin, 'if-none-match': tag! });
    expect(changed.status).toBe(200);
    expect(changed.headers.get('etag')).not.toBe(tag);
    expect(changed.json.meters.find((m: { metric: string }) => m.metric === 'api_calls').used).toBe(9400);
  });

  it('a 304 still records a new unit\'s exposure, and each unit exactly once', async () => {
    const acct = await accountAt93();
    const exp = await runningExperiment('user');
    const alice = await userToken({ acct, sub: 'alice' });
    const bob = await userToken({ acct, sub: 'bob' });
    const a = await state(alice);
    expect(a.status).toBe(200);
    expect(await exposureRows(exp)).toHaveLength(1);
    // Alice revalidates: 304, nothing new written.
    expect((await state(alice, { 'if-none-match': a.headers.get('etag')! })).status).toBe(304);
    expect(await exposureRows(exp)).toHaveLength(1);
    // Bob sends Alice's tag (e.g. the same variant's state cached on a shared device): if it
    // matches he gets a 304, and his first exposure is recorded either way.
    await state(bob, { 'if-none-match': a.headers.get('etag')! });
    const rows = await exposureRows(exp);
    expect(rows).toHaveLength(2);
    expect(new Set(rows.map((r) => r.unit_id)).size).toBe(2);
  });

  it('a refused request is never a 304', async () => {
    const res = await api('GET', '/v1/widget/state?session=s1', { token: 'not-a-token', headers: { 'if-none-match': '*' } });
    expect(res.status).toBe(401);
  });
});
