import { sql } from 'drizzle-orm';
import { healthSchema } from '../../shared/schemas';
import { database } from '../db';
import { billingChoice, ladderMode, productionProblems } from '../config';
import { ApiError } from '../errors';
import { json, publicRouter, route } from './groups';

export const VERSION = '0.1.0';

const getHealth = route({
  method: 'get',
  path: '/health',
  summary: 'Readiness of the worker and its database',
  description: 'In production an unsafe configuration answers 503 with `{ ok: false, problems }` (setting names, never values).',
  responses: { 200: json(healthSchema, 'The worker and its database answer'), 503: json(healthSchema, 'Not safely configured, or the database is not ready') },
  errors: ['not_ready'],
});

/**
 * `GET /v1/health` (no credential): ok once the worker and its migrated database answer. In
 * production an unsafe configuration never gets here (the app answers 503 with its problems);
 * in development and test the answer lists what production would refuse, so `npm run dev` can warn.
 * Mounted at `/v1`.
 */
export const healthRoutes = publicRouter().openapi(getHealth, async (c) => {
  try {
    await database(c.env.DB).run(sql`SELECT 1 FROM accounts LIMIT 1`);
  } catch {
    throw new ApiError('not_ready', 'The database is not ready (are the migrations applied?).');
  }
  const mode = ladderMode(c.env);
  if (mode === 'production') return c.json({ ok: true, version: VERSION, billing: billingChoice(c.env) }, 200);
  return c.json({ ok: true, version: VERSION, billing: billingChoice(c.env), mode, production_problems: productionProblems(c.env) }, 200);
});
