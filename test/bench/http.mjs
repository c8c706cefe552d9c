/**
 * Worker throughput and latency on local workerd without the devtools inspector (wrangler's
 * `startWorker` with `dev.inspector: false`, load sent to the worker's own workerd socket —
 * test/bench/runtime.mjs), each product route next to a bare Hono route started the same way
 * in the same run (test/bench/bare-worker.ts): GET /v1/widget/state, POST /v1/usage with
 * batches of 1, 100 and 1,000 events (unique idempotency keys, so every event is an insert).
 * Load tool: Debian's wrk (installed with apt-get when missing), 2 threads; 20 connections, or 4
 * for the 100- and 1,000-event batches (20 of those queue for longer than a quick run lasts).
 * The bare route always gets the same wrk parameters as the product route it is compared with.
 * The state row also runs `GET /bare-d1`: the bare worker sending the warm state's own D1 batch
 * on a copy of the product's seeded local D1, so the state's cost splits into local D1 and the
 * product's JS. Each run reads the CPU of the worker's own workerd (worker isolate + its local
 * D1 + assets router) from /proc/<pid>/stat before and after, per request.
 * `rows` (from `npm run bench -- --only http --rows state,usage1`) runs only those scenarios.
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { seed, demoAccounts } from '../../worker/scripts/seed.mjs';
import { signUserToken } from '../system/client.mjs';
import { KEYS, migrate, root } from '../system/devWorker.mjs';
import { d1File, sqlite } from './bigdata.mjs';
import { startBenchWorker } from './runtime.mjs';

const DAY_MS = 86_400_000;

/**
 * The heavy user of the `state-heavy` row: the history window full (`HISTORY_LIMIT` = 5,000
 * events within 120 days) of a user who keeps hitting a gated feature and a hard limit, over
 * the last 30 days in sessions of 20 events, none of them the measured session: in each session
 * one impression of the limit's blocking notice (blocks have no caps; the widget records a
 * prompt's first impression per session), the rest gate hits and clicks in turn.
 */
export const HEAVY = { user: 'heavy-user', account: 'initech', events: 5000 };

/** Write the heavy user's history into a migrated, stopped local D1 (the table has no foreign keys). */
function seedHeavyHistory(persistDir, now) {
  sqlite(
    d1File(persistDir),
    `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${HEAVY.events})
     INSERT INTO prompt_events (account_id, idempotency_key, user_id, session_id, type, prompt_id, feature_id, timestamp)
     SELECT '${HEAVY.account}', 'heavy-' || i, '${HEAVY.user}', 'heavy-session-' || (i / 20),
       CASE WHEN i % 20 = 0 THEN 'impression' WHEN i % 2 = 0 THEN 'click' ELSE 'gate_hit' END,
       CASE WHEN i % 2 = 0 THEN 'limit-api_calls-100' END,
       CASE WHEN i % 2 = 1 THEN 'sso' END,
       ${now} - i * ${Math.floor((30 * DAY_MS) / 5000)} FROM n;`,
  );
}

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

/** The pid of the process listening on 127.0.0.1:`port` (the worker's own workerd), from /proc; null when not found. */
function pidOnPort(port) {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  const inodes = new Set();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length > 9 && f[1].endsWith(`:${hex}`) && f[3] === '0A') inodes.add(`socket:[${f[9]}]`);
    }
  }
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    let fds = [];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (inodes.has(readlinkSync(`/proc/${pid}/fd/${fd}`))) return Number(pid);
      } catch {}
    }
  }
  return null;
}

/** User + system CPU of a process so far, in ms (/proc/<pid>/stat fields 14 and 15, clock ticks of 10 ms). */
function cpuMs(pid) {
  if (!pid) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return null;
  }
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
  if (!rows || rows.includes('state-heavy')) seedHeavyHistory(persistDir, Date.now());
  // Both the same way: no inspector, no dev proxy (runtime.mjs); the product on the real wrangler.toml and migrated D1.
  const product = track(await startBenchWorker({ persistDir, vars: BENCH_LIMITS }));
  // The bare worker's D1 (GET /bare-d1 only) is a copy of the product's, taken after the seed, so its batch reads the same rows.
  const barePersistDir = `${persistDir}-bare`;
  rmSync(barePersistDir, { recursive: true, force: true });
  let bare = null;
  try {
    await seed(product.base, KEYS.LADDER_SECRET_KEY);
    cpSync(persistDir, barePersistDir, { recursive: true });
    bare = track(await startBenchWorker({ config: join(root, 'test/bench/wrangler.bare.toml'), healthPath: '/bare', persistDir: barePersistDir }));
    const bareD1Check = await (await fetch(`${bare.base}/bare-d1`)).json();
    if (bareD1Check.statements !== 12 || !(bareD1Check.rows > 0)) throw new Error(`GET /bare-d1 did not read the seeded D1: ${JSON.stringify(bareD1Check)}`);
    const token = signUserToken({ acct: 'initech', sub: 'bench-user', role: 'admin' });
    const heavyToken = signUserToken({ acct: HEAVY.account, sub: HEAVY.user, role: 'member' });
    const accounts = demoAccounts.map((a) => a.id).join(',');
    const secret = `Authorization: Bearer ${KEYS.LADDER_SECRET_KEY}`;
    const scenarios = [
      { key: 'state', what: 'GET /v1/widget/state', batch: 0, connections: 20, path: '/v1/widget/state?session=bench&path=%2Fsettings', header: `Authorization: Bearer ${token}` },
      {
        key: 'state-heavy',
        what: `GET /v1/widget/state for a user with ${HEAVY.events.toLocaleString('en-US')} prompt events in the 120-day window (gate hits, clicks, a block's impressions)`,
        batch: 0,
        connections: 20,
        path: '/v1/widget/state?session=bench&path=%2Fsettings',
        header: `Authorization: Bearer ${heavyToken}`,
      },
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
        // CPU of the worker's own workerd (worker isolate + its local D1 + assets router) around the measured run.
        const pid = pidOnPort(Number(new URL(base).port));
        const cpu0 = cpuMs(pid);
        const r = await wrk(args, (seconds + 60) * 1000);
        const cpu1 = cpuMs(pid);
        const cpuPerRequestMs = cpu0 !== null && cpu1 !== null && r.requests > 0 ? (cpu1 - cpu0) / r.requests : null;
        return { ...r, cpuPerRequestMs, command: `wrk ${args.map(q).join(' ')}`.replace(KEYS.LADDER_SECRET_KEY, '$SECRET_KEY').replace(token, '$USER_TOKEN').replace(heavyToken, '$HEAVY_USER_TOKEN') };
      };
      const load = [loadavg()[0]];
      const b = await run(bare.base, '/bare', null, 'bare');
      // The state row also runs the bare route that sends the state's own D1 batch (bare-worker.ts).
      const bd = s.key === 'state' ? await run(bare.base, '/bare-d1', null, 'bare') : null;
      // and the floor of one D1 round trip: one batch of one SELECT 1
      const b1 = s.key === 'state' ? await run(bare.base, '/bare-d1-one', null, 'bare') : null;
      const p = await run(product.base, s.path, s.header, 'bench');
      load.push(loadavg()[0]);
      const cpu = (r) => (r.cpuPerRequestMs === null ? 'CPU n/a' : `${r.cpuPerRequestMs.toFixed(2)} ms CPU/req`);
      const line = (r) => `${r.rps.toFixed(0)} req/s p50 ${r.p50_ms.toFixed(1)} ms p99 ${r.p99_ms.toFixed(1)} ms ${cpu(r)}`;
      log(`${s.what} (1-min load ${load.map((l) => l.toFixed(1)).join(' → ')}): ${line(p)}; bare ${line(b)}${bd ? `; bare-d1 ${line(bd)}; bare-d1-one ${line(b1)}` : ''}`);
      results.push({ ...s, product: p, bare: b, bareD1: bd, bareD1One: b1, load, command: p.command, bareCommand: b.command, bareD1Command: bd?.command, bareD1OneCommand: b1?.command });
    }
    return results;
  } finally {
    await Promise.all([product.stop(), bare?.stop()]);
    rmSync(persistDir, { recursive: true, force: true });
    rmSync(barePersistDir, { recursive: true, force: true });
  }
}
