import { describe, expect, it } from 'vitest';
import { app } from '../index';
import { api, env, PRODUCTION, seedAccount, uid } from '../test/api';

describe('demo host app', () => {
  it('serves the page under a strict CSP and mints tokens the widget API accepts', async () => {
    const acct = uid();
    await seedAccount(acct);
    const page = await app.request('/demo', {}, env);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await page.text();
    expect(html).toContain('<ladder-meter metric="api_calls">');
    expect(html).not.toMatch(/<script>(?!<)/);
    const { token } = (await api('GET', `/demo/token?account=${acct}&role=member`, { token: null })).json;
    expect((await api('GET', '/v1/widget/state?session=s', { token })).json.account).toMatchObject({ id: acct, role: 'member' });
  });

  it('is not served in production', async () => {
    for (const path of ['/demo', '/demo/token?account=acme', '/demo/projects']) {
      const res = await app.request(path, {}, { ...env, ...PRODUCTION });
      expect(res.status, path).toBe(404);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('not_found');
    }
    const seed = await app.request('/v1/admin/dev/seed-history', { method: 'POST', headers: { authorization: `Bearer ${PRODUCTION.LADDER_ADMIN_KEY}`, 'content-type': 'application/json' }, body: '{}' }, { ...env, ...PRODUCTION });
    expect(seed.status).toBe(404);
  });
});
