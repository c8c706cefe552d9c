import { notInArray } from 'drizzle-orm';
import { z } from 'zod';
import {
  catalogImpactSchema,
  catalogPutQuerySchema,
  catalogSchema,
  catalogVersionParams,
  catalogVersionSchema,
  catalogVersionsQuerySchema,
  catalogVersionWithCatalogSchema,
} from '../../shared/schemas';
import { catalogImpact, catalogVersion, catalogVersionList, loadCatalog, replaceCatalog } from '../catalog';
import { database } from '../db';
import { accounts } from '../db/schema';
import { ApiError, notFound } from '../errors';
import { body, hostRouter, json, route } from './groups';

const getCatalog = route({
  method: 'get',
  path: '/',
  summary: 'The catalog of metrics, features and plans',
  responses: { 200: json(catalogSchema, 'The catalog') },
});

const putCatalog = route({
  method: 'put',
  path: '/',
  summary: 'Replace the whole catalog atomically, kept as a version; with dry_run=true, the changes and the accounts it would put over a lowered limit, applying nothing',
  request: { query: catalogPutQuerySchema, body: body(catalogSchema) },
  responses: { 200: json(z.union([catalogSchema, catalogImpactSchema]), 'The catalog applied, or (dry_run=true) its impact') },
  errors: ['plan_in_use'],
});

const listCatalogVersions = route({
  method: 'get',
  path: '/versions',
  summary: 'Applied catalogs with their changes, newest first',
  request: { query: catalogVersionsQuerySchema },
  responses: { 200: json(z.array(catalogVersionSchema), 'The versions, newest first') },
});

const getCatalogVersion = route({
  method: 'get',
  path: '/versions/{version}',
  summary: 'One applied catalog, whole, with its changes',
  request: { params: catalogVersionParams },
  responses: { 200: json(catalogVersionWithCatalogSchema, 'The version and its catalog') },
  errors: ['catalog_version_not_found'],
});

/**
 * `GET/PUT /v1/catalog` (secret key): the whole catalog, replaced atomically and kept as a
 * version; `?dry_run=true` answers what would change and whom it would put over a limit,
 * without applying. `GET /v1/catalog/versions`: the applied catalogs' changes, newest first;
 * `GET /v1/catalog/versions/:version`: one of them whole (to read, or to PUT back).
 * Mounted at `/v1/catalog`.
 */
export const catalogRoutes = hostRouter()
  .openapi(getCatalog, async (c) => c.json(await loadCatalog(database(c.env.DB)), 200))
  .openapi(putCatalog, async (c) => {
    const { dry_run } = c.req.valid('query');
    const catalog = c.req.valid('json');
    const db = database(c.env.DB);
    const orphans = await db
      .select({ id: accounts.id, planId: accounts.planId })
      .from(accounts)
      .where(notInArray(accounts.planId, catalog.plans.map((p) => p.id)))
      .limit(5);
    if (orphans.length)
      throw new ApiError('plan_in_use', 'Accounts are on plans this catalog removes; move them first.', orphans.map((o) => ({ path: 'plans', message: `account "${o.id}" is on plan "${o.planId}"` })));
    const now = c.get('now');
    if (dry_run) return c.json(await catalogImpact(db, catalog, now), 200);
    await replaceCatalog(db, catalog, now);
    return c.json(catalog, 200);
  })
  .openapi(listCatalogVersions, async (c) => c.json(await catalogVersionList(database(c.env.DB), c.req.valid('query').limit), 200))
  .openapi(getCatalogVersion, async (c) => {
    const { version } = c.req.valid('param');
    const found = await catalogVersion(database(c.env.DB), version);
    if (!found) throw notFound('catalog_version', String(version), 'version');
    return c.json(found, 200);
  });
