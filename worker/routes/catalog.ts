import { Hono } from 'hono';
import { notInArray } from 'drizzle-orm';
import { catalogPutQuerySchema, catalogSchema, catalogVersionNumber, catalogVersionsQuerySchema } from '../../shared/schemas';
import { catalogImpact, catalogVersion, catalogVersionList, loadCatalog, replaceCatalog } from '../catalog';
import { database } from '../db';
import { accounts } from '../db/schema';
import type { AppEnv } from '../env';
import { ApiError, notFound, validate } from '../errors';
import { readJson, readQuery } from '../middleware/body';

/**
 * `GET/PUT /v1/catalog` (secret key): the whole catalog, replaced atomically and kept as a
 * version; `?dry_run=true` answers what would change and whom it would put over a limit,
 * without applying. `GET /v1/catalog/versions`: the applied catalogs' changes, newest first;
 * `GET /v1/catalog/versions/:version`: one of them whole (to read, or to PUT back).
 */
export const catalogRoutes = new Hono<AppEnv>()
  .get('/', async (c) => c.json(await loadCatalog(database(c.env.DB))))
  .put('/', async (c) => {
    const { dry_run } = readQuery(c, catalogPutQuerySchema);
    const catalog = await readJson(c, catalogSchema);
    const db = database(c.env.DB);
    const orphans = await db
      .select({ id: accounts.id, planId: accounts.planId })
      .from(accounts)
      .where(notInArray(accounts.planId, catalog.plans.map((p) => p.id)))
      .limit(5);
    if (orphans.length)
      throw new ApiError(409, 'plan_in_use', 'Accounts are on plans this catalog removes; move them first.', orphans.map((o) => ({ path: 'plans', message: `account "${o.id}" is on plan "${o.planId}"` })));
    const now = c.get('now');
    if (dry_run) return c.json(await catalogImpact(db, catalog, now));
    await replaceCatalog(db, catalog, now);
    return c.json(catalog);
  })
  .get('/versions', async (c) => {
    const { limit } = readQuery(c, catalogVersionsQuerySchema);
    return c.json(await catalogVersionList(database(c.env.DB), limit));
  })
  .get('/versions/:version', async (c) => {
    const version = validate(catalogVersionNumber, c.req.param('version'), ['version']);
    const found = await catalogVersion(database(c.env.DB), version);
    if (!found) throw notFound('catalog_version', String(version), 'version');
    return c.json(found);
  });

/** `GET /v1/admin/catalog` and `/v1/admin/catalog/versions` (admin): the same, read-only, for the dashboard. */
export const adminCatalogRoutes = new Hono<AppEnv>()
  .get('/', async (c) => c.json(await loadCatalog(database(c.env.DB))))
  .get('/versions', async (c) => {
    const { limit } = readQuery(c, catalogVersionsQuerySchema);
    return c.json(await catalogVersionList(database(c.env.DB), limit));
  });
