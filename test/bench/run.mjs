#!/usr/bin/env node
/**
 * `npm run bench` — Ladder's figures, each printed with the command that made it, then
 * written as a table into the README's "## Performance" section (full runs only):
 *
 * 1. widget bytes (raw/gzip/brotli) of what a host page loads by default, next to peer
 *    browser SDKs bundled the same way (installed on demand into .bench-cache/) — size.mjs;
 * 2. worker throughput and p50/p99 on local workerd without wrangler dev's devtools inspector
 *    (runtime.mjs) for GET /v1/widget/state and POST /v1/usage (1, 100, 1,000 events per
 *    batch), each next to a bare Hono route started the same way in the same run, the state
 *    also next to a bare route sending the state's own D1 batch (with CPU per request); usage
 *    ingestion in events/s — http.mjs;
 * 3. the PQA recompute (the worker's cron) over 100,000 accounts with 10,000,000 events, the
 *    dashboard funnel's first read after that cron run over 1,000,000 prompt events and every
 *    GET the dashboard makes, each with its growth from a 10× smaller input — bigdata.mjs;
 * 4. the rule simulator replaying 90 days of 10,000 accounts and 100,000 users, with its growth
 *    from 10× less — simulator.mjs.
 *
 * `--only <section>` (sizes, http, bigdata, simulator) runs one section and leaves the README alone;
 * `--rows <keys>` (state, usage1, usage100, usage1000, comma-separated) runs only those http rows.
 *
 * `--scale` measures only the scale options of docs/scale.md instead (LADDER_COUNTERS ×
 * LADDER_INGEST, ingestion and check-and-record, D1 writes per 1,000 events) — scale.mjs.
 *
 * `--quick` uses smaller inputs and shorter runs and leaves the README alone (`--readme` writes
 * it anyway). Time is bounded (15 min full, 3 min quick): a section that no longer fits is
 * skipped and said so. Everything started here is stopped on exit, also on Ctrl-C.
 * Figures also go to test-output/bench.json.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { measureSize } from './bigdata.mjs';
import { BENCH_LIMITS, measureHttp } from './http.mjs';
import { RUNTIME_COMMAND } from './runtime.mjs';
import { measureScale } from './scale.mjs';
import { bundleCommand, installCommand, measureSizes } from './size.mjs';
import { measureSimulator, simulatorCommand } from './simulator.mjs';
import { KEYS, migrate, root, startWorker } from '../system/devWorker.mjs';

const quick = process.argv.includes('--quick');
if (process.argv.includes('--scale')) {
  const { table } = await measureScale({ quick });
  process.stdout.write(`\n${table}\n(figures also in test-output/bench-scale.json)\n`);
  process.exit(0);
}
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : null;
const httpRows = process.argv.includes('--rows') ? process.argv[process.argv.indexOf('--rows') + 1].split(',') : null;
const writeReadme = (!quick && !only && !httpRows) || process.argv.includes('--readme');
const began = Date.now();
const budgetMs = (quick ? 3 : 15) * 60_000;
const deadline = began + budgetMs;
const cache = join(root, '.bench-cache');

const log = (msg) => process.stdout.write(`[bench] ${msg}\n`);
const running = new Set();
const track = (worker) => {
  running.add(worker);
  worker.exited.then(() => running.delete(worker));
  return worker;
};
async function stopAll() {
  await Promise.all([...running].map((w) => w.stop()));
}
for (const signal of ['SIGINT', 'SIGTERM'])
  process.on(signal, () => {
    log(`${signal}: stopping the workers`);
    stopAll().finally(() => process.exit(130));
  });
// The hard bound: whatever hangs, the bench stops its workers and exits.
const hardStop = setTimeout(() => {
  log(`over the ${budgetMs / 60_000}-minute budget: stopping`);
  stopAll().finally(() => process.exit(1));
}, budgetMs + 30_000);
hardStop.unref();

/** One figure: printed at once with its command, kept for the README table. */
const rows = [];
function figure(what, value, command, readmeCommand = command) {
  rows.push({ what, value, command: readmeCommand });
  process.stdout.write(`\n${what}: ${value}\n    $ ${command}\n`);
}

const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
const int = (n) => Math.round(n).toLocaleString('en-US');
const ms = (n) => (n >= 10_000 ? `${(n / 1000).toFixed(1)} s` : `${n >= 100 ? int(n) : n.toFixed(1)} ms`);
const x = (n) => `${n >= 10 ? n.toFixed(0) : n.toFixed(2)}×`;
const left = () => deadline - Date.now();

const SIZES = quick
  ? { small: { accounts: 500, trackEvents: 50_000, promptEvents: 5_000 }, big: { accounts: 5_000, trackEvents: 500_000, promptEvents: 50_000 } }
  : { small: { accounts: 10_000, trackEvents: 1_000_000, promptEvents: 100_000 }, big: { accounts: 100_000, trackEvents: 10_000_000, promptEvents: 1_000_000 } };

async function sizesSection() {
  const { ours, peers } = await measureSizes(log);
  figure(
    `Widget, what a host page loads by default (${ours.files.join(', ')})`,
    `${kb(ours.raw)} raw, ${kb(ours.gzip)} gzip, ${kb(ours.brotli)} brotli`,
    'node widget/build.mjs  (esbuild --bundle --splitting --format=esm --minify, es2020, Preact internals mangled; the loader + the default chunk; gzip -9, brotli q11)',
  );
  for (const p of peers) {
    if (p.error) {
      figure(`Peer ${p.name}@${p.version}`, `not measured: ${p.error}`, installCommand);
      continue;
    }
    figure(
      `Peer ${p.name}@${p.version}, bundled the same way`,
      `${kb(p.raw)} raw, ${kb(p.gzip)} gzip, ${kb(p.brotli)} brotli = ${x(p.raw / ours.raw)} / ${x(p.gzip / ours.gzip)} / ${x(p.brotli / ours.brotli)} Ladder's`,
      `${installCommand.split(' ').slice(0, 7).join(' ')} ${p.name}@${p.version}; ${bundleCommand}`,
      `npm install --prefix .bench-cache ${p.name}@${p.version}; esbuild bundle like the widget (test/bench/size.mjs)`,
    );
  }
  return { ours, peers };
}

async function httpSection(template) {
  const results = await measureHttp({ quick, log, track, template, rows: httpRows });
  const portless = (cmd) =>
    cmd
      .replace(/http:\/\/127\.0\.0\.1:\d+\/bare/, 'http://127.0.0.1:$BARE_PORT/bare')
      .replace(/http:\/\/127\.0\.0\.1:\d+/, 'http://127.0.0.1:$PORT')
      .replace(/ (bench|bare)-[a-z0-9]+ /, ' <run-id> ');
  for (const r of results) {
    const p = r.product;
    const b = r.bare;
    const errors = p.non2xx + p.socketErrors ? ` (${p.non2xx} non-2xx, ${p.socketErrors} socket errors)` : '';
    if (p.requests < 5 || b.requests < 5) {
      figure(`${r.what} on local workerd (no inspector)`, `not measured: ${p.requests} answers (bare: ${b.requests}) in the run${errors} — overloaded machine?`, portless(r.command));
      continue;
    }
    figure(
      `${r.what} on local workerd (no inspector), ${r.connections} connections`,
      `${int(p.rps)} req/s, p50 ${ms(p.p50_ms)}, p99 ${ms(p.p99_ms)}${errors} — bare Hono ${r.batch ? 'POST' : 'GET'} on the same runtime: ${int(b.rps)} req/s, p50 ${ms(b.p50_ms)}, p99 ${ms(b.p99_ms)} → ${x(p.rps / b.rps)} the throughput, ${x(p.p50_ms / b.p50_ms)} / ${x(p.p99_ms / b.p99_ms)} the p50 / p99 (1-min load ${r.load.map((l) => l.toFixed(1)).join(' → ')})`,
      `${portless(r.command)}  (bare: ${portless(r.bareCommand)}; both workers: ${RUNTIME_COMMAND})`,
      `${portless(r.command)}; bare: same on http://127.0.0.1:$BARE_PORT/bare (test/bench/bare-worker.ts); both workers: ${RUNTIME_COMMAND}`,
    );
    const d = r.bareD1;
    if (!d) continue;
    // CPU per request of each worker's own workerd (worker isolate + its local D1), /proc/<pid>/stat around the measured wrk run.
    const cpu = (m) => (m.cpuPerRequestMs === null ? 'n/a' : `${m.cpuPerRequestMs.toFixed(2)} ms`);
    const share = (m) => (m === null ? '' : `${Math.round(m * 100)}%`);
    const d1Share = p.cpuPerRequestMs && d.cpuPerRequestMs !== null && b.cpuPerRequestMs !== null ? (d.cpuPerRequestMs - b.cpuPerRequestMs) / p.cpuPerRequestMs : null;
    figure(
      `${r.what} vs a bare Hono route sending the same D1 batch (GET /bare-d1: the warm state's 12 statements in one batch, on a copy of the seeded local D1), ${r.connections} connections`,
      `${int(p.rps)} req/s, p50 ${ms(p.p50_ms)}, p99 ${ms(p.p99_ms)} — bare + same D1 batch: ${int(d.rps)} req/s, p50 ${ms(d.p50_ms)}, p99 ${ms(d.p99_ms)} → ${x(p.rps / d.rps)} the throughput (bare with no D1: ${x(d.rps / b.rps)} of GET /bare). CPU per request of the worker's workerd: bare ${cpu(b)}, bare + D1 batch ${cpu(d)}, widget state ${cpu(p)}${d1Share === null ? '' : ` → local D1 batch ≈ ${share(d1Share)} of the state's CPU, the product's own JS ≈ ${share((p.cpuPerRequestMs - d.cpuPerRequestMs) / p.cpuPerRequestMs)}`} (1-min load ${r.load.map((l) => l.toFixed(1)).join(' → ')})`,
      `${portless(r.command)}  (bare + D1: ${portless(r.bareD1Command)}; both workers: ${RUNTIME_COMMAND}; CPU: /proc/<pid>/stat utime+stime of each worker's workerd around its wrk run)`,
      `${portless(r.command)}; bare + D1: same on http://127.0.0.1:$BARE_PORT/bare-d1 (test/bench/bare-worker.ts); CPU: /proc/<pid>/stat of each worker's workerd around its wrk run; both workers: ${RUNTIME_COMMAND}`,
    );
    const one = r.bareD1One;
    if (!one) continue;
    // The floor of any route that makes one D1 round trip here: the target against GET /bare cannot be above it.
    figure(
      `The floor of one local D1 round trip (GET /bare-d1-one: a bare Hono route sending one batch of one SELECT 1), ${r.connections} connections`,
      `${int(one.rps)} req/s, p50 ${ms(one.p50_ms)}, p99 ${ms(one.p99_ms)}, ${cpu(one)} CPU/req → ${x(one.rps / b.rps)} of GET /bare: no route making one D1 round trip on this runtime can pass that; the widget state (one round trip) is ${x(p.rps / one.rps)} of this floor (1-min load ${r.load.map((l) => l.toFixed(1)).join(' → ')})`,
      portless(r.bareD1OneCommand),
      `same as the bare + D1 row on http://127.0.0.1:$BARE_PORT/bare-d1-one (test/bench/bare-worker.ts)`,
    );
  }
  const ingest = results.filter((r) => r.batch > 0 && r.product.requests >= 5).map((r) => `${int(r.product.rps * r.batch)} events/s at ${int(r.batch)} per batch`);
  figure('Usage ingestion (POST /v1/usage, every event a new idempotency key, one D1 transaction per batch)', ingest.join('; '), 'the POST /v1/usage wrk runs above: req/s × events per batch');
  return results;
}

async function bigSection(template) {
  const out = {};
  for (const [name, size] of [['small', SIZES.small], ['big', SIZES.big]]) {
    if (name === 'big' && left() < (quick ? 60_000 : 420_000)) {
      log(`skipping the ${int(size.trackEvents)}-event run: ${Math.round(left() / 1000)} s of the budget left`);
      break;
    }
    out[name] = await measureSize({ template, dir: join(cache, `state-${name}`), size, log, track, startWorker, adminKey: KEYS.LADDER_ADMIN_KEY });
  }
  const { small, big } = out;
  const desc = (r) => `${int(r.counts.accounts)} accounts, ${int(r.counts.track_events)} events`;
  const growth = (a, b) => (b ? ` — growth from 10× smaller input: ${x(a / b)}` : '');
  const main = big ?? small;
  const other = big ? small : null;
  figure(
    `PQA recompute (the worker's cron, every account) over ${desc(main)}`,
    `${ms(main.pqaMs)}${other ? ` (${desc(other)}: ${ms(other.pqaMs)})` : ''}${growth(main.pqaMs, other?.pqaMs)}`,
    `SQL-generated rows in the local D1 file (test/bench/bigdata.mjs); wrangler dev --test-scheduled; curl "http://127.0.0.1:$PORT/__scheduled?cron=*/15+*+*+*+*", timed until settings.pqa_recompute is done`,
  );
  const funnel = `curl -H "Authorization: Bearer $ADMIN_KEY" "http://127.0.0.1:$PORT/v1/admin/analytics/funnel?from=<tomorrow-31d>&to=<tomorrow>" (whole UTC days, as the dashboard sends)`;
  const pdesc = (r) => `${int(r.counts.prompt_events)} prompt events`;
  figure(
    `The cron's roll-up of a ${pdesc(main)} backlog (same run as the PQA recompute, after it; bounded per run)`,
    `done ${ms(main.rollupMs)} after the trigger${other ? ` (${pdesc(other)}: ${ms(other.rollupMs)})` : ''}${growth(main.rollupMs, other?.rollupMs)}`,
    `as the PQA row; timed until rollup_state.last_rowid reaches max(prompt_events.rowid)`,
  );
  figure(
    `The whole cron run (PQA, roll-ups, webhooks, retention) over ${desc(main)} and ${pdesc(main)}`,
    `ended ${ms(main.cronMs)} after the trigger, ${main.cronErrors} failed steps${other ? ` (${desc(other)}: ${ms(other.cronMs)})` : ''}${growth(main.cronMs, other?.cronMs)}`,
    `as the PQA row; timed until the run's end mark (settings cron_run, its last write) is there`,
  );
  figure(
    `Dashboard funnel (31 days) over ${pdesc(main)}, first read after the whole cron run ended (the cron rolls the events up, bounded per run; roll-ups current after it: ${main.rollupsCurrent ? 'yes' : 'no'})`,
    `${ms(main.funnelColdMs)}${other ? ` (${pdesc(other)}: ${ms(other.funnelColdMs)})` : ''}${growth(main.funnelColdMs, other?.funnelColdMs)}`,
    funnel,
  );
  const overviewMs = (r) => ['/v1/admin/analytics/funnel', '/v1/admin/analytics/upgrades', '/v1/admin/analytics/revenue'].reduce((n, p) => n + (r.endpoints?.[p] ?? 0), 0);
  figure(
    `Dashboard funnel over ${pdesc(main)}, roll-ups current (median of 5)`,
    `${ms(main.funnelWarmMs)}${other ? ` (${pdesc(other)}: ${ms(other.funnelWarmMs)})` : ''}${growth(main.funnelWarmMs, other?.funnelWarmMs)}`,
    funnel,
  );
  figure(
    `Dashboard overview (its three reads: funnel, upgrades by day, revenue; medians of 5 added up) over ${pdesc(main)}`,
    `${ms(overviewMs(main))}${other ? ` (${pdesc(other)}: ${ms(overviewMs(other))})` : ''}${growth(overviewMs(main), other && overviewMs(other))}`,
    'the funnel, upgrades?interval=day and revenue rows of the next figure',
  );
  const base = '"http://127.0.0.1:$PORT';
  const each = Object.keys(main.endpoints ?? {}).map((path) => {
    const m = main.endpoints[path];
    const o = other?.endpoints?.[path];
    return `${path} ${ms(m)}${o !== undefined ? ` (${ms(o)}, ${x(m / Math.max(o, 0.1))})` : ''}`;
  });
  figure(
    `Every dashboard GET over ${pdesc(main)}, roll-ups current, median of 5 each${other ? ` (in brackets: over ${pdesc(other)}, and the growth)` : ''}`,
    each.join('; '),
    `curl -H "Authorization: Bearer $ADMIN_KEY" ${base}<path>?from=<tomorrow-31d>&to=<tomorrow>" (whole UTC days, as the dashboard sends)  for each path of DASHBOARD_ENDPOINTS (test/bench/bigdata.mjs)`,
  );
  return out;
}

async function simulatorSection() {
  const [small, big] = quick ? [100, 1_000] : [1_000, 10_000];
  const timeoutMs = Math.max(30_000, Math.min(left() - 30_000, quick ? 120_000 : 600_000));
  const runs = await measureSimulator({ root, cache, sizes: [small, big], log, timeoutMs });
  // The straightforward replay the fast one is tested against, at the small size only (it is about 3× slower).
  const [straight] = left() > 60_000 ? await measureSimulator({ root, cache, sizes: [small], log, timeoutMs: Math.min(timeoutMs, left() - 30_000), replay: true }) : [];
  const [a, b] = runs;
  const desc = (r) => `${int(r.accounts)} accounts, ${int(r.users)} users, ${r.days} days (${int(r.prompt_events)} prompt events, ${int(r.sessions)} sessions)`;
  const load = (r) => `load ${r.load.map((l) => l.toFixed(1)).join('→')}`;
  const main = b && !b.error ? b : a;
  const other = main === b ? a : null;
  if (!main || main.error) {
    figure('Rule simulator (shared/simulator.ts)', `not measured: ${main?.error ?? 'no run'}`, simulatorCommand(small));
    return runs;
  }
  const growth = other && !other.error ? ` (${desc(other)}: ${ms(other.ms)}, CPU ${ms(other.cpu_ms)}, ${load(other)}) — growth from 10× smaller input: ${x(main.ms / other.ms)} wall, ${x(main.cpu_ms / other.cpu_ms)} CPU` : '';
  const vs = straight && !straight.error && a && !a.error ? `; the straightforward replay (simulateByReplay) of the ${int(small)} accounts: ${ms(straight.ms)}, CPU ${ms(straight.cpu_ms)} (${load(straight)}) = ${x(straight.cpu_ms / a.cpu_ms)} the fast one's CPU` : '';
  figure(
    `Rule simulator (shared/simulator.ts), one replay of ${desc(main)} under the built-in rules`,
    `${ms(main.ms)} wall, CPU ${ms(main.cpu_ms)} (${load(main)})${growth}${b?.error ? `; ${int(b.accounts)} accounts: ${b.error}` : ''}${vs}; goal ≤ 5 s at 10,000 accounts / 100,000 users`,
    `${simulatorCommand(main.accounts)}; ${simulatorCommand(small)}; ${simulatorCommand(small, true)}`,
  );
  return { runs, straight };
}

/** Replace the rows of the README's performance table, leaving everything else as it is. */
function updateReadme() {
  const file = join(root, 'README.md');
  const text = readFileSync(file, 'utf8');
  const header = '| what | figure | command |\n| --- | --- | --- |\n';
  const section = text.indexOf('## Performance');
  const start = text.indexOf(header, section);
  if (section < 0 || start < 0) throw new Error('README.md has no "## Performance" table');
  const bodyStart = start + header.length;
  let end = bodyStart;
  while (text.startsWith('|', end)) end = text.indexOf('\n', end) + 1 || text.length;
  const cell = (s) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const lines = rows.map((r) => `| ${cell(r.what)} | ${cell(r.value)} | \`${cell(r.command).replace(/`/g, "'")}\` |\n`);
  writeFileSync(file, text.slice(0, bodyStart) + lines.join('') + text.slice(end));
}

async function main() {
  log(`${quick ? 'quick' : 'full'} run, budget ${budgetMs / 60_000} min; ${cpus().length} cores, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const load0 = loadavg()[0];
  const results = {};
  const sections = [
    ['sizes', () => sizesSection(), 60_000],
    ['http', () => httpSection(template()), quick ? 40_000 : 150_000],
    ['bigdata', () => bigSection(template()), quick ? 30_000 : 120_000],
    ['simulator', () => simulatorSection(), 30_000],
  ].filter(([name]) => !only || name === only);
  let templateDir = null;
  const template = () => {
    if (!templateDir) {
      templateDir = join(cache, 'state-template');
      rmSync(templateDir, { recursive: true, force: true });
      migrate(templateDir);
    }
    return templateDir;
  };
  const failures = [];
  for (const [name, run, needs] of sections) {
    if (left() < needs) {
      log(`skipping ${name}: ${Math.round(left() / 1000)} s of the budget left`);
      failures.push(`${name}: skipped (time budget)`);
      continue;
    }
    try {
      results[name] = await run();
    } catch (err) {
      failures.push(`${name}: ${err.message.split('\n')[0]}`);
      log(`${name} failed: ${err.stack ?? err.message}`);
      await stopAll();
    }
  }
  if (templateDir) rmSync(templateDir, { recursive: true, force: true });
  const load1 = loadavg()[0];
  const node = process.version;
  const wrk = spawnSync('wrk', ['--version'], { encoding: 'utf8' }).stdout?.split('\n')[0]?.split(' [')[0] ?? 'wrk';
  const machine = {
    what: 'Machine and run',
    value: `${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores, Node ${node}, ${wrk}, http rows: wrangler's startWorker without the inspector (test/bench/runtime.mjs), the rest: wrangler dev --log-level warn; 1-min load average ${load0.toFixed(1)} at start, ${load1.toFixed(1)} at end (other processes share the cores; ratios are taken within the run)`,
    command: `npm run bench${quick ? ' -- --quick' : ''}  (${((Date.now() - began) / 60_000).toFixed(1)} min)`,
  };
  figure(machine.what, machine.value, machine.command);
  mkdirSync(join(root, 'test-output'), { recursive: true });
  writeFileSync(join(root, 'test-output/bench.json'), JSON.stringify({ quick, rows, machine, results, failures, limits: BENCH_LIMITS }, null, 2) + '\n');
  if (writeReadme && rows.length > 1) {
    updateReadme();
    log('README.md: performance table updated');
  }
  if (failures.length) {
    log(`not measured: ${failures.join('; ')}`);
    process.exitCode = 1;
  }
}

main()
  .catch((err) => {
    log(`failed: ${err.stack ?? err.message}`);
    process.exitCode = 1;
  })
  .finally(async () => {
    await stopAll();
    clearTimeout(hardStop);
  });
