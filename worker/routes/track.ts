import { Hono } from 'hono';
import { trackBatchSchema } from '../../shared/schemas';
import { existingAccounts } from '../accounts';
import { database } from '../db';
import type { AppEnv } from '../env';
import { ApiError } from '../errors';
import { enqueue } from '../ingest';
import { checkEventTimes, readJson } from '../middleware/body';
import { scaleOptions } from '../scale';
import { recordTrack } from '../track';

/** `POST /v1/track` (secret key): behavioural events for PQA scoring; 202 once queued with LADDER_INGEST=queue. */
export const trackRoutes = new Hono<AppEnv>().post('/', async (c) => {
  const { events } = await readJson(c, trackBatchSchema);
  checkEventTimes(events, c.get('now'));
  const db = database(c.env.DB);
  const known = await existingAccounts(db, events.map((e) => e.account_id));
  const missing = events.flatMap((e, i) => (known.has(e.account_id) ? [] : [{ path: `events.${i}.account_id`, message: `no account "${e.account_id}"` }]));
  if (missing.length) throw new ApiError(404, 'not_found', 'The batch names accounts that do not exist; nothing was recorded.', missing);
  if (scaleOptions(c.env).ingest === 'queue') return c.json({ queued: await enqueue(c.env.LADDER_INGEST_QUEUE!, 'track', events, c.get('now')) }, 202);
  return c.json(await recordTrack(db, events, c.get('now')));
});
