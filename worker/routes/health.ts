import { Hono } from 'hono';
import { sql } from 'drizzle-orm';
import { database } from '../db';
import type { AppEnv } from '../env';
import { ApiError } from '../errors';

export const VERSION = '0.1.0';

/** `GET /v1/health` (no credential): ok once the worker and its migrated database answer. */
export const healthRoutes = new Hono<AppEnv>().get('/', async (c) => {
  try {
    await database(c.env.DB).run(sql`SELECT 1 FROM accounts LIMIT 1`);
  } catch {
    throw new ApiError(503, 'not_ready', 'The database is not ready (are the migrations applied?).');
  }
  return c.json({ ok: true, version: VERSION, billing: c.env.STRIPE_SECRET_KEY ? 'stripe' : 'local' });
});
