import type { D1Database, D1Result } from '@cloudflare/workers-types/latest';
import { is, Param, Placeholder, SQL, sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/d1';
import { SQLiteAsyncDialect } from 'drizzle-orm/sqlite-core';
import * as schema from './schema';

const drizzleOf = (d1: D1Database) => drizzle(d1 as never, { schema });
export type Db = ReturnType<typeof drizzleOf>;

/**
 * Handles kept per D1 binding: building one walks the whole schema (drizzle's relational
 * config), which cost more CPU than the widget state's own logic. A handle holds no
 * per-request state, so one per binding serves every request of the isolate.
 */
const handles = new WeakMap<D1Database, Db>();

/** A drizzle handle on the worker's D1 database. @example const db = database(c.env.DB) */
export function database(d1: D1Database): Db {
  let db = handles.get(d1);
  if (!db) {
    db = drizzleOf(d1);
    handles.set(d1, db);
  }
  return db;
}

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
type Built = SQL | PromiseLike<unknown>;
export type BatchItem = Built | BoundStatement<unknown>;
export type ResultOf<T> = T extends BoundStatement<infer R> ? R : T extends SQL ? Record<string, unknown>[] : T extends PromiseLike<infer R> ? R : never;

/** Where a prepared statement's parameter comes from: a fixed value, or a named value of the call (through the column's encoder when drizzle gave one). */
type ParamSource = { value: unknown } | { name: string; encode?: (v: unknown) => unknown };

/**
 * A statement whose SQL text and result mapping were built once per isolate (`preparedOnce`),
 * with this call's values bound: what `mixedBatch` sends without building anything.
 */
export class BoundStatement<R> {
  declare readonly result: R;
  constructor(
    readonly sql: string,
    readonly params: unknown[],
    readonly map: (result: D1Result) => R,
  ) {}
}

/** The placeholders a `preparedOnce` builder writes where the call's values go. */
export type Placeholders<A> = { [K in keyof A & string]: Placeholder<K, A[K]> };

const compile = (item: Built): { sql: string; params: unknown[]; map: (r: D1Result) => unknown } => {
  if (is(item, SQL)) {
    const q = dialect.sqlToQuery(item);
    return { sql: q.sql, params: q.params, map: (r) => r.results ?? [] };
  }
  const prepared = (item as unknown as { _prepare(): Prepared })._prepare();
  const q = prepared.getQuery();
  return { sql: q.sql, params: q.params, map: (r) => prepared.mapResult(r, true) };
};

/**
 * A hot-path statement built once per isolate: drizzle renders the builder (or raw `sql`) with
 * `sql.placeholder`s on first use; each call only binds its values. Rendering a select walks
 * every column and costs more CPU than the request's own logic, and the text never changes.
 * The result is mapped exactly as `db.batch` maps the builder's (camelCase, JSON parsed).
 * @example const accountQuery = preparedOnce((db, p: Placeholders<{ id: string }>) => db.select().from(accounts).where(eq(accounts.id, p.id)));
 *          const [rows] = await mixedBatch(db, [accountQuery(db, { id: 'acme' })]);
 */
export function preparedOnce<A extends Record<string, unknown>, B extends Built>(build: (db: Db, p: Placeholders<A>) => B): (db: Db, values: A) => BoundStatement<ResultOf<B>> {
  let built: { sql: string; sources: ParamSource[]; map: (r: D1Result) => unknown } | null = null;
  const placeholders = new Proxy({} as Placeholders<A>, { get: (_, name) => sql.placeholder(String(name)) });
  return (db, values) => {
    if (!built) {
      const c = compile(build(db, placeholders));
      const sources = c.params.map((p): ParamSource => {
        if (is(p, Placeholder)) return { name: p.name };
        if (is(p, Param) && is(p.value, Placeholder)) {
          const encoder = p.encoder as { mapToDriverValue?: (v: unknown) => unknown } | undefined;
          return { name: (p.value as Placeholder).name, ...(encoder?.mapToDriverValue && { encode: (v: unknown) => encoder.mapToDriverValue!(v) }) };
        }
        return { value: p };
      });
      built = { sql: c.sql, sources, map: c.map };
    }
    const params = built.sources.map((s) => {
      if ('value' in s) return s.value;
      if (!(s.name in values)) throw new Error(`preparedOnce: no value for "${s.name}"`);
      return s.encode ? s.encode(values[s.name]) : values[s.name];
    });
    return new BoundStatement(built.sql, params, built.map as (r: D1Result) => ResultOf<B>);
  };
}

/**
 * Drizzle query builders, raw `sql` statements and `preparedOnce` statements together in one
 * D1 batch: one round trip, one transaction. Builders come back mapped as `db.batch` maps them
 * (camelCase, JSON parsed), raw statements as their rows.
 * @example const [account, [{ n }]] = await mixedBatch(db, [db.select().from(accounts), sql`SELECT count(*) AS n …`])
 */
export async function mixedBatch<const T extends readonly BatchItem[]>(db: Db, items: T): Promise<{ [K in keyof T]: ResultOf<T[K]> }> {
  const d1 = db.$client as unknown as D1Database;
  const mappers: ((r: D1Result) => unknown)[] = [];
  const statements = items.map((item) => {
    if (item instanceof BoundStatement) {
      mappers.push(item.map);
      return d1.prepare(item.sql).bind(...item.params);
    }
    const c = compile(item as Built);
    mappers.push(c.map);
    return d1.prepare(c.sql).bind(...c.params);
  });
  const results = await d1.batch(statements);
  return results.map((r, i) => mappers[i]!(r)) as never;
}
