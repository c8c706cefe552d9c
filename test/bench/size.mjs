/**
 * Widget bytes against peer browser SDKs, bundled the same way: esbuild, bundle + minify,
 * browser platform, es2020, no legal comments; measured raw, gzip -9 and brotli q11 with
 * the widget build's own `sizes()`. Peers are installed on demand into the git-ignored
 * `.bench-cache/` (never project dependencies) at pinned versions, and bundled whole
 * (`import * as sdk from '<pkg>'`), as a host page that uses the SDK loads it; React, which
 * the React-first SDKs expect the host to provide, is left out.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import { build, sizes } from '../../widget/build.mjs';
import { root } from '../system/devWorker.mjs';

export const PEERS = [
  { name: '@stigg/js-client-sdk', version: '3.35.0' },
  { name: 'autumn-js', version: '1.3.13' },
  { name: '@schematichq/schematic-js', version: '1.8.0' },
  { name: '@growthbook/growthbook', version: '1.8.0' },
  { name: 'posthog-js', version: '1.449.2' },
];

const cache = join(root, '.bench-cache');

const installArgs = ['install', '--prefix', '.bench-cache', '--no-audit', '--no-fund', '--ignore-scripts', ...PEERS.map((p) => `${p.name}@${p.version}`)];
/** The npm command that puts the peers into the cache (printed with the figures). */
export const installCommand = `npm ${installArgs.join(' ')}`;
export const bundleCommand = `esbuild <entry: import * as sdk from '<pkg>'> --bundle --minify --platform=browser --target=es2020 --format=iife --legal-comments=none --external:react --external:react-dom; gzip -9, brotli q11`;

function installPeers() {
  const missing = PEERS.filter((p) => !existsSync(join(cache, 'node_modules', p.name, 'package.json')));
  if (!missing.length) return null;
  mkdirSync(cache, { recursive: true });
  if (!existsSync(join(cache, 'package.json'))) writeFileSync(join(cache, 'package.json'), '{ "private": true }\n');
  const r = spawnSync('npm', installArgs, {
    cwd: root,
    encoding: 'utf8',
    timeout: 240_000,
  });
  return r.status === 0 ? null : (r.stderr || r.stdout || `npm exited with ${r.status ?? r.signal}`).trim().split('\n').slice(-3).join(' ');
}

async function bundlePeer(name) {
  const entry = join(cache, `entry-${name.replace(/[@/]/g, '_')}.js`);
  writeFileSync(entry, `import * as sdk from ${JSON.stringify(name)};\nglobalThis.__peer = sdk;\n`);
  const r = await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    minify: true,
    platform: 'browser',
    target: 'es2020',
    format: 'iife',
    legalComments: 'none',
    external: ['react', 'react-dom', 'react/jsx-runtime'],
    write: false,
    logLevel: 'silent',
    nodePaths: [join(cache, 'node_modules')],
    absWorkingDir: cache,
  });
  return sizes(Buffer.from(r.outputFiles[0].contents));
}

/**
 * Build the widget, bundle the peers, and return `{ ours, peers: [{ name, version, raw, gzip, brotli } | { name, error }] }`.
 */
export async function measureSizes(log = () => {}) {
  const report = await build();
  const ours = { files: report.default.files, raw: report.default.raw, gzip: report.default.gzip, brotli: report.default.brotli };
  log(`widget built: ${ours.files.join(', ')}`);
  const installError = installPeers();
  const peers = [];
  for (const p of PEERS) {
    if (installError) {
      peers.push({ ...p, error: `not installed: ${installError}` });
      continue;
    }
    try {
      peers.push({ ...p, ...(await bundlePeer(p.name)) });
    } catch (err) {
      peers.push({ ...p, error: String(err.message ?? err).split('\n')[0] });
    }
  }
  return { ours, peers };
}
