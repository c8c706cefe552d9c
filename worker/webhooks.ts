/**
 * Outgoing webhooks: configuration in D1, a D1 outbox of deliveries, and the signed
 * delivery with exponential backoff that the cron runs.
 *
 * Producers add outbox rows inside their own D1 batch (`enqueueWebhookEvent`, or PQA's own
 * insert), one row per subscribed webhook with a dedupe key, so an event is recorded
 * atomically with the change that caused it and never twice. `deliverDue` claims due rows
 * with a lease before sending, so two overlapping cron runs never send the same row, and a
 * delivered row is never claimed again. A crash between the send and its record re-sends
 * after the lease: receivers dedupe on the body's `id` (stable across retries).
 */
import { sql, type SQL } from 'drizzle-orm';
import type { WebhookEvent, WebhookInput } from '../shared/webhookSchemas';
import { sqlBatch, type Db } from './db';

export const MINUTE = 60_000;
/** How long a claimed row stays invisible to other runs while it is being sent. */
const LEASE_MS = 5 * MINUTE;
const MAX_BACKOFF_MS = 6 * 60 * MINUTE;
const SEND_TIMEOUT_MS = 10_000;
const PARALLEL_SENDS = 6;
/** Failed attempts in a row after which Ladder disables an endpoint (a PUT enables it again). */
const WEBHOOK_DISABLE_AFTER = 15;
/** Rows one endpoint may have in one claim, so a dead endpoint's backlog never holds up the others. */
const PER_WEBHOOK_CLAIM = 5;

export type WebhookRow = {
  id: string;
  url: string;
  format: 'json' | 'slack';
  events: string[];
  secret: string;
  enabled: boolean;
  /** Why Ladder disabled the endpoint after `WEBHOOK_DISABLE_AFTER` failures in a row, else null. */
  disabled_reason: string | null;
  created_at: number;
  updated_at: number;
};

export type OutboxRow = {
  id: string;
  webhook_id: string;
  event: string;
  dedupe_key: string;
  payload: Record<string, unknown>;
  attempts: number;
  created_at: number;
};

/**
 * The enabled webhooks subscribed to `event`, as a subquery with an `id` column.
 * @example sql`INSERT INTO webhook_outbox (…) SELECT … FROM (${subscribedWebhooks('pqa.sales_ready')}) AS w`
 */
export const subscribedWebhooks = (event: WebhookEvent): SQL =>
  sql`SELECT id FROM webhooks WHERE enabled = 1 AND EXISTS (SELECT 1 FROM json_each(webhooks.events) WHERE value = ${event})`;

/**
 * One statement that queues `event` for every enabled webhook subscribed to it; run it in
 * the same D1 batch as the change it reports. A dedupe key seen before (per webhook)
 * queues nothing, so a retried producer never sends twice.
 * @example await sqlBatch(db, [updatePlan, enqueueWebhookEvent('upgrade.succeeded', `upgrade:${acct}:${key}`, { account_id: acct, plan_id }, now)])
 */
export function enqueueWebhookEvent(event: WebhookEvent, dedupeKey: string, payload: Record<string, unknown>, now: number, guard: SQL = sql`1`): SQL {
  return sql`
    INSERT INTO webhook_outbox (id, webhook_id, event, dedupe_key, payload, attempts, next_attempt_at, created_at)
    SELECT 'out_' || lower(hex(randomblob(12))), w.id, ${event}, ${dedupeKey}, ${JSON.stringify(payload)}, 0, ${now}, ${now}
    FROM (${subscribedWebhooks(event)}) AS w WHERE ${guard}
    ON CONFLICT DO NOTHING`;
}

/**
 * Wait after the `failures`-th failed attempt: 1 minute doubling each time, at most 6 hours.
 * @example backoffMs(1) // 60_000; backoffMs(3) // 240_000
 */
export const backoffMs = (failures: number) => Math.min(MAX_BACKOFF_MS, MINUTE * 2 ** Math.max(0, Math.min(failures - 1, 30)));

/**
 * `Ladder-Signature` for a body sent at unix second `t`: `t=<t>,v1=<hex HMAC-SHA256 of "<t>.<body>">`,
 * as Stripe signs its webhooks. Receivers recompute it with the shared secret.
 * @example await signatureHeader('whsec_…', 1795000000, '{"id":…}') // 't=1795000000,v1=5f2c…'
 */
async function signatureHeader(secret: string, t: number, body: string): Promise<string> {
  const key = await crypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const mac = await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(`${t}.${body}`));
  return `t=${t},v1=${[...new Uint8Array(mac)].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/**
 * The request body for one delivery: a JSON envelope `{ id, type, created_at, data }`, or a
 * Slack incoming-webhook message `{ text, blocks }`.
 */
export function deliveryBody(format: 'json' | 'slack', row: Pick<OutboxRow, 'id' | 'event' | 'payload' | 'created_at'>, extra: Record<string, unknown> = {}): string {
  if (format === 'json') {
    return JSON.stringify({ id: row.id, type: row.event, created_at: new Date(row.created_at).toISOString(), ...extra, data: row.payload });
  }
  return JSON.stringify(slackMessage(row.event, row.payload, extra.test === true));
}

/** Slack's mrkdwn treats &, < and > as markup; configuration text is shown as text. */
const slackText = (value: unknown) => String(value ?? '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
/** Fields a user writes (an upgrade request's note): quoted as code, so a link in them is never clickable in Slack. */
const USER_WRITTEN = new Set(['note', 'request note']);
const slackQuoted = (value: unknown) => `\`${slackText(value).replace(/`/g, "'").replace(/\s+/g, ' ')}\``;

/**
 * A Slack incoming-webhook message for an event: a one-line `text` (notifications and
 * clients without blocks) and `blocks` with the details.
 * @example slackMessage('pqa.sales_ready', { account_name: 'Acme', score: 85, … }).text // 'Acme is sales-ready (PQA score 85)'
 */
export function slackMessage(event: string, payload: Record<string, unknown>, test = false): { text: string; blocks: unknown[] } {
  const nested = (key: string) => (isObject(payload[key]) ? (payload[key] as Record<string, unknown>) : {});
  const account = slackText(payload.account_name ?? nested('account').name ?? payload.account_id ?? nested('account').id ?? 'An account');
  const prefix = test ? '[Test] ' : '';
  if (event === 'pqa.sales_ready') {
    const signals = Array.isArray(payload.top_signals) ? payload.top_signals.map(slackText) : [];
    const text = `${prefix}${account} is sales-ready (PQA score ${slackText(payload.score)})`;
    return {
      text,
      blocks: [
        { type: 'section', text: { type: 'mrkdwn', text: `${prefix}*${account}* entered *sales-ready* with a PQA score of *${slackText(payload.score)}*.` } },
        {
          type: 'section',
          fields: [
            { type: 'mrkdwn', text: `*Account*\n${slackText(payload.account_id)}` },
            { type: 'mrkdwn', text: `*Plan*\n${slackText(payload.plan_id)}` },
          ],
        },
        ...(signals.length ? [{ type: 'context', elements: [{ type: 'mrkdwn', text: `Top signals: ${signals.join(' · ')}` }] }] : []),
      ],
    };
  }
  const what = slackWhat(event, payload);
  // Scalars of the payload and of its nested objects (one level, named "request plan_id"); Slack shows at most 10 fields.
  const details: [string, unknown][] = [];
  for (const [key, value] of Object.entries(payload)) {
    const entries = isObject(value) ? Object.entries(value).map(([k, v]) => [`${key} ${k}`, v] as const) : [[key, value] as const];
    for (const [k, v] of entries) if (v !== null && v !== '' && typeof v !== 'object' && !['event', 'account_name', 'account name'].includes(k)) details.push([k, v]);
  }
  const fields = details.slice(0, 10).map(([k, v]) => ({ type: 'mrkdwn', text: `*${slackText(k)}*\n${USER_WRITTEN.has(k) ? slackQuoted(v) : slackText(v)}` }));
  return {
    text: `${prefix}${account} ${what}`,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `${prefix}*${account}* ${what}.` } },
      ...(fields.length ? [{ type: 'section', fields }] : []),
    ],
  };
}

/** The verb phrase after the account's name in a Slack message. */
function slackWhat(event: string, payload: Record<string, unknown>): string {
  const band = (b: unknown) => slackText(b).replace('_', '-');
  switch (event) {
    case 'upgrade.succeeded':
      return 'upgraded';
    case 'upgrade.requested':
      return 'requested an upgrade';
    case 'plan.downgrade_scheduled':
      return 'scheduled a downgrade';
    case 'subscription.cancel_scheduled':
      return 'scheduled a cancellation';
    case 'save_offer.accepted':
      return 'accepted a save offer';
    case 'usage.threshold_crossed':
      return `reached ${slackText(payload.threshold)}% of its ${slackText(payload.metric)} limit`;
    case 'usage.growth':
      return `is growing its ${slackText(payload.metric)} use`;
    case 'pqa.band_changed':
      return `moved from ${band(payload.from)} to ${band(payload.to)} (PQA score ${slackText(payload.score)})`;
    default:
      return slackText(event);
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

export type SendOutcome = { delivered: boolean; status: number | null; error: string | null };

/**
 * POST one signed delivery; 2xx is delivered, anything else (redirects too) a failure. The
 * receiver's answer is never read: only its status is kept, so nothing a receiver (or a host it
 * points at) says can be stored or shown.
 */
export async function sendDelivery(webhook: Pick<WebhookRow, 'url' | 'secret'>, event: string, deliveryId: string, body: string, now: number): Promise<SendOutcome> {
  try {
    const res = await fetch(webhook.url, {
      method: 'POST',
      redirect: 'manual',
      signal: AbortSignal.timeout(SEND_TIMEOUT_MS),
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Ladder-Webhooks/1',
        'ladder-event': event,
        'ladder-delivery': deliveryId,
        'ladder-signature': await signatureHeader(webhook.secret, Math.floor(now / 1000), body),
      },
      body,
    });
    await res.body?.cancel();
    if (res.status >= 200 && res.status < 300) return { delivered: true, status: res.status, error: null };
    return { delivered: false, status: res.status, error: `HTTP ${res.status}` };
  } catch (err) {
    const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
    return { delivered: false, status: null, error: timedOut ? `no answer within ${SEND_TIMEOUT_MS / 1000} s` : 'connection failed' };
  }
}

/**
 * Deliver what is due in the outbox, at most `limit` rows and at most `PER_WEBHOOK_CLAIM` per
 * endpoint, oldest first within each (so endpoints share the sends fairly): claim them (lease),
 * send them six at a time, then record each outcome in one batch — delivered, or attempts + 1
 * with the next attempt after `backoffMs` and the error kept. An endpoint that has failed
 * `WEBHOOK_DISABLE_AFTER` attempts in a row is disabled with its reason.
 * @example await deliverDue(db, Date.now()) // { claimed: 3, delivered: 2, failed: 1 }
 */
export async function deliverDue(db: Db, now: number, limit = 50): Promise<{ claimed: number; delivered: number; failed: number }> {
  const [claimedRows = [], hookRows = []] = await sqlBatch(db, [
    sql`
      UPDATE webhook_outbox SET next_attempt_at = ${now + LEASE_MS}
      WHERE id IN (
        SELECT id FROM (
          SELECT o.id, o.next_attempt_at, row_number() OVER (PARTITION BY o.webhook_id ORDER BY o.next_attempt_at, o.id) AS turn
          FROM webhook_outbox o JOIN webhooks w ON w.id = o.webhook_id AND w.enabled = 1 AND w.disabled_reason IS NULL
          WHERE o.delivered_at IS NULL AND o.next_attempt_at <= ${now})
        WHERE turn <= ${PER_WEBHOOK_CLAIM}
        ORDER BY turn, next_attempt_at LIMIT ${limit})
        AND delivered_at IS NULL AND next_attempt_at <= ${now}
      RETURNING id, webhook_id, event, dedupe_key, payload, attempts, created_at`,
    sql`SELECT * FROM webhooks WHERE enabled = 1 AND disabled_reason IS NULL`,
  ]);
  if (!claimedRows.length) return { claimed: 0, delivered: 0, failed: 0 };
  const hooks = new Map(hookRows.map((r) => [String(r.id), toWebhook(r)]));
  const rows = claimedRows.map(toOutbox);
  const outcomes: { row: OutboxRow; outcome: SendOutcome }[] = [];
  for (let i = 0; i < rows.length; i += PARALLEL_SENDS) {
    outcomes.push(
      ...(await Promise.all(
        rows.slice(i, i + PARALLEL_SENDS).map(async (row) => {
          const hook = hooks.get(row.webhook_id);
          if (!hook) return { row, outcome: { delivered: false, status: null, error: 'webhook disabled while sending' } };
          return { row, outcome: await sendDelivery(hook, row.event, row.id, deliveryBody(hook.format, row), now) };
        }),
      )),
    );
  }
  const delivered = outcomes.filter((o) => o.outcome.delivered).map((o) => o.row.id);
  const failed = outcomes
    .filter((o) => !o.outcome.delivered)
    .map((o) => ({ id: o.row.id, next: now + backoffMs(o.row.attempts + 1), error: o.outcome.error }));
  // Per endpoint: a delivery resets its run of failures; otherwise the failures add up, and at the limit it is disabled.
  const perHook = new Map<string, { ok: boolean; failures: number; last: string | null }>();
  for (const { row, outcome } of outcomes) {
    const h = perHook.get(row.webhook_id) ?? { ok: false, failures: 0, last: null };
    if (outcome.delivered) h.ok = true;
    else {
      h.failures += 1;
      h.last = outcome.error;
    }
    perHook.set(row.webhook_id, h);
  }
  const hookOutcomes = [...perHook].map(([id, h]) => ({ id, reset: h.ok ? 1 : 0, failures: h.ok ? 0 : h.failures, last: h.last }));
  await sqlBatch(db, [
    sql`UPDATE webhooks SET consecutive_failures = CASE WHEN json_extract(h.value, '$.reset') = 1 THEN 0
          ELSE consecutive_failures + json_extract(h.value, '$.failures') END
        FROM json_each(${JSON.stringify(hookOutcomes)}) AS h WHERE webhooks.id = json_extract(h.value, '$.id')`,
    sql`UPDATE webhooks SET disabled_reason = 'Disabled after ' || consecutive_failures || ' failed attempts in a row (last: ' || json_extract(h.value, '$.last') || '). Save the webhook to enable it again.',
          updated_at = ${now}
        FROM json_each(${JSON.stringify(hookOutcomes)}) AS h
        WHERE webhooks.id = json_extract(h.value, '$.id') AND consecutive_failures >= ${WEBHOOK_DISABLE_AFTER} AND disabled_reason IS NULL`,
    sql`UPDATE webhook_outbox SET delivered_at = ${now}, attempts = attempts + 1, last_error = NULL
        WHERE id IN (SELECT value FROM json_each(${JSON.stringify(delivered)})) AND delivered_at IS NULL`,
    sql`UPDATE webhook_outbox SET attempts = attempts + 1, next_attempt_at = json_extract(f.value, '$.next'),
          last_error = json_extract(f.value, '$.error')
        FROM json_each(${JSON.stringify(failed)}) AS f
        WHERE webhook_outbox.id = json_extract(f.value, '$.id') AND webhook_outbox.delivered_at IS NULL`,
  ]);
  return { claimed: rows.length, delivered: delivered.length, failed: failed.length };
}

/**
 * Deliver due rows until none are left (or `maxRounds` batches), for the cron.
 * @example await deliverAllDue(db, Date.now())
 */
export async function deliverAllDue(db: Db, now: number, maxRounds = 20): Promise<{ delivered: number; failed: number }> {
  let delivered = 0;
  let failed = 0;
  for (let round = 0; round < maxRounds; round++) {
    const r = await deliverDue(db, now);
    delivered += r.delivered;
    failed += r.failed;
    if (r.claimed === 0) break;
  }
  return { delivered, failed };
}

// ---------------------------------------------------------------- configuration

/** A secret for webhooks created without one (Slack does not verify signatures). */
export const generateSecret = () => `whsec_${[...crypto.getRandomValues(new Uint8Array(24))].map((b) => b.toString(16).padStart(2, '0')).join('')}`;

/** Never the whole secret: enough of its start to tell which one is configured. */
const secretPrefix = (secret: string) => `${secret.slice(0, Math.min(8, Math.floor(secret.length / 4)))}…`;

export async function getWebhook(db: Db, id: string): Promise<WebhookRow | null> {
  const [rows = []] = await sqlBatch(db, [sql`SELECT * FROM webhooks WHERE id = ${id}`]);
  return rows[0] ? toWebhook(rows[0]) : null;
}

/** Create or replace a webhook; without `secret`, an update keeps the current one. */
export async function putWebhook(db: Db, id: string, input: WebhookInput & { secret: string }, now: number): Promise<void> {
  await sqlBatch(db, [
    sql`
      INSERT INTO webhooks (id, url, format, events, secret, enabled, consecutive_failures, disabled_reason, created_at, updated_at)
      VALUES (${id}, ${input.url}, ${input.format}, ${JSON.stringify(input.events)}, ${input.secret}, ${input.enabled ? 1 : 0}, 0, NULL, ${now}, ${now})
      ON CONFLICT (id) DO UPDATE SET url = excluded.url, format = excluded.format, events = excluded.events,
        secret = excluded.secret, enabled = excluded.enabled, consecutive_failures = 0, disabled_reason = NULL, updated_at = excluded.updated_at`,
  ]);
}

export type WebhookView = Omit<WebhookRow, 'secret' | 'created_at' | 'updated_at'> & {
  /** Ladder disabled it after too many failures in a row (`disabled_reason` says why); a PUT enables it again. */
  disabled: boolean;
  secret_prefix: string;
  created_at: string;
  updated_at: string;
  deliveries: { pending: number; delivered: number; last_delivered_at: string | null; last_error: string | null };
};

/** Every webhook as the admin API shows it (no secrets), with its outbox counts. */
export async function listWebhooks(db: Db, ids?: string[]): Promise<WebhookView[]> {
  const [rows = []] = await sqlBatch(db, [
    sql`
      SELECT w.*,
        (SELECT count(*) FROM webhook_outbox o WHERE o.webhook_id = w.id AND o.delivered_at IS NULL) AS pending,
        (SELECT count(*) FROM webhook_outbox o WHERE o.webhook_id = w.id AND o.delivered_at IS NOT NULL) AS delivered,
        (SELECT max(o.delivered_at) FROM webhook_outbox o WHERE o.webhook_id = w.id) AS last_delivered_at,
        (SELECT o.last_error FROM webhook_outbox o WHERE o.webhook_id = w.id AND o.delivered_at IS NULL AND o.last_error IS NOT NULL
         ORDER BY o.created_at DESC LIMIT 1) AS last_error
      FROM webhooks w
      WHERE ${ids ? sql`w.id IN (SELECT value FROM json_each(${JSON.stringify(ids)}))` : sql`true`}
      ORDER BY w.id`,
  ]);
  return rows.map((r) => {
    const { secret, created_at, updated_at, ...hook } = toWebhook(r);
    return {
      ...hook,
      disabled: hook.disabled_reason !== null,
      secret_prefix: secretPrefix(secret),
      created_at: new Date(created_at).toISOString(),
      updated_at: new Date(updated_at).toISOString(),
      deliveries: {
        pending: Number(r.pending ?? 0),
        delivered: Number(r.delivered ?? 0),
        last_delivered_at: r.last_delivered_at === null ? null : new Date(Number(r.last_delivered_at)).toISOString(),
        last_error: (r.last_error as string | null) ?? null,
      },
    };
  });
}

const toWebhook = (r: Record<string, unknown>): WebhookRow => ({
  id: String(r.id),
  url: String(r.url),
  format: r.format === 'slack' ? 'slack' : 'json',
  events: JSON.parse(String(r.events)) as string[],
  secret: String(r.secret),
  enabled: Boolean(r.enabled),
  disabled_reason: r.disabled_reason === null || r.disabled_reason === undefined ? null : String(r.disabled_reason),
  created_at: Number(r.created_at),
  updated_at: Number(r.updated_at),
});

const toOutbox = (r: Record<string, unknown>): OutboxRow => ({
  id: String(r.id),
  webhook_id: String(r.webhook_id),
  event: String(r.event),
  dedupe_key: String(r.dedupe_key),
  payload: parsePayload(r.payload),
  attempts: Number(r.attempts),
  created_at: Number(r.created_at),
});

/** A producer's payload that is not a JSON object is still delivered, wrapped, rather than blocking the outbox. */
function parsePayload(raw: unknown): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(String(raw));
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : { value };
  } catch {
    return { raw: String(raw) };
  }
}
