import { z } from 'zod';
import { catalogSchema, catalogVersionSchema, catalogVersionsQuerySchema } from '../../shared/schemas';
import { catalogVersionList, loadCatalog } from '../catalog';
import { database } from '../db';
import { adminRouter, json, route } from './groups';

const getAdminCatalog = route({
  method: 'get',
  path: '/',
  summary: 'The catalog, read-only, for the dashboard',
  responses: { 200: json(catalogSchema, 'The catalog') },
});

const listAdminCatalogVersions = route({
  method: 'get',
  path: '/versions',
  summary: 'The catalog history, read-only, for the dashboard',
  request: { query: catalogVersionsQuerySchema },
  responses: { 200: json(z.array(catalogVersionSchema), 'The versions, newest first') },
});

/** `GET /v1/admin/catalog` and `/v1/admin/catalog/versions` (admin): the catalog read-only, for the dashboard. Mounted at `/v1/admin/catalog`. */
export const adminCatalogRoutes = adminRouter()
  .openapi(getAdminCatalog, async (c) => c.json(await loadCatalog(database(c.env.DB)), 200))
  .openapi(listAdminCatalogVersions, async (c) => c.json(await catalogVersionList(database(c.env.DB), c.req.valid('query').limit), 200));
