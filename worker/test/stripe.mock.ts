/**
 * A local HTTP server (node:http) that speaks Stripe's wire format for the calls Ladder
 * makes, so the worker tests drive the real `stripe` client end to end: form-encoded
 * requests parsed as Stripe parses them (`items[0][price]=…`), JSON objects shaped like
 * Stripe's, `Idempotency-Key` replay, Stripe's per-line proration rounding, declined and
 * 3-D Secure payments under `payment_behavior=pending_if_incomplete`, and webhook
 * deliveries signed with the real `t=…,v1=<HMAC-SHA256>` scheme.
 *
 * Stripe API (Bearer `sk_test_…`):
 * - `GET /v1/subscriptions/:id`, `POST /v1/subscriptions/:id` (update: items with proration, or without an
 *   invoice `cancel_at_period_end`, `pause_collection`, `discounts` and items with `proration_behavior=none`;
 *   a new billing interval starts a new period), `POST /v1/coupons`, `POST /v1/invoices/create_preview`,
 *   `GET /v1/invoices/:id`, `GET /v1/payment_intents/:id`.
 * Test controls (JSON, no auth):
 * - `POST /__mock/seed` `{ prices, customers, subscriptions }` — creates or replaces objects.
 *   A customer's `card` is `ok` (default), `decline` or `requires_action`; `fail` maps an
 *   operation (`preview`, `update`, `retrieve`) to `{ status, type, message }` to answer instead.
 * - `GET /__mock/subscriptions/:id` → `{ subscription, invoices, requests }` (what Stripe saw).
 * - `GET /__mock/events/:subscription` → the events Stripe generated about that subscription.
 * - `POST /__mock/sign` `{ payload, secret, timestamp? }` → `{ header }` (a `Stripe-Signature` value).
 * - `POST /__mock/event` `{ type, object, created?, id? }` → `{ event, payload }`, an event shaped like Stripe's.
 * Ids are chosen by the tests, so test files running in parallel never share objects.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

type Obj = Record<string, any>;
type Failure = { status: number; type: string; message: string; code?: string };

const API_VERSION = '2026-10-28.endive';
const nowSeconds = () => Math.floor(Date.now() / 1000);
const newId = (prefix: string) => `${prefix}_${randomBytes(12).toString('hex')}`;

/**
 * Parse a form body or query string the way Stripe does: `a[b][0][c]=v` → `{ a: { b: [{ c: 'v' }] } }`.
 * @example parseForm('items[0][id]=si_1&expand[0]=latest_invoice') // { items: [{ id: 'si_1' }], expand: ['latest_invoice'] }
 */
function parseForm(body: string): Obj {
  const out: Obj = {};
  for (const [key, value] of new URLSearchParams(body)) {
    const path = key.replace(/\]/g, '').split('[');
    let node: any = out;
    path.forEach((part, i) => {
      const last = i === path.length - 1;
      const nextIsIndex = !last && /^\d+$/.test(path[i + 1]!);
      const slot = Array.isArray(node) ? Number(part) : part;
      if (last) node[slot] = value;
      else node = node[slot] ??= nextIsIndex ? [] : {};
    });
  }
  return out;
}

/** The `Stripe-Signature` header Stripe sends with `payload`. */
function signature(payload: string, secret: string, timestamp = nowSeconds()): string {
  const v1 = createHmac('sha256', secret).update(`${timestamp}.${payload}`, 'utf8').digest('hex');
  return `t=${timestamp},v1=${v1}`;
}

/** The same second one calendar year later (29 February → 28 February), as Stripe renews a yearly price. */
function oneYearAfterSeconds(t: number): number {
  const d = new Date(t * 1000);
  const year = d.getUTCFullYear() + 1;
  const days = new Date(Date.UTC(year, d.getUTCMonth() + 1, 0)).getUTCDate();
  return Date.UTC(year, d.getUTCMonth(), Math.min(d.getUTCDate(), days), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()) / 1000;
}

const list = (data: unknown[], url: string) => ({ object: 'list', data, has_more: false, url });

class StripeState {
  prices = new Map<string, Obj>();
  customers = new Map<string, Obj>();
  subscriptions = new Map<string, Obj>();
  invoices = new Map<string, Obj>();
  intents = new Map<string, Obj>();
  coupons = new Map<string, Obj>();
  events: Obj[] = [];
  requests: { method: string; path: string; params: Obj; idempotencyKey: string | null; subscription: string | null }[] = [];
  idempotency = new Map<string, { body: string; status: number; response: string }>();

  price(id: string): Obj {
    const p = this.prices.get(id);
    if (!p) throw new StripeFailure(400, 'invalid_request_error', `No such price: '${id}'`, 'resource_missing');
    return p;
  }

  seed(s: Obj) {
    for (const p of s.prices ?? [])
      this.prices.set(p.id, { id: p.id, object: 'price', active: true, currency: p.currency ?? 'usd', unit_amount: p.unit_amount, recurring: { interval: p.interval ?? 'month', interval_count: 1 }, product: p.product ?? `prod_${p.id}`, type: 'recurring' });
    for (const c of s.customers ?? []) this.customers.set(c.id, { id: c.id, object: 'customer', card: c.card ?? 'ok', fail: c.fail ?? {} });
    for (const sub of s.subscriptions ?? []) {
      const items = (sub.items as Obj[]).map((i) => this.item(sub.id, i.id ?? newId('si'), i.price, Number(i.quantity ?? 1), sub.current_period_start, sub.current_period_end));
      this.subscriptions.set(sub.id, {
        id: sub.id, object: 'subscription', customer: sub.customer, status: sub.status ?? 'active', currency: 'usd',
        items: list(items, `/v1/subscription_items?subscription=${sub.id}`), latest_invoice: null, pending_update: null,
        metadata: sub.metadata ?? {}, created: sub.current_period_start, start_date: sub.current_period_start,
        billing_cycle_anchor: sub.current_period_start, cancel_at_period_end: false, livemode: false,
      });
    }
  }

  item(subscription: string, id: string, priceId: string, quantity: number, start: number, end: number): Obj {
    return { id, object: 'subscription_item', price: this.price(priceId), quantity, subscription, current_period_start: start, current_period_end: end, created: start, metadata: {} };
  }

  /** The proration lines of moving `sub` to `changes` at `t`, each line rounded on its own as Stripe does. */
  prorate(sub: Obj, changes: Obj[], t: number) {
    const items: Obj[] = sub.items.data;
    const { current_period_start: start, current_period_end: end } = items[0]!;
    if (t < start || t > end) throw new StripeFailure(400, 'invalid_request_error', 'The proration_date must be within the current subscription period.', 'parameter_invalid_integer');
    const share = (cents: number) => Math.round((cents * (end - t)) / (end - start));
    // A new billing interval resets the billing cycle to now: the new price is charged in full for a new period.
    const newInterval = changes.some((ch) => {
      const existing = ch.id ? items.find((i) => i.id === ch.id) : undefined;
      return existing && ch.price && this.price(ch.price).recurring.interval !== existing.price.recurring.interval;
    });
    const [pStart, pEnd] = newInterval ? [t, oneYearAfterSeconds(t)] : [start, end];
    const lines: Obj[] = [];
    const after: Obj[] = items.map((i) => (newInterval ? this.item(sub.id, i.id, i.price.id, i.quantity, pStart, pEnd) : { ...i }));
    for (const ch of changes) {
      const existing = ch.id ? items.find((i) => i.id === ch.id) : undefined;
      if (ch.id && !existing) throw new StripeFailure(400, 'invalid_request_error', `No such subscription item: '${ch.id}'`, 'resource_missing');
      const deleted = ch.deleted === 'true';
      const price = ch.price ? this.price(ch.price) : existing!.price;
      const quantity = deleted ? 0 : ch.quantity !== undefined ? Number(ch.quantity) : existing?.quantity ?? 1;
      if (existing) {
        lines.push({ amount: -share(existing.price.unit_amount * existing.quantity), description: `Unused time on ${existing.quantity} × ${existing.price.id}`, proration: true });
        const idx = after.findIndex((i) => i.id === existing.id);
        if (deleted) after.splice(idx, 1);
        else after[idx] = this.item(sub.id, existing.id, price.id, quantity, pStart, pEnd);
      } else {
        after.push(this.item(sub.id, newId('si'), price.id, quantity, pStart, pEnd));
      }
      if (!deleted)
        lines.push(
          newInterval
            ? { amount: price.unit_amount * quantity, description: `${quantity} × ${price.id} (a new ${price.recurring.interval})`, proration: false }
            : { amount: share(price.unit_amount * quantity), description: `Remaining time on ${quantity} × ${price.id}`, proration: true },
        );
    }
    const total = lines.reduce((s, l) => s + l.amount, 0);
    return { lines, total, after, start: pStart, end: pEnd };
  }

  invoice(sub: Obj, p: { lines: Obj[]; total: number; start: number; end: number }, preview: boolean): Obj {
    const id = preview ? `upcoming_${newId('in')}` : newId('in');
    return {
      id, object: 'invoice', customer: sub.customer, currency: 'usd', status: preview ? 'draft' : 'open',
      amount_due: Math.max(0, p.total), amount_paid: 0, amount_remaining: Math.max(0, p.total), total: p.total, subtotal: p.total,
      billing_reason: 'subscription_update', created: nowSeconds(), period_start: p.start, period_end: p.end,
      parent: { type: 'subscription_details', subscription_details: { subscription: sub.id, metadata: {} }, quote_details: null },
      lines: list(p.lines.map((l) => ({ id: newId('il'), object: 'line_item', currency: 'usd', ...l })), `/v1/invoices/${id}/lines`),
      payments: list([], `/v1/invoice_payments`), livemode: false, attempted: false, attempt_count: 0,
    };
  }

  event(type: string, object: Obj, extra: Obj = {}): Obj {
    const e = { id: newId('evt'), object: 'event', api_version: API_VERSION, created: nowSeconds(), type, livemode: false, pending_webhooks: 1, request: { id: null, idempotency_key: null }, data: { object: structuredClone(object) }, ...extra };
    this.events.push(e);
    return e;
  }

  expand(sub: Obj, expand: string[]): Obj {
    const out = structuredClone(sub);
    if (expand.some((e) => e === 'latest_invoice' || e.startsWith('latest_invoice.')) && out.latest_invoice) out.latest_invoice = structuredClone(this.invoices.get(out.latest_invoice));
    return out;
  }

  /**
   * An update that charges nothing now: `cancel_at_period_end`, `pause_collection`, `discounts`,
   * or items changed with `proration_behavior=none` (the next invoice is at the new prices).
   */
  updateWithoutInvoice(sub: Obj, params: Obj): Obj {
    if (params.cancel_at_period_end !== undefined) {
      sub.cancel_at_period_end = params.cancel_at_period_end === 'true';
      sub.cancel_at = sub.cancel_at_period_end ? sub.items.data[0].current_period_end : null;
    }
    if (params.pause_collection !== undefined)
      sub.pause_collection = params.pause_collection === '' ? null : { behavior: params.pause_collection.behavior, resumes_at: params.pause_collection.resumes_at ? Number(params.pause_collection.resumes_at) : null };
    if (params.discounts !== undefined) {
      sub.discounts = (params.discounts === '' ? [] : (params.discounts as Obj[])).map((d) => {
        const coupon = this.coupons.get(d.coupon);
        if (!coupon) throw new StripeFailure(400, 'invalid_request_error', `No such coupon: '${d.coupon}'`, 'resource_missing');
        return { id: newId('di'), object: 'discount', coupon, subscription: sub.id, start: nowSeconds() };
      });
    }
    if (params.items) {
      const { current_period_start: start, current_period_end: end } = sub.items.data[0];
      const after: Obj[] = sub.items.data.map((i: Obj) => ({ ...i }));
      for (const ch of params.items as Obj[]) {
        const idx = ch.id ? after.findIndex((i) => i.id === ch.id) : -1;
        if (ch.id && idx < 0) throw new StripeFailure(400, 'invalid_request_error', `No such subscription item: '${ch.id}'`, 'resource_missing');
        if (ch.deleted === 'true') after.splice(idx, 1);
        else {
          const existing = idx >= 0 ? after[idx] : undefined;
          const item = this.item(sub.id, existing?.id ?? newId('si'), ch.price ?? existing!.price.id, Number(ch.quantity ?? existing?.quantity ?? 1), start, end);
          if (idx >= 0) after[idx] = item;
          else after.push(item);
        }
      }
      sub.items.data = after;
    }
    this.event('customer.subscription.updated', sub);
    return sub;
  }

  updateSubscription(sub: Obj, params: Obj): Obj {
    const customer = this.customers.get(sub.customer) ?? { card: 'ok', fail: {} };
    if (customer.fail.update) throw StripeFailure.from(customer.fail.update);
    if (!params.items || params.proration_behavior === 'none') return this.updateWithoutInvoice(sub, params);
    if (params.proration_behavior !== 'always_invoice') throw new StripeFailure(400, 'invalid_request_error', 'This mock expects proration_behavior=always_invoice.');
    const t = params.proration_date !== undefined ? Number(params.proration_date) : nowSeconds();
    const p = this.prorate(sub, params.items ?? [], t);
    const invoice = this.invoice(sub, p, false);
    this.invoices.set(invoice.id, invoice);
    sub.latest_invoice = invoice.id;
    const intent: Obj = { id: newId('pi'), object: 'payment_intent', amount: invoice.amount_due, currency: 'usd', customer: sub.customer, status: 'succeeded', last_payment_error: null };
    const card = invoice.amount_due === 0 ? 'ok' : customer.card;
    if (card === 'decline') {
      intent.status = 'requires_payment_method';
      intent.last_payment_error = { type: 'card_error', code: 'card_declined', decline_code: 'insufficient_funds', message: 'Your card has insufficient funds.' };
    } else if (card === 'requires_action') {
      intent.status = 'requires_action';
    }
    this.intents.set(intent.id, intent);
    invoice.attempted = true;
    invoice.attempt_count = 1;
    invoice.payments = list([{ id: newId('inpay'), object: 'invoice_payment', invoice: invoice.id, is_default: true, status: card === 'ok' ? 'paid' : 'open', amount_requested: invoice.amount_due, amount_paid: card === 'ok' ? invoice.amount_due : null, payment: { type: 'payment_intent', payment_intent: intent.id } }], `/v1/invoice_payments?invoice=${invoice.id}`);
    if (card === 'ok') {
      if (params.payment_behavior !== 'pending_if_incomplete' && params.payment_behavior !== undefined && params.payment_behavior !== 'allow_incomplete' && params.payment_behavior !== 'error_if_incomplete')
        throw new StripeFailure(400, 'invalid_request_error', `Invalid payment_behavior: ${params.payment_behavior}`);
      invoice.status = 'paid';
      invoice.amount_paid = invoice.amount_due;
      invoice.amount_remaining = 0;
      sub.items.data = p.after;
      sub.pending_update = null;
      this.event('customer.subscription.updated', sub);
      this.event('invoice.paid', invoice);
    } else if (params.payment_behavior === 'pending_if_incomplete') {
      sub.pending_update = { expires_at: nowSeconds() + 23 * 3600, subscription_items: p.after, billing_cycle_anchor: null, trial_end: null, trial_from_plan: null };
      if (card === 'decline') this.event('invoice.payment_failed', invoice);
    } else {
      throw new StripeFailure(402, 'card_error', intent.last_payment_error?.message ?? 'Your card was declined.', 'card_declined');
    }
    return sub;
  }
}

class StripeFailure extends Error {
  constructor(readonly status: number, readonly type: string, message: string, readonly code?: string) {
    super(message);
  }
  static from(f: Failure) {
    return new StripeFailure(f.status, f.type, f.message, f.code);
  }
  body() {
    return { error: { type: this.type, message: this.message, ...(this.code && { code: this.code }), request_log_url: 'https://dashboard.stripe.com/test/logs/req_mock' } };
  }
}

const readBody = (req: IncomingMessage) =>
  new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });

const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'request-id': newId('req'), 'stripe-version': API_VERSION, ...headers }).end(text);
};

/**
 * Start the mock on 127.0.0.1 (a free port unless given).
 * @example const { port, close } = await startStripeMock()
 */
export async function startStripeMock(port = 0): Promise<{ port: number; server: Server; close: () => Promise<void> }> {
  const s = new StripeState();

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://stripe.mock');
    const raw = await readBody(req);
    const parts = url.pathname.split('/').filter(Boolean);

    if (parts[0] === '__mock') {
      const json = raw ? JSON.parse(raw) : {};
      if (req.method === 'POST' && parts[1] === 'seed') {
        s.seed(json);
        return send(res, 200, { ok: true });
      }
      if (req.method === 'GET' && parts[1] === 'subscriptions' && parts[2]) {
        const sub = s.subscriptions.get(parts[2]);
        if (!sub) return send(res, 404, { error: 'no such subscription' });
        const invoices = [...s.invoices.values()].filter((i) => i.parent?.subscription_details?.subscription === sub.id);
        return send(res, 200, { subscription: sub, invoices, requests: s.requests.filter((r) => r.subscription === sub.id) });
      }
      if (req.method === 'GET' && parts[1] === 'events' && parts[2]) {
        const id = parts[2];
        return send(res, 200, s.events.filter((e) => e.data.object.id === id || e.data.object.parent?.subscription_details?.subscription === id));
      }
      if (req.method === 'POST' && parts[1] === 'sign') return send(res, 200, { header: signature(json.payload, json.secret, json.timestamp) });
      if (req.method === 'POST' && parts[1] === 'event') {
        const event = s.event(json.type, json.object, { ...(json.created !== undefined && { created: json.created }), ...(json.id && { id: json.id }) });
        return send(res, 200, { event, payload: JSON.stringify(event, null, 2) });
      }
      return send(res, 404, { error: 'unknown mock control' });
    }

    if (!/^Bearer sk_(test|live)_\S+$/.test(req.headers.authorization ?? ''))
      return send(res, 401, new StripeFailure(401, 'invalid_request_error', 'Invalid API Key provided.').body());
    const params = req.method === 'GET' ? parseForm(url.search.slice(1)) : parseForm(raw);
    const idempotencyKey = (req.headers['idempotency-key'] as string | undefined) ?? null;
    const subscriptionId = parts[1] === 'subscriptions' ? parts[2] ?? null : (params.subscription as string | undefined) ?? null;
    s.requests.push({ method: req.method ?? '', path: url.pathname, params, idempotencyKey, subscription: subscriptionId });

    if (req.method === 'POST' && idempotencyKey) {
      const seen = s.idempotency.get(idempotencyKey);
      if (seen && seen.body !== raw)
        return send(res, 400, new StripeFailure(400, 'idempotency_error', 'Keys for idempotent requests can only be used with the same parameters they were first used with.').body());
      if (seen) return send(res, seen.status, seen.response, { 'idempotent-replayed': 'true' });
    }

    let status = 200;
    let body: unknown;
    try {
      body = route(req.method ?? 'GET', parts, params);
    } catch (err) {
      if (!(err instanceof StripeFailure)) throw err;
      status = err.status;
      body = err.body();
    }
    const text = JSON.stringify(body);
    if (req.method === 'POST' && idempotencyKey && status < 500) s.idempotency.set(idempotencyKey, { body: raw, status, response: text });
    return send(res, status, text);
  }

  function route(method: string, parts: string[], params: Obj): unknown {
    const expand: string[] = params.expand ?? [];
    const subscription = (id: string | undefined) => {
      const sub = id ? s.subscriptions.get(id) : undefined;
      if (!sub) throw new StripeFailure(404, 'invalid_request_error', `No such subscription: '${id}'`, 'resource_missing');
      return sub;
    };
    const failFor = (sub: Obj, op: string) => {
      const f = s.customers.get(sub.customer)?.fail?.[op];
      if (f) throw StripeFailure.from(f);
    };
    if (parts[0] !== 'v1') throw new StripeFailure(404, 'invalid_request_error', `Unrecognized request URL (${method}: /${parts.join('/')}).`);
    const [, resource, id, action] = parts;
    if (resource === 'subscriptions' && id && !action) {
      const sub = subscription(id);
      if (method === 'GET') {
        failFor(sub, 'retrieve');
        return s.expand(sub, expand);
      }
      return s.expand(s.updateSubscription(sub, params), expand);
    }
    if (resource === 'invoices' && id === 'create_preview' && method === 'POST') {
      const sub = subscription(params.subscription);
      if (params.customer && params.customer !== sub.customer) throw new StripeFailure(400, 'invalid_request_error', 'The subscription does not belong to this customer.');
      failFor(sub, 'preview');
      const details = params.subscription_details ?? {};
      if (details.proration_behavior !== 'always_invoice') throw new StripeFailure(400, 'invalid_request_error', 'This mock expects subscription_details[proration_behavior]=always_invoice.');
      const t = details.proration_date !== undefined ? Number(details.proration_date) : nowSeconds();
      return s.invoice(sub, s.prorate(sub, details.items ?? [], t), true);
    }
    if (resource === 'coupons' && !id && method === 'POST') {
      const percent = Number(params.percent_off);
      if (!(percent > 0 && percent <= 100)) throw new StripeFailure(400, 'invalid_request_error', 'Invalid percent_off: must be between 0 and 100.', 'parameter_invalid_integer');
      if (params.duration === 'repeating' && !params.duration_in_months)
        throw new StripeFailure(400, 'invalid_request_error', 'duration_in_months is required when duration is repeating.', 'parameter_missing');
      const coupon = { id: newId('coupon'), object: 'coupon', percent_off: percent, duration: params.duration, duration_in_months: params.duration_in_months ? Number(params.duration_in_months) : null, name: params.name ?? null, valid: true, livemode: false };
      s.coupons.set(coupon.id, coupon);
      return coupon;
    }
    if (resource === 'invoices' && id && method === 'GET') {
      const inv = s.invoices.get(id);
      if (!inv) throw new StripeFailure(404, 'invalid_request_error', `No such invoice: '${id}'`, 'resource_missing');
      return inv;
    }
    if (resource === 'payment_intents' && id && method === 'GET') {
      const pi = s.intents.get(id);
      if (!pi) throw new StripeFailure(404, 'invalid_request_error', `No such payment_intent: '${id}'`, 'resource_missing');
      return pi;
    }
    throw new StripeFailure(404, 'invalid_request_error', `Unrecognized request URL (${method}: /${parts.join('/')}).`);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err) => send(res, 500, { error: { type: 'api_error', message: `mock failure: ${err instanceof Error ? err.message : err}` } }));
  });
  // workerd reuses idle connections; Node's 5 s keep-alive would close one under it between tests
  // that do not call Stripe, and the next call would fail with "Network connection lost".
  server.keepAliveTimeout = 10 * 60_000;
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const address = server.address() as AddressInfo;
  return { port: address.port, server, close: () => new Promise<void>((resolve) => (server.close(() => resolve()), server.closeAllConnections())) };
}
