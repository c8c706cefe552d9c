/**
 * Builds the widget into dist/public (served by the worker at /ladder.js and /widget/*):
 *   ladder.js           what a host page loads: Preact, signals, meters, notices, gates
 *   widget/upgrade.js   the upgrade dialog, loaded on the first upgrade click
 *   size.json           raw/gzip/brotli bytes of what loads by default, against the budget
 * Run: `node widget/build.mjs` (`npm run build`); or import `build()`.
 *
 * The chunk shares the main bundle's module instances (one Preact, one set of signals)
 * without a global: a first pass lists what it imports from outside widget/src/upgrade/,
 * the main bundle exports exactly those as `ladder:lib` (a function, read at load time, so
 * import cycles cannot leave a binding undefined), and the chunk reads them from
 * its own <script> element (see src/ui/lazyUpgrade.ts).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'widget/src');
const chunkDir = join(src, 'upgrade');
export const outdir = join(root, 'dist/public');
/** Everything a host page loads by default, in gzip bytes. */
export const BUDGET_GZIP = 14 * 1024;

const common = {
  bundle: true,
  minify: true,
  target: 'es2020',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  legalComments: 'none',
  logLevel: 'warning',
};

/** The key of a module the chunk takes from the main bundle, or null if it is the chunk's own. */
function sharedKey({ path, importer, resolveDir }) {
  if (!importer.startsWith(chunkDir) || path.startsWith('ladder:')) return null;
  if (!path.startsWith('.')) return path;
  const file = resolve(resolveDir, path);
  return file.startsWith(chunkDir) ? null : './' + relative(src, file).replace(/\\/g, '/');
}

const shared = (onShared) => ({
  name: 'ladder-shared',
  setup(b) {
    b.onResolve({ filter: /.*/ }, (args) => {
      const key = sharedKey(args);
      return key === null ? undefined : onShared(key);
    });
  },
});

/** Names the chunk imports from each shared module: { './store': ['state', …], 'preact/hooks': […] }. */
async function chunkImports() {
  const r = await esbuild.build({
    ...common,
    entryPoints: [join(chunkDir, 'chunk.ts')],
    format: 'esm',
    write: false,
    plugins: [shared((key) => ({ path: key, external: true }))],
  });
  const imports = {};
  for (const [, names, key] of r.outputFiles[0].text.matchAll(/import\s*\{([^}]*)\}\s*from\s*"([^"]+)"/g))
    imports[key] = [...new Set([...(imports[key] ?? []), ...names.split(',').map((n) => n.trim().split(/\s+as\s+/)[0])])];
  return imports;
}

/** Bytes of a file as served: raw, gzip -9 and brotli q11. */
export function sizes(buf) {
  return {
    raw: buf.length,
    gzip: gzipSync(buf, { level: 9 }).length,
    brotli: brotliCompressSync(buf, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
  };
}

/** Bundles both files and measures them; returns the report also written to size.json. */
export async function build() {
  await mkdir(join(outdir, 'widget'), { recursive: true });
  const imports = await chunkImports();
  const keys = Object.keys(imports);
  const libModule = {
    name: 'ladder-lib',
    setup(b) {
      b.onResolve({ filter: /^ladder:lib$/ }, () => ({ path: 'lib', namespace: 'ladder-lib' }));
      b.onLoad({ filter: /.*/, namespace: 'ladder-lib' }, () => ({
        resolveDir: src,
        loader: 'js',
        contents:
          keys.map((k, i) => `import{${imports[k].map((n) => `${n} as m${i}_${n}`)}}from${JSON.stringify(k)};`).join('') +
          `export default()=>({${keys.map((k, i) => `${JSON.stringify(k)}:{${imports[k].map((n) => `${n}:m${i}_${n}`)}}`)}})`,
      }));
    },
  };
  const fromScript = {
    name: 'ladder-from-script',
    setup(b) {
      b.onLoad({ filter: /.*/, namespace: 'ladder-shared' }, ({ path }) => ({
        loader: 'js',
        contents: `export const{${imports[path]}}=document.currentScript.ladder.lib[${JSON.stringify(path)}]`,
      }));
    },
  };
  await Promise.all([
    esbuild.build({
      ...common,
      entryPoints: [join(src, 'index.tsx')],
      outfile: join(outdir, 'ladder.js'),
      format: 'iife',
      plugins: [libModule],
    }),
    esbuild.build({
      ...common,
      entryPoints: [join(chunkDir, 'chunk.ts')],
      outfile: join(outdir, 'widget/upgrade.js'),
      format: 'iife',
      plugins: [shared((key) => ({ path: key, namespace: 'ladder-shared' })), fromScript],
    }),
  ]);
  const report = {
    default: { files: ['ladder.js'], ...sizes(await readFile(join(outdir, 'ladder.js'))) },
    on_demand: { 'widget/upgrade.js': sizes(await readFile(join(outdir, 'widget/upgrade.js'))) },
    budget_gzip: BUDGET_GZIP,
  };
  await writeFile(join(outdir, 'size.json'), JSON.stringify(report, null, 2) + '\n');
  return report;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const r = await build();
  const kb = (n) => (n / 1024).toFixed(2) + ' KB';
  const line = (name, s) => `${name}: raw ${kb(s.raw)}, gzip ${kb(s.gzip)}, brotli ${kb(s.brotli)}`;
  console.log(`widget, loaded by default — ${line('ladder.js', r.default)} (budget ${kb(r.budget_gzip)} gzip)`);
  console.log(`widget, on demand — ${line('widget/upgrade.js', r.on_demand['widget/upgrade.js'])}`);
  if (r.default.gzip > r.budget_gzip) {
    console.error('widget: over the gzip budget');
    process.exit(1);
  }
}
