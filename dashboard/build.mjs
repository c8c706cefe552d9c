/**
 * Builds the dashboard into dist/public/dashboard (served by the worker at /dashboard):
 *   index.html   the page (loads app.css and app.js, cache-busted by content hash)
 *   app.js       Preact + signals + uPlot + the views, one minified file
 *   app.css      the dashboard's styles and uPlot's
 *   size.json    raw/gzip bytes of what the page loads
 * Run: `node dashboard/build.mjs` (part of `npm run build`); or import `build()`.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const outdir = join(root, 'dist/public/dashboard');

/**
 * The widget's notice components (reused by the copy editor's preview) import `ladder:lib`,
 * the widget build's hand-off to its lazily loaded upgrade chunk. The preview never opens
 * the upgrade dialog, so the dashboard gets an empty hand-off.
 */
const ladderLib = {
  name: 'ladder-lib',
  setup(b) {
    b.onResolve({ filter: /^ladder:lib$/ }, () => ({ path: 'lib', namespace: 'ladder-lib' }));
    b.onLoad({ filter: /.*/, namespace: 'ladder-lib' }, () => ({ loader: 'js', contents: 'export default () => ({})' }));
  },
};

const hash = (buf) => createHash('sha256').update(buf).digest('hex').slice(0, 10);
const sizes = (buf) => ({ raw: buf.length, gzip: gzipSync(buf, { level: 9 }).length });

/** Bundles the dashboard and writes its page; returns the size report. */
export async function build() {
  await mkdir(outdir, { recursive: true });
  await esbuild.build({
    entryPoints: { app: join(root, 'dashboard/src/main.tsx') },
    outdir,
    bundle: true,
    minify: true,
    format: 'iife',
    target: 'es2020',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    legalComments: 'none',
    logLevel: 'warning',
    plugins: [ladderLib],
  });
  const js = await readFile(join(outdir, 'app.js'));
  const css = await readFile(join(outdir, 'app.css'));
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>Ladder dashboard</title>
<link rel="stylesheet" href="/dashboard/app.css?v=${hash(css)}">
<script defer src="/dashboard/app.js?v=${hash(js)}"></script>
</head>
<body>
<noscript>The Ladder dashboard needs JavaScript.</noscript>
<div id="app"></div>
</body>
</html>
`;
  await writeFile(join(outdir, 'index.html'), html);
  const report = { 'app.js': sizes(js), 'app.css': sizes(css), total_gzip: sizes(js).gzip + sizes(css).gzip };
  await writeFile(join(outdir, 'size.json'), JSON.stringify(report, null, 2) + '\n');
  return report;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const r = await build();
  const kb = (n) => (n / 1024).toFixed(1) + ' KB';
  console.log(
    `dashboard — app.js: raw ${kb(r['app.js'].raw)}, gzip ${kb(r['app.js'].gzip)}; app.css: raw ${kb(r['app.css'].raw)}, gzip ${kb(r['app.css'].gzip)}`,
  );
}
