import { Hono } from 'hono';
import { activationRuleSchema } from '../../shared/prompts';
import { database } from '../db';
import type { AppEnv } from '../env';
import { readJson } from '../middleware/body';
import { loadActivationRule, saveActivationRule } from '../prompts';

/** Admin: the activation rule (which events, how many, minimum age) the prompt engine follows. */
export const activationRoutes = new Hono<AppEnv>()
  .get('/', async (c) => c.json(await loadActivationRule(database(c.env.DB))))
  .put('/', async (c) => {
    const rule = await readJson(c, activationRuleSchema);
    await saveActivationRule(database(c.env.DB), rule, c.get('now'));
    return c.json(rule);
  });
