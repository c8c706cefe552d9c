/**
 * wrangler.toml with its queue block (between `# >>> queues` and `# <<< queues`) uncommented,
 * written to .wrangler/dev-queue/wrangler.toml with its paths made absolute, for
 * `LADDER_INGEST=queue` runs of `npm run dev`, the system tests and the bench (the queues run
 * inside workerd locally; a deployment creates them and uncomments the block instead).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** @param {string} root the repository root @returns {string} the generated config's path */
export function queueConfig(root) {
  let inQueues = false;
  const text = readFileSync(join(root, 'wrangler.toml'), 'utf8')
    .split('\n')
    .map((line) => {
      if (line.startsWith('# >>> queues')) inQueues = true;
      else if (line.startsWith('# <<< queues')) inQueues = false;
      else if (inQueues) return line.replace(/^# ?/, '');
      return line;
    })
    .join('\n')
    .replace(/^(main|directory|migrations_dir) = "(.+)"$/gm, (_, key, path) => `${key} = ${JSON.stringify(resolve(root, path))}`);
  const dir = join(root, '.wrangler', 'dev-queue');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'wrangler.toml');
  writeFileSync(file, text);
  if (existsSync(join(root, '.dev.vars'))) writeFileSync(join(dir, '.dev.vars'), readFileSync(join(root, '.dev.vars')));
  return file;
}
