import { pqaConfigSchema } from '../../shared/pqaScore';
import { database } from '../db';
import { loadPqaConfig, savePqaConfig } from '../pqa';
import { adminRouter, body, json, route } from './groups';

export const getPqaConfig = route({
  method: 'get',
  path: '/config',
  summary: 'The PQA points table, decay and band edges',
  responses: { 200: json(pqaConfigSchema, 'The PQA configuration') },
});

export const putPqaConfig = route({
  method: 'put',
  path: '/config',
  summary: 'Replace the PQA points table (every account is rescored by the next cron run)',
  request: { body: body(pqaConfigSchema) },
  responses: { 200: json(pqaConfigSchema, 'The configuration saved') },
});

/** `GET/PUT /v1/admin/pqa/config` (admin): the points table, decay and band edges. Mounted at `/v1/admin/pqa`. */
export const pqaConfigRoutes = adminRouter()
  .openapi(getPqaConfig, async (c) => c.json(await loadPqaConfig(database(c.env.DB)), 200))
  .openapi(putPqaConfig, async (c) => {
    const config = c.req.valid('json');
    await savePqaConfig(database(c.env.DB), config, c.get('now'));
    return c.json(config, 200);
  });
