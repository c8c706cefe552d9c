/**
 * Builds the widget into dist/public (served by the worker at /ladder.js and /widget/*):
 *   ladder.js            the loader a host's classic `<script src>` runs: it imports the widget
 *                        module relative to its own URL, and until that has run, its stand-in
 *                        `window.Ladder` forwards every call to the real one
 *   widget/chunk-*.js    ES modules from esbuild's code splitting (format esm, splitting: true):
 *                        the widget (meters, notices, gates, `window.Ladder`: what a host page
 *                        loads by default) and the upgrade dialog, a dynamic import() on the
 *                        first upgrade click; one Preact and one set of signals, nothing global
 *   _headers             CORS for /widget/* (the static assets' headers file): a host page on
 *                        another origin imports these modules in CORS mode
 *   size.json            raw/gzip/brotli bytes of what loads by default, against the budget
 * Run: `node widget/build.mjs` (`npm run build`); or import `build()`.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const entry = 'widget/src/index.tsx';
export const outdir = join(root, 'dist/public');
/** Everything a host page loads by default (the loader and the widget module), in gzip bytes. */
export const BUDGET_GZIP = 14 * 1024;
/** The static assets' headers file: module scripts fetched from another origin need CORS. */
export const HEADERS = '/widget/*\n  Access-Control-Allow-Origin: *\n';

const common = { minify: true, target: 'es2020', legalComments: 'none', logLevel: 'warning' };

/**
 * The loader, a classic script (the host's tag stays a plain `<script async src>`). `module` is
 * the widget's chunk relative to the loader. The stand-in `window.Ladder` carries the loader's
 * <script> element (its data attributes) to the module, which replaces it; until then each call
 * waits for the module, so `Ladder.init` right after a synchronous tag works as it always did,
 * and `on` returns its unsubscribe at once.
 */
const loaderSource = (module) => `((script) => {
  if (window.Ladder) return;
  const loaded = import(new URL(${JSON.stringify(module)}, script.src));
  const L = (window.Ladder = { script });
  for (const k of ['init', 'gate', 'refresh', 'managePlan', 'destroy', 'on'])
    L[k] = (...a) => {
      const r = loaded.then(() => window.Ladder[k](...a));
      return k == 'on' ? () => r.then((off) => off()) : r;
    };
})(document.currentScript);`;

/** Bytes of a file as served: raw, gzip -9 and brotli q11. */
export function sizes(buf) {
  return {
    raw: buf.length,
    gzip: gzipSync(buf, { level: 9 }).length,
    brotli: brotliCompressSync(buf, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
  };
}

/** Bundles the widget and the loader and measures them; returns the report also written to size.json. */
export async function build() {
  const r = await esbuild.build({
    ...common,
    absWorkingDir: root,
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    splitting: true,
    outdir: join(outdir, 'widget'),
    chunkNames: 'chunk-[hash]',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    // Preact's and the signals' internal properties (`__k`, `__e`, …; already short names) to one or two
    // letters; one build, so the dialog's chunk agrees. Not `__html` (dangerouslySetInnerHTML), not globals.
    mangleProps: /^__/,
    reserveProps: /^__(html|proto__|source|self|PREACT_SIGNALS_DEVTOOLS__|[behr])$/,
    metafile: true,
    write: false,
  });
  // The entry's own output only re-exports from the chunk holding the entry's code (upgrade/chunk.ts
  // imports the entry, so that chunk has all of it); the loader imports that chunk, and the
  // re-export is not written.
  const outputs = Object.entries(r.metafile.outputs);
  const main = join(root, outputs.find(([, o]) => o.entryPoint === entry)[0]);
  const widget = join(root, outputs.find(([, o]) => o.inputs[entry])[0]);
  await rm(join(outdir, 'widget'), { recursive: true, force: true });
  await mkdir(join(outdir, 'widget'), { recursive: true });
  await Promise.all(r.outputFiles.filter((f) => f.path !== main).map((f) => writeFile(f.path, f.contents)));
  const loader = await esbuild.transform(loaderSource('widget/' + basename(widget)), common);
  await writeFile(join(outdir, 'ladder.js'), loader.code);
  await writeFile(join(outdir, '_headers'), HEADERS);

  const rel = (p) => p.slice(outdir.length + 1);
  const defaults = [join(outdir, 'ladder.js'), widget];
  const each = {};
  for (const f of defaults) each[rel(f)] = sizes(await readFile(f));
  const sum = (k) => Object.values(each).reduce((n, s) => n + s[k], 0);
  const onDemand = {};
  for (const f of r.outputFiles) if (f.path !== main && !defaults.includes(f.path)) onDemand[rel(f.path)] = sizes(Buffer.from(f.contents));
  const report = {
    default: { files: Object.keys(each), raw: sum('raw'), gzip: sum('gzip'), brotli: sum('brotli'), each },
    on_demand: onDemand,
    budget_gzip: BUDGET_GZIP,
  };
  await writeFile(join(outdir, 'size.json'), JSON.stringify(report, null, 2) + '\n');
  return report;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const r = await build();
  const kb = (n) => (n / 1024).toFixed(2) + ' KB';
  const line = (name, s) => `${name}: raw ${kb(s.raw)}, gzip ${kb(s.gzip)} (${s.gzip} B), brotli ${kb(s.brotli)}`;
  console.log(`widget, loaded by default — ${line(r.default.files.join(' + '), r.default)} (budget ${kb(r.budget_gzip)} = ${r.budget_gzip} B gzip)`);
  for (const [f, s] of Object.entries(r.default.each)) console.log(`  ${line(f, s)}`);
  for (const [f, s] of Object.entries(r.on_demand)) console.log(`widget, on demand — ${line(f, s)}`);
  if (r.default.gzip > r.budget_gzip) {
    console.error('widget: over the gzip budget');
    process.exit(1);
  }
}
