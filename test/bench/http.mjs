/**
 * Worker throughput and latency on local workerd without the devtools inspector (wrangler's
 * `startWorker` with `dev.inspector: false`, load sent to the worker's own workerd socket —
 * test/bench/runtime.mjs), each product route next to a bare Hono route started the same way
 * in the same run (test/bench/bare-worker.ts): GET /v1/widget/state, POST /v1/usage with
 * batches of 1, 100 and 1,000 events (unique idempotency keys, so every event is an insert).
 * Load tool: Debian's wrk (installed with apt-get when missing), 2 threads; 20 connections, or 4
 * for the 100- and 1,000-event batches (20 of those queue for longer than a quick run lasts).
 * The bare route always gets the same wrk parameters as the product route it is compared with.
 * `rows` (from `npm run bench -- --only http --rows state,usage1`) runs only those scenarios.
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { seed, demoAccounts } from '../../worker/scripts/seed.mjs';
import { signUserToken } from '../system/client.mjs';
import { KEYS, migrate, root } from '../system/devWorker.mjs';
import { startBenchWorker } from './runtime.mjs';

/** Rate limits high enough that the bench measures the limiter's cost, never its refusals. */
export const BENCH_LIMITS = { LADDER_RATE_LIMIT_HOST: '1000000000', LADDER_RATE_LIMIT_WIDGET: '1000000000', LADDER_RATE_LIMIT_ADMIN: '1000000000' };

function ensureWrk(log) {
  if (spawnSync('wrk', ['--version']).error === undefined) return;
  if (process.getuid?.() !== 0) throw new Error('wrk is missing: apt-get install -y wrk (as root)');
  log('installing wrk with apt-get');
  const install = () => spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'wrk'], { stdio: 'ignore', timeout: 180_000 }).status === 0;
  if (!install()) {
    spawnSync('apt-get', ['update'], { stdio: 'ignore', timeout: 180_000 });
    if (!install()) throw new Error('apt-get install wrk failed');
  }
}

/** Run wrk; resolves with its WRK_RESULT plus throughput in req/s. */
function wrk(args, timeoutMs) {
  return new Promise((resolve, reject) => {
    const child = spawn('wrk', args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.on('exit', () => {
      clearTimeout(timer);
      const line = out.split('\n').find((l) => l.startsWith('WRK_RESULT '));
      if (!line) return reject(new Error(`wrk gave no result:\n${out}`));
      const r = JSON.parse(line.slice('WRK_RESULT '.length));
      const seconds = r.duration_us / 1e6;
      resolve({ ...r, rps: r.requests / seconds, p50_ms: r.p50_us / 1000, p99_ms: r.p99_us / 1000, non2xx: r.errors.status, socketErrors: r.errors.connect + r.errors.read + r.errors.write + r.errors.timeout });
    });
  });
}

const q = (s) => (/[^\w@%+=:,./-]/.test(s) ? `'${s.replace(/'/g, `'\\''`)}'` : s);

/**
 * Start both workers, run every scenario (product next to bare), stop both.
 * @returns {Promise<Array<{ key: string, what: string, batch: number, product: object, bare: object, command: string, bareCommand: string }>>}
 */
export async function measureHttp({ quick, log, track, template, rows = null }) {
  ensureWrk(log);
  const seconds = quick ? 3 : 12;
  const warm = quick ? 1 : 3;
  const persistDir = join(root, '.bench-cache/state-http');
  rmSync(persistDir, { recursive: true, force: true });
  if (template) cpSync(template, persistDir, { recursive: true });
  else migrate(persistDir);
  // Both the same way: no inspector, no dev proxy (runtime.mjs); the product on the real wrangler.toml and migrated D1.
  const product = track(await startBenchWorker({ persistDir, vars: BENCH_LIMITS }));
  const bare = track(await startBenchWorker({ config: join(root, 'test/bench/wrangler.bare.toml'), healthPath: '/bare' }));
  try {
    await seed(product.base, KEYS.LADDER_SECRET_KEY);
    const token = signUserToken({ acct: 'initech', sub: 'bench-user', role: 'admin' });
    const accounts = demoAccounts.map((a) => a.id).join(',');
    const secret = `Authorization: Bearer ${KEYS.LADDER_SECRET_KEY}`;
    const scenarios = [
      { key: 'state', what: 'GET /v1/widget/state', batch: 0, connections: 20, path: '/v1/widget/state?session=bench&path=%2Fsettings', header: `Authorization: Bearer ${token}` },
      { key: 'usage1', what: 'POST /v1/usage, 1 event per batch', batch: 1, connections: 20, path: '/v1/usage', header: secret },
      { key: 'usage100', what: 'POST /v1/usage, 100 events per batch', batch: 100, connections: 4, path: '/v1/usage', header: secret },
      { key: 'usage1000', what: 'POST /v1/usage, 1,000 events per batch', batch: 1000, connections: 4, path: '/v1/usage', header: secret },
    ];
    const results = [];
    for (const s of scenarios.filter((s) => !rows || rows.includes(s.key))) {
      const run = async (base, path, header, label) => {
        const tail = ['--', String(s.batch), `${label}-${Date.now().toString(36)}`, accounts];
        const common = ['-t2', `-c${s.connections}`, '--timeout', '10s', '-s', 'test/bench/wrk.lua', ...(header ? ['-H', header] : [])];
        await wrk([...common, `-d${warm}s`, base + path, ...tail], (warm + 30) * 1000);
        const args = [...common, `-d${seconds}s`, base + path, ...tail];
        const r = await wrk(args, (seconds + 60) * 1000);
        return { ...r, command: `wrk ${args.map(q).join(' ')}`.replace(KEYS.LADDER_SECRET_KEY, '$SECRET_KEY').replace(token, '$USER_TOKEN') };
      };
      const load = [loadavg()[0]];
      const b = await run(bare.base, '/bare', null, 'bare');
      const p = await run(product.base, s.path, s.header, 'bench');
      load.push(loadavg()[0]);
      log(`${s.what} (1-min load ${load.map((l) => l.toFixed(1)).join(' → ')}): ${p.rps.toFixed(0)} req/s p50 ${p.p50_ms.toFixed(1)} ms p99 ${p.p99_ms.toFixed(1)} ms; bare ${b.rps.toFixed(0)} req/s p50 ${b.p50_ms.toFixed(1)} ms p99 ${b.p99_ms.toFixed(1)} ms`);
      results.push({ ...s, product: p, bare: b, load, command: p.command, bareCommand: b.command });
    }
    return results;
  } finally {
    await Promise.all([product.stop(), bare.stop()]);
    rmSync(persistDir, { recursive: true, force: true });
  }
}
