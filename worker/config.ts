/**
 * The worker's mode and the production safety check (../shared/API.md, *Production mode*).
 *
 * Production is the default: only `LADDER_ENV=development` or `test` turns it off, so a
 * deployment that forgets the variable fails closed. In production the worker refuses to serve
 * (503 `misconfigured`) while `configProblems` lists anything; the problems name settings,
 * never their values.
 */
import type { Env } from './env';

export type LadderMode = 'development' | 'test' | 'production';

/** Secrets shorter than this are refused in production (a 32-character random key is ~190 bits). */
const MIN_SECRET_LENGTH = 32;
const SECRETS = ['LADDER_SECRET_KEY', 'LADDER_ADMIN_KEY', 'LADDER_USER_TOKEN_SECRET'] as const;

/**
 * `development` or `test` when `LADDER_ENV` says exactly that; anything else, unset included, is production.
 * @example ladderMode({ LADDER_ENV: 'staging' }) // 'production'
 */
export function ladderMode(env: Pick<Env, 'LADDER_ENV'>): LadderMode {
  return env.LADDER_ENV === 'development' || env.LADDER_ENV === 'test' ? env.LADDER_ENV : 'production';
}

export const isProduction = (env: Pick<Env, 'LADDER_ENV'>) => ladderMode(env) === 'production';

/**
 * Whether upgrades go through Stripe or the local provider. `LADDER_BILLING=local` chooses local
 * explicitly (no charge); otherwise a Stripe key means Stripe, and no key means local outside
 * production only (in production that configuration is refused by `configProblems`).
 */
export function billingChoice(env: Pick<Env, 'LADDER_BILLING' | 'STRIPE_SECRET_KEY'>): 'stripe' | 'local' {
  if (env.LADDER_BILLING === 'local') return 'local';
  return env.STRIPE_SECRET_KEY ? 'stripe' : 'local';
}

/** A list entry of LADDER_ALLOWED_ORIGINS must be an origin: scheme, host and optional port, nothing else. */
const isOrigin = (value: string) => {
  try {
    const url = new URL(value);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === value;
  } catch {
    return false;
  }
};

/**
 * What would make this configuration unsafe to serve in production, whatever the current mode:
 * `[]` when it is safe. Each entry names the setting and the rule it breaks, never a value.
 * @example productionProblems({ LADDER_SECRET_KEY: 'short', … }) // ['LADDER_SECRET_KEY: shorter than 32 characters', …]
 */
export function productionProblems(env: Env): string[] {
  const problems: string[] = [];
  for (const name of SECRETS) {
    const value = env[name];
    if (!value) problems.push(`${name}: missing`);
    else if (value.length < MIN_SECRET_LENGTH) problems.push(`${name}: shorter than ${MIN_SECRET_LENGTH} characters`);
  }
  for (let i = 0; i < SECRETS.length; i++)
    for (let j = i + 1; j < SECRETS.length; j++)
      if (env[SECRETS[i]!] && env[SECRETS[i]!] === env[SECRETS[j]!]) problems.push(`${SECRETS[i]}, ${SECRETS[j]}: equal (each must be its own secret)`);
  const origins = (env.LADDER_ALLOWED_ORIGINS ?? '').split(',').map((o) => o.trim()).filter(Boolean);
  if (!origins.length) problems.push('LADDER_ALLOWED_ORIGINS: empty (list the origins of the app that embeds the widget)');
  else if (origins.includes('*')) problems.push('LADDER_ALLOWED_ORIGINS: "*" is not allowed in production');
  else if (!origins.every(isOrigin)) problems.push('LADDER_ALLOWED_ORIGINS: every entry must be an origin such as https://app.example.com');
  if (env.LADDER_BILLING !== undefined && env.LADDER_BILLING !== '' && env.LADDER_BILLING !== 'local' && env.LADDER_BILLING !== 'stripe')
    problems.push('LADDER_BILLING: must be "stripe" or "local"');
  if (env.LADDER_BILLING !== 'local') {
    if (!env.STRIPE_SECRET_KEY) problems.push('STRIPE_SECRET_KEY: missing (set it, or LADDER_BILLING=local to apply upgrades without charging)');
    if (!env.STRIPE_WEBHOOK_SECRET) problems.push('STRIPE_WEBHOOK_SECRET: missing (set it, or LADDER_BILLING=local to apply upgrades without charging)');
  }
  return problems;
}

/** The problems that stop this worker from serving: `productionProblems` in production, none otherwise. */
export const configProblems = (env: Env): string[] => (isProduction(env) ? productionProblems(env) : []);
