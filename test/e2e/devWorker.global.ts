/**
 * vitest globalSetup for the end-to-end tests: starts the real dev worker exactly as
 * `npm run dev` does (`node worker/scripts/dev.mjs`: migrations on a fresh local D1,
 * `wrangler dev`, the demo seed) on a free port with known keys, waits for its "ready"
 * line and GET /v1/health, and stops it with SIGTERM afterwards — failing the run if any
 * of its processes (wrangler, workerd) outlives it.
 *
 * The widget endpoints grant CORS to one origin only, `http://127.0.0.1:<hostPort>`, whose
 * port is reserved here for the tests' own cross-origin host page; any other origin is refused.
 *
 * Reuse it from another vitest project with `globalSetup: ['./test/e2e/devWorker.global.ts']`
 * and `inject('e2e')`.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

/** What the tests get through `inject('e2e')`. */
export interface DevWorkerInfo {
  /** `http://127.0.0.1:<port>` of the worker. */
  base: string;
  secretKey: string;
  adminKey: string;
  userTokenSecret: string;
  /** The local D1 directory (`wrangler d1 execute --local --persist-to` reads it). */
  persistDir: string;
  /** A reserved free port; `http://127.0.0.1:<hostPort>` is the one allowed CORS origin. */
  hostPort: number;
}

declare module 'vitest' {
  export interface ProvidedContext {
    e2e: DevWorkerInfo;
  }
}

const root = fileURLToPath(new URL('../..', import.meta.url));
const KEYS = { LADDER_SECRET_KEY: 'sk_e2e_secret', LADDER_ADMIN_KEY: 'ak_e2e_admin', LADDER_USER_TOKEN_SECRET: 'ut_e2e_token_secret' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A free TCP port on 127.0.0.1. */
export const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

/** Whether any process of the group `pgid` is still alive. */
const groupAlive = (pgid: number) => {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
};

export default async function devWorker(project: TestProject) {
  const [port, hostPort] = [await freePort(), await freePort()];
  const persistDir = await mkdtemp(join(tmpdir(), 'ladder-e2e-d1-'));
  // Its own process group: wrangler and workerd inherit it, so teardown can prove none is left.
  const child = spawn(process.execPath, [join(root, 'worker/scripts/dev.mjs')], {
    cwd: root,
    env: {
      ...process.env,
      ...KEYS,
      PORT: String(port),
      LADDER_PERSIST_DIR: persistDir,
      LADDER_SKIP_BUILD: '1', // `npm test` builds first
      LADDER_LOG_LEVEL: 'warn',
      LADDER_ALLOWED_ORIGINS: `http://127.0.0.1:${hostPort}`,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const pgid = child.pid!;
  let log = '';
  const keep = (d: Buffer) => (log = (log + d).slice(-20_000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  // Should vitest exit without tearing down (a forced close), the worker still gets its SIGTERM.
  const onExit = () => groupAlive(pgid) && process.kill(-pgid, 'SIGTERM');
  process.once('exit', onExit);

  const stop = async () => {
    process.off('exit', onExit);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM'); // dev.mjs passes it on to wrangler, which stops workerd
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 15_000)))]);
      clearTimeout(timer); // a pending timer would keep vitest from exiting
    }
    for (let i = 0; i < 50 && groupAlive(pgid); i++) await sleep(200);
    const orphaned = groupAlive(pgid);
    if (orphaned) process.kill(-pgid, 'SIGKILL');
    await rm(persistDir, { recursive: true, force: true });
    if (orphaned) throw new Error('the dev worker left processes (wrangler/workerd) running after SIGTERM; killed them');
  };

  const base = `http://127.0.0.1:${port}`;
  try {
    const until = Date.now() + 170_000;
    while (!log.includes('[ladder] ready')) {
      if (child.exitCode !== null) throw new Error(`dev worker exited with ${child.exitCode}`);
      if (Date.now() > until) throw new Error('dev worker not ready within 170 s');
      await sleep(200);
    }
    const health = await fetch(`${base}/v1/health`);
    if (!health.ok) throw new Error(`GET /v1/health answered ${health.status}`);
    await health.arrayBuffer();
  } catch (e) {
    await stop().catch(() => {});
    throw new Error(`${(e as Error).message}\n${log.slice(-4000)}`);
  }

  project.provide('e2e', {
    base,
    secretKey: KEYS.LADDER_SECRET_KEY,
    adminKey: KEYS.LADDER_ADMIN_KEY,
    userTokenSecret: KEYS.LADDER_USER_TOKEN_SECRET,
    persistDir,
    hostPort,
  });
  return stop;
}
