/**
 * `ladder/server`: the typed client a host backend uses to talk to Ladder, validated with
 * the same zod schemas as the worker's routes. Retries reuse the same idempotency key, so a
 * retry can never count twice. Web-standard APIs only: runs in Node 18+, workers and Deno.
 *
 * @example
 * const ladder = new LadderServer({ baseUrl: 'https://ladder.example.com', secretKey: process.env.LADDER_SECRET_KEY! });
 * await ladder.usage([{ account_id: 'acme', metric: 'api_calls', value: 1 }]);
 * const { allowed } = await ladder.check({ account_id: 'acme', metric: 'api_calls', amount: 1 });
 */
import { sign } from 'hono/jwt';
import type { z } from 'zod';
import { LadderError, type ErrorBody } from '../shared/errors';
import {
  checkFeatureSchema,
  checkMetricSchema,
  tokenRequestSchema,
  trackBatchSchema,
  usageBatchSchema,
  type accountInputSchema,
  type accountViewSchema,
  type batchResultSchema,
  type checkResultSchema,
  type tokenResultSchema,
} from '../shared/schemas';

/** The answers, typed from the response schemas the worker's routes declare. */
export type BatchResult = z.output<typeof batchResultSchema>;
export type CheckResult = z.output<typeof checkResultSchema>;
export type AccountView = z.output<typeof accountViewSchema>;
export type TokenResult = z.output<typeof tokenResultSchema>;

type WithOptionalKey<T> = Omit<T, 'idempotency_key'> & { idempotency_key?: string };
export type UsageEventInput = WithOptionalKey<z.input<typeof usageBatchSchema>['events'][number]>;
export type TrackEventInput = WithOptionalKey<z.input<typeof trackBatchSchema>['events'][number]>;

export type LadderServerOptions = {
  baseUrl: string;
  secretKey: string;
  /** LADDER_USER_TOKEN_SECRET, to sign user tokens locally without a round trip. */
  userTokenSecret?: string;
  /** Attempts for a failed request (network error, 429, 5xx); default 3. */
  retries?: number;
  fetch?: typeof fetch;
};

export { LadderError };

const retryable = (status: number) => status === 429 || status >= 500;

export class LadderServer {
  readonly #base: string;
  readonly #key: string;
  readonly #tokenSecret: string | undefined;
  readonly #retries: number;
  readonly #fetch: typeof fetch;

  constructor(options: LadderServerOptions) {
    this.#base = options.baseUrl.replace(/\/+$/, '');
    this.#key = options.secretKey;
    this.#tokenSecret = options.userTokenSecret;
    this.#retries = Math.max(1, options.retries ?? 3);
    this.#fetch = options.fetch ?? ((...args) => fetch(...args));
  }

  /** Record usage (keys are generated when missing and kept across retries). @example await ladder.usage([{ account_id: 'acme', metric: 'api_calls', value: 3 }]) */
  usage(events: UsageEventInput[]): Promise<BatchResult> {
    const body = usageBatchSchema.parse({ events: events.map(withKey) });
    return this.#call('POST', '/v1/usage', body);
  }

  /** Record behavioural events for PQA scoring. @example await ladder.track([{ account_id: 'acme', user_id: 'u1', event: 'teammate_invited' }]) */
  track(events: TrackEventInput[]): Promise<BatchResult> {
    const body = trackBatchSchema.parse({ events: events.map(withKey) });
    return this.#call('POST', '/v1/track', body);
  }

  /**
   * Atomic check-and-record of a metric (recorded only if allowed), or a feature check.
   * @example if (!(await ladder.check({ account_id: 'acme', metric: 'projects' })).allowed) showUpgrade()
   */
  check(input: { account_id: string; metric: string; amount?: number; idempotency_key?: string } | { account_id: string; feature: string }): Promise<CheckResult> {
    const body = 'feature' in input ? checkFeatureSchema.parse(input) : checkMetricSchema.parse(withKey(input));
    return this.#call('POST', '/v1/check', body);
  }

  /** Whether an account may use a feature or metric. @example await ladder.entitlement('acme', 'sso') */
  entitlement(accountId: string, key: string): Promise<CheckResult> {
    return this.#call('GET', `/v1/entitlements/${encodeURIComponent(accountId)}/${encodeURIComponent(key)}`);
  }

  /** Create or update an account. @example await ladder.putAccount('acme', { name: 'Acme', plan_id: 'starter' }) */
  putAccount(accountId: string, account: z.input<typeof accountInputSchema>): Promise<AccountView> {
    return this.#call('PUT', `/v1/accounts/${encodeURIComponent(accountId)}`, account);
  }

  /** Read an account with usage, entitlements and PQA. */
  account(accountId: string): Promise<AccountView> {
    return this.#call('GET', `/v1/accounts/${encodeURIComponent(accountId)}`);
  }

  /**
   * Sign a user token for the widget locally (HS256 with the user-token secret), the same
   * token `POST /v1/tokens` mints. @example const token = await ladder.signUserToken({ user_id: 'u1', account_id: 'acme', role: 'admin' })
   */
  async signUserToken(input: z.input<typeof tokenRequestSchema>, now = Date.now()): Promise<string> {
    if (!this.#tokenSecret) throw new Error('signUserToken needs the userTokenSecret option');
    const t = tokenRequestSchema.parse(input);
    const iat = Math.floor(now / 1000);
    return sign(
      {
        sub: t.user_id,
        acct: t.account_id,
        role: t.role,
        iat,
        exp: iat + t.ttl_seconds,
        ...(t.name && { name: t.name }),
        ...(t.email && { email: t.email }),
        ...(t.locale && { locale: t.locale }),
      },
      this.#tokenSecret,
      'HS256',
    );
  }

  async #call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let last: unknown;
    for (let attempt = 0; attempt < this.#retries; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, 100 * 2 ** attempt));
      try {
        const res = await this.#fetch(this.#base + path, {
          method,
          headers: { authorization: `Bearer ${this.#key}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
          ...(body !== undefined && { body: JSON.stringify(body) }),
        });
        if (res.ok) return (await res.json()) as T;
        const err = ((await res.json().catch(() => null)) as ErrorBody | null)?.error;
        last = new LadderError(res.status, err?.code ?? 'http', err?.message ?? `HTTP ${res.status}`, err?.details ?? []);
        if (!retryable(res.status)) throw last;
      } catch (e) {
        if (e instanceof LadderError && !retryable(e.status)) throw e;
        last = e;
      }
    }
    throw last;
  }
}

function withKey<T extends { idempotency_key?: string }>(event: T): T & { idempotency_key: string } {
  return { ...event, idempotency_key: event.idempotency_key ?? crypto.randomUUID() };
}
