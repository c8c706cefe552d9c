/** Behavioural events in D1 (for PQA scoring), inserted as one statement per batch. */
import { sql } from 'drizzle-orm';
import type { TrackEvent } from '../shared/schemas';
import { sqlBatch, type Db } from './db';
import { rescoreAccounts } from './pqa';

/**
 * Store a batch of behavioural events; a seen idempotency key changes nothing. The first
 * `core_feature_activated` marks the account activated.
 * @example await recordTrack(db, events, Date.now()) // { accepted: 3, duplicates: 0 }
 */
export async function recordTrack(db: Db, events: TrackEvent[], now: number): Promise<{ accepted: number; duplicates: number }> {
  const batchId = crypto.randomUUID();
  const rows = events.map((e) => ({
    a: e.account_id,
    k: e.idempotency_key,
    u: e.user_id ?? null,
    e: e.event,
    t: Math.min(e.timestamp ?? now, now),
    p: e.properties ? JSON.stringify(e.properties) : null,
  }));
  const [, , counted] = await sqlBatch(db, [
    sql`
      INSERT INTO track_events (account_id, idempotency_key, user_id, event, timestamp, properties, batch_id)
      SELECT json_extract(e.value, '$.a'), json_extract(e.value, '$.k'), json_extract(e.value, '$.u'),
             json_extract(e.value, '$.e'), json_extract(e.value, '$.t'), json_extract(e.value, '$.p'), ${batchId}
      FROM json_each(${JSON.stringify(rows)}) AS e WHERE true
      ON CONFLICT DO NOTHING`,
    sql`
      UPDATE accounts SET activated_at = (
        SELECT MIN(timestamp) FROM track_events t
        WHERE t.batch_id = ${batchId} AND t.account_id = accounts.id AND t.event = 'core_feature_activated')
      WHERE activated_at IS NULL AND id IN (
        SELECT account_id FROM track_events WHERE batch_id = ${batchId} AND event = 'core_feature_activated')`,
    sql`SELECT count(*) AS n FROM track_events WHERE batch_id = ${batchId}`,
  ]);
  const accepted = Number(counted?.[0]?.n ?? 0);
  // Scores of the batch's accounts follow at once (retries too, so a failed rescore heals);
  // a failure here never loses the events: the daily cron rescores every account.
  await rescoreAccounts(db, events.map((e) => e.account_id), now).catch((err: unknown) =>
    console.error('[ladder] PQA rescore after track failed', err instanceof Error ? err.stack ?? err.message : err),
  );
  return { accepted, duplicates: events.length - accepted };
}
