import { describe, expect, it } from 'vitest';
import { ADMIN, api, catalog, env, flushCounters, seedAccount, TAKEN, uid, userToken } from '../test/api';
import { DAY_MS } from '../../shared/time';

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
    expect(Date.parse(trial.json.trial_ends_at) - Date.now()).toBeGreaterThan(6.9 * DAY_MS);
    expect(Date.parse(trial.json.trial_ends_at) - Date.now()).toBeLessThanOrEqual(7 * DAY_MS);
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
    const unlimited = Object.fromEntries(metrics.map((m) => [m.id, null]));
    const plans = Array.from({ length: 30 }, (_, i) => ({ id: `p${i}`, name: `Plan ${i}`, rank: i, currency: 'usd', price_cents: i * 100, limits: { ...catalog.plans[0]!.limits, ...unlimited, m0: i } }));
    const big = { metrics, features: catalog.features, plans: [...plans, ...catalog.plans.map((p, i) => ({ ...p, rank: 100 + i, limits: { ...unlimited, ...p.limits } }))], };
    const res = await api('PUT', '/v1/catalog', { body: { ...big, metrics: [...metrics, ...catalog.metrics] } });
    expect(res.status).toBe(200);
    expect((await api('GET', '/v1/catalog')).json.plans).toHaveLength(33);
  });
});

/** The test catalog with `edit` applied to a copy. */
type CatalogBody = { metrics: Record<string, unknown>[]; features: Record<string, unknown>[]; plans: (Record<string, any> & { limits: Record<string, number | null> })[] };
const edited = (edit: (c: CatalogBody) => void) => {
  const c: CatalogBody = structuredClone(catalog);
  edit(c);
  return c;
};
const versions = async () => (await api('GET', '/v1/catalog/versions')).json as { version: number; created_at: string; changes: any[] }[];
/** An account on Starter that has used `calls` API calls this period. */
async function accountUsing(calls: number) {
  const acct = uid();
  await seedAccount(acct);
  const res = await api('POST', '/v1/usage', { body: { events: [{ account_id: acct, metric: 'api_calls', value: calls, idempotency_key: `${acct}-calls` }] } });
  expect(res.status).toBe(TAKEN);
  await flushCounters(acct); // the dry run reads what is used from D1
  return acct;
}

describe('no implicit unlimited', () => {
  it('refuses a plan that omits a metric with a 400 naming the plan and the metric, and changes nothing', async () => {
    await api('PUT', '/v1/catalog', { body: catalog });
    const res = await api('PUT', '/v1/catalog', { body: edited((c) => void delete c.plans[1]!.limits.seats) });
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe('validation_failed');
    expect(res.json.error.details).toContainEqual({ path: 'plans.1.limits.seats', message: 'plan "pro" has no limit for metric "seats"; write a number, or null for unlimited' });
    expect((await api('GET', '/v1/catalog')).json.plans[1].limits).toEqual({ api_calls: 50000, seats: 20, projects: 20 });
  });

  it('refuses a new metric that a plan forgets, even in a dry run', async () => {
    await api('PUT', '/v1/catalog', { body: catalog });
    const body = edited((c) => {
      c.metrics.push({ id: 'exports', name: 'Exports', unit: 'export', kind: 'counter', reset: 'month' });
      c.plans[0]!.limits.exports = 10;
      c.plans[1]!.limits.exports = null;
    });
    for (const path of ['/v1/catalog', '/v1/catalog?dry_run=true']) {
      const res = await api('PUT', path, { body });
      expect(res.status, path).toBe(400);
      expect(res.json.error.details.map((d: { path: string }) => d.path), path).toEqual(['plans.2.limits.exports']);
    }
  });

  it('the data migration writes an explicit null for each metric a stored plan omits, keeping it unlimited', async () => {
    await api('PUT', '/v1/catalog', { body: catalog });
    // A plan stored before the rule: it never mentioned projects, so projects were unlimited on it.
    await env.DB.prepare(`UPDATE plans SET limits = '{"api_calls":50000}' WHERE id = 'pro'`).run();
    const migration = env.TEST_MIGRATIONS.find((m) => m.name.includes('explicit_unlimited_limits'))!;
    for (const query of migration.queries) await env.DB.prepare(query).run();
    for (const query of migration.queries) await env.DB.prepare(query).run(); // replayed: no change
    const got = await api('GET', '/v1/catalog');
    expect(got.json.plans[1].limits).toEqual({ api_calls: 50000, seats: null, projects: null });
    expect(got.json.plans[0].limits).toEqual({ api_calls: 10000, seats: 5, projects: 3 });
    await api('PUT', '/v1/catalog', { body: catalog });
  });
});

describe('dry run', () => {
  it('answers the changes and the accounts over a lowered limit, and applies nothing', async () => {
    await api('PUT', '/v1/catalog', { body: catalog });
    const over = await accountUsing(7200);
    const under = await accountUsing(3000);
    const onPro = uid();
    await api('PUT', `/v1/accounts/${onPro}`, { body: { name: onPro, plan_id: 'pro', seats: 5 } });
    const before = await versions();
    const proposal = edited((c) => {
      c.plans[0]!.limits.api_calls = 5000;
      c.plans[0]!.price_cents = 6000;
      c.plans[1]!.features = [];
    });
    const res = await api('PUT', '/v1/catalog?dry_run=true', { body: proposal });
    expect(res.status).toBe(200);
    expect(res.json.changes).toEqual([
      { kind: 'plan_changed', plan: 'starter', field: 'price_cents', from: 5000, to: 6000 },
      { kind: 'limit_changed', plan: 'starter', metric: 'api_calls', from: 10000, to: 5000 },
      { kind: 'plan_feature_removed', plan: 'pro', feature: 'audit_log' },
    ]);
    const mine = res.json.affected_accounts.filter((a: { account_id: string }) => [over, under].includes(a.account_id));
    expect(mine).toEqual([{ account_id: over, metric: 'api_calls', used: 7200, new_limit: 5000 }]);
    // Pro drops the audit log: an account on Pro loses it, accounts on Starter (which never had it) do not.
    const losing = res.json.accounts_losing_features.filter((a: { account_id: string }) => [over, under, onPro].includes(a.account_id));
    expect(losing).toEqual([{ account_id: onPro, plan_id: 'pro', feature: 'audit_log' }]);
    // Nothing applied: the catalog, the versions and the account's limit are as they were.
    expect((await api('GET', '/v1/catalog')).json).toEqual((await api('PUT', '/v1/catalog?dry_run=false', { body: catalog })).json);
    expect((await api('GET', '/v1/catalog')).json.plans[0].limits.api_calls).toBe(10000);
    expect(await versions()).toEqual(before);
    expect((await api('GET', `/v1/entitlements/${over}/api_calls`)).json).toMatchObject({ limit: 10000 });
  });

  it('lists the accounts inside a grace past their limit that the change takes away', async () => {
    const inGrace = await accountUsing(12_000);
    const under = await accountUsing(9_000);
    // after the accounts (seeding one puts the tests' catalog)
    const graced = await api('PUT', '/v1/catalog', { body: edited((c) => void (c.plans[0]!.overage = { api_calls: { mode: 'grace', grace_pct: 50 } })) });
    expect(graced.status).toBe(200);
    const res = await api('PUT', '/v1/catalog?dry_run=true', { body: catalog });
    expect(res.status).toBe(200);
    expect(res.json.changes).toEqual([{ kind: 'overage_changed', plan: 'starter', metric: 'api_calls', from: 50, to: 0 }]);
    const mine = res.json.affected_accounts.filter((a: { account_id: string }) => [inGrace, under].includes(a.account_id));
    expect(mine).toEqual([{ account_id: inGrace, metric: 'api_calls', used: 12_000, new_limit: 10_000 }]);
  });

  it('of the catalog in force answers no changes and no one affected', async () => {
    await api('PUT', '/v1/catalog', { body: catalog });
    await accountUsing(9000);
    const res = await api('PUT', '/v1/catalog?dry_run=true', { body: catalog });
    expect(res.json).toEqual({ changes: [], affected_accounts: [], accounts_losing_features: [] });
  });

  it('is refused like the real PUT when it removes a plan in use (409), and with an unknown or bad parameter (400)', async () => {
    await seedAccount(uid());
    const removes = await api('PUT', '/v1/catalog?dry_run=true', { body: { ...catalog, plans: catalog.plans.slice(1) } });
    expect(removes.status).toBe(409);
    expect(removes.json.error.code).toBe('plan_in_use');
    for (const [query, path] of [['dry_run=yes', 'dry_run'], ['dryrun=true', 'dryrun']] as const) {
      const res = await api('PUT', `/v1/catalog?${query}`, { body: catalog });
      expect(res.status, query).toBe(400);
      expect(res.json.error.details.map((d: { path: string }) => d.path), query).toContain(path);
    }
  });
});

describe('a lowered limit', () => {
  it('blocks accounts already over it at 100%, and deletes nothing of their use', async () => {
    await api('PUT', '/v1/catalog', { body: catalog });
    const acct = await accountUsing(7200);
    const put = await api('PUT', '/v1/catalog', { body: edited((c) => void (c.plans[0]!.limits.api_calls = 5000)) });
    expect(put.status).toBe(200);
    const check = await api('POST', '/v1/check', { body: { account_id: acct, metric: 'api_calls', amount: 1, idempotency_key: `${acct}-after` } });
    expect(check.json).toMatchObject({ allowed: false, used: 7200, limit: 5000, remaining: 0, required_plan: 'pro' });
    const state = await api('GET', '/v1/widget/state?session=s1', { token: await userToken({ acct }) });
    expect(state.json.meters[0]).toMatchObject({ metric: 'api_calls', used: 7200, limit: 5000, pct: 144, threshold: 100 });
    // Raising it back gives the room back: the use was kept, not trimmed.
    await api('PUT', '/v1/catalog', { body: catalog });
    expect((await api('GET', `/v1/entitlements/${acct}/api_calls`)).json).toMatchObject({ used: 7200, limit: 10000 });
  });
});

describe('catalog versions', () => {
  it('keeps each applied catalog with its changes, newest first, and adds none for a PUT that changes nothing', async () => {
    await api('PUT', '/v1/catalog', { body: catalog });
    const start = (await versions())[0]?.version ?? 0;
    await api('PUT', '/v1/catalog', { body: edited((c) => void (c.plans[2]!.limits.projects = 500)) });
    await api('PUT', '/v1/catalog', { body: edited((c) => void (c.plans[2]!.limits.projects = 500)) }); // a retry
    await api('PUT', '/v1/catalog', { body: catalog });
    const list = await versions();
    expect(list.slice(0, 2).map((v) => ({ version: v.version, changes: v.changes }))).toEqual([
      { version: start + 2, changes: [{ kind: 'limit_changed', plan: 'business', metric: 'projects', from: 500, to: null }] },
      { version: start + 1, changes: [{ kind: 'limit_changed', plan: 'business', metric: 'projects', from: null, to: 500 }] },
    ]);
    expect(Date.parse(list[0]!.created_at)).toBeGreaterThan(0);
    expect((await api('GET', '/v1/catalog/versions?limit=1')).json).toHaveLength(1);
    // Each version holds its catalog whole, so an older one can be read and put back.
    const one = await api('GET', `/v1/catalog/versions/${start + 1}`);
    expect(one.json).toMatchObject({ version: start + 1, changes: list[1]!.changes });
    expect(one.json.catalog.plans[2].limits).toEqual({ api_calls: 250000, seats: 100, projects: 500 });
    expect((await api('GET', '/v1/catalog/versions/99999')).json.error).toMatchObject({ code: 'catalog_version_not_found' });
    expect((await api('GET', '/v1/catalog/versions/0')).status).toBe(400);
  });

  it('starts the history with the catalog in force when versions began', async () => {
    await api('PUT', '/v1/catalog', { body: catalog });
    await env.DB.prepare('DELETE FROM catalog_versions').run(); // a catalog stored before versions existed
    await api('PUT', '/v1/catalog', { body: edited((c) => void (c.plans[0]!.name = 'Basic')) });
    const list = await versions();
    expect(list.map((v) => v.version)).toEqual([2, 1]);
    expect(list[1]!.changes.filter((c) => c.kind === 'plan_added').map((c) => c.plan)).toEqual(['starter', 'pro', 'business']);
    expect(list[0]!.changes).toEqual([{ kind: 'plan_changed', plan: 'starter', field: 'name', from: 'Starter', to: 'Basic' }]);
    await api('PUT', '/v1/catalog', { body: catalog });
  });

  it('needs the secret key; the dashboard reads catalog and history with the admin key', async () => {
    expect((await api('GET', '/v1/catalog/versions', { token: null })).status).toBe(401);
    expect((await api('GET', '/v1/catalog/versions', { token: ADMIN })).status).toBe(401);
    await api('PUT', '/v1/catalog', { body: catalog });
    const admin = await api('GET', '/v1/admin/catalog/versions', { token: ADMIN });
    expect(admin.status).toBe(200);
    expect(admin.json).toEqual(await versions());
    expect((await api('GET', '/v1/admin/catalog', { token: ADMIN })).json).toEqual((await api('GET', '/v1/catalog')).json);
    expect((await api('PUT', '/v1/admin/catalog', { token: ADMIN, body: catalog })).status).toBe(404);
  });
});

describe('yearly prices and grace', () => {
  const yearly = edited((c) => {
    Object.assign(c.plans[1]!, { annual_price_cents: 192000, stripe_annual_price_id: 'price_pro_yearly' });
    c.plans[1]!.overage = { api_calls: { mode: 'grace', grace_pct: 10 } };
  });

  it('a change of a yearly price or of the grace alone is shown by a dry run and kept as a version', async () => {
    await api('PUT', '/v1/catalog', { body: yearly });
    const start = (await versions())[0]!.version;
    const cut = edited((c) => {
      Object.assign(c.plans[1]!, { annual_price_cents: 1920, stripe_annual_price_id: 'price_pro_yearly' });
      c.plans[1]!.overage = { api_calls: { mode: 'block', grace_pct: 0 } };
    });
    const dry = await api('PUT', '/v1/catalog?dry_run=true', { body: cut });
    expect(dry.status).toBe(200);
    expect(dry.json.changes).toEqual([
      { kind: 'plan_changed', plan: 'pro', field: 'annual_price_cents', from: 192000, to: 1920 },
      { kind: 'overage_changed', plan: 'pro', metric: 'api_calls', from: 10, to: 0 },
    ]);
    expect((await api('GET', '/v1/catalog')).json.plans[1].annual_price_cents).toBe(192000);
    expect((await versions())[0]!.version).toBe(start);

    expect((await api('PUT', '/v1/catalog', { body: cut })).status).toBe(200);
    const [latest] = await versions();
    expect(latest).toMatchObject({ version: start + 1, changes: dry.json.changes });
    // the version holds the catalog as applied, so putting it back restores the yearly price
    expect((await api('GET', `/v1/catalog/versions/${start + 1}`)).json.catalog.plans[1].annual_price_cents).toBe(1920);
    await api('PUT', '/v1/catalog', { body: catalog });
    expect((await versions())[0]!.changes).toContainEqual({ kind: 'plan_changed', plan: 'pro', field: 'stripe_annual_price_id', from: 'price_pro_yearly', to: null });
  });

  it('refuses a yearly price of 0 on a paid plan (400 naming the field) and changes nothing, dry run or not', async () => {
    await api('PUT', '/v1/catalog', { body: yearly });
    const before = await versions();
    const free = edited((c) => Object.assign(c.plans[1]!, { annual_price_cents: 0 }));
    for (const path of ['/v1/catalog', '/v1/catalog?dry_run=true']) {
      const res = await api('PUT', path, { body: free });
      expect(res.status, path).toBe(400);
      expect(res.json.error.details.map((d: { path: string }) => d.path), path).toEqual(['plans.1.annual_price_cents']);
    }
    expect((await api('GET', '/v1/catalog')).json.plans[1].annual_price_cents).toBe(192000);
    expect(await versions()).toEqual(before);
    await api('PUT', '/v1/catalog', { body: catalog });
  });
});

describe('hidden plans', () => {
  // Legacy ranks between Starter and Pro, has SSO and unlimited API calls, and is hidden.
  const withLegacy = edited((c) => {
    c.plans.splice(1, 0, { id: 'legacy', name: 'Legacy', rank: 2, currency: 'usd', price_cents: 9000, interval: 'month', limits: { api_calls: null, seats: 50, projects: 50 }, features: ['sso'], hidden: true });
    c.plans[2]!.rank = 4;
    c.plans[3]!.rank = 5;
  });

  it('are never offered: not in upgrade options, as a feature’s plan, as the plan that allows more, nor by preview, upgrade or request', async () => {
    const acct = uid();
    await seedAccount(acct);
    expect((await api('PUT', '/v1/catalog', { body: withLegacy })).status).toBe(200);
    expect((await api('GET', '/v1/catalog')).json.plans[1]).toMatchObject({ id: 'legacy', hidden: true });
    const token = await userToken({ acct });
    const state = await api('GET', '/v1/widget/state?session=s1', { token });
    expect(state.json.upgrade_options.map((o: { plan_id: string }) => o.plan_id)).toEqual(['pro', 'business']);
    expect(state.json.features.sso.required_plan).toBe('business');
    await api('POST', '/v1/usage', { body: { events: [{ account_id: acct, metric: 'api_calls', value: 10000, idempotency_key: `${acct}-full` }] } });
    const check = await api('POST', '/v1/check', { body: { account_id: acct, metric: 'api_calls', amount: 1, idempotency_key: `${acct}-1` } });
    expect(check.json).toMatchObject({ allowed: false, required_plan: 'pro' });
    for (const [path, body] of [
      ['/v1/widget/upgrade/preview', { plan_id: 'legacy' }],
      ['/v1/widget/upgrade', { plan_id: 'legacy', proration_date: Math.floor(Date.now() / 1000), idempotency_key: `${acct}-up` }],
      ['/v1/widget/upgrade-requests', { plan_id: 'legacy' }],
    ] as const) {
      const res = await api('POST', path, { token, body });
      expect(res.status, path).toBe(422);
      expect(res.json.error, path).toMatchObject({ code: 'plan_not_offered', message: 'Legacy is not offered: it is a hidden plan.', details: [{ path: 'plan_id', message: 'a hidden plan is never offered' }] });
    }
    expect((await api('GET', `/v1/accounts/${acct}`)).json.plan_id).toBe('starter');
    await api('PUT', '/v1/catalog', { body: catalog });
  });

  it('keep the accounts on them, with their limits, offered the visible plans above', async () => {
    await api('PUT', '/v1/catalog', { body: withLegacy });
    const acct = uid();
    expect((await api('PUT', `/v1/accounts/${acct}`, { body: { name: acct, plan_id: 'legacy', seats: 0 } })).status).toBe(200);
    const state = await api('GET', '/v1/widget/state?session=s1', { token: await userToken({ acct }) });
    expect(state.json.account.plan.id).toBe('legacy');
    expect(state.json.meters.map((m: { limit: number | null }) => m.limit)).toEqual([null, 50, 50]);
    expect(state.json.upgrade_options.map((o: { plan_id: string }) => o.plan_id)).toEqual(['pro', 'business']);
    expect(state.json.features.sso.entitled).toBe(true);
    // Removing the hidden plan is refused while accounts are on it.
    expect((await api('PUT', '/v1/catalog', { body: catalog })).status).toBe(409);
    await api('PUT', `/v1/accounts/${acct}`, { body: { name: acct, plan_id: 'pro', seats: 0 } });
    await api('PUT', '/v1/catalog', { body: catalog });
  });
});
