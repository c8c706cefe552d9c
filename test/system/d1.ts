/// <reference types="node" />
/**
 * Read a running worker's local D1 straight from its SQLite file (Debian's sqlite3, WAL
 * readers never block the worker): row counts and the rows a test must check. Read-only.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/** The D1 database file under a `--persist-to` directory. */
function d1File(persistDir: string): string {
  const dir = join(persistDir, 'v3/d1/miniflare-D1DatabaseObject');
  const file = readdirSync(dir).find((f) => f.endsWith('.sqlite') && f !== 'metadata.sqlite');
  if (!file) throw new Error(`no D1 database under ${dir}`);
  return join(dir, file);
}

/** Rows of one SELECT, as objects. */
export function query<T = Record<string, unknown>>(persistDir: string, sql: string): T[] {
  const r = spawnSync('sqlite3', ['-cmd', '.timeout 20000', '-json', '-readonly', d1File(persistDir), sql], { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`sqlite3: ${r.stderr}`);
  return r.stdout.trim() ? (JSON.parse(r.stdout) as T[]) : [];
}

/** Row count of every table of the app (not D1's own), `{ table: n }`. */
export function rowCounts(persistDir: string): Record<string, number> {
  const tables = query<{ name: string }>(
    persistDir,
    `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name != 'd1_migrations' ORDER BY name`,
  ).map((t) => t.name);
  const rows = query<{ t: string; n: number }>(persistDir, tables.map((t) => `SELECT '${t}' AS t, count(*) AS n FROM "${t}"`).join(' UNION ALL '));
  return Object.fromEntries(rows.map((r) => [r.t, r.n]));
}
