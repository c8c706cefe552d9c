/**
 * Builds the widget into dist/public (served by the worker at /ladder.js and /widget/*):
 *   ladder.js            the loader a host's classic `<script src>` runs: it imports the widget
 *                        module relative to its own URL, and until that has run, its stand-in
 *                        `window.Ladder` forwards every call to the real one
 *   widget/chunk-*.js    ES modules from esbuild's code splitting (format esm, splitting: true):
 *                        the widget (meters, notices, gates, `window.Ladder`: what a host page
 *                        loads by default) and the upgrade dialog, a dynamic import() on the
 *                        first upgrade click; one Preact and one set of signals, nothing global
 *   widget/builds.json   the chunks of this build and of the KEEP_BUILDS before it, newest first:
 *                        a page loaded before a deploy still holds the old default chunk, and its
 *                        first upgrade click imports that build's dialog chunk, so every deploy
 *                        ships the previous builds' chunks too (they are immutable, content-hashed)
 *   _headers             CORS for /widget/* (the static assets' headers file): a host page on
 *                        another origin imports these modules in CORS mode
 *   size.json            raw/gzip/brotli bytes of what loads by default, against the budget
 * Run: `node widget/build.mjs` (`npm run build`); or import `build()`.
 * The previous builds come from dist/public/widget as the last build left it, or, on a machine
 * without it (a CI checkout), from the live deployment: `LADDER_PREVIOUS_ASSETS=https://<worker>`
 * (its /widget/builds.json; a deployment older than that file: its /ladder.js and what that imports).
 */
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
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

/** How many builds before this one keep their chunks served (a tab open across that many deploys still upgrades). */
export const KEEP_BUILDS = 10;

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

/** What a chunk of ours is called (esbuild's `chunk-[hash]`). */
const CHUNK = /^chunk-[\w-]+\.js$/;

/** The chunks a module imports, statically or with import(), by their names beside it. */
const importsOf = (code) => [...code.matchAll(/["'`]\.\/(chunk-[\w-]+\.js)["'`]/g)].map((m) => m[1]);

/**
 * The builds before this one and their files, newest first: `[{ built_at, files }]` and a map of
 * file name → bytes. From `dir` (the last build's widget/ directory) when it has them, else from
 * the live deployment at `previous` (a URL); without either, none. A file that cannot be had from
 * a deployment named fails the build: shipping without it would break the pages still using it.
 */
async function previousBuilds(dir, previous) {
  const contents = new Map();
  const local = await readFile(join(dir, 'builds.json'), 'utf8').then(JSON.parse, () => null);
  if (local || !previous) {
    const names = await readdir(dir).catch(() => []);
    // a directory from a build before builds.json: its chunks are one build
    const builds = local?.builds ?? (names.some((n) => n.startsWith('chunk-')) ? [{ built_at: null, files: names.filter((n) => n.endsWith('.js')) }] : []);
    for (const b of builds) for (const f of b.files) if (names.includes(f)) contents.set(f, await readFile(join(dir, f)));
    return { builds: builds.map((b) => ({ ...b, files: b.files.filter((f) => contents.has(f)) })), contents };
  }
  // The deployment's answers name files written into dist/: only chunk names, and only over https
  // (or to this machine), so no answer can write outside widget/ or be changed on the way.
  const origin = new URL(previous);
  if (origin.protocol !== 'https:' && !['localhost', '127.0.0.1', '[::1]'].includes(origin.hostname))
    throw new Error(`widget: LADDER_PREVIOUS_ASSETS must be an https URL (got ${previous})`);
  const chunk = (f) => {
    if (typeof f !== 'string' || !CHUNK.test(f)) throw new Error(`widget: ${previous} listed ${JSON.stringify(f)}, not a chunk name`);
    return f;
  };
  const get = async (path) => {
    const res = await fetch(new URL(path, previous));
    if (!res.ok) throw new Error(`widget: ${new URL(path, previous)} answered ${res.status}; the previous build's chunks are needed`);
    return Buffer.from(await res.arrayBuffer());
  };
  let builds;
  const manifest = await fetch(new URL('/widget/builds.json', previous));
  if (manifest.ok) builds = (await manifest.json()).builds.map((b) => ({ ...b, files: b.files.map(chunk) }));
  else if (manifest.status === 404) {
    // deployed before builds.json: the loader's chunk and everything it imports, transitively
    const files = [];
    const queue = [String(await get('/ladder.js')).match(/widget\/(chunk-[\w-]+\.js)/)[1]];
    while (queue.length) {
      const f = queue.shift();
      if (files.includes(f)) continue;
      files.push(f);
      contents.set(f, await get('/widget/' + f));
      queue.push(...importsOf(String(contents.get(f))));
    }
    builds = [{ built_at: null, files }];
  } else throw new Error(`widget: ${previous}/widget/builds.json answered ${manifest.status}`);
  for (const b of builds) for (const f of b.files) if (!contents.has(f)) contents.set(f, await get('/widget/' + f));
  return { builds, contents };
}

/**
 * Bundles the widget and the loader and measures them; returns the report also written to size.json.
 * `out` is where (dist/public); `previous` the live deployment to take the previous builds from
 * when `out` has none (default: $LADDER_PREVIOUS_ASSETS); `banner` a comment heading each chunk.
 */
export async function build({ out = outdir, previous = process.env.LADDER_PREVIOUS_ASSETS, banner } = {}) {
  const r = await esbuild.build({
    ...common,
    absWorkingDir: root,
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    splitting: true,
    outdir: join(out, 'widget'),
    chunkNames: 'chunk-[hash]',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    // Preact's and the signals' internal properties (`__k`, `__e`, …; already short names) to one or two
    // letters; one build, so the dialog's chunk agrees. Not `__html` (dangerouslySetInnerHTML), not globals.
    mangleProps: /^__/,
    reserveProps: /^__(html|proto__|source|self|PREACT_SIGNALS_DEVTOOLS__|[behr])$/,
    metafile: true,
    write: false,
    ...(banner && { banner: { js: `/* ${banner} */` } }),
  });
  // The entry's own output only re-exports from the chunk holding the entry's code (upgrade/chunk.ts
  // imports the entry, so that chunk has all of it); the loader imports that chunk, and the
  // re-export is not written.
  const outputs = Object.entries(r.metafile.outputs);
  const main = join(root, outputs.find(([, o]) => o.entryPoint === entry)[0]);
  const widget = join(root, outputs.find(([, o]) => o.inputs[entry])[0]);
  const written = r.outputFiles.filter((f) => f.path !== main);
  // The chunks of the builds before, kept beside this one's (rebuilding the same sources adds no build).
  const dir = join(out, 'widget');
  const prior = await previousBuilds(dir, previous);
  const files = written.map((f) => basename(f.path));
  const same = (b) => b.files.length === files.length && b.files.every((f) => files.includes(f));
  const builds = [{ built_at: new Date().toISOString(), files }, ...prior.builds.filter((b) => !same(b)).slice(0, KEEP_BUILDS)];
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const kept = new Set(builds.slice(1).flatMap((b) => b.files).filter((f) => !files.includes(f)));
  await Promise.all([
    ...written.map((f) => writeFile(f.path, f.contents)),
    ...[...kept].map((f) => writeFile(join(dir, f), prior.contents.get(f))),
    writeFile(join(dir, 'builds.json'), JSON.stringify({ builds }, null, 2) + '\n'),
  ]);
  const loader = await esbuild.transform(loaderSource('widget/' + basename(widget)), common);
  await writeFile(join(out, 'ladder.js'), loader.code);
  await writeFile(join(out, '_headers'), HEADERS);

  const rel = (p) => p.slice(out.length + 1);
  const defaults = [join(out, 'ladder.js'), widget];
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
  await writeFile(join(out, 'size.json'), JSON.stringify(report, null, 2) + '\n');
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
