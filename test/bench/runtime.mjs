/**
 * Start a worker for the http bench the way Cloudflare runs it as closely as this machine can:
 * workerd with no devtools inspector. `wrangler dev` (the CLI) always attaches its inspector
 * proxy, which enables the devtools `Network` domain on the worker, so every D1 call (a
 * subrequest to the local D1 object) becomes devtools events relayed through a second workerd
 * into Node — cost the bare route, which makes no subrequest, never pays (docs/scale.md).
 *
 * Here wrangler's own dev environment is started in this process (`unstable_DevEnv` →
 * `startWorker`, the API behind `unstable_startWorker`) with `dev.inspector: false`: the real
 * wrangler.toml (bindings, assets, rate limits, compatibility flags), wrangler's bundling, local
 * D1 persisted under `persistDir` exactly like `wrangler dev --persist-to` (the bench applies the
 * real migrations there first). wrangler still puts its dev proxy (another workerd) in front;
 * the bench sends its load to the worker's own workerd socket instead — the address wrangler
 * hands that proxy — so neither the product nor the bare route pays a dev-only hop.
 */
import { join } from 'node:path';
import { freePort, KEYS, root, WRANGLER_ENV } from '../system/devWorker.mjs';
import { scaleBlocks, scaleConfig } from '../../worker/scripts/scaleConfig.mjs';

/** How the bench starts each worker, for the figures' command column. */
export const RUNTIME_COMMAND =
  "unstable_startWorker({ config, dev: { inspector: false, persist, watch: false } }) from wrangler (test/bench/runtime.mjs); wrk on the worker's own workerd socket, not wrangler's dev proxy";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * @param {object} o
 * @param {string} [o.config] wrangler config (default: the product's wrangler.toml, test mode with KEYS)
 * @param {string} [o.persistDir] local state (D1), as `wrangler dev --persist-to`
 * @param {Record<string,string>} [o.vars] extra vars
 * @param {string} [o.healthPath] default `/v1/health`
 * @param {number} [o.inspectorPort] only to take a CPU profile by hand (devtools protocol on this port); the bench never sets it
 * @returns {Promise<{ base: string, proxyBase: string, exited: Promise<void>, stop(): Promise<void> }>}
 */
export async function startBenchWorker(o = {}) {
  // wrangler's module reads its environment when loaded.
  Object.assign(process.env, WRANGLER_ENV);
  const { unstable_DevEnv: DevEnv } = await import('wrangler');
  const product = !o.config;
  const vars = { ...(product ? { LADDER_ENV: 'test', LADDER_ALLOWED_ORIGINS: '*', ...KEYS } : {}), ...o.vars };
  const config = o.config ?? scaleConfig(root, scaleBlocks(vars)) ?? join(root, 'wrangler.toml');
  const devEnv = new DevEnv();
  // The worker's own address: the one wrangler gives its dev proxy when the worker is (re)loaded.
  let userWorker = null;
  const onReloadComplete = devEnv.proxy.onReloadComplete.bind(devEnv.proxy);
  devEnv.proxy.onReloadComplete = (event) => {
    const u = event.proxyData.userWorkerUrl;
    userWorker = `${u.protocol}//${u.hostname}:${u.port}`;
    return onReloadComplete(event);
  };
  const worker = await devEnv.startWorker({
    config,
    bindings: Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, { type: 'plain_text', value: v }])),
    dev: {
      inspector: o.inspectorPort ? { hostname: '127.0.0.1', port: o.inspectorPort } : false,
      watch: false,
      liveReload: false,
      persist: o.persistDir ?? false,
      logLevel: process.env.BENCH_LOG_LEVEL ?? 'warn',
      server: { hostname: '127.0.0.1', port: await freePort() },
    },
  });
  let resolveExited;
  const exited = new Promise((r) => (resolveExited = r));
  let stopped = false;
  const handle = {
    base: '',
    proxyBase: '',
    exited,
    async stop() {
      if (stopped) return exited;
      stopped = true;
      await worker.dispose().catch(() => undefined);
      resolveExited();
    },
  };
  try {
    handle.proxyBase = (await worker.url).origin;
    const until = Date.now() + 120_000;
    const healthPath = o.healthPath ?? '/v1/health';
    for (;;) {
      if (userWorker) {
        try {
          const res = await fetch(userWorker + healthPath);
          await res.arrayBuffer();
          if (res.ok) break;
        } catch {}
      }
      if (Date.now() > until) throw new Error(`no answer from the worker (${userWorker ?? 'not loaded'})${healthPath}`);
      await sleep(200);
    }
    handle.base = userWorker;
    return handle;
  } catch (err) {
    await handle.stop();
    throw err;
  }
}
