/**
 * wrangler.toml with the blocks of the scale options (docs/scale.md) uncommented — `counters`
 * (between `# >>> counters` and `# <<< counters`: the AccountCounters Durable Object) and
 * `queues` (`# >>> queues` … `# <<< queues`: the ingestion queues) — written to
 * .wrangler/dev-<blocks>/wrangler.toml with its paths made absolute. `npm run dev`, the system
 * tests and the bench use it for `LADDER_COUNTERS=durable_object` and `LADDER_INGEST=queue`
 * runs (both run inside workerd locally); a deployment uncomments the blocks instead.
 *
 * The blocks stay commented in the committed file, and the counters block switches `main` to
 * worker/withCounters.ts, because `wrangler dev` restarts a worker that exports a Durable Object
 * class every few seconds under load (503 "Your worker restarted mid-request" to requests in
 * flight); the default (D1) worker should not pay for an option it does not use.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * The blocks a run needs for its scale options, `[]` for the defaults.
 * @param {Record<string, string | undefined>} vars @returns {string[]}
 */
export function scaleBlocks(vars) {
  return [...(vars.LADDER_COUNTERS === 'durable_object' ? ['counters'] : []), ...(vars.LADDER_INGEST === 'queue' ? ['queues'] : [])];
}

/**
 * @param {string} root the repository root @param {string[]} blocks which blocks to uncomment
 * @param {{ dir?: string, assets?: string }} [own] a config of the caller's own, written in `dir`
 *   even without blocks, serving the static assets from `assets` instead of dist/public (the
 *   system tests' workers: `wrangler dev` reloads its runtime on any change under the assets
 *   directory, so each test worker serves a snapshot that a concurrent build cannot touch)
 * @returns {string | undefined} the generated config's path, or undefined when no block is asked for
 */
export function scaleConfig(root, blocks, own = {}) {
  if (!blocks.length && !own.dir) return undefined;
  let open = null;
  const text = readFileSync(join(root, 'wrangler.toml'), 'utf8')
    .split('\n')
    .map((line) => {
      const start = /^# >>> (\w+)/.exec(line);
      if (start) open = start[1];
      else if (/^# <<< \w+/.test(line)) open = null;
      else if (open && blocks.includes(open)) return line.replace(/^# ?/, '');
      return line;
    })
    .join('\n')
    // The counters block needs the entry that exports the AccountCounters class (worker/withCounters.ts).
    .replace(/^main = "worker\/index\.ts"$/m, (line) => (blocks.includes('counters') ? 'main = "worker/withCounters.ts"' : line))
    .replace(/^(main|directory|migrations_dir) = "(.+)"$/gm, (_, key, path) => `${key} = ${JSON.stringify(key === 'directory' && own.assets ? own.assets : resolve(root, path))}`);
  const dir = own.dir ?? join(root, '.wrangler', `dev-${blocks.join('-')}`);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'wrangler.toml');
  // Written only when it changed: a running `wrangler dev` on this config (the system tests' shared
  // worker while a fault test starts its own) watches the file and reloads, refusing connections meanwhile.
  const put = (path, content) => {
    if (!existsSync(path) || !readFileSync(path).equals(Buffer.from(content))) writeFileSync(path, content);
  };
  put(file, text);
  if (existsSync(join(root, '.dev.vars'))) put(join(dir, '.dev.vars'), readFileSync(join(root, '.dev.vars')));
  return file;
}
