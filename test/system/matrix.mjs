/**
 * The system load and fault tests (retry storm, concurrent check-and-record, kill-and-restart
 * mid-batch, Stripe faults) under every non-default combination of the scale options
 * (docs/scale.md): LADDER_COUNTERS=d1|durable_object × LADDER_INGEST=direct|queue. The default
 * (d1 × direct) runs in `vitest run --project system` before this. One combination at a time,
 * each with its own `wrangler dev` (test/system/devWorker.mjs reads the options from the
 * environment); exits non-zero if any combination fails, after running them all.
 *
 *     node test/system/matrix.mjs            # all three
 *     node test/system/matrix.mjs queue      # only the combinations whose name contains "queue"
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { root } from './devWorker.mjs';

const COMBINATIONS = [
  { LADDER_COUNTERS: 'durable_object', LADDER_INGEST: 'direct' },
  { LADDER_COUNTERS: 'd1', LADDER_INGEST: 'queue' },
  { LADDER_COUNTERS: 'durable_object', LADDER_INGEST: 'queue' },
];
const only = process.argv[2];
const vitest = join(root, 'node_modules/.bin/vitest');
const results = [];
for (const combo of COMBINATIONS) {
  const name = `LADDER_COUNTERS=${combo.LADDER_COUNTERS} LADDER_INGEST=${combo.LADDER_INGEST}`;
  if (only && !name.includes(only)) continue;
  console.log(`\n== system load/fault tests with ${name}`);
  const started = Date.now();
  const r = spawnSync(vitest, ['run', '--project', 'system', 'test/load', 'test/fault'], { cwd: root, stdio: 'inherit', env: { ...process.env, ...combo } });
  results.push({ name, ok: r.status === 0, seconds: Math.round((Date.now() - started) / 1000) });
}
console.log('\n== scale option matrix');
for (const r of results) console.log(`${r.ok ? 'pass' : 'FAIL'}  ${r.name}  (${r.seconds} s)`);
if (!results.length || results.some((r) => !r.ok)) process.exit(1);
