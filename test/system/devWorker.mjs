/**
 * Start and stop `wrangler dev` (workerd, local D1) on 127.0.0.1 for the benchmarks and the
 * system tests (load, fault, bad input). Like `npm run dev` (worker/scripts/dev.mjs) — the
 * same migrations, the same `wrangler dev --local` — but with known keys, a chosen persist
 * directory, extra `--var`s (rate limits, Stripe host) and no demo seed, and it can crash
 * the worker on purpose (SIGKILL to its own process group) to test recovery.
 *
 * wrangler is started directly from node_modules/.bin (not through npx) in its own process
 * group and stopped with SIGTERM to its pid, so its workerd children are never orphaned.
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { scaleBlocks, scaleConfig } from '../../worker/scripts/scaleConfig.mjs';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const wrangler = join(root, 'node_modules/.bin/wrangler');
const home = join(root, '.wrangler', 'home');

/** Keys the system tests and the bench run with (never the ones in .dev.vars). */
export const KEYS = {
  LADDER_SECRET_KEY: 'sk_system_secret',
  LADDER_ADMIN_KEY: 'ak_system_admin',
  LADDER_USER_TOKEN_SECRET: 'ut_system_token_secret',
};

/** Settings for wrangler: no telemetry, no cf.json fetch, its state under .wrangler/home. */
export const WRANGLER_ENV = {
  CLOUDFLARE_CF_FETCH_ENABLED: 'false',
  WRANGLER_SEND_METRICS: 'false',
  WRANGLER_HIDE_BANNER: 'true',
  XDG_CONFIG_HOME: join(home, 'config'),
  XDG_CACHE_HOME: join(home, 'cache'),
  WRANGLER_LOG_PATH: join(home, 'logs'),
};
const toolEnv = { ...process.env, ...WRANGLER_ENV };

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
  });
}

/** Run a wrangler command to completion (e.g. `d1 migrations apply`); throws with its output on failure. */
function wranglerSync(args, opts = {}) {
  mkdirSync(home, { recursive: true });
  const r = spawnSync(wrangler, args, { cwd: root, env: toolEnv, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: opts.timeoutMs ?? 300_000 });
  if (r.status !== 0) throw new Error(`wrangler ${args.join(' ')} exited with ${r.status ?? r.signal}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** Apply the real migrations to the local D1 under `persistDir`. */
export function migrate(persistDir) {
  wranglerSync(['d1', 'migrations', 'apply', 'ladder', '--local', '--persist-to', persistDir]);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Start `wrangler dev` and wait until `healthPath` answers 200.
 * @param {object} o
 * @param {string} [o.config] wrangler config (default: the product's wrangler.toml)
 * @param {string} [o.persistDir] local state directory (D1); omitted for workers without storage
 * @param {Record<string,string>} [o.vars] extra `--var`s (the product worker also gets KEYS)
 * @param {boolean} [o.testScheduled] expose `/__scheduled` to run the cron
 * @param {string} [o.healthPath] default `/v1/health`
 * @param {boolean} [o.quiet] discard the worker's output (default: keep the last 64 KiB for errors)
 * @example const w = await startWorker({ persistDir }); … await w.stop();
 */
export async function startWorker(o = {}) {
  mkdirSync(home, { recursive: true });
  const port = o.port ?? (await freePort());
  const inspector = await freePort();
  const product = !o.config;
  // The product worker runs in test mode (wrangler.toml says production) unless `o.vars` says otherwise.
  // The scale options (docs/scale.md) come from the environment (or o.vars), so a suite runs under
  // each: `LADDER_COUNTERS=durable_object npx vitest run --project system`.
  const scale = Object.fromEntries(['LADDER_COUNTERS', 'LADDER_INGEST', 'LADDER_COUNTERS_FLUSH_MS'].filter((k) => process.env[k]).map((k) => [k, process.env[k]]));
  const vars = { ...(product ? { LADDER_ENV: 'test', LADDER_ALLOWED_ORIGINS: '*', ...KEYS, ...scale } : {}), ...o.vars };
  // The product worker serves a snapshot of dist/public taken now: `wrangler dev` watches its assets
  // directory and reloads the runtime on any change there ("Your worker restarted mid-request" to
  // the requests in flight), and a build in the same checkout (the widget tests', `npm run build`,
  // `npm run dev`'s) rewrites dist/public while system tests run.
  const own = product ? mkdtempSync(join(root, '.wrangler', 'system-')) : undefined;
  if (own) cpSync(join(root, 'dist/public'), join(own, 'public'), { recursive: true });
  const config = o.config ?? scaleConfig(root, scaleBlocks(vars), own ? { dir: own, assets: join(own, 'public') } : {});
  const args = [
    'dev', '--local', '--ip', '127.0.0.1', '--port', String(port), '--inspector-port', String(inspector),
    '--show-interactive-dev-session=false', '--log-level', o.logLevel ?? 'warn',
    ...(config ? ['--config', config] : []),
    ...(o.persistDir ? ['--persist-to', o.persistDir] : []),
    ...(o.testScheduled ? ['--test-scheduled'] : []),
    ...Object.entries(vars).flatMap(([k, v]) => ['--var', `${k}:${v}`]),
  ];
  // Own process group: a crash test can SIGKILL wrangler and workerd together, by this group's id.
  const child = spawn(wrangler, args, { cwd: root, env: toolEnv, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  const keep = (chunk) => {
    output = (output + chunk.toString()).slice(-65_536);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
  const base = `http://127.0.0.1:${port}`;
  const worker = {
    base,
    port,
    /** The inspector port (Chrome DevTools protocol) of the worker, for CPU profiles. */
    inspector,
    pid: child.pid,
    output: () => output,
    assets: own && join(own, 'public'),
    exited,
    /** SIGTERM to wrangler (it stops workerd), SIGKILL to the group if it lingers. */
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const done = await Promise.race([exited.then(() => true), sleep(10_000).then(() => false)]);
      if (!done) worker.kill();
      await exited;
      // workerd may outlive wrangler by a moment; the group is ours, make sure it is gone.
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {}
      if (own) rmSync(own, { recursive: true, force: true });
    },
    /** A crash: SIGKILL to wrangler and workerd at once, mid-whatever. */
    kill() {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {}
      return exited.then((r) => (own && rmSync(own, { recursive: true, force: true }), r));
    },
  };
  const healthPath = o.healthPath ?? '/v1/health';
  const until = Date.now() + (o.startTimeoutMs ?? 90_000);
  for (;;) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited with ${child.exitCode}\n${output}`);
    try {
      const res = await fetch(base + healthPath);
      if (res.ok) {
        await res.arrayBuffer();
        return worker;
      }
    } catch {}
    if (Date.now() > until) {
      await worker.stop();
      throw new Error(`no answer from ${base}${healthPath}\n${output}`);
    }
    await sleep(200);
  }
}
