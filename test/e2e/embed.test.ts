/**
 * A host app on another origin than the worker: a tiny node:http server (another port)
 * serving a page that loads the worker's /ladder.js with `data-token-url` pointing at its
 * own token endpoint, which asks the worker's demo backend for a user token. The worker
 * grants CORS to one origin only (see devWorker.global.ts); another origin gets no data,
 * and an unreachable API leaves the host page working.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { api, e2e, launch, open, poll, shadowText, type Opened } from './browser';

/** The host page: the widget's script tag, two widget elements, and a control of the host's own. */
const page = (scriptAttrs: string) => `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Host app</title>
<script async src="${e2e.base}/ladder.js" data-token-url="/ladder-token" ${scriptAttrs}></script></head>
<body><main><h1>Host app</h1>
<ladder-meter metric="api_calls"></ladder-meter><ladder-notices></ladder-notices>
<button id="host" type="button">Save</button><p id="out"></p></main>
<script>document.getElementById('host').addEventListener('click', function () { document.getElementById('out').textContent = 'saved'; });</script>
</body></html>`;

/** A host app on 127.0.0.1:`port` (0: any free port) whose users are `user` of acme. */
function hostApp(port: number, user: string, scriptAttrs = ''): Promise<Server & { origin: string }> {
  const server = createServer(async (req, res) => {
    if (req.url === '/ladder-token') {
      // the host backend mints the token (here: the worker's demo backend plays that part)
      const r = await fetch(`${e2e.base}/demo/token?account=acme&role=member&user=${user}`);
      res.writeHead(r.status, { 'content-type': 'application/json' }).end(await r.text());
    } else res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page(scriptAttrs));
  });
  return new Promise((resolve) =>
    server.listen(port, '127.0.0.1', () =>
      resolve(Object.assign(server, { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })),
    ),
  );
}

let ctx: Awaited<ReturnType<typeof launch>>;
const servers: Server[] = [];
const opened: Opened[] = [];

beforeAll(async () => {
  ctx = await launch();
});
afterAll(async () => {
  await ctx?.dispose();
});
afterEach(async () => {
  for (const o of opened.splice(0)) {
    expect(o.errors, 'no uncaught errors on the host page').toEqual([]);
    await o.page.close();
  }
  // Chromium keeps (and preconnects) sockets: close them, or close() waits for their timeouts
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => (s.close(r), s.closeAllConnections()))));
});

async function visit(host: Server & { origin: string }) {
  servers.push(host);
  const o = await open(ctx, host.origin + '/');
  opened.push(o);
  return o;
}

/** The host's own button still works. */
async function hostUsable(o: Opened) {
  await o.page.locator('#host').click();
  expect(await o.page.locator('#out').textContent()).toBe('saved');
}
const ladderWarnings = (o: Opened) => o.warnings.filter((w) => w.startsWith('[ladder]'));

describe('a host page on another origin', () => {
  test('an allowed origin gets the state and sends its events through CORS', async () => {
    const o = await visit(await hostApp(e2e.hostPort, 'cors-allowed'));
    await poll(() => shadowText(o.page, 'ladder-meter')).toContain('5,500 of 10,000');
    await o.page.locator('ladder-notices section[aria-labelledby="t-limit-api_calls-50"]').waitFor();
    // the impression went out cross-origin (POST with the bearer header: a preflighted request)
    await poll(async () => {
      const { prompts } = await api('/v1/admin/accounts/acme/prompt-history', { admin: true });
      return prompts.find((p: { user_id: string }) => p.user_id === 'cors-allowed')?.impressions;
    }).toBe(1);
    expect(o.warnings).toEqual([]);
    await hostUsable(o);
  });

  test("the widget's modules load from the worker in CORS mode: the upgrade dialog opens on demand on the host's origin", async () => {
    const o = await visit(await hostApp(e2e.hostPort, 'cors-dialog'));
    await poll(() => shadowText(o.page, 'ladder-meter')).toContain('5,500 of 10,000');
    const modules = () => o.page.evaluate(() => performance.getEntriesByType('resource').map((r) => r.name).filter((n) => n.includes('/widget/chunk-')));
    expect(await modules()).toHaveLength(1); // the dialog is not loaded by default
    await o.page.evaluate(() => window.Ladder!.managePlan());
    await o.page.getByRole('dialog').waitFor();
    const loaded = await modules();
    expect(loaded).toHaveLength(2);
    for (const url of loaded) {
      expect(new URL(url).origin).toBe(e2e.base);
      const res = await fetch(url, { headers: { origin: new URL(o.page.url()).origin } });
      expect(res.headers.get('access-control-allow-origin'), url).toBe('*');
    }
    expect(o.warnings).toEqual([]);
    await o.page.keyboard.press('Escape'); // the dialog is modal
    await o.page.getByRole('dialog').waitFor({ state: 'hidden' });
    await hostUsable(o);
  });

  test('an origin not in LADDER_ALLOWED_ORIGINS gets no data: one warning, the page stays usable', async () => {
    const o = await visit(await hostApp(0, 'cors-refused'));
    const preflight = await fetch(`${e2e.base}/v1/widget/state`, {
      method: 'OPTIONS',
      headers: { origin: new URL(o.page.url()).origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    await poll(() => ladderWarnings(o).length).toBe(1);
    expect(ladderWarnings(o)[0]).toMatch(/^\[ladder\] state: could not load \/v1\/widget\/state/);
    expect(await shadowText(o.page, 'ladder-meter')).not.toContain('of');
    expect(await o.page.locator('ladder-notices section').count()).toBe(0);
    await hostUsable(o);
    await o.page.waitForTimeout(500);
    expect(ladderWarnings(o)).toHaveLength(1);
  });

  test('an unreachable API leaves the page usable, with one warning', async () => {
    const closed = await hostApp(0, 'x');
    const deadPort = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const o = await visit(await hostApp(e2e.hostPort, 'unreachable', `data-api-base="http://127.0.0.1:${deadPort}"`));
    await poll(() => ladderWarnings(o).length).toBe(1);
    expect(ladderWarnings(o)[0]).toContain(`could not load /v1/widget/state from http://127.0.0.1:${deadPort}`);
    await hostUsable(o);
    expect(await o.page.locator('ladder-notices section').count()).toBe(0);
  });
});
