#!/usr/bin/env node
/**
 * Runs before `npm test` (and `npm run dev`): installs what a fresh machine lacks —
 * npm packages (npm ci) and, for the browser tests, Debian's chromium (never a downloaded
 * browser). Prints what it does; does nothing when all is there.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const run = (cmd, args, env = process.env) => {
  process.stdout.write(`[prepare] ${cmd} ${args.join(' ')}\n`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env });
  if (r.status !== 0) process.exit(r.status ?? 1);
};

if (!existsSync(join(root, 'node_modules/.bin/wrangler'))) run('npm', ['ci', '--no-audit', '--no-fund']);

if (process.argv.includes('--browser') && !existsSync('/usr/bin/chromium')) {
  if (process.getuid?.() === 0) {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    run('apt-get', ['update', '-qq'], env);
    run('apt-get', ['install', '-y', '-qq', 'chromium'], env);
  } else {
    console.error('[prepare] browser tests need Debian\'s chromium: sudo apt-get install -y chromium');
    process.exit(1);
  }
}
