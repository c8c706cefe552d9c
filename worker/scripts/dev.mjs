#!/usr/bin/env node
/**
 * `npm run dev`: build the widget, apply the D1 migrations locally, start `wrangler dev`
 * on 127.0.0.1:$PORT, wait for /v1/health, seed demo data and print URLs and keys.
 *
 * Keys come from the environment when set (LADDER_SECRET_KEY, LADDER_ADMIN_KEY,
 * LADDER_USER_TOKEN_SECRET), else from `.dev.vars`, which is created with random keys if
 * missing. LADDER_PERSIST_DIR moves the local database (tests use a fresh one each run).
 *
 * wrangler.toml says production; this script runs the worker in development (LADDER_ENV,
 * default `development`) with the widget's CORS open to every origin (LADDER_ALLOWED_ORIGINS,
 * default `*`). LADDER_BILLING, STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET are passed on when
 * set. No Stripe key is needed in development: without one the local billing provider is used.
 * `LADDER_ENV=production npm run dev` runs the production worker locally: no demo seed, and
 * it refuses to serve until the settings are safe (the problems are printed).
 * LADDER_COUNTERS and LADDER_INGEST (docs/scale.md) are taken from the environment too:
 * `LADDER_COUNTERS=durable_object LADDER_INGEST=queue npm run dev` runs the scaled-out worker,
 * with the queues of wrangler.toml's commented block switched on in a generated config.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { scaleBlocks, scaleConfig } from './scaleConfig.mjs';
import { seed } from './seed.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const port = Number(process.env.PORT || 8787);
const base = `http://127.0.0.1:${port}`;
const persistDir = resolve(root, process.env.LADDER_PERSIST_DIR || '.wrangler/state');
const wranglerHome = join(root, '.wrangler', 'home');
const KEYS = ['LADDER_SECRET_KEY', 'LADDER_ADMIN_KEY', 'LADDER_USER_TOKEN_SECRET'];
/** Settings taken from the environment as they are, when set. */
const PASSED_ON = ['LADDER_COUNTERS', 'LADDER_INGEST', 'LADDER_COUNTERS_FLUSH_MS', 'LADDER_BILLING', 'STRIPE_SECRET_KEY', 'STRIPE_WEBHOOK_SECRET', 'LADDER_RATE_LIMIT_HOST', 'LADDER_RATE_LIMIT_WIDGET', 'LADDER_RATE_LIMIT_ACCOUNT', 'LADDER_RATE_LIMIT_ADMIN'];

const log = (msg) => process.stdout.write(`[ladder] ${msg}\n`);

function devVars() {
  const file = join(root, '.dev.vars');
  if (!existsSync(file)) {
    const rand = (prefix) => `${prefix}_${randomBytes(24).toString('base64url')}`;
    writeFileSync(
      file,
      [
        '# Local development secrets (git-ignored). Delete this file to get new ones.',
        `LADDER_SECRET_KEY=${rand('sk_dev')}`,
        `LADDER_ADMIN_KEY=${rand('ak_dev')}`,
        `LADDER_USER_TOKEN_SECRET=${rand('ut_dev')}`,
        '',
      ].join('\n'),
    );
    log('created .dev.vars with new random keys');
  }
  const vars = Object.fromEntries(
    readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => /^\w+=/.test(l))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  for (const k of KEYS) if (process.env[k]) vars[k] = process.env[k];
  return vars;
}

const toolEnv = {
  ...process.env,
  CLOUDFLARE_CF_FETCH_ENABLED: 'false',
  WRANGLER_SEND_METRICS: 'false',
  WRANGLER_HIDE_BANNER: 'true',
  XDG_CONFIG_HOME: join(wranglerHome, 'config'),
  XDG_CACHE_HOME: join(wranglerHome, 'cache'),
  WRANGLER_LOG_PATH: join(wranglerHome, 'logs'),
};
const wrangler = join(root, 'node_modules/.bin/wrangler');

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, env: toolEnv, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${r.status}`);
}

async function waitForHealth(child, timeoutMs = 60_000) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited with ${child.exitCode}`);
    try {
      const res = await fetch(`${base}/v1/health`);
      if (res.ok) return res.json();
      // A production worker that refuses its configuration is up: report why it refuses.
      const body = res.status === 503 ? await res.json() : null;
      if (body && Array.isArray(body.problems)) return body;
    } catch {}
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`no answer from ${base}/v1/health within ${timeoutMs / 1000}s`);
}

async function main() {
  mkdirSync(wranglerHome, { recursive: true });
  const vars = devVars();
  if (!process.env.LADDER_SKIP_BUILD && existsSync(join(root, 'widget/build.mjs'))) run(process.execPath, [join(root, 'widget/build.mjs')]);
  if (!process.env.LADDER_SKIP_BUILD && existsSync(join(root, 'dashboard/build.mjs'))) run(process.execPath, [join(root, 'dashboard/build.mjs')]);
  run(wrangler, ['d1', 'migrations', 'apply', 'ladder', '--local', '--persist-to', persistDir]);
  // The worker's rule (worker/config.ts): only `development` and `test` are not production; unset here means development.
  const asked = process.env.LADDER_ENV || 'development';
  const mode = asked === 'development' || asked === 'test' ? asked : 'production';
  const settings = {
    ...Object.fromEntries(KEYS.map((k) => [k, vars[k]])),
    LADDER_ENV: mode,
    // The widget's CORS origins: any origin in development; tests narrow it to one origin.
    LADDER_ALLOWED_ORIGINS: process.env.LADDER_ALLOWED_ORIGINS ?? (mode === 'development' ? '*' : ''),
    ...Object.fromEntries(PASSED_ON.filter((k) => process.env[k] !== undefined).map((k) => [k, process.env[k]])),
  };
  const varArgs = Object.entries(settings).flatMap(([k, v]) => ['--var', `${k}:${v}`]);
  const scaled = scaleConfig(root, scaleBlocks(process.env));
  if (scaled) varArgs.push('--config', scaled);
  const child = spawn(
    wrangler,
    ['dev', '--local', '--ip', '127.0.0.1', '--port', String(port), '--persist-to', persistDir,
      '--show-interactive-dev-session=false', '--log-level', process.env.LADDER_LOG_LEVEL || 'info', ...varArgs],
    { cwd: root, env: toolEnv, stdio: ['ignore', 'inherit', 'inherit'] },
  );
  const stop = (signal) => {
    if (child.exitCode === null) child.kill('SIGTERM');
    process.exitCode = signal === 'SIGTERM' || signal === 'SIGINT' ? 0 : 1;
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  child.on('exit', (code) => process.exit(code ?? 0));

  const health = await waitForHealth(child);
  if (health.problems) {
    log(`REFUSING TO SERVE (production mode): every route answers 503 until these are fixed:`);
    for (const p of health.problems) log(`  - ${p}`);
    return;
  }
  if (health.production_problems?.length) {
    log(`warning: deployed as they are, these settings would be refused in production:`);
    for (const p of health.production_problems) log(`  - ${p}`);
  }
  if (mode === 'production') log('production mode: no demo data, no /demo');
  else if (!process.env.LADDER_SKIP_SEED) await seed(base, vars.LADDER_SECRET_KEY, Date.now(), vars.LADDER_ADMIN_KEY);
  log(`ready (${mode}) — billing: ${health.billing}${health.billing === 'local' ? ' (no Stripe key: upgrades use the local provider, no real charge)' : ''}`);
  log(`API        ${base}/v1/health   (OpenAPI: ${base}/openapi.json)`);
  if (mode !== 'production') log(`demo app   ${base}/demo`);
  log(`dashboard  ${base}/dashboard`);
  log(`secret key ${vars.LADDER_SECRET_KEY}`);
  log(`admin key  ${vars.LADDER_ADMIN_KEY}`);
  log(`user-token secret ${vars.LADDER_USER_TOKEN_SECRET}`);
  log(`try: curl -H "Authorization: Bearer ${vars.LADDER_SECRET_KEY}" ${base}/v1/accounts/initech`);
}

main().catch((err) => {
  console.error(`[ladder] dev failed: ${err.message}`);
  process.exit(1);
});
