import { Hono } from 'hono';
import type { AppEnv } from '../env';
import { openapiDocument } from '../openapi';

/** `GET /openapi.json`: generated from the zod schemas. */
export const openapiRoutes = new Hono<AppEnv>().get('/openapi.json', (c) => c.json(openapiDocument()));
