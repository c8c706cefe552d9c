import { afterEach, describe, expect, it, vi } from 'vitest';
import { app } from '../index';
import { ADMIN, api, apiWith, env } from '../test/api';

const login = (key: string, e = env) =>
  app.request('/v1/admin/login', { method: 'POST', headers: { 'content-type': 'application/json', 'x-ladder-csrf': '1' }, body: JSON.stringify({ key }) }, e);

/** The `name=value` part of the session cookie a login set. */
const sessionCookie = (res: Response) => (res.headers.get('set-cookie') ?? '').split(';')[0]!;

const prompt = {
  kind: 'invite',
  trigger: { seat_pct: 80 },
  copy: { title: 'Bring your team', body: 'Add seats.', cta_label: 'Add seats', secondary_label: '' },
};

describe('dashboard login', () => {
  it('a wrong admin key is refused with 401 and sets no cookie', async () => {
    const res = await login('not-the-key');
    expect(res.status).toBe(401);
    expect((await res.json()) as object).toMatchObject({ error: { code: 'invalid_admin_key', details: [{ path: 'key' }] } });
    expect(res.headers.get('set-cookie')).toBeNull();
  });

  it('a missing key is a 400 naming the field', async () => {
    const res = await api('POST', '/v1/admin/login', { token: null, headers: { 'x-ladder-csrf': '1' }, body: {} });
    expect(res.status).toBe(400);
    expect(res.json.error.details[0].path).toBe('key');
  });

  it('the right key sets an HttpOnly, SameSite=Strict, Secure session cookie scoped to the admin API', async () => {
    const res = await login(ADMIN);
    expect(res.status).toBe(200);
    const cookie = res.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^ladder_session=[0-9a-f]{64};/);
    expect(cookie).toMatch(/; HttpOnly/);
    expect(cookie).toMatch(/; SameSite=Strict/);
    expect(cookie).toMatch(/; Secure/);
    expect(cookie).toMatch(/; Path=\/v1\/admin/);
    expect(cookie).toMatch(/; Max-Age=43200/);
  });

  it('in development the cookie is not Secure (plain http on 127.0.0.1)', async () => {
    const res = await login(ADMIN, { ...env, LADDER_ENV: 'development' });
    expect(res.status).toBe(200);
    expect(res.headers.get('set-cookie')).not.toMatch(/Secure/);
  });

  it('the session cookie opens the admin API; without it nothing is reachable', async () => {
    const cookie = sessionCookie(await login(ADMIN));
    expect((await api('GET', '/v1/admin/session', { token: null })).status).toBe(401);
    expect((await api('GET', '/v1/admin/analytics/funnel', { token: null })).status).toBe(401);
    expect((await api('GET', '/v1/admin/prompts', { token: null, headers: { cookie: 'ladder_session=1.abc' } })).status).toBe(401);
    const res = await api('GET', '/v1/admin/session', { token: null, headers: { cookie } });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ ok: true, via: 'session', expires_at: expect.any(String) });
    expect((await api('GET', '/v1/admin/analytics/funnel', { token: null, headers: { cookie } })).status).toBe(200);
  });

  it('logout clears the cookie', async () => {
    const res = await api('POST', '/v1/admin/logout', { token: null, headers: { 'x-ladder-csrf': '1' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('set-cookie')).toMatch(/^ladder_session=; Max-Age=0; Path=\/v1\/admin/);
  });
});

describe('CSRF-safe admin writes', () => {
  it('a cookie-authenticated write without the header or a same-origin Origin is refused with 403', async () => {
    const cookie = sessionCookie(await login(ADMIN));
    const refused = await api('PUT', '/v1/admin/prompts/csrf-invite', { token: null, headers: { cookie }, body: prompt });
    expect(refused.status).toBe(403);
    expect(refused.json.error.code).toBe('csrf_failed');
    const crossSite = await api('PUT', '/v1/admin/prompts/csrf-invite', { token: null, headers: { cookie, origin: 'https://evil.example' }, body: prompt });
    expect(crossSite.status).toBe(403);
    // nothing was written
    const listed = await api('GET', '/v1/admin/prompts', { token: ADMIN });
    expect(listed.json.prompts.map((p: { id: string }) => p.id)).not.toContain('csrf-invite');
  });

  it('the same write passes with X-Ladder-CSRF: 1, or with the worker’s own Origin', async () => {
    const cookie = sessionCookie(await login(ADMIN));
    const withHeader = await api('PUT', '/v1/admin/prompts/csrf-invite', { token: null, headers: { cookie, 'x-ladder-csrf': '1' }, body: prompt });
    expect(withHeader.status).toBe(200);
    const withOrigin = await api('PUT', '/v1/admin/prompts/csrf-invite', { token: null, headers: { cookie, origin: 'http://localhost' }, body: prompt });
    expect(withOrigin.status).toBe(200);
  });

  it('without a session cookie a write is judged by its credential alone: no key is a 401, not a CSRF 403', async () => {
    const res = await api('PUT', '/v1/admin/prompts/csrf-none', { token: null, headers: { origin: 'https://evil.example' }, body: prompt });
    expect(res.status).toBe(401);
  });

  it('a bearer admin key needs no CSRF header (it cannot be sent by a cross-site form)', async () => {
    const res = await api('PUT', '/v1/admin/prompts/csrf-bearer', { token: ADMIN, body: prompt });
    expect(res.status).toBe(200);
  });
});

describe('dashboard sessions end', () => {
  const write = (cookie: string, extra: Record<string, string> = {}) =>
    api('PUT', '/v1/admin/prompts/session-invite', { token: null, headers: { cookie, 'x-ladder-csrf': '1', ...extra }, body: prompt });

  afterEach(() => vi.useRealTimers());

  it('at logout, on the server: the old cookie no longer opens anything', async () => {
    const cookie = sessionCookie(await login(ADMIN));
    expect((await api('GET', '/v1/admin/session', { token: null, headers: { cookie } })).status).toBe(200);
    const out = await api('POST', '/v1/admin/logout', { token: null, headers: { cookie, 'x-ladder-csrf': '1' } });
    expect(out.status).toBe(200);
    expect((await api('GET', '/v1/admin/session', { token: null, headers: { cookie } })).status).toBe(401);
    expect((await write(cookie)).status).toBe(401);
  });

  it('after 30 idle minutes, while use keeps it alive up to 12 hours', async () => {
    const t0 = Date.now();
    vi.useFakeTimers({ now: t0, toFake: ['Date'] });
    const cookie = sessionCookie(await login(ADMIN));
    vi.setSystemTime(t0 + 20 * 60_000);
    expect((await api('GET', '/v1/admin/session', { token: null, headers: { cookie } })).status).toBe(200);
    vi.setSystemTime(t0 + 45 * 60_000); // 25 minutes after the last use
    expect((await api('GET', '/v1/admin/session', { token: null, headers: { cookie } })).status).toBe(200);
    vi.setSystemTime(t0 + 76 * 60_000); // 31 minutes idle
    expect((await api('GET', '/v1/admin/session', { token: null, headers: { cookie } })).status).toBe(401);

    const second = sessionCookie(await login(ADMIN));
    for (let m = 100; m < 12 * 60; m += 25) {
      vi.setSystemTime(t0 + m * 60_000);
      expect((await api('GET', '/v1/admin/session', { token: null, headers: { cookie: second } })).status, `minute ${m}`).toBe(200);
    }
    vi.setSystemTime(t0 + (76 + 12 * 60) * 60_000);
    expect((await api('GET', '/v1/admin/session', { token: null, headers: { cookie: second } })).status).toBe(401);
  });

  it('for every session when the admin key is rotated', async () => {
    const cookie = sessionCookie(await login(ADMIN));
    const rotated = await apiWith({ LADDER_ADMIN_KEY: 'ak_test_admin_rotated' } as never, 'GET', '/v1/admin/session', { token: null, headers: { cookie } });
    expect(rotated.status).toBe(401);
  });

  it('a cookie write with some other Authorization header still needs the CSRF header', async () => {
    const cookie = sessionCookie(await login(ADMIN));
    const res = await api('PUT', '/v1/admin/prompts/csrf-basic', { token: null, headers: { cookie, authorization: 'Basic YWRtaW46YWRtaW4=' }, body: prompt });
    expect(res.status).toBe(403);
    expect(res.json.error.code).toBe('csrf_failed');
  });
});
