/**
 * A D1 binding that counts round trips: every `batch`, `exec` and statement run (`all`, `first`,
 * `run`, `raw`) is one call to the database. Tests pass it as `DB` to pin how many round trips a
 * request makes, so a change that adds one fails a test instead of slowing every page view.
 * Counts queries, never time.
 */
import type { D1Database, D1PreparedStatement } from '@cloudflare/workers-types/latest';

export type CountingD1 = { db: D1Database; count: () => number; reset: () => void; log: string[] };

export function countingD1(inner: D1Database): CountingD1 {
  const log: string[] = [];
  const wrapStatement = (statement: D1PreparedStatement, sql: string): D1PreparedStatement =>
    new Proxy(statement, {
      get(target, prop) {
        if (prop === 'bind') return (...args: unknown[]) => wrapStatement(target.bind(...args), sql);
        if (prop === 'all' || prop === 'first' || prop === 'run' || prop === 'raw')
          return (...args: unknown[]) => {
            log.push(`${String(prop)}: ${sql}`);
            return (target[prop] as (...a: unknown[]) => unknown).apply(target, args);
          };
        if (prop === '__inner') return target;
        const value = Reflect.get(target, prop, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  const db = new Proxy(inner, {
    get(target, prop) {
      if (prop === 'prepare') return (sql: string) => wrapStatement(target.prepare(sql), sql);
      if (prop === 'batch')
        return (statements: D1PreparedStatement[]) => {
          log.push(`batch of ${statements.length}`);
          return target.batch(statements.map((s) => (s as unknown as { __inner?: D1PreparedStatement }).__inner ?? s));
        };
      if (prop === 'exec')
        return (sql: string) => {
          log.push(`exec: ${sql}`);
          return target.exec(sql);
        };
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { db, log, count: () => log.length, reset: () => void log.splice(0) };
}
