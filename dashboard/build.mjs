/**
 * Builds the dashboard into dist/public/dashboard (served by the worker at /dashboard):
 *   index.html   the page (loads app.css and app.js, cache-busted by content hash, and preloads
 *                the chunks app.js imports)
 *   app.js       Preact + signals + uPlot + the views, an ES module (the page loads it with type=module)
 *   chunk-*.js   esbuild's code splitting (as in the widget build): modules app.js imports, named by
 *                content hash, and the widget's upgrade dialog, which the copy preview's notices
 *                would import on demand
 *   app.css      the dashboard's styles and uPlot's
 *   size.json    raw/gzip bytes of what the page loads (app.js with the chunks it imports, app.css)
 * Run: `node dashboard/build.mjs` (part of `npm run build`); or import `build()`.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const outdir = join(root, 'dist/public/dashboard');

const hash = (buf) => createHash('sha256').update(buf).digest('hex').slice(0, 10);
const sizes = (buf) => ({ raw: buf.length, gzip: gzipSync(buf, { level: 9 }).length });

/** Bundles the dashboard and writes its page; returns the size report. */
export async function build() {
  await rm(outdir, { recursive: true, force: true });
  await mkdir(outdir, { recursive: true });
  const r = await esbuild.build({
    entryPoints: { app: join(root, 'dashboard/src/main.tsx') },
    outdir,
    bundle: true,
    minify: true,
    format: 'esm',
    splitting: true,
    chunkNames: 'chunk-[hash]',
    target: 'es2020',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    legalComments: 'none',
    logLevel: 'warning',
    metafile: true,
  });
  const app = Object.values(r.metafile.outputs).find((o) => o.entryPoint);
  const chunks = app.imports.filter((i) => i.kind === 'import-statement').map((i) => basename(i.path));
  const chunkSizes = {};
  for (const c of chunks) chunkSizes[c] = sizes(await readFile(join(outdir, c)));
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
${chunks.map((c) => `<link rel="modulepreload" href="/dashboard/${c}">\n`).join('')}<script type="module" src="/dashboard/app.js?v=${hash(js)}"></script>
</head>
<body>
<noscript>The Ladder dashboard needs JavaScript.</noscript>
<div id="app"></div>
</body>
</html>
`;
  await writeFile(join(outdir, 'index.html'), html);
  const imported = Object.values(chunkSizes);
  const report = {
    'app.js': sizes(js),
    chunks: chunkSizes,
    'app.css': sizes(css),
    total_gzip: [sizes(js), sizes(css), ...imported].reduce((n, s) => n + s.gzip, 0),
  };
  await writeFile(join(outdir, 'size.json'), JSON.stringify(report, null, 2) + '\n');
  return report;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const r = await build();
  const kb = (n) => (n / 1024).toFixed(1) + ' KB';
  const chunks = Object.entries(r.chunks).map(([c, s]) => `${c}: raw ${kb(s.raw)}, gzip ${kb(s.gzip)}; `).join('');
  console.log(
    `dashboard — app.js: raw ${kb(r['app.js'].raw)}, gzip ${kb(r['app.js'].gzip)}; ${chunks}app.css: raw ${kb(r['app.css'].raw)}, gzip ${kb(r['app.css'].gzip)}; loaded in all: gzip ${kb(r.total_gzip)}`,
  );
}
