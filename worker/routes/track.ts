import { batchResultSchema, queuedResultSchema, trackBatchSchema } from '../../shared/schemas';
import { existingAccounts } from '../accounts';
import { database } from '../db';
import { ApiError } from '../errors';
import { enqueue } from '../ingest';
import { checkEventTimes } from '../middleware/body';
import { scaleOptions } from '../scale';
import { recordTrack } from '../track';
import { body, hostRouter, json, route } from './groups';

const postTrack = route({
  method: 'post',
  path: '/',
  summary: 'Record behavioural events for PQA scoring; with LADDER_INGEST=queue, validate and queue them (202)',
  request: { body: body(trackBatchSchema) },
  responses: { 200: json(batchResultSchema, 'Recorded: events stored now and those seen before'), 202: json(queuedResultSchema, 'Validated and queued (LADDER_INGEST=queue)') },
  errors: ['not_found'],
});

/** `POST /v1/track` (secret key): behavioural events for PQA scoring; 202 once queued with LADDER_INGEST=queue. Mounted at `/v1/track`. */
export const trackRoutes = hostRouter().openapi(postTrack, async (c) => {
  const { events } = c.req.valid('json');
  checkEventTimes(events, c.get('now'));
  const db = database(c.env.DB);
  const known = await existingAccounts(db, events.map((e) => e.account_id));
  const missing = events.flatMap((e, i) => (known.has(e.account_id) ? [] : [{ path: `events.${i}.account_id`, message: `no account "${e.account_id}"` }]));
  if (missing.length) throw new ApiError('not_found', 'The batch names accounts that do not exist; nothing was recorded.', missing);
  if (scaleOptions(c.env).ingest === 'queue') return c.json({ queued: await enqueue(c.env.LADDER_INGEST_QUEUE!, 'track', events, c.get('now')) }, 202);
  return c.json(await recordTrack(db, events, c.get('now')), 200);
});
