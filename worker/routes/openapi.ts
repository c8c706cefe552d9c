import type { OpenAPIHono } from '@hono/zod-openapi';
import { openapiDocumentSchema } from '../../shared/schemas';
import type { AppEnv } from '../env';
import { openapiDocument } from '../openapi';
import { json, publicRouter, route } from './groups';

const getOpenapi = route({
  method: 'get',
  path: '/openapi.json',
  summary: 'This document',
  responses: { 200: json(openapiDocumentSchema, 'The OpenAPI document of every operation, generated from the route declarations') },
});

/** `GET /openapi.json`: generated from the route declarations of `app` (worker/openapi.ts). */
export const openapiRoutes = (app: () => OpenAPIHono<AppEnv>) => publicRouter().openapi(getOpenapi, (c) => c.json(openapiDocument(app()), 200));
