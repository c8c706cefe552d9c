import { simulationRequestSchema, simulationResponseSchema } from '../../shared/simulationSchemas';
import { database } from '../db';
import { runSimulation } from '../simulations';
import { respond } from './analytics';
import { adminRouter, body, jsonOrCsv, route } from './groups';

const columns = [
  'rule',
  'day',
  'prompt_id',
  'definition_id',
  'kind',
  'metric',
  'threshold',
  'feature_id',
  'impressions',
  'accounts_shown',
  'users_shown',
  'held_by_session_cap',
  'suppressed_by_dismissals',
] as const;

const postSimulation = route({
  method: 'post',
  path: '/',
  summary:
    'Replay up to the last 90 days of usage and prompt history under proposed definitions and activation, next to the rules in force: per prompt and day, accounts and users shown, session-cap hold-backs, dismissal suppressions, threshold crossings, projected upgrades as ranges (JSON, or CSV per prompt and day with Accept: text/csv)',
  request: { body: body(simulationRequestSchema) },
  responses: { 200: jsonOrCsv(simulationResponseSchema, 'The replay under the rules in force and under the proposal') },
  errors: ['experiment_not_found', 'prompt_not_found'],
});

/** `POST /v1/admin/simulations`: replay the last days under a proposed rule, next to the rules in force (JSON, or CSV per prompt and day). Mounted at `/v1/admin/simulations`. */
export const simulationRoutes = adminRouter().openapi(postSimulation, async (c) => {
  const body = await runSimulation(database(c.env.DB), c.req.valid('json'), c.get('now'));
  const rows = (['current', 'proposed'] as const).flatMap((rule) => body[rule].prompt_days.map((d) => ({ rule, ...d })));
  return respond(c, body, rows, columns, 'simulation');
});
