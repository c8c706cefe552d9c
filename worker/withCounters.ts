/**
 * The worker's entry with the AccountCounters Durable Object class exported beside it, for
 * `LADDER_COUNTERS=durable_object` deployments (wrangler.toml's `counters` block; docs/scale.md).
 * A separate entry because `wrangler dev` restarts a worker that exports a Durable Object class
 * every few seconds under load (503 "Your worker restarted mid-request"), so the default (D1)
 * worker does not export one.
 */
export { AccountCounters } from './accountCounters';
export { app, default } from './index';
