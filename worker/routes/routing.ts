import { routingSchema } from '../../shared/routing';
import { database } from '../db';
import { loadRouting, saveRouting } from '../routing';
import { adminRouter, body, json, route } from './groups';

const getRouting = route({
  method: 'get',
  path: '/',
  summary: 'Routing rules over PQA band, plan, seats and expansion size (first match wins)',
  responses: { 200: json(routingSchema, 'The routing rules in force') },
});

const putRouting = route({
  method: 'put',
  path: '/',
  summary: 'Set the routing rules: self-serve, CSM or sales, and the webhooks of each route',
  request: { body: body(routingSchema) },
  responses: { 200: json(routingSchema, 'The routing rules saved') },
  errors: ['webhook_not_found'],
});

/** Admin: `GET`/`PUT /v1/admin/routing`, the rules that send accounts and expansions to self-serve, a CSM or sales. Mounted at `/v1/admin/routing`. */
export const routingRoutes = adminRouter()
  .openapi(getRouting, async (c) => c.json(await loadRouting(database(c.env.DB)), 200))
  .openapi(putRouting, async (c) => {
    const routing = c.req.valid('json');
    await saveRouting(database(c.env.DB), routing, c.get('now'));
    return c.json(routing, 200);
  });
