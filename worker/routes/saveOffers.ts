import { saveOffersSchema, saveOffersViewSchema } from '../../shared/billingSchemas';
import { putSaveOffers, saveOffers } from '../billing/retention';
import { database } from '../db';
import { adminRouter, body, json, route } from './groups';

const getSaveOffers = route({
  method: 'get',
  path: '/',
  summary: 'The save offer per cancellation reason',
  responses: { 200: json(saveOffersViewSchema, 'The offer per reason') },
});

const putSaveOffersRoute = route({
  method: 'put',
  path: '/',
  summary: 'Set the save offers per cancellation reason (reasons left out use the defaults)',
  request: { body: body(saveOffersSchema) },
  responses: { 200: json(saveOffersViewSchema, 'The offer per reason, as saved') },
  errors: ['unknown_plan'],
});

/** `GET`/`PUT /v1/admin/save-offers` (admin): the save offer per cancellation reason. Mounted at `/v1/admin/save-offers`. */
export const saveOfferRoutes = adminRouter()
  .openapi(getSaveOffers, async (c) => c.json(await saveOffers(database(c.env.DB)), 200))
  .openapi(putSaveOffersRoute, async (c) => c.json(await putSaveOffers(database(c.env.DB), c.req.valid('json'), c.get('now')), 200));
