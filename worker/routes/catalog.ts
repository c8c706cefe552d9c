import { Hono } from 'hono';
import { notInArray } from 'drizzle-orm';
import { catalogSchema } from '../../shared/schemas';
import { loadCatalog, replaceCatalog } from '../catalog';
import { database } from '../db';
import { accounts } from '../db/schema';
import type { AppEnv } from '../env';
import { ApiError } from '../errors';
import { readJson } from '../middleware/body';

/** `GET/PUT /v1/catalog` (secret key): the whole catalog, replaced atomically. */
export const catalogRoutes = new Hono<AppEnv>()
  .get('/', async (c) => c.json(await loadCatalog(database(c.env.DB))))
  .put('/', async (c) => {
    const catalog = await readJson(c, catalogSchema);
    const db = database(c.env.DB);
    const orphans = await db
      .select({ id: accounts.id, planId: accounts.planId })
      .from(accounts)
      .where(notInArray(accounts.planId, catalog.plans.map((p) => p.id)))
      .limit(5);
    if (orphans.length)
      throw new ApiError(409, 'plan_in_use', 'Accounts are on plans this catalog removes; move them first.', orphans.map((o) => ({ path: 'plans', message: `account "${o.id}" is on plan "${o.planId}"` })));
    await replaceCatalog(db, catalog);
    return c.json(catalog);
  });
