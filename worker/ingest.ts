/**
 * Queued ingestion (`LADDER_INGEST=queue`): POST /v1/usage and /v1/track validate a batch,
 * put it on Cloudflare Queues and answer 202; this module's consumer applies up to 100
 * messages at a time as few D1 transactions as their size allows (or through the account
 * objects when `LADDER_COUNTERS=durable_object`). Redelivery is harmless: every event carries
 * its idempotency key. A message that cannot be applied is stored in `ingest_dead_letters`
 * (shown by `GET /v1/admin/ingest/dead-letters`), never dropped:
 *
 *     refused on arrival (account or metric gone) ──────────────► ingest_dead_letters
 *     failing (D1 down) ──► retried ──► after max_retries: the dead-letter queue ──► ingest_dead_letters
 */
import type { Message, MessageBatch, Queue } from '@cloudflare/workers-types/latest';
import type { TrackEvent, UsageEvent } from '../shared/schemas';
import { existingAccounts } from './accounts';
import { loadCatalog } from './catalog';
import { database, type Db } from './db';
import { ingestDeadLetters } from './db/schema';
import type { Env } from './env';
import { ApiError } from './errors';
import { recordTrack } from './track';
import { applyUsage, meterOf, resolveUsage, type UsageRow } from './usage';

/** One queued batch (or part of one): events as validated, stamped with the time they arrived. */
type IngestMessage = { kind: 'usage'; received_at: number; events: UsageEvent[] } | { kind: 'track'; received_at: number; events: TrackEvent[] };

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
  const malformed = batch.messages.filter((m) => !isIngestMessage(m.body));
  const messages = batch.messages.filter((m): m is Message<IngestMessage> => isIngestMessage(m.body));
  const usage = messages.filter((m) => m.body.kind === 'usage') as Message<Extract<IngestMessage, { kind: 'usage' }>>[];
  const track = messages.filter((m) => m.body.kind === 'track') as Message<Extract<IngestMessage, { kind: 'track' }>>[];
  const [catalog, accountsById] = await Promise.all([loadCatalog(db), existingAccounts(db, messages.flatMap((m) => m.body.events.map((e) => e.account_id)))]);

  // Refused on arrival: each message is checked whole, as the direct route checks a request.
  const refused: { message: Message<unknown>; reason: string }[] = malformed.map((message) => ({ message, reason: 'not an ingestion message' }));
  const usageParts: { message: Message<unknown>; rows: UsageRow[] }[] = [];
  for (const message of usage) {
    try {
      usageParts.push({ message, rows: resolveUsage(catalog, accountsById, message.body.events, message.body.received_at) });
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      refused.push({ message, reason: `${err.message} ${err.details.map((d) => `${d.path}: ${d.message}`).join('; ')}` });
    }
  }
  const trackParts = track.flatMap((message) => {
    const missing = message.body.events.filter((e) => !accountsById.has(e.account_id)).map((e) => e.account_id);
    if (!missing.length) return [message];
    refused.push({ message, reason: `The batch names accounts that do not exist: ${[...new Set(missing)].join(', ')}.` });
    return [];
  });
  if (refused.length) await storeDeadLetters(db, batch.queue, refused);
  for (const { message } of refused) message.ack();

  // The rest as few transactions as D1's parameter size allows; a failing group is retried whole.
  for (const group of groupBySize(usageParts, (p) => p.rows)) {
    await settle(group.map((p) => p.message), () => applyUsage(meter, catalog, accountsById, group.flatMap((p) => p.rows), now));
  }
  for (const group of groupBySize(trackParts, (m) => m.body.events)) {
    await settle(group, () => recordTrack(db, group.flatMap((m) => m.body.events.map((e) => ({ ...e, timestamp: Math.min(e.timestamp ?? m.body.received_at, m.body.received_at) }))), now));
  }
}

async function settle(messages: Message<unknown>[], apply: () => Promise<unknown>): Promise<void> {
  try {
    await apply();
    for (const m of messages) m.ack();
  } catch (err) {
    console.error('[ladder] queued ingestion failed; retrying', err instanceof Error ? err.message : err);
    for (const m of messages) m.retry({ delaySeconds: Math.min(60, 2 ** m.attempts) });
  }
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

function isIngestMessage(body: unknown): body is IngestMessage {
  const b = body as Partial<IngestMessage> | null;
  return !!b && (b.kind === 'usage' || b.kind === 'track') && typeof b.received_at === 'number' && Array.isArray(b.events);
}

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
