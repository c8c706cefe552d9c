import { Hono } from 'hono';
import { sign } from 'hono/jwt';
import { tokenRequestSchema } from '../../shared/schemas';
import { existingAccounts } from '../accounts';
import { database } from '../db';
import type { AppEnv } from '../env';
import { notFound } from '../errors';
import { readJson } from '../middleware/body';

/** `POST /v1/tokens` (secret key): mint the HS256 user token the widget presents. */
export const tokenRoutes = new Hono<AppEnv>().post('/', async (c) => {
  const input = await readJson(c, tokenRequestSchema);
  if (!(await existingAccounts(database(c.env.DB), [input.account_id])).size) throw notFound('account', input.account_id, 'account_id');
  const iat = Math.floor(c.get('now') / 1000);
  const exp = iat + input.ttl_seconds;
  const token = await sign(
    {
      sub: input.user_id,
      acct: input.account_id,
      role: input.role,
      iat,
      exp,
      ...(input.name && { name: input.name }),
      ...(input.email && { email: input.email }),
      ...(input.locale && { locale: input.locale }),
    },
    c.env.LADDER_USER_TOKEN_SECRET,
    'HS256',
  );
  return c.json({ token, expires_at: new Date(exp * 1000).toISOString() });
});
