import { Hono } from 'hono';
import { sql } from 'drizzle-orm';
import { database } from '../db';
import { billingChoice, ladderMode, productionProblems } from '../config';
import type { AppEnv } from '../env';
import { ApiError } from '../errors';

export const VERSION = '0.1.0';

/**
 * `GET /v1/health` (no credential): ok once the worker and its migrated database answer. In
 * production an unsafe configuration never gets here (the app answers 503 with its problems);
 * in development and test the answer lists what production would refuse, so `npm run dev` can warn.
 */
export const healthRoutes = new Hono<AppEnv>().get('/', async (c) => {
  try {
    await database(c.env.DB).run(sql`SELECT 1 FROM accounts LIMIT 1`);
  } catch {
    throw new ApiError(503, 'not_ready', 'The database is not ready (are the migrations applied?).');
  }
  const mode = ladderMode(c.env);
  if (mode === 'production') return c.json({ ok: true, version: VERSION, billing: billingChoice(c.env) });
  return c.json({ ok: true, version: VERSION, billing: billingChoice(c.env), mode, production_problems: productionProblems(c.env) });
});
