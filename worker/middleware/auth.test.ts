import { afterEach, describe, expect, it, vi } from 'vitest';
import { ADMIN, api, seedAccount, SECRET, uid, userToken } from '../test/api';

const b64 = (o: unknown) => btoa(JSON.stringify(o)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');

describe('host-backend secret key', () => {
  it('is required, and the admin key or a user token is not it', async () => {
    const acct = uid();
    await seedAccount(acct);
    for (const token of [null, 'wrong', ADMIN, await userToken({ acct })]) {
      const res = await api('GET', `/v1/accounts/${acct}`, { token });
      expect(res.status).toBe(401);
      expect(res.json.error.code).toBe('unauthorized');
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    }
    expect((await api('GET', `/v1/accounts/${acct}`, { token: SECRET })).status).toBe(200);
  });
});

describe('user tokens', () => {
  it('minted by POST /v1/tokens open the widget state of their own account', async () => {
    const acct = uid();
    await seedAccount(acct);
    const minted = await api('POST', '/v1/tokens', { body: { user_id: 'u1', account_id: acct, role: 'member', ttl_seconds: 600 } });
    expect(minted.status).toBe(200);
    expect(new Date(minted.json.expires_at).getTime()).toBeGreaterThan(Date.now() + 590_000);
    const state = await api('GET', '/v1/widget/state?session=s1', { token: minted.json.token });
    expect(state.status).toBe(200);
    expect(state.json.account).toMatchObject({ id: acct, role: 'member' });
  });

  it('are refused when expired, tampered, alg none, another algorithm or another secret', async () => {
    const acct = uid();
    await seedAccount(acct);
    const good = await userToken({ acct });
    const [h, p, s] = good.split('.');
    const payload = JSON.parse(atob(p!.replace(/-/g, '+').replace(/_/g, '/')));
    const bad = {
      expired: await userToken({ acct, exp: Math.floor(Date.now() / 1000) - 1 }),
      tampered: `${h}.${b64({ ...payload, acct: 'someone-else' })}.${s}`,
      algNone: `${b64({ alg: 'none', typ: 'JWT' })}.${p}.`,
      hs512: `${b64({ alg: 'HS512', typ: 'JWT' })}.${p}.${s}`,
      otherSecret: await userToken({ acct }, 'not-the-secret'),
      noExp: `${h}.${b64({ sub: 'u1', acct, role: 'admin' })}.${s}`,
      garbage: 'not.a.jwt',
    };
    for (const [name, token] of Object.entries(bad)) {
      const res = await api('GET', '/v1/widget/state?session=s1', { token });
      expect(res.status, name).toBe(401);
    }
  });

  describe('verified once per isolate', () => {
    afterEach(() => vi.useRealTimers());

    it('a token that worked is refused the moment it expires', async () => {
      vi.useFakeTimers({ toFake: ['Date'] });
      const t0 = Date.UTC(2026, 11, 2, 9, 0, 0);
      vi.setSystemTime(t0);
      const acct = uid();
      await seedAccount(acct);
      const token = await userToken({ acct, exp: t0 / 1000 + 60 });
      for (let i = 0; i < 2; i++) expect((await api('GET', '/v1/widget/state?session=s1', { token })).status).toBe(200);
      vi.setSystemTime(t0 + 59_000);
      expect((await api('GET', '/v1/widget/state?session=s1', { token })).status).toBe(200);
      vi.setSystemTime(t0 + 60_000);
      const expired = await api('GET', '/v1/widget/state?session=s1', { token });
      expect(expired.status).toBe(401);
      expect(expired.json.error.code).toBe('unauthorized');
      vi.setSystemTime(t0 + 1_000); // even with the clock back, a token dropped is verified again (and still good)
      expect((await api('GET', '/v1/widget/state?session=s1', { token })).status).toBe(200);
    });
  });

  it('for account A never reads account B, and cannot call host routes', async () => {
    const a = uid();
    const b = uid();
    await seedAccount(a);
    await seedAccount(b);
    const tokenA = await userToken({ acct: a });
    const state = await api('GET', `/v1/widget/state?session=s1`, { token: tokenA });
    expect(state.json.account.id).toBe(a);
    expect((await api('GET', `/v1/accounts/${b}`, { token: tokenA })).status).toBe(401);
    expect((await api('GET', `/v1/entitlements/${b}/sso`, { token: tokenA })).status).toBe(401);
    expect((await api('POST', '/v1/usage', { token: tokenA, body: { events: [{ account_id: b, metric: 'api_calls', value: 1, idempotency_key: 'x' }] } })).status).toBe(401);
  });

  it('for an account that does not exist gets 404', async () => {
    await seedAccount(uid());
    const res = await api('GET', '/v1/widget/state?session=s1', { token: await userToken({ acct: 'ghost' }) });
    expect(res.status).toBe(404);
  });

  it('cannot be minted with bad input or for an unknown account', async () => {
    await seedAccount(uid());
    const cases: [unknown, number][] = [
      [{ user_id: 'u', account_id: 'ghost', role: 'admin' }, 404],
      [{ user_id: 'u', account_id: 'x', role: 'owner' }, 400],
      [{ user_id: 'u', account_id: 'x', role: 'admin', ttl_seconds: 10 }, 400],
      [{ user_id: 'u', account_id: 'x', role: 'admin', scope: 'all' }, 400],
    ];
    for (const [body, status] of cases) expect((await api('POST', '/v1/tokens', { body })).status).toBe(status);
  });
});

describe('admin routes', () => {
  it('refuse the secret key and no credential', async () => {
    for (const token of [null, SECRET]) expect((await api('GET', '/v1/admin/prompts', { token })).status).toBe(401);
  });
});

describe('admin writes', () => {
  it('without any credential are 401, not a CSRF refusal, and login works as API.md shows it', async () => {
    expect((await api('PUT', '/v1/admin/prompts/x', { token: null, body: {} })).status).toBe(401);
    expect((await api('POST', '/v1/admin/experiments', { token: null, body: {} })).status).toBe(401);
    const login = await api('POST', '/v1/admin/login', { token: null, body: { key: ADMIN } });
    expect(login.status).toBe(200);
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    // A cookie-authenticated write without the CSRF header is refused; with it, it passes auth.
    const forged = await api('PUT', '/v1/admin/prompts/x', { token: null, headers: { cookie }, body: {} });
    expect(forged.status).toBe(403);
    const real = await api('PUT', '/v1/admin/prompts/x', { token: null, headers: { cookie, 'x-ladder-csrf': '1' }, body: {} });
    expect(real.status).toBe(400);
  });
});
