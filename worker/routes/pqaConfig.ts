import { z } from 'zod';
import { pqaConfigSchema } from '../../shared/pqaScore';
import { catalogPutQuerySchema, pqaBand } from '../../shared/schemas';
import { database } from '../db';
import { loadPqaConfig, previewPqaConfig, savePqaConfig } from '../pqa';
import { adminRouter, body, json, route } from './groups';

const bandCounts = z.object({ nurture: z.number(), warm: z.number(), sales_assist: z.number(), sales_ready: z.number() });
/** `PUT /v1/admin/pqa/config?dry_run=true` answer: the band counts under the proposed table and the one in force, and each account that moves. */
const pqaPreviewSchema = z.object({
  config: pqaConfigSchema,
  accounts_scored: z.number(),
  bands: bandCounts,
  current_bands: bandCounts,
  changed: z.array(z.object({ account_id: z.string(), name: z.string(), score: z.number(), band: pqaBand, current_score: z.number(), current_band: pqaBand })),
  changed_total: z.number(),
});

const getPqaConfig = route({
  method: 'get',
  path: '/config',
  summary: 'The PQA points table, decay and band edges',
  responses: { 200: json(pqaConfigSchema, 'The PQA configuration') },
});

const putPqaConfig = route({
  method: 'put',
  path: '/config',
  summary: 'Replace the PQA points table (every account is rescored by the next cron run); ?dry_run=true previews how accounts would score and band',
  request: { query: catalogPutQuerySchema, body: body(pqaConfigSchema) },
  responses: { 200: json(z.union([pqaConfigSchema, pqaPreviewSchema]), 'The configuration saved, or with dry_run the preview (nothing saved)') },
});

/**
 * `GET/PUT /v1/admin/pqa/config` (admin): the points table, decay and band edges.
 * `PUT ?dry_run=true` saves nothing and answers how accounts would score and band under it. Mounted at `/v1/admin/pqa`. */
export const pqaConfigRoutes = adminRouter()
  .openapi(getPqaConfig, async (c) => c.json(await loadPqaConfig(database(c.env.DB)), 200))
  .openapi(putPqaConfig, async (c) => {
    const config = c.req.valid('json');
    if (c.req.valid('query').dry_run) return c.json({ config, ...(await previewPqaConfig(database(c.env.DB), config, c.get('now'))) }, 200);
    await savePqaConfig(database(c.env.DB), config, c.get('now'));
    return c.json(config, 200);
  });
