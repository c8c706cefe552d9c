import { count, desc } from 'drizzle-orm';
import { z } from 'zod';
import { database } from '../db';
import { ingestDeadLetters } from '../db/schema';
import { scaleOptions } from '../scale';
import { adminRouter, json, route } from './groups';

/** `GET /v1/admin/ingest/dead-letters` answer. */
const deadLettersSchema = z.object({
  ingest: z.enum(['direct', 'queue']),
  total: z.number(),
  dead_letters: z.array(
    z.object({
      message_id: z.string(),
      queue: z.string(),
      kind: z.string(),
      event_count: z.number(),
      reason: z.string(),
      attempts: z.number(),
      queued_at: z.string(),
      dead_lettered_at: z.string(),
      body: z.unknown(),
    }),
  ),
});

const getDeadLetters = route({
  method: 'get',
  path: '/dead-letters',
  summary: 'Queued usage and track batches that could not be applied (LADDER_INGEST=queue), newest first',
  responses: { 200: json(deadLettersSchema, 'The last 100 dead letters and how many there are') },
});

/** `GET /v1/admin/ingest/dead-letters` (admin): queued batches that could not be applied, newest first (the last 100). */
export const ingestAdminRoutes = adminRouter().openapi(getDeadLetters, async (c) => {
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
  }, 200);
});
