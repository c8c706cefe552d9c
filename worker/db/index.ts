import type { D1Database } from '@cloudflare/workers-types/latest';
import type { SQL } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/d1';
import { SQLiteAsyncDialect } from 'drizzle-orm/sqlite-core';
import * as schema from './schema';

/** A drizzle handle on the worker's D1 database. @example const db = database(c.env.DB) */
export const database = (d1: D1Database) => drizzle(d1 as never, { schema });
export type Db = ReturnType<typeof database>;

/** D1 binds at most 100 parameters per statement. */
const D1_MAX_PARAMS = 100;

/**
 * Split rows into groups small enough for one multi-row INSERT each.
 * @example chunks(rows, 12).map((part) => db.insert(plans).values(part))
 */
export function chunks<T>(rows: T[], columns: number): T[][] {
  const size = Math.max(1, Math.floor(D1_MAX_PARAMS / columns));
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += size) out.push(rows.slice(i, i + size));
  return out;
}

const dialect = new SQLiteAsyncDialect();

/**
 * Run parameterised `sql` statements as one D1 batch (one transaction) and return each
 * statement's rows. drizzle's own `db.batch` cannot bind parameters of raw statements.
 * @example const [, rows] = await sqlBatch(db, [sql`INSERT …`, sql`SELECT count(*) AS n …`])
 */
export async function sqlBatch(db: Db, statements: SQL[]): Promise<Record<string, unknown>[][]> {
  const d1 = db.$client as unknown as D1Database;
  const results = await d1.batch(
    statements.map((statement) => {
      const q = dialect.sqlToQuery(statement);
      return d1.prepare(q.sql).bind(...q.params);
    }),
  );
  return results.map((r) => (r.results ?? []) as Record<string, unknown>[]);
}
