import type { D1Database, D1Result } from '@cloudflare/workers-types/latest';
import { is, SQL } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/d1';
import { SQLiteAsyncDialect } from 'drizzle-orm/sqlite-core';
import * as schema from './schema';

/** A drizzle handle on the worker's D1 database. @example const db = database(c.env.DB) */
export const database = (d1: D1Database) => drizzle(d1 as never, { schema });
export type Db = ReturnType<typeof database>;

/**
 * A drizzle handle for reads that may lag by a moment: the dashboard's analytics and
 * `GET /v1/pqa`. It reads through a D1 session (`withSession('first-unconstrained')`), so with
 * read replication on, the first query may go to the nearest replica and the rest stay
 * consistent with it; without replication it reads the primary, as `database` does. Writes
 * made through it (the roll-ups' catch-up) still go to the primary.
 * @example const db = laggingReads(c.env.DB)
 */
export const laggingReads = (d1: D1Database): Db => database(d1.withSession('first-unconstrained') as unknown as D1Database);

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

/** A drizzle query builder as `db.batch` takes it, or a raw parameterised `sql` statement. */
type Prepared = { getQuery(): { sql: string; params: unknown[] }; mapResult(result: unknown, isFromBatch?: boolean): unknown };
export type BatchItem = SQL | PromiseLike<unknown>;
export type ResultOf<T> = T extends SQL ? Record<string, unknown>[] : T extends PromiseLike<infer R> ? R : never;

/**
 * Drizzle query builders and raw `sql` statements together in one D1 batch: one round trip,
 * one transaction. Builders come back mapped as `db.batch` maps them (camelCase, JSON parsed),
 * raw statements as their rows.
 * @example const [account, [{ n }]] = await mixedBatch(db, [db.select().from(accounts), sql`SELECT count(*) AS n …`])
 */
export async function mixedBatch<const T extends readonly BatchItem[]>(db: Db, items: T): Promise<{ [K in keyof T]: ResultOf<T[K]> }> {
  const d1 = db.$client as unknown as D1Database;
  const mappers: ((r: D1Result) => unknown)[] = [];
  const statements = items.map((item) => {
    if (is(item, SQL)) {
      const q = dialect.sqlToQuery(item);
      mappers.push((r) => r.results ?? []);
      return d1.prepare(q.sql).bind(...q.params);
    }
    const prepared = (item as unknown as { _prepare(): Prepared })._prepare();
    const q = prepared.getQuery();
    mappers.push((r) => prepared.mapResult(r, true));
    return d1.prepare(q.sql).bind(...q.params);
  });
  const results = await d1.batch(statements);
  return results.map((r, i) => mappers[i]!(r)) as never;
}
