import { describe, expect, it } from 'vitest';
import { api, catalog, seedAccount, uid, userToken } from '../test/api';

describe('catalog', () => {
  it('is replaced whole and read back in the same shape', async () => {
    const put = await api('PUT', '/v1/catalog', { body: catalog });
    expect(put.status).toBe(200);
    const got = await api('GET', '/v1/catalog');
    expect(got.json.plans.map((p: { id: string }) => p.id)).toEqual(['starter', 'pro', 'business']);
    expect(got.json.metrics[1]).toEqual({ id: 'seats', name: 'Seats', unit: 'seat', kind: 'gauge', reset: 'billing_period' });
    expect(got.json.plans[2]).toMatchObject({ limits: { projects: null }, features: ['audit_log', 'sso'], seat_price_cents: 0, stripe_price_id: null });
  });

  it('a feature without trial_days gets the playbooks\' 7-day trial; 0 means no trial', async () => {
    const features = [{ id: 'sso', name: 'Single sign-on' }, { id: 'audit_log', name: 'Audit log', trial_days: 0 }];
    expect((await api('PUT', '/v1/catalog', { body: { ...catalog, features } })).status).toBe(200);
    expect((await api('GET', '/v1/catalog')).json.features.map((f: { trial_days: number }) => f.trial_days)).toEqual([7, 0]);
    const acct = uid();
    await api('PUT', `/v1/accounts/${acct}`, { body: { name: acct, plan_id: 'starter', seats: 1 } });
    const trial = await api('POST', '/v1/widget/trials', { token: await userToken({ acct }), body: { feature_id: 'sso' } });
    expect(trial.status).toBe(201);
    expect(Date.parse(trial.json.trial_ends_at) - Date.now()).toBeGreaterThan(6.9 * 86_400_000);
    expect(Date.parse(trial.json.trial_ends_at) - Date.now()).toBeLessThanOrEqual(7 * 86_400_000);
    await api('PUT', '/v1/catalog', { body: catalog });
  });

  it('refuses a plan limit on an unknown metric and changes nothing', async () => {
    await api('PUT', '/v1/catalog', { body: catalog });
    const bad = structuredClone(catalog);
    bad.plans[0]!.limits = { ...bad.plans[0]!.limits, api_callz: 5 } as never;
    bad.metrics = bad.metrics.slice(0, 1);
    const res = await api('PUT', '/v1/catalog', { body: bad });
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe('validation_failed');
    expect(res.json.error.details.map((d: { path: string }) => d.path)).toContain('plans.0.limits.api_callz');
    expect((await api('GET', '/v1/catalog')).json.metrics).toHaveLength(3);
  });

  it('refuses unknown fields, duplicate ids and duplicate ranks, naming the field', async () => {
    const cases: [unknown, string][] = [
      [{ ...catalog, extra: 1 }, 'extra'],
      [{ ...catalog, plans: [...catalog.plans, { ...catalog.plans[0], rank: 9 }] }, 'plans.3.id'],
      [{ ...catalog, plans: [...catalog.plans, { ...catalog.plans[0], id: 'x', rank: 1 }] }, 'plans.3.rank'],
      [{ ...catalog, plans: [{ ...catalog.plans[0], price_cents: -1 }] }, 'plans.0.price_cents'],
      [{ ...catalog, plans: [{ ...catalog.plans[0], pricecents: 1 }] }, 'plans.0.pricecents'],
    ];
    for (const [body, path] of cases) {
      const res = await api('PUT', '/v1/catalog', { body });
      expect(res.status, path).toBe(400);
      expect(res.json.error.details.map((d: { path: string }) => d.path), path).toContain(path);
    }
  });

  it('refuses to remove a plan an account is on (409)', async () => {
    await seedAccount(uid());
    const res = await api('PUT', '/v1/catalog', { body: { ...catalog, plans: catalog.plans.slice(1) } });
    expect(res.status).toBe(409);
    expect(res.json.error.code).toBe('plan_in_use');
    expect((await api('GET', '/v1/catalog')).json.plans).toHaveLength(3);
  });

  it('accepts a catalog larger than one statement can bind', async () => {
    const metrics = Array.from({ length: 60 }, (_, i) => ({ id: `m${i}`, name: `Metric ${i}`, kind: 'counter' }));
    const plans = Array.from({ length: 30 }, (_, i) => ({ id: `p${i}`, name: `Plan ${i}`, rank: i, currency: 'usd', price_cents: i * 100, limits: { m0: i } }));
    const big = { metrics, features: catalog.features, plans: [...plans, ...catalog.plans.map((p, i) => ({ ...p, rank: 100 + i }))], };
    const res = await api('PUT', '/v1/catalog', { body: { ...big, metrics: [...metrics, ...catalog.metrics] } });
    expect(res.status).toBe(200);
    expect((await api('GET', '/v1/catalog')).json.plans).toHaveLength(33);
  });
});
