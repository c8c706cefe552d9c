/**
 * The rule simulator's speed (issue 18: 90 days of 10,000 accounts and 100,000 users ≤ 5 s):
 * bundles test/bench/simulatorBench.ts with esbuild and runs it in a child Node process, at the
 * asked size and at 10× less, for the growth ratio. `npm run bench -- --only simulator` runs
 * this section alone.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

export const simulatorCommand = (accounts, replay = false) =>
  `node .bench-cache/simulator-bench.mjs ${accounts} 10 90${replay ? ' replay' : ''}  (esbuild bundle of test/bench/simulatorBench.ts)`;

/**
 * @param {{ root: string, cache: string, sizes: number[], log: (m: string) => void, timeoutMs: number, replay?: boolean }} p accounts per run, 10 users each, 90 days; `replay`: time the straightforward replay (simulateByReplay) instead
 * @returns {Promise<object[]>} one result per size that finished in time
 */
export async function measureSimulator({ root, cache, sizes, log, timeoutMs, replay = false }) {
  mkdirSync(cache, { recursive: true });
  const outfile = join(cache, 'simulator-bench.mjs');
  await build({ entryPoints: [join(root, 'test/bench/simulatorBench.ts')], bundle: true, platform: 'node', format: 'esm', outfile, logLevel: 'warning' });
  const results = [];
  for (const accounts of sizes) {
    log(`simulator${replay ? ' (straightforward replay)' : ''}: ${accounts} accounts × 10 users × 90 days`);
    const args = ['--max-old-space-size=4096', outfile, String(accounts), '10', '90', ...(replay ? ['replay'] : [])];
    const run = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: timeoutMs });
    if (run.status !== 0) {
      results.push({ accounts, error: run.error?.code === 'ETIMEDOUT' ? `over ${Math.round(timeoutMs / 1000)} s` : (run.stderr || `exit ${run.status}`).split('\n')[0] });
      continue;
    }
    results.push(JSON.parse(run.stdout.trim().split('\n').at(-1)));
  }
  return results;
}
