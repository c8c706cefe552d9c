import { Hono } from 'hono';
import { promptDefinitionIdSchema, promptDefinitionSchema, promptInputSchema } from '../../shared/prompts';
import { database } from '../db';
import type { AppEnv } from '../env';
import { validate } from '../errors';
import { readJson } from '../middleware/body';
import { definitionsQuery, mergeDefinitions, savePrompt } from '../prompts';

/** Admin prompts: the definitions in force (defaults merged with stored ones), and edits. */
export const promptRoutes = new Hono<AppEnv>()
  .get('/', async (c) => {
    const db = database(c.env.DB);
    return c.json({ prompts: mergeDefinitions(await definitionsQuery(db)) });
  })
  .put('/:id', async (c) => {
    const id = validate(promptDefinitionIdSchema, c.req.param('id'), ['id']);
    const input = await readJson(c, promptInputSchema);
    const definition = validate(promptDefinitionSchema, { ...input, id });
    const db = database(c.env.DB);
    await savePrompt(db, definition, c.get('now'));
    const saved = mergeDefinitions(await definitionsQuery(db)).find((d) => d.id === id);
    return c.json(saved);
  });
