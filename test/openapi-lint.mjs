/**
 * Lints GET /openapi.json with Redocly CLI's recommended rules (errors fail `npm test`; warnings
 * are printed). The document is taken from the worker's own app, bundled for Node with esbuild,
 * so it is exactly what the routes declare.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'ladder-openapi-'));
const entry = join(dir, 'doc.mjs');
await build({
  stdin: {
    contents: `import { app } from ${JSON.stringify(join(root, 'worker/index.ts'))};
const res = await app.request('/openapi.json', {}, { LADDER_ENV: 'test' });
if (res.status !== 200) throw new Error('GET /openapi.json answered ' + res.status);
process.stdout.write(await res.text());`,
    resolveDir: root,
    loader: 'ts',
  },
  bundle: true,
  platform: 'node',
  format: 'esm',
  outfile: entry,
  logLevel: 'warning',
  banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
});
const doc = spawnSync(process.execPath, [entry], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
if (doc.status !== 0) {
  process.stderr.write(doc.stderr);
  process.exit(1);
}
const file = join(dir, 'openapi.json');
writeFileSync(file, doc.stdout);
if (process.env.KEEP_OPENAPI) writeFileSync(process.env.KEEP_OPENAPI, doc.stdout);
const lint = spawnSync(join(root, 'node_modules/.bin/redocly'), ['lint', file, '--config', join(root, 'redocly.yaml'), '--format', 'stylish'], {
  stdio: 'inherit',
  env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
});
process.exit(lint.status ?? 1);
