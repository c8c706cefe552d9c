/**
 * Starts the real dev worker (`node worker/scripts/dev.mjs`: builds, migrates a fresh local D1,
 * `wrangler dev`, seeds the demo history) on a free port for the dashboard's browser tests,
 * and stops it with SIGTERM afterwards. Hands the base URL and keys to the tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    dashboardBase: string;
    dashboardAdminKey: string;
    dashboardSecretKey: string;
  }
}

const root = fileURLToPath(new URL('../..', import.meta.url));
const KEYS = { LADDER_SECRET_KEY: 'sk_dash_secret', LADDER_ADMIN_KEY: 'ak_dash_admin', LADDER_USER_TOKEN_SECRET: 'ut_dash_token_secret' };

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

export default async function devServer(project: TestProject) {
  const port = await freePort();
  const persist = await mkdtemp(join(tmpdir(), 'ladder-dashboard-d1-'));
  // `npm test` builds first; rebuilding dist/public here would reload other test projects' dev workers.
  const built = existsSync(join(root, 'dist/public/dashboard/index.html')) && existsSync(join(root, 'dist/public/ladder.js'));
  const child: ChildProcess = spawn(process.execPath, [join(root, 'worker/scripts/dev.mjs')], {
    cwd: root,
    env: { ...process.env, ...KEYS, PORT: String(port), LADDER_PERSIST_DIR: persist, LADDER_LOG_LEVEL: 'warn', ...(built && { LADDER_SKIP_BUILD: '1' }) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout!.on('data', (d: Buffer) => (log += d));
  child.stderr!.on('data', (d: Buffer) => (log += d));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`dev worker not ready within 150 s:\n${log.slice(-3000)}`)), 150_000);
    const check = () => {
      if (log.includes('[ladder] ready')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', check);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`dev worker exited with ${code}:\n${log.slice(-3000)}`));
    });
  });
  child.removeAllListeners('exit');
  project.provide('dashboardBase', `http://127.0.0.1:${port}`);
  project.provide('dashboardAdminKey', KEYS.LADDER_ADMIN_KEY);
  project.provide('dashboardSecretKey', KEYS.LADDER_SECRET_KEY);
  return async () => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
    }
    await rm(persist, { recursive: true, force: true });
  };
}
