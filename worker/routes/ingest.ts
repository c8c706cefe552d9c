import { count, desc } from 'drizzle-orm';
import { Hono } from 'hono';
import { database } from '../db';
import { ingestDeadLetters } from '../db/schema';
import type { AppEnv } from '../env';
import { scaleOptions } from '../scale';

/** `GET /v1/admin/ingest/dead-letters` (admin): queued batches that could not be applied, newest first (the last 100). */
export const ingestAdminRoutes = new Hono<AppEnv>().get('/dead-letters', async (c) => {
  const db = database(c.env.DB);
  const [rows, total] = await db.batch([
    db.select().from(ingestDeadLetters).orderBy(desc(ingestDeadLetters.createdAt), desc(ingestDeadLetters.messageId)).limit(100),
    db.select({ n: count() }).from(ingestDeadLetters),
  ]);
  return c.json({
    ingest: scaleOptions(c.env).ingest,
    total: total[0]?.n ?? 0,
    dead_letters: rows.map((r) => ({
      message_id: r.messageId,
      queue: r.queue,
      kind: r.kind,
      event_count: r.eventCount,
      reason: r.reason,
      attempts: r.attempts,
      queued_at: new Date(r.queuedAt).toISOString(),
      dead_lettered_at: new Date(r.createdAt).toISOString(),
      body: r.body,
    })),
  });
});
