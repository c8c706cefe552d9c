/**
 * Queued ingestion (`LADDER_INGEST=queue`): POST /v1/usage and /v1/track validate a batch,
 * put it on Cloudflare Queues and answer 202; this module's consumer applies up to 100
 * messages at a time as few D1 transactions as their size allows (or through the account
 * objects when `LADDER_COUNTERS=durable_object`). Redelivery is harmless: every event carries
 * its idempotency key. A message that cannot be applied is stored in `ingest_dead_letters`
 * (shown by `GET /v1/admin/ingest/dead-letters`), never dropped:
 *
 *     refused on arrival (malformed, account or metric gone) ──────► ingest_dead_letters
 *     failing (D1 down) ──► retried ──► after max_retries: the dead-letter queue ──► ingest_dead_letters
 *
 * A group of messages whose transaction fails is tried again one message at a time at once, so
 * one message that keeps failing is retried (and in the end dead-lettered) alone, never the
 * good messages delivered with it.
 */
import type { Message, MessageBatch, Queue } from '@cloudflare/workers-types/latest';
import { z } from 'zod';
import { trackEventSchema, usageEventSchema, type TrackEvent, type UsageEvent } from '../shared/schemas';
import { existingAccounts } from './accounts';
import { loadCatalog } from './catalog';
import { database, type Db } from './db';
import { ingestDeadLetters } from './db/schema';
import type { Env } from './env';
import { ApiError } from './errors';
import { recordTrack } from './track';
import { applyUsage, meterOf, resolveUsage, type UsageRow } from './usage';

/** One queued batch (or part of one): events as validated, stamped with the time they arrived. */
type UsageMessage = { kind: 'usage'; received_at: number; events: UsageEvent[] };
type TrackMessage = { kind: 'track'; received_at: number; events: TrackEvent[] };
type IngestMessage = UsageMessage | TrackMessage;

/** Queues take messages up to 128 KB and batches up to 100 messages and 256 KB; stay under with room. */
const MESSAGE_BYTES = 100_000;
const SEND_BYTES = 200_000;
/** D1 binds values up to 1 MB: one JSON parameter of resolved events stays under it. */
const APPLY_BYTES = 700_000;

const bytes = (value: unknown) => new TextEncoder().encode(JSON.stringify(value)).length;

/**
 * Put a validated batch on the queue, split into messages under the size limits; the number of events queued.
 * Events without a timestamp get the arrival time, so applying them later counts them where they happened.
 * @example await enqueue(env.LADDER_INGEST_QUEUE, 'usage', events, Date.now()) // 3
 */
export async function enqueue<K extends IngestMessage['kind']>(
  queue: Queue<unknown>,
  kind: K,
  events: Extract<IngestMessage, { kind: K }>['events'],
  now: number,
): Promise<number> {
  const stamped = events.map((e) => ({ ...e, timestamp: e.timestamp ?? now }));
  const messages: IngestMessage[] = [];
  let part: typeof stamped = [];
  let size = 0;
  for (const e of stamped) {
    const n = bytes(e) + 1;
    if (part.length && size + n > MESSAGE_BYTES) {
      messages.push({ kind, received_at: now, events: part } as IngestMessage);
      part = [];
      size = 0;
    }
    part.push(e);
    size += n;
  }
  if (part.length) messages.push({ kind, received_at: now, events: part } as IngestMessage);
  // Rarely more than one send; a failure part-way answers 5xx and the client's retry is deduplicated.
  for (let i = 0; i < messages.length; ) {
    const send: IngestMessage[] = [];
    while (i < messages.length && send.length < 100 && (send.length === 0 || bytes([...send, messages[i]]) <= SEND_BYTES)) send.push(messages[i++]!);
    await queue.sendBatch(send.map((body) => ({ body, contentType: 'json' as const })));
  }
  return stamped.length;
}

/**
 * The queue consumer (the default export's `queue`). Messages of the ingestion queue are applied;
 * those of a dead-letter queue (its name ends in `-dlq`) are stored for the dashboard.
 */
export async function consumeIngest(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const db = database(env.DB);
  if (batch.queue.endsWith('-dlq')) {
    await storeDeadLetters(db, batch.queue, batch.messages.map((m) => ({ message: m, reason: `dead-lettered after ${m.attempts} attempt(s) on the ingestion queue` })));
    batch.ackAll();
    return;
  }
  const meter = meterOf(env, db);
  const now = Date.now();
  // Each message checked against what `enqueue` sends; its events as validated (defaults applied).
  const refused: { message: Message<unknown>; reason: string }[] = [];
  const usage: { message: Message<unknown>; body: UsageMessage }[] = [];
  const track: { message: Message<unknown>; body: TrackMessage }[] = [];
  for (const message of batch.messages) {
    const parsed = ingestMessageSchema.safeParse(message.body);
    if (!parsed.success) refused.push({ message, reason: `not an ingestion message: ${z.prettifyError(parsed.error).replaceAll('\n', ' ')}` });
    else if (parsed.data.kind === 'usage') usage.push({ message, body: parsed.data });
    else track.push({ message, body: parsed.data });
  }
  const [catalog, accountsById] = await Promise.all([
    loadCatalog(db),
    existingAccounts(db, [...usage, ...track].flatMap((m) => m.body.events.map((e) => e.account_id))),
  ]);

  // Refused on arrival: each message is checked whole, as the direct route checks a request.
  const usageParts: { message: Message<unknown>; rows: UsageRow[] }[] = [];
  for (const { message, body } of usage) {
    try {
      usageParts.push({ message, rows: resolveUsage(catalog, accountsById, body.events, body.received_at) });
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      refused.push({ message, reason: `${err.message} ${err.details.map((d) => `${d.path}: ${d.message}`).join('; ')}` });
    }
  }
  const trackParts = track.flatMap((part) => {
    const missing = part.body.events.filter((e) => !accountsById.has(e.account_id)).map((e) => e.account_id);
    if (!missing.length) return [part];
    refused.push({ message: part.message, reason: `The batch names accounts that do not exist: ${[...new Set(missing)].join(', ')}.` });
    return [];
  });
  if (refused.length) await storeDeadLetters(db, batch.queue, refused);
  for (const { message } of refused) message.ack();

  // The rest as few transactions as D1's parameter size allows; a failing group is tried message by message.
  for (const group of groupBySize(usageParts, (p) => p.rows)) {
    await settle(group, (parts) => applyUsage(meter, catalog, accountsById, parts.flatMap((p) => p.rows), now));
  }
  const trackOf = ({ body }: { body: TrackMessage }) => body.events.map((e) => ({ ...e, timestamp: Math.min(e.timestamp ?? body.received_at, body.received_at) }));
  for (const group of groupBySize(trackParts, (p) => p.body.events)) {
    await settle(group, (parts) => recordTrack(db, parts.flatMap(trackOf), now));
  }
}

/**
 * Apply a group as one transaction and acknowledge it; if it fails, each message alone, so a
 * message that keeps failing is retried by itself (with backoff) and the rest are applied.
 */
async function settle<P extends { message: Message<unknown> }>(parts: P[], apply: (parts: P[]) => Promise<unknown>): Promise<void> {
  try {
    await apply(parts);
    for (const p of parts) p.message.ack();
    return;
  } catch (err) {
    const next = parts.length > 1 ? `for a group of ${parts.length}; trying each message alone` : 'for a message; retrying it';
    console.error(`[ladder] queued ingestion failed ${next}:`, err instanceof Error ? err.message : err);
  }
  if (parts.length === 1) {
    const m = parts[0]!.message;
    m.retry({ delaySeconds: Math.min(60, 2 ** m.attempts) });
    return;
  }
  for (const p of parts) await settle([p], apply);
}

function groupBySize<T>(items: T[], payload: (item: T) => unknown[]): T[][] {
  const groups: T[][] = [];
  let group: T[] = [];
  let size = 0;
  for (const item of items) {
    const n = bytes(payload(item));
    if (group.length && size + n > APPLY_BYTES) {
      groups.push(group);
      group = [];
      size = 0;
    }
    group.push(item);
    size += n;
  }
  if (group.length) groups.push(group);
  return groups;
}

/** What `enqueue` sends, checked again on arrival: a message that does not match is dead-lettered, not retried. */
const ingestMessageSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('usage'), received_at: z.number().int().min(0), events: z.array(usageEventSchema).min(1) }),
  z.object({ kind: z.literal('track'), received_at: z.number().int().min(0), events: z.array(trackEventSchema).min(1) }),
]);

async function storeDeadLetters(db: Db, queue: string, letters: { message: Message<unknown>; reason: string }[]): Promise<void> {
  const now = Date.now();
  const rows = letters.map(({ message, reason }) => {
    const body = message.body as Partial<IngestMessage> | null;
    return {
      messageId: message.id,
      queue,
      kind: typeof body?.kind === 'string' ? body.kind : 'unknown',
      eventCount: Array.isArray(body?.events) ? body.events.length : 0,
      body: message.body ?? null,
      reason,
      attempts: message.attempts,
      queuedAt: typeof body?.received_at === 'number' ? body.received_at : message.timestamp.getTime(),
      createdAt: now,
    };
  });
  const [first, ...rest] = rows.map((r) => db.insert(ingestDeadLetters).values(r).onConflictDoNothing());
  if (first) await db.batch([first, ...rest]);
}
