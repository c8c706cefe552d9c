import { Hono } from 'hono';
import { routingSchema } from '../../shared/routing';
import { database } from '../db';
import type { AppEnv } from '../env';
import { readJson } from '../middleware/body';
import { loadRouting, saveRouting } from '../routing';

/** Admin: `GET`/`PUT /v1/admin/routing`, the rules that send accounts and expansions to self-serve, a CSM or sales. */
export const routingRoutes = new Hono<AppEnv>()
  .get('/', async (c) => c.json(await loadRouting(database(c.env.DB))))
  .put('/', async (c) => {
    const routing = await readJson(c, routingSchema);
    await saveRouting(database(c.env.DB), routing, c.get('now'));
    return c.json(routing);
  });
