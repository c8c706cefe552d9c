import { describe, expect, it } from 'vitest';
import { app } from '../index';
import { api, env, seedAccount, uid } from '../test/api';

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
    const res = await app.request('/demo/token?account=acme', {}, { ...env, LADDER_ENV: 'production' });
    expect(res.status).toBe(404);
  });
});
