/**
 * Statements the two counter stores share, so the D1 path (worker/usage.ts) and the account
 * objects' flush (worker/accountCounters.ts) write the same rows under the same keys.
 */
import { sql, type SQL } from 'drizzle-orm';
import { compositeKey } from '../shared/compositeKey';
import type { Threshold } from '../shared/metering';
import { dedupeKey } from '../shared/webhookSchemas';
import { enqueueWebhookEvent } from './webhooks';

/**
 * Increments of this batch per UTC day, for forecasts and growth (`usage_daily`): only the rows
 * the batch inserted carry its id, so a repeated batch adds nothing. The account objects' flush runs it too.
 */
export const applyDaily = (batchId: string) => sql`
  INSERT INTO usage_daily (account_id, metric, day, used)
  SELECT account_id, metric, timestamp / 86400000, SUM(value) FROM usage_events
  WHERE batch_id = ${batchId} AND mode = 'increment'
  GROUP BY account_id, metric, timestamp / 86400000 ORDER BY 1, 2, 3
  ON CONFLICT (account_id, metric, day) DO UPDATE SET used = MIN(usage_daily.used + excluded.used, ${Number.MAX_SAFE_INTEGER})`;

/** What a `usage.threshold_crossed` webhook says (`period_start` in epoch ms here, ISO in the payload). */
export type ThresholdCrossed = {
  account_id: string;
  account_name: string;
  plan_id: string | null;
  metric: string;
  threshold: Threshold;
  used: number;
  limit: number | null;
  period_start: number;
};

/**
 * The `usage.threshold_crossed` outbox rows of one crossing, deduped per account, metric, period
 * and threshold, for the D1 batch of the write that crossed it (or the account object's flush).
 */
export function thresholdCrossedWebhook(c: ThresholdCrossed, now: number): SQL {
  return enqueueWebhookEvent(
    'usage.threshold_crossed',
    dedupeKey('usage.threshold_crossed', c.account_id, c.metric, c.period_start, c.threshold),
    { ...c, period_start: new Date(c.period_start).toISOString() },
    now,
  );
}

/** The PQA behaviour `limit_hit` of a counter that reached 100% this period, once per period (a repeat inserts nothing). */
export function limitHitInsert(accountId: string, metric: string, periodStart: number, now: number): SQL {
  return sql`
    INSERT INTO track_events (account_id, idempotency_key, user_id, event, timestamp, properties, batch_id)
    VALUES (${accountId}, ${compositeKey('limit_hit', metric, periodStart)}, NULL, 'limit_hit', ${now}, ${JSON.stringify({ metric })}, 'ladder')
    ON CONFLICT DO NOTHING`;
}
