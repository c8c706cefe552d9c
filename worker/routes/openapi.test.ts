import { describe, expect, it } from 'vitest';
import { app } from '../index';
import { api } from '../test/api';

describe('OpenAPI document', () => {
  it('is generated from the schemas and lists every route the worker serves', async () => {
    const res = await api('GET', '/openapi.json', { token: null });
    expect(res.status).toBe(200);
    expect(res.json.openapi).toMatch(/^3\./);
    const documented = new Set(
      Object.entries(res.json.paths as Record<string, Record<string, unknown>>).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`)),
    );
    const served = app.routes
      // `/dashboard/*` passes the dashboard's static files through with its security headers: not an API operation.
      .filter((r) => r.method !== 'ALL' && r.method !== 'OPTIONS' && !r.path.endsWith('/*'))
      .map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, '{$1}')}`);
    expect(served.length).toBeGreaterThan(10);
    for (const route of served) expect(documented, route).toContain(route);
    const usage = res.json.paths['/v1/usage'].post.requestBody.content['application/json'].schema;
    expect(usage.properties.events.maxItems).toBe(1000);
    expect(usage.additionalProperties).toBe(false);
  });
});
