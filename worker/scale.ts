/** The deployment options of docs/scale.md, read from the environment and checked before anything is served. */
import type { Env } from './env';
import { ApiError } from './errors';

export type ScaleOptions = {
  /** `d1`: counters in D1; `durable_object`: one AccountCounters object per account. */
  counters: 'd1' | 'durable_object';
  /** `direct`: usage and track batches are stored before the answer; `queue`: queued, answered 202. */
  ingest: 'direct' | 'queue';
};

const misconfigured = (message: string) => new ApiError(503, 'misconfigured', `Ladder is misconfigured: ${message}`);

/**
 * The options of this deployment; a value out of the list, or an option without its binding,
 * refuses to serve with a message naming the setting (fail closed, never a silent fallback to D1).
 * @example scaleOptions({ ...env, LADDER_COUNTERS: 'durable_object' }) // { counters: 'durable_object', ingest: 'direct' }
 */
export function scaleOptions(env: Env): ScaleOptions {
  const counters = env.LADDER_COUNTERS || 'd1';
  const ingest = env.LADDER_INGEST || 'direct';
  if (counters !== 'd1' && counters !== 'durable_object') throw misconfigured(`LADDER_COUNTERS must be "d1" or "durable_object", not "${counters}".`);
  if (ingest !== 'direct' && ingest !== 'queue') throw misconfigured(`LADDER_INGEST must be "direct" or "queue", not "${ingest}".`);
  if (counters === 'durable_object' && !env.ACCOUNT_COUNTERS)
    throw misconfigured('LADDER_COUNTERS=durable_object needs the ACCOUNT_COUNTERS Durable Object binding (wrangler.toml [[durable_objects.bindings]], class AccountCounters).');
  if (ingest === 'queue' && !env.LADDER_INGEST_QUEUE)
    throw misconfigured('LADDER_INGEST=queue needs the LADDER_INGEST_QUEUE queue producer binding (wrangler.toml [[queues.producers]] and [[queues.consumers]]).');
  return { counters, ingest };
}
