import { activationRuleSchema } from '../../shared/prompts';
import { database } from '../db';
import { loadActivationRule, saveActivationRule } from '../prompts';
import { adminRouter, body, json, route } from './groups';

const getActivation = route({
  method: 'get',
  path: '/',
  summary: 'The activation rule: which events, how many, minimum account age',
  responses: { 200: json(activationRuleSchema, 'The activation rule') },
});

const putActivation = route({
  method: 'put',
  path: '/',
  summary: 'Set the activation rule; soft prompts wait for it, hard blocks do not',
  request: { body: body(activationRuleSchema) },
  responses: { 200: json(activationRuleSchema, 'The rule saved') },
});

/** Admin: the activation rule (which events, how many, minimum age) the prompt engine follows. Mounted at `/v1/admin/activation`. */
export const activationRoutes = adminRouter()
  .openapi(getActivation, async (c) => c.json(await loadActivationRule(database(c.env.DB)), 200))
  .openapi(putActivation, async (c) => {
    const rule = c.req.valid('json');
    await saveActivationRule(database(c.env.DB), rule, c.get('now'));
    return c.json(rule, 200);
  });
