/**
 * Component-level test fixture: a small node:http server that serves the built widget
 * (dist/public), host pages written by the test, a host token endpoint, and the widget
 * API routes answered from fixture JSON shaped as API.md ("Widget"). The real worker
 * replaces it in the end-to-end tests. Widget files get the headers the build's `_headers`
 * gives them (as the worker's static assets do).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Claims, Preview, Prompt, Role, WidgetState } from '../src/types';

const dist = fileURLToPath(new URL('../../dist/public/', import.meta.url));

const b64url = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');

/** An HS256-shaped JWT; the fixture does not verify signatures (the widget never does). */
export const makeToken = (claims: Claims) =>
  `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url(claims)}.c2lnbmF0dXJl`;

/** DESIGN.md threshold for a percentage. */
const thresholdOf = (pct: number) => ([100, 90, 75, 50] as const).find((t) => pct >= t) ?? null;

/** A limit notice as the worker renders it (copy from shared/prompts.ts defaults). */
export function limitPrompt(pct: number, over: Omit<Partial<Prompt>, 'serve_token'> = {}): Prompt {
  const t = thresholdOf(pct)!;
  const copy: Record<number, [string, string, string]> = {
    50: ["You're halfway through your API calls", 'View usage', ''],
    75: ['Approaching your API calls limit', 'Compare plans', 'Remind me later'],
    90: ['Almost at your API calls limit', 'Upgrade', 'Remind me later'],
    100: ['API calls limit reached', 'Upgrade', ''],
  };
  const [title, cta_label, secondary_label] = copy[t]!;
  return {
    id: `limit-api_calls-${t}`,
    kind: 'limit_notice',
    metric: 'api_calls',
    threshold: t,
    blocking: t === 100,
    variant_id: 'b',
    experiment_id: 'exp_1',
    title,
    body: `You've used ${pct}% of the API calls in Starter.`,
    cta_label,
    secondary_label,
    serve_token: `st-limit-${t}`,
    ...over,
  };
}

export function invitePrompt(blocking: boolean): Prompt {
  return {
    id: blocking ? 'invite-block' : 'invite',
    kind: 'invite',
    blocking,
    variant_id: null,
    experiment_id: null,
    title: 'Bring your whole team',
    body: 'Seats on Starter are filling up.',
    cta_label: 'Invite teammates',
    secondary_label: blocking ? '' : 'Remind me later',
    serve_token: 'st-invite',
  };
}

export const gatePrompt = (feature: string): Prompt => ({
  id: `gate-${feature}`,
  kind: 'feature_gate',
  feature_id: feature,
  blocking: false,
  variant_id: null,
  experiment_id: null,
  title: 'Unlock Single sign-on',
  body: 'Single sign-on lets your team log in with your identity provider. It is included in Business.',
  cta_label: 'Upgrade',
  secondary_label: 'Maybe later',
  serve_token: `st-gate-${feature}`,
});

/** `GET /v1/widget/state` for an account on Starter, API calls at `pct`. */
export function widgetState(acct: string, role: Role, pct = 40, prompts: Prompt[] = []): WidgetState {
  const used = pct * 100;
  return {
    account: {
      id: acct,
      name: 'Acme',
      role,
      plan: { id: 'starter', name: 'Starter', price_cents: 5000, currency: 'usd', interval: 'month' },
      seats: { used: 3, limit: 5 },
    },
    scheduled_change: null,
    meters: [
      {
        metric: 'api_calls',
        name: 'API calls',
        unit: 'call',
        kind: 'counter',
        used,
        limit: 10000,
        pct,
        threshold: thresholdOf(pct),
        period_end: '2026-12-01T00:00:00Z',
        projected_at_period_end: Math.round(used * 1.6),
      },
      { metric: 'seats', name: 'Seats', unit: 'seat', kind: 'gauge', used: 3, limit: 5, pct: 60, threshold: 50, period_end: null, projected_at_period_end: null },
    ],
    features: {
      sso: { name: 'Single sign-on', description: 'Log in with your identity provider.', trial_days: 14, entitled: false, trial_available: true, trial_ends_at: null, required_plan: 'business' },
      exports: { name: 'Exports', description: 'CSV exports.', trial_days: 0, entitled: true, trial_available: false, trial_ends_at: null, required_plan: null },
    },
    prompts,
    upgrade_options: [
      { plan_id: 'business', name: 'Business', rank: 2, price_cents: 10000, currency: 'usd', interval: 'month', limits: { api_calls: 50000 }, features: ['sso', 'exports'] },
      { plan_id: 'enterprise', name: 'Enterprise', rank: 3, price_cents: 50000, currency: 'usd', interval: 'month', limits: { api_calls: null }, features: ['sso', 'exports'] },
    ],
    caps: { session_prompts_left: 2 },
  };
}

interface Recorded {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: any;
}

export interface FixtureApi {
  origin: string;
  /** Every request the server saw, in order. */
  requests: Recorded[];
  /** The status of each `/v1/widget/state` answered (200, or 304 when revalidated unchanged), in order. */
  answers: number[];
  /** What `/v1/widget/state` answers; tests replace or edit it. */
  state: WidgetState;
  /** What the host's `/ladder-token` answers (after `tokenQueue` runs out). */
  token: string;
  tokenQueue: string[];
  /** Tokens the API refuses with 401. */
  revoked: Set<string>;
  /** When set, `/v1/widget/state` waits for this promise. */
  hold: Promise<void> | null;
  preview: Preview;
  upgradeStatus: 'succeeded' | 'failed';
  /** Serves `html` at a fresh path, optionally with a Content-Security-Policy; returns its URL. */
  page(html: string, csp?: string): string;
  calls(method: string, path: string): Recorded[];
  /** New account and user (so localStorage caches do not cross tests), default state. */
  reset(role?: Role): void;
  close(): Promise<void>;
  /** The built files served at /ladder.js and /widget/* (dist/public unless started with another; a test swaps it to deploy). */
  dist: string;
}

/** The rules of dist/public/_headers (Cloudflare's format: a path, `*` at its end, then indented `Name: value` lines). */
async function assetHeaders(): Promise<(path: string) => Record<string, string>> {
  const rules: { prefix: string; headers: Record<string, string> }[] = [];
  for (const line of (await readFile(dist + '_headers', 'utf8')).split('\n')) {
    if (/^\S/.test(line)) rules.push({ prefix: line.trim().replace(/\*$/, ''), headers: {} });
    else if (line.includes(':')) rules.at(-1)!.headers[line.split(':')[0]!.trim().toLowerCase()] = line.slice(line.indexOf(':') + 1).trim();
  }
  return (path) => Object.assign({}, ...rules.filter((r) => path.startsWith(r.prefix)).map((r) => r.headers));
}

const types: Record<string, string> = { js: 'text/javascript', json: 'application/json', html: 'text/html' };

export async function startFixtureApi(options: { dist?: string } = {}): Promise<FixtureApi> {
  const pages = new Map<string, { html: string; csp?: string }>();
  const headersFor = await assetHeaders();
  let n = 0;
  const fx = { requests: [], answers: [], revoked: new Set(), tokenQueue: [], hold: null, dist: options.dist ?? dist } as unknown as FixtureApi;

  fx.reset = (role = 'admin') => {
    const acct = `acct_${++n}`;
    fx.token = makeToken({ sub: `user_${n}`, acct, role, locale: 'en-US', exp: Math.floor(Date.now() / 1000) + 3600 });
    fx.tokenQueue = [];
    fx.revoked.clear();
    fx.state = widgetState(acct, role);
    fx.requests.length = 0;
    fx.answers.length = 0;
    fx.hold = null;
    fx.upgradeStatus = 'succeeded';
    fx.preview = {
      amount_due_now_cents: 2500,
      currency: 'usd',
      next_amount_cents: 10000,
      next_billing_date: '2026-12-01T00:00:00Z',
      proration_date: 1795000000,
      plan_id: 'pro',
      seats: 5,
      interval: 'month',
      message:
        'You will be charged $25.00 now for the remainder of this billing period, then $100.00/month starting December 1, 2026.',
      billing: 'local',
    };
  };
  fx.page = (html, csp) => {
    const path = `/host/${++n}`;
    pages.set(path, { html, csp });
    return fx.origin + path;
  };
  fx.calls = (method, path) => fx.requests.filter((r) => r.method === method && r.path === path);

  const api: Record<string, (body: any) => [number, object]> = {
    'GET /v1/widget/state': () => [200, fx.state],
    'POST /v1/widget/events': (b) => [200, { accepted: b.events.length, duplicates: 0 }],
    'POST /v1/widget/upgrade/preview': () => [200, fx.preview],
    'POST /v1/widget/upgrade': (b) => {
      if (fx.state.account.role !== 'admin')
        return [403, { error: { code: 'admin_required', message: 'Only an admin can upgrade.', details: [] } }];
      if (fx.upgradeStatus === 'failed')
        return [200, { status: 'failed', plan_id: 'starter', amount_charged_cents: 0, message: 'Your card was declined.', billing: 'local' }];
      const plan = fx.state.upgrade_options.find((o) => o.plan_id === b.plan_id);
      if (plan) {
        fx.state.account.plan = { id: plan.plan_id, name: plan.name, price_cents: plan.price_cents, currency: plan.currency, interval: plan.interval };
        const m = fx.state.meters[0]!;
        Object.assign(m, { limit: 50000, pct: Math.floor((m.used * 100) / 50000) });
        fx.state.prompts = [];
      }
      return [200, { status: 'succeeded', plan_id: b.plan_id ?? 'starter', seats: b.seats, amount_charged_cents: 2500, message: `You're now on ${plan?.name ?? 'more seats'}.`, billing: 'local' }];
    },
    'POST /v1/widget/upgrade-requests': () => [201, { ok: true }],
    'POST /v1/widget/upgrade-requests/upr_2/decline': () => {
      fx.state.upgrade_requests = fx.state.upgrade_requests?.filter((r) => r.id !== 'upr_2');
      return [200, { id: 'upr_2', status: 'declined' }];
    },
    // Keeping customers (API.md "Plan changes that keep customers").
    'POST /v1/widget/downgrade/preview': (b) =>
      b.seats !== undefined
        ? [200, { plan_id: fx.state.account.plan.id, seats: b.seats, effective_at: '2026-12-01T00:00:00Z', message: `Your seats drop to ${b.seats} on December 1, 2026; nothing is refused until then.` }]
        : [200, { plan_id: b.plan_id, effective_at: '2026-12-01T00:00:00Z', message: 'Your plan changes to Starter on December 1, 2026, then $50.00/month; nothing is refused until then.' }],
    'POST /v1/widget/downgrade': (b) => {
      fx.state.scheduled_change = { kind: 'downgrade', plan_id: b.plan_id ?? fx.state.account.plan.id, seats: b.seats ?? null, effective_at: '2026-12-01T00:00:00Z' };
      return [200, { status: 'scheduled', kind: 'downgrade', effective_at: '2026-12-01T00:00:00Z' }];
    },
    'DELETE /v1/widget/scheduled-change': () => {
      const kind = fx.state.scheduled_change?.kind;
      fx.state.scheduled_change = null;
      return [200, kind ? { status: 'undone', kind } : { status: 'none' }];
    },
    'POST /v1/widget/cancel/offer': (b) => [200, { offer: b.reason === 'too_expensive' ? { id: 'sof_1', kind: 'discount', percent_off: 25, months: 3, title: 'Stay for less', message: 'Keep Business at 25% off for the next 3 months.' } : { id: 'sof_2', kind: 'none', title: '', message: 'We are sorry to see you go.' } }],
    'POST /v1/widget/cancel/accept': () => [200, { status: 'accepted', kind: 'discount', message: 'Done: 25% off for the next 3 months.', saved_mrr_cents: 7500 }],
    'POST /v1/widget/cancel': (b) => {
      fx.state.scheduled_change = { kind: 'cancel', reason: b.reason, effective_at: '2026-12-01T00:00:00Z' };
      return [200, { status: 'scheduled', kind: 'cancel', effective_at: '2026-12-01T00:00:00Z' }];
    },
    'POST /v1/widget/trials': (b) => {
      const f = fx.state.features[b.feature_id];
      if (!f) return [404, { error: { code: 'not_found', message: 'No such feature.', details: [] } }];
      Object.assign(f, { entitled: true, trial_available: false, trial_ends_at: '2026-12-15T00:00:00Z' });
      return [200, { trial_ends_at: '2026-12-15T00:00:00Z' }];
    },
  };

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    let raw = '';
    for await (const chunk of req) raw += chunk;
    const body = raw ? JSON.parse(raw) : undefined;
    fx.requests.push({ method: req.method!, path: url.pathname, query: url.searchParams, headers: req.headers, body });
    const send = (status: number, data: string | Buffer, type: string, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', ...headers });
      res.end(data);
    };
    try {
      const page = pages.get(url.pathname);
      if (page) return send(200, page.html, types.html!, page.csp ? { 'content-security-policy': page.csp } : {});
      if (url.pathname === '/ladder-token') return send(200, JSON.stringify({ token: fx.tokenQueue.shift() ?? fx.token }), types.json!);
      if (url.pathname === '/ladder.js' || url.pathname.startsWith('/widget/')) {
        const file = url.pathname.slice(1).replace(/\.\./g, '');
        // a file the deployment does not have is a 404, as from the static assets
        const data = await readFile(join(fx.dist, file)).catch(() => null);
        if (!data) return send(404, 'Not found', 'text/plain', headersFor(url.pathname));
        return send(200, data, types[file.split('.').pop()!] ?? 'application/octet-stream', headersFor(url.pathname));
      }
      const route = api[`${req.method} ${url.pathname}`];
      if (!route) return send(404, JSON.stringify({ error: { code: 'not_found', message: 'No such route.', details: [] } }), types.json!);
      const token = req.headers.authorization?.replace(/^Bearer /, '');
      if (!token || fx.revoked.has(token))
        return send(401, JSON.stringify({ error: { code: 'unauthorized', message: 'Bad token.', details: [] } }), types.json!);
      if (url.pathname === '/v1/widget/state' && fx.hold) await fx.hold;
      const [status, json] = route(body);
      if (url.pathname === '/v1/widget/state' && status === 200) {
        // As the worker does: an ETag over the body, and 304 without one when If-None-Match has it.
        const text = JSON.stringify(json);
        const tag = `"${createHash('sha1').update(text).digest('hex')}"`;
        fx.answers.push(req.headers['if-none-match'] === tag ? 304 : 200);
        if (req.headers['if-none-match'] === tag) return send(304, '', types.json!, { etag: tag });
        return send(200, text, types.json!, { etag: tag });
      }
      send(status, JSON.stringify(json), types.json!);
    } catch (e) {
      send(500, String(e), 'text/plain');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  fx.origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // closeAllConnections: a socket Chromium opened ahead of a request it never sent is not idle to
  // Node, and would hold close() until the headers timeout (a minute) — on a busy machine it does.
  fx.close = () => new Promise((r) => (server.close(() => r()), server.closeAllConnections()));
  fx.reset();
  return fx;
}

/** A host page that loads the widget with a script tag. */
export const hostPage = (body: string, attrs = 'data-token-url="/ladder-token"', head = '') =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Host app</title>${head}` +
  `<script async src="/ladder.js" ${attrs}></script></head><body><main><h1>Host app</h1>${body}</main></body></html>`;
