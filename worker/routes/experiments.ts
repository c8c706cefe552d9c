import { Hono } from 'hono';
import { z } from 'zod';
import { experimentInputSchema, experimentListQuerySchema, experimentShipSchema } from '../../shared/experimentSchemas';
import { database } from '../db';
import type { AppEnv } from '../env';
import { validate } from '../errors';
import {
  armCounts,
  createExperiment,
  experimentView,
  getExperiment,
  listExperiments,
  replaceDraft,
  shipExperiment,
  startExperiment,
  stopExperiment,
} from '../experiments';
import { resultsFromCounts } from '../../shared/experiments';
import { readJson, readQuery } from '../middleware/body';

const idParam = z.string().min(1).max(64);

/** Admin experiments on prompt copy: create and edit drafts, start, stop, ship, results. */
export const experimentRoutes = new Hono<AppEnv>()
  .get('/', async (c) => {
    const filter = readQuery(c, experimentListQuerySchema);
    const rows = await listExperiments(database(c.env.DB), filter);
    return c.json({ experiments: rows.map(experimentView) });
  })
  .post('/', async (c) => {
    const input = await readJson(c, experimentInputSchema);
    const row = await createExperiment(database(c.env.DB), input, c.get('now'));
    return c.json(experimentView(row), 201);
  })
  .get('/:id', async (c) => {
    const id = validate(idParam, c.req.param('id'), ['id']);
    return c.json(experimentView(await getExperiment(database(c.env.DB), id)));
  })
  .put('/:id', async (c) => {
    const id = validate(idParam, c.req.param('id'), ['id']);
    const input = await readJson(c, experimentInputSchema);
    return c.json(experimentView(await replaceDraft(database(c.env.DB), id, input)));
  })
  .post('/:id/start', async (c) => {
    const id = validate(idParam, c.req.param('id'), ['id']);
    return c.json(experimentView(await startExperiment(database(c.env.DB), id, c.get('now'))));
  })
  .post('/:id/stop', async (c) => {
    const id = validate(idParam, c.req.param('id'), ['id']);
    return c.json(experimentView(await stopExperiment(database(c.env.DB), id, c.get('now'))));
  })
  .post('/:id/ship', async (c) => {
    const id = validate(idParam, c.req.param('id'), ['id']);
    const { variant_id } = await readJson(c, experimentShipSchema);
    return c.json(experimentView(await shipExperiment(database(c.env.DB), id, variant_id, c.get('now'))));
  })
  .get('/:id/results', async (c) => {
    const id = validate(idParam, c.req.param('id'), ['id']);
    const db = database(c.env.DB);
    const experiment = await getExperiment(db, id);
    return c.json(resultsFromCounts(experiment, await armCounts(db, experiment)));
  });
