import { describe, expect, it } from 'vitest';
import { api, seedAccount, uid, userToken } from '../test/api';
import { allowedOrigin } from './cors';

const preflight = (path: string, origin: string) =>
  api('OPTIONS', path, { token: null, headers: { origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' } });

describe('CORS', () => {
  it('answers a widget preflight from an allowed origin with the allowed headers', async () => {
    const res = await preflight('/v1/widget/state', 'https://app.example.com');
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(res.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('authorization');
  });

  it('lets a host page on another origin undo a scheduled change (DELETE), as Manage plan does', async () => {
    const res = await preflight('/v1/widget/scheduled-change', 'https://app.example.com');
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-methods')?.split(',')).toContain('DELETE');
  });

  it('grants nothing to an origin not listed', async () => {
    const res = await preflight('/v1/widget/state', 'https://evil.example.net');
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    const acct = uid();
    await seedAccount(acct);
    const get = await api('GET', '/v1/widget/state?session=s', { token: await userToken({ acct }), headers: { origin: 'https://evil.example.net' } });
    expect(get.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('grants the widget’s error responses too, so it can read a 401', async () => {
    const res = await api('GET', '/v1/widget/state?session=s', { token: 'bad', headers: { origin: 'https://app.example.com' } });
    expect(res.status).toBe(401);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
  });

  it('grants nothing on host-backend and admin routes', async () => {
    for (const path of ['/v1/usage', '/v1/catalog', '/v1/admin/prompts', '/v1/tokens']) {
      const res = await preflight(path, 'https://app.example.com');
      expect(res.headers.get('access-control-allow-origin'), path).toBeNull();
    }
  });

  it('honours * only outside production', () => {
    expect(allowedOrigin('https://x.dev', '*', false)).toBe('https://x.dev');
    expect(allowedOrigin('https://x.dev', '*', true)).toBeNull();
    expect(allowedOrigin('https://a.com', 'https://b.com, https://a.com', true)).toBe('https://a.com');
  });
});
