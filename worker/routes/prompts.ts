import { promptDefinitionSchema, promptInputSchema, promptListSchema, promptParams, promptViewSchema } from '../../shared/prompts';
import { database } from '../db';
import { validate } from '../errors';
import { definitionsQuery, mergeDefinitions, savePrompt } from '../prompts';
import { adminRouter, body, json, route } from './groups';

const listPrompts = route({
  method: 'get',
  path: '/',
  summary: 'Prompt definitions in force',
  responses: { 200: json(promptListSchema, 'The definitions: built-in ones merged with the stored edits') },
});

const putPrompt = route({
  method: 'put',
  path: '/{id}',
  summary: 'Create or replace a prompt definition',
  request: { params: promptParams, body: body(promptInputSchema) },
  responses: { 200: json(promptViewSchema, 'The definition in force') },
});

/** Admin prompts: the definitions in force (defaults merged with stored ones), and edits. Mounted at `/v1/admin/prompts`. */
export const promptRoutes = adminRouter()
  .openapi(listPrompts, async (c) => c.json({ prompts: mergeDefinitions(await definitionsQuery(database(c.env.DB))) }, 200))
  .openapi(putPrompt, async (c) => {
    const { id } = c.req.valid('param');
    const definition = validate(promptDefinitionSchema, { ...c.req.valid('json'), id });
    const db = database(c.env.DB);
    await savePrompt(db, definition, c.get('now'));
    const saved = mergeDefinitions(await definitionsQuery(db)).find((d) => d.id === id)!;
    return c.json(saved, 200);
  });
