import {
  experimentInputSchema,
  experimentListQuerySchema,
  experimentListSchema,
  experimentParams,
  experimentResultsSchema,
  experimentShipSchema,
  experimentViewSchema,
} from '../../shared/experimentSchemas';
import { database } from '../db';
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
import { adminRouter, body, json, route } from './groups';
import { resultsFromCounts } from '../../shared/experiments';

const view = (description: string) => ({ 200: json(experimentViewSchema, description) });

const listExperimentsRoute = route({
  method: 'get',
  path: '/',
  summary: 'Experiments on prompt copy, newest first',
  request: { query: experimentListQuerySchema },
  responses: { 200: json(experimentListSchema, 'The experiments') },
});

const createExperimentRoute = route({
  method: 'post',
  path: '/',
  summary: 'Create a draft experiment (201); the first variant is the control',
  request: { body: body(experimentInputSchema) },
  responses: { 201: json(experimentViewSchema, 'The draft') },
  errors: ['experiment_key_taken'],
});

const getExperimentRoute = route({
  method: 'get',
  path: '/{id}',
  summary: 'One experiment',
  request: { params: experimentParams },
  responses: view('The experiment'),
  errors: ['experiment_not_found'],
});

const replaceExperimentRoute = route({
  method: 'put',
  path: '/{id}',
  summary: 'Replace a draft experiment; a started one is locked (409)',
  request: { params: experimentParams, body: body(experimentInputSchema) },
  responses: view('The draft as replaced'),
  errors: ['experiment_not_found', 'experiment_locked', 'experiment_key_taken'],
});

const startExperimentRoute = route({
  method: 'post',
  path: '/{id}/start',
  summary: 'Start a draft; one running experiment per prompt (409)',
  request: { params: experimentParams },
  responses: view('The experiment, running'),
  errors: ['experiment_not_found', 'experiment_ended', 'experiment_already_running'],
});

const stopExperimentRoute = route({
  method: 'post',
  path: '/{id}/stop',
  summary: 'Stop a running experiment',
  request: { params: experimentParams },
  responses: view('The experiment, stopped'),
  errors: ['experiment_not_found', 'experiment_not_running'],
});

const shipExperimentRoute = route({
  method: 'post',
  path: '/{id}/ship',
  summary: "Write a variant's copy into the prompt and end the experiment",
  request: { params: experimentParams, body: body(experimentShipSchema) },
  responses: view('The experiment, shipped'),
  errors: ['experiment_not_found', 'experiment_ended', 'experiment_not_started', 'prompt_not_found'],
});

const experimentResultsRoute = route({
  method: 'get',
  path: '/{id}/results',
  summary: 'Per-arm exposures, conversions, intervals, lift, p-values, chance to beat control, SRM check and verdict',
  request: { params: experimentParams },
  responses: { 200: json(experimentResultsSchema, 'The results') },
  errors: ['experiment_not_found'],
});

/** Admin experiments on prompt copy: create and edit drafts, start, stop, ship, results. Mounted at `/v1/admin/experiments`. */
export const experimentRoutes = adminRouter()
  .openapi(listExperimentsRoute, async (c) => {
    const rows = await listExperiments(database(c.env.DB), c.req.valid('query'));
    return c.json({ experiments: rows.map(experimentView) }, 200);
  })
  .openapi(createExperimentRoute, async (c) => {
    const row = await createExperiment(database(c.env.DB), c.req.valid('json'), c.get('now'));
    return c.json(experimentView(row), 201);
  })
  .openapi(getExperimentRoute, async (c) => c.json(experimentView(await getExperiment(database(c.env.DB), c.req.valid('param').id)), 200))
  .openapi(replaceExperimentRoute, async (c) =>
    c.json(experimentView(await replaceDraft(database(c.env.DB), c.req.valid('param').id, c.req.valid('json'))), 200),
  )
  .openapi(startExperimentRoute, async (c) => c.json(experimentView(await startExperiment(database(c.env.DB), c.req.valid('param').id, c.get('now'))), 200))
  .openapi(stopExperimentRoute, async (c) => c.json(experimentView(await stopExperiment(database(c.env.DB), c.req.valid('param').id, c.get('now'))), 200))
  .openapi(shipExperimentRoute, async (c) => {
    const { variant_id } = c.req.valid('json');
    return c.json(experimentView(await shipExperiment(database(c.env.DB), c.req.valid('param').id, variant_id, c.get('now'))), 200);
  })
  .openapi(experimentResultsRoute, async (c) => {
    const db = database(c.env.DB);
    const experiment = await getExperiment(db, c.req.valid('param').id);
    return c.json(resultsFromCounts(experiment, await armCounts(db, experiment)), 200);
  });
