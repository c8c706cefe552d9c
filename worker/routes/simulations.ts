import { Hono } from 'hono';
import { simulationRequestSchema } from '../../shared/simulationSchemas';
import { database } from '../db';
import type { AppEnv } from '../env';
import { readJson } from '../middleware/body';
import { runSimulation } from '../simulations';
import { respond } from './analytics';

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

/** `POST /v1/admin/simulations`: replay the last days under a proposed rule, next to the rules in force (JSON, or CSV per prompt and day). */
export const simulationRoutes = new Hono<AppEnv>().post('/', async (c) => {
  const request = await readJson(c, simulationRequestSchema);
  const body = await runSimulation(database(c.env.DB), request, c.get('now'));
  const rows = (['current', 'proposed'] as const).flatMap((rule) => body[rule].prompt_days.map((d) => ({ rule, ...d })));
  return respond(c, body, rows, columns, 'simulation');
});
