import { sign } from 'hono/jwt';
import { tokenRequestSchema, tokenResultSchema } from '../../shared/schemas';
import { existingAccounts } from '../accounts';
import { database } from '../db';
import { notFound } from '../errors';
import { body, hostRouter, json, route } from './groups';

const mintToken = route({
  method: 'post',
  path: '/',
  summary: 'Mint a user token for the widget',
  request: { body: body(tokenRequestSchema) },
  responses: { 200: json(tokenResultSchema, 'The user token and when it expires') },
  errors: ['account_not_found'],
});

/** `POST /v1/tokens` (secret key): mint the HS256 user token the widget presents. Mounted at `/v1/tokens`. */
export const tokenRoutes = hostRouter().openapi(mintToken, async (c) => {
  const input = c.req.valid('json');
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
  return c.json({ token, expires_at: new Date(exp * 1000).toISOString() }, 200);
});
