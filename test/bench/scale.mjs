/**
 * The scale options of docs/scale.md measured side by side on this machine (`npm run bench -- --scale`):
 * for each of LADDER_COUNTERS=d1|durable_object × LADDER_INGEST=direct|queue, a fresh
 * `wrangler dev` (local D1, Durable Objects and Queues inside workerd) takes
 *
 * - ingestion: 8 clients sending POST /v1/usage batches of 100 new events across 5 accounts
 *   for a fixed time; events/s answered, p50/p99 per request, events/s applied (queued runs:
 *   until the consumer has counted them all), and D1 write transactions per 1,000 events
 *   (distinct batch ids in usage_events: one per direct batch, consumer batch or object flush);
 * - check-and-record: 20 clients racing POST /v1/check of 1 on one account; checks/s, p50/p99.
 *
 * The load tool is Node's fetch on the same 2 cores as workerd, so the figures are a floor.
 * Results go to test-output/bench-scale.json and are printed as a Markdown table.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { call } from '../system/client.mjs';
import { migrate, root, startWorker } from '../system/devWorker.mjs';
import { BENCH_LIMITS } from './http.mjs';

const COMBOS = [
  { LADDER_COUNTERS: 'd1', LADDER_INGEST: 'direct' },
  { LADDER_COUNTERS: 'durable_object', LADDER_INGEST: 'direct' },
  { LADDER_COUNTERS: 'd1', LADDER_INGEST: 'queue' },
  { LADDER_COUNTERS: 'durable_object', LADDER_INGEST: 'queue' },
];
const ACCOUNTS = ['acct-1', 'acct-2', 'acct-3', 'acct-4', 'acct-5'];
const BATCH = 100;

/** One SELECT on the worker's local D1 file (as test/system/d1.ts does), read-only. */
function query(persistDir, sql) {
  const dir = join(persistDir, 'v3/d1/miniflare-D1DatabaseObject');
  const file = readdirSync(dir).find((f) => f.endsWith('.sqlite') && f !== 'metadata.sqlite');
  const r = spawnSync('sqlite3', ['-json', '-readonly', join(dir, file), sql], { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`sqlite3: ${r.stderr}`);
  return r.stdout.trim() ? JSON.parse(r.stdout) : [];
}

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** `clients` loops calling `send(i)` until `seconds` pass; request latencies and count. */
async function load(clients, seconds, send) {
  const until = Date.now() + seconds * 1000;
  const lat = [];
  let n = 0;
  let failed = 0;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (Date.now() < until) {
        const i = n++;
        const t = performance.now();
        const res = await send(i).catch(() => ({ status: 0 }));
        lat.push(performance.now() - t);
        if (res.status < 200 || res.status > 299) failed++;
      }
    }),
  );
  lat.sort((a, b) => a - b);
  return { requests: lat.length, failed, p50: pct(lat, 50), p99: pct(lat, 99) };
}

async function setup(base) {
  const catalog = {
    metrics: [{ id: 'api_calls', name: 'API calls', unit: 'call', kind: 'counter', reset: 'billing_period' }],
    features: [],
    plans: [{ id: 'big', name: 'Big', rank: 1, currency: 'usd', price_cents: 1000, interval: 'month', limits: { api_calls: null }, features: [] }],
  };
  await call(base, 'PUT', '/v1/catalog', { body: catalog });
  for (const id of [...ACCOUNTS, 'checker']) await call(base, 'PUT', `/v1/accounts/${id}`, { body: { name: id, plan_id: 'big', seats: 1 } });
}

async function measure(combo, { seconds, log }) {
  const persistDir = join(root, '.bench-cache', `state-scale-${combo.LADDER_COUNTERS}-${combo.LADDER_INGEST}`);
  rmSync(persistDir, { recursive: true, force: true });
  migrate(persistDir);
  const worker = await startWorker({ persistDir, vars: { ...BENCH_LIMITS, ...combo, LADDER_COUNTERS_FLUSH_MS: '1000' } });
  try {
    await setup(worker.base);
    const run = Date.now().toString(36);
    const t0 = Date.now();
    const ingest = await load(8, seconds, (i) =>
      call(worker.base, 'POST', '/v1/usage', {
        body: { events: Array.from({ length: BATCH }, (_, e) => ({ account_id: ACCOUNTS[i % ACCOUNTS.length], metric: 'api_calls', value: 1, idempotency_key: `${run}-${i}-${e}` })) },
      }),
    );
    const answered = (ingest.requests - ingest.failed) * BATCH;
    // Applied: the accounts' live counters add up to every answered event (queued runs wait for the consumer).
    const total = async () => {
      let sum = 0;
      for (const a of ACCOUNTS) sum += (await call(worker.base, 'GET', `/v1/accounts/${a}`)).json.usage.api_calls.used;
      return sum;
    };
    const limit = Date.now() + 120_000;
    let applied = await total();
    while (applied < answered && Date.now() < limit) {
      await sleep(250);
      applied = await total();
    }
    const appliedSeconds = (Date.now() - t0) / 1000;
    // Let the objects' alarms flush, then count D1 write transactions for these events.
    await sleep(combo.LADDER_COUNTERS === 'durable_object' ? 3000 : 0);
    const [{ events, txns }] = query(persistDir, `SELECT count(*) AS events, count(DISTINCT batch_id) AS txns FROM usage_events`);
    const check = await load(20, seconds, (i) =>
      call(worker.base, 'POST', '/v1/check', { body: { account_id: 'checker', metric: 'api_calls', amount: 1, idempotency_key: `${run}-c${i}` } }),
    );
    const r = {
      ...combo,
      ingest_events_per_s: answered / seconds,
      ingest_p50_ms: ingest.p50,
      ingest_p99_ms: ingest.p99,
      ingest_failed: ingest.failed,
      applied_events_per_s: applied / appliedSeconds,
      applied_all: applied >= answered,
      d1_events: events,
      d1_writes_per_1000_events: events ? (txns * 1000) / events : null,
      checks_per_s: (check.requests - check.failed) / seconds,
      check_p50_ms: check.p50,
      check_p99_ms: check.p99,
      check_failed: check.failed,
    };
    log(JSON.stringify(r));
    return r;
  } finally {
    await worker.stop();
    rmSync(persistDir, { recursive: true, force: true });
  }
}

/** Every combination, one after another; a Markdown table of the figures. */
export async function measureScale({ quick = false, log = (m) => process.stdout.write(`[bench:scale] ${m}\n`) } = {}) {
  const seconds = quick ? 4 : 10;
  const results = [];
  for (const combo of COMBOS) results.push(await measure(combo, { seconds, log }));
  const f = (n) => Math.round(n).toLocaleString('en-US');
  const table = [
    '| LADDER_COUNTERS / LADDER_INGEST | ingestion answered (100/batch, 8 clients) | p50 / p99 per batch | applied | D1 write transactions per 1,000 events | check-and-record (20 clients) | p50 / p99 |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...results.map(
      (r) =>
        `| ${r.LADDER_COUNTERS} / ${r.LADDER_INGEST} | ${f(r.ingest_events_per_s)} events/s | ${f(r.ingest_p50_ms)} / ${f(r.ingest_p99_ms)} ms | ${f(r.applied_events_per_s)} events/s${r.applied_all ? '' : ' (not all within 2 min)'} | ${r.d1_writes_per_1000_events?.toFixed(2) ?? '—'} | ${f(r.checks_per_s)} checks/s | ${f(r.check_p50_ms)} / ${f(r.check_p99_ms)} ms |`,
    ),
  ].join('\n');
  mkdirSync(join(root, 'test-output'), { recursive: true });
  writeFileSync(join(root, 'test-output/bench-scale.json'), JSON.stringify({ at: new Date().toISOString(), seconds, results }, null, 2));
  return { results, table };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { table } = await measureScale({ quick: process.argv.includes('--quick') });
  process.stdout.write(`\n${table}\n`);
}
