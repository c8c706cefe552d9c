import type { MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';
import { verify } from 'hono/jwt';
import Stripe from 'stripe';
import { timingSafeEqual } from 'hono/utils/buffer';
import { userClaimsSchema, type UserClaims } from '../../shared/schemas';
import { database } from '../db';
import type { AppEnv } from '../env';
import { ApiError } from '../errors';
import { verifySession, SESSION_COOKIE } from '../session';
import { readBodyText } from './body';

const bearer = (header: string | undefined) => {
  const match = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  return match?.[1] ?? null;
};

const unauthorized = (message: string, realm: string) =>
  new ApiError('unauthorized', message, [], {
    'WWW-Authenticate': `Bearer realm="${realm}", error="invalid_token"`,
  });

/** Constant-time comparison of a presented key with the configured one (never equal to an unset key). */
async function keyMatches(presented: string | null, expected: string | undefined): Promise<boolean> {
  if (!presented || !expected) return false;
  return timingSafeEqual(presented, expected);
}

/**
 * Host-backend routes: `Authorization: Bearer <LADDER_SECRET_KEY>`.
 * @example app.use('/v1/usage', secretKey())
 */
export const secretKey = (): MiddlewareHandler<AppEnv> => async (c, next) => {
  if (!(await keyMatches(bearer(c.req.header('authorization')), c.env.LADDER_SECRET_KEY)))
    throw unauthorized('A valid secret key is required.', 'ladder-host');
  await next();
};

/**
 * Dashboard and admin routes: the admin key as a bearer, or the dashboard's session cookie.
 * @example app.use('/v1/admin/*', adminKey())
 */
export const adminKey = (): MiddlewareHandler<AppEnv> => async (c, next) => {
  const token = bearer(c.req.header('authorization'));
  if (token) {
    if (!(await keyMatches(token, c.env.LADDER_ADMIN_KEY))) throw unauthorized('A valid admin key or dashboard session is required.', 'ladder-admin');
    c.set('adminVia', 'key');
  } else {
    const session = await verifySession(database(c.env.DB), getCookie(c, SESSION_COOKIE), c.env.LADDER_ADMIN_KEY, c.get('now'));
    if (!session) throw unauthorized('A valid admin key or dashboard session is required.', 'ladder-admin');
    c.set('adminVia', 'session');
    c.set('adminSessionExpiresAt', session);
  }
  await next();
};

const verifyKeys = new Map<string, Promise<CryptoKey>>();
/**
 * The HMAC key that verifies user tokens, imported once per secret and kept in the isolate:
 * importing it per request cost more than verifying the signature (every widget call).
 */
function userTokenKey(secret: string): Promise<CryptoKey> {
  let key = verifyKeys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
    key.catch(() => verifyKeys.delete(secret));
    if (verifyKeys.size >= 4) verifyKeys.clear();
    verifyKeys.set(secret, key);
  }
  return key;
}

/**
 * User tokens this isolate has verified, by secret and token: the same token comes back on every
 * page view of its user, and checking its HMAC and parsing it again cost more than the rest of
 * the auth. Only a token whose signature verified and whose claims parsed is kept; its expiry is
 * checked on every use (and drops it), and another secret is another key. Bounded: cleared when full.
 */
const verifiedTokens = new Map<string, UserClaims>();
const VERIFIED_TOKENS_MAX = 10_000;

/**
 * Widget routes: a user token (HS256 JWT signed with LADDER_USER_TOKEN_SECRET). Expired,
 * tampered, `alg: none` and other-algorithm tokens are refused with 401. Sets `c.var.user`.
 * @example app.use('/v1/widget/*', userToken())
 */
export const userToken = (): MiddlewareHandler<AppEnv> => async (c, next) => {
  const token = bearer(c.req.header('authorization'));
  if (!token || !c.env.LADDER_USER_TOKEN_SECRET) throw unauthorized('A user token is required.', 'ladder-widget');
  const memoKey = `${c.env.LADDER_USER_TOKEN_SECRET}\n${token}`;
  let user = verifiedTokens.get(memoKey);
  if (!user) {
    let payload: unknown;
    try {
      payload = await verify(token, await userTokenKey(c.env.LADDER_USER_TOKEN_SECRET), 'HS256');
    } catch {
      throw unauthorized('The user token is invalid or expired.', 'ladder-widget');
    }
    const claims = userClaimsSchema.safeParse(payload);
    if (!claims.success) throw unauthorized('The user token lacks required claims or has expired.', 'ladder-widget');
    user = Object.freeze(claims.data); // shared by every request that brings this token
    if (verifiedTokens.size >= VERIFIED_TOKENS_MAX) verifiedTokens.clear();
    verifiedTokens.set(memoKey, user);
  }
  if (user.exp * 1000 <= c.get('now')) {
    verifiedTokens.delete(memoKey);
    throw unauthorized('The user token lacks required claims or has expired.', 'ladder-widget');
  }
  c.set('user', user);
  await next();
};

/** Seconds a signed Stripe delivery stays acceptable (Stripe's own default). */
const SIGNATURE_TOLERANCE_SECONDS = 300;

/**
 * Stripe's webhook deliveries: no bearer, the `Stripe-Signature` header over the raw body is the
 * credential, verified with Web Crypto (400 `invalid_signature`; 503 without
 * STRIPE_WEBHOOK_SECRET). Sets `c.var.stripeEvent`.
 * @example stripeRouter() // stripeSignature() on every route
 */
export const stripeSignature = (): MiddlewareHandler<AppEnv> => async (c, next) => {
  const secret = c.env.STRIPE_WEBHOOK_SECRET;
  if (!secret) throw new ApiError('webhooks_not_configured', 'STRIPE_WEBHOOK_SECRET is not set.');
  const signature = c.req.header('stripe-signature');
  if (!signature) throw new ApiError('invalid_signature', 'The Stripe-Signature header is missing.', [{ path: 'Stripe-Signature', message: 'required' }]);
  const body = await readBodyText(c);
  try {
    c.set('stripeEvent', await Stripe.webhooks.constructEventAsync(body, signature, secret, SIGNATURE_TOLERANCE_SECONDS, Stripe.createSubtleCryptoProvider()));
  } catch (err) {
    const reason = err instanceof Error ? err.message : 'verification failed';
    throw new ApiError('invalid_signature', `The Stripe signature does not verify: ${reason}`, [{ path: 'Stripe-Signature', message: 'does not verify' }]);
  }
  await next();
};
