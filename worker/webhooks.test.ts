import { describe, expect, it } from 'vitest';
import { database, sqlBatch } from './db';
import { app } from './index';
import { ADMIN, api, env, PRODUCTION, received, receiverUrl, uid } from './test/api';
import { backoffMs, deliverDue, enqueueWebhookEvent, MINUTE, slackMessage } from './webhooks';
import { DAY_MS } from '../shared/time';

const SECRET = 'whsec_test_0123456789abcdef';
const db = () => database(env.DB);
const putHook = (id: string, body: Record<string, unknown>) => api('PUT', `/v1/admin/webhooks/${id}`, { token: ADMIN, body });

/** Verify `Ladder-Signature: t=…,v1=…` the way a receiver would: HMAC-SHA256 of "<t>.<body>". */
async function signatureValid(header: string, body: string, secret: string): Promise<{ valid: boolean; t: number }> {
  const parts = Object.fromEntries(header.split(',').map((kv) => kv.split('=') as [string, string]));
  const key = await crypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
  const mac = new Uint8Array((parts.v1 ?? '').match(/../g)?.map((h) => parseInt(h, 16)) ?? []);
  const valid = await crypto.subtle.verify('HMAC', key, mac, new TextEncoder().encode(`${parts.t}.${body}`));
  return { valid, t: Number(parts.t) };
}

/** A webhook subscribed to upgrade.succeeded at a fresh receiver key, and one queued event for it. */
async function hookWithEvent(opts: { fail?: number; format?: 'json' | 'slack'; payload?: Record<string, unknown> } = {}) {
  const key = uid('hook');
  const res = await putHook(key, { url: receiverUrl(key, opts.fail ?? 0), format: opts.format ?? 'json', events: ['upgrade.succeeded'], secret: SECRET });
  expect(res.status).toBe(201);
  const dedupe = `upgrade.succeeded:${key}`;
  await sqlBatch(db(), [enqueueWebhookEvent('upgrade.succeeded', dedupe, opts.payload ?? { account_id: 'acme', plan_id: 'pro' }, Date.now())]);
  // Only this webhook's row is due: park every other row far in the future for this test.
  await env.DB.prepare(`UPDATE webhook_outbox SET next_attempt_at = 9e15 WHERE webhook_id != ? AND delivered_at IS NULL`).bind(key).run();
  return { key, dedupe };
}

const outboxRow = (webhookId: string) =>
  env.DB.prepare(`SELECT * FROM webhook_outbox WHERE webhook_id = ?`).bind(webhookId).first<{ attempts: number; next_attempt_at: number; delivered_at: number | null; last_error: string | null }>();

describe('webhook delivery', () => {
  it('POSTs the event to the receiver with a valid Ladder-Signature', async () => {
    const { key } = await hookWithEvent();
    const now = Date.now();
    expect(await deliverDue(db(), now)).toEqual({ claimed: 1, delivered: 1, failed: 0 });
    const [got] = await received(key);
    expect(got!.method).toBe('POST');
    expect(got!.headers['content-type']).toBe('application/json');
    expect(got!.headers['ladder-event']).toBe('upgrade.succeeded');
    const signature = await signatureValid(got!.headers['ladder-signature']!, got!.body, SECRET);
    expect(signature).toEqual({ valid: true, t: Math.floor(now / 1000) });
    expect((await signatureValid(got!.headers['ladder-signature']!, got!.body, 'whsec_some_other_secret')).valid).toBe(false);
    const body = JSON.parse(got!.body);
    expect(body).toMatchObject({ type: 'upgrade.succeeded', data: { account_id: 'acme', plan_id: 'pro' } });
    expect(body.id).toBe(got!.headers['ladder-delivery']);
    expect((await outboxRow(key))!.delivered_at).toBe(now);
  });

  it('retries with exponential backoff after the receiver fails twice, then never sends again', async () => {
    const { key } = await hookWithEvent({ fail: 2 });
    const t0 = Date.now();
    expect(await deliverDue(db(), t0)).toMatchObject({ delivered: 0, failed: 1 });
    let row = (await outboxRow(key))!;
    expect(row).toMatchObject({ attempts: 1, next_attempt_at: t0 + MINUTE, delivered_at: null });
    expect(row.last_error).toMatch(/^HTTP 500/);

    expect(await deliverDue(db(), t0 + 30_000)).toMatchObject({ claimed: 0 }); // not due yet
    expect(await deliverDue(db(), t0 + MINUTE)).toMatchObject({ failed: 1 });
    row = (await outboxRow(key))!;
    expect(row).toMatchObject({ attempts: 2, next_attempt_at: t0 + MINUTE + 2 * MINUTE });

    expect(await deliverDue(db(), t0 + 3 * MINUTE)).toMatchObject({ delivered: 1 });
    row = (await outboxRow(key))!;
    expect(row).toMatchObject({ attempts: 3, delivered_at: t0 + 3 * MINUTE, last_error: null });

    for (const later of [t0 + 10 * MINUTE, t0 + DAY_MS]) expect(await deliverDue(db(), later)).toMatchObject({ claimed: 0 });
    const got = await received(key);
    expect(got.map((r) => r.answered)).toEqual([500, 500, 200]);
    expect(new Set(got.map((r) => JSON.parse(r.body).id)).size).toBe(1); // the same event id on every retry
  });

  it('backs off 1 minute doubling per failure, capped at 6 hours', () => {
    expect([1, 2, 3, 4].map(backoffMs)).toEqual([MINUTE, 2 * MINUTE, 4 * MINUTE, 8 * MINUTE]);
    expect(backoffMs(9)).toBe(256 * MINUTE);
    expect(backoffMs(10)).toBe(360 * MINUTE);
    expect(backoffMs(1000)).toBe(360 * MINUTE);
  });

  it('two overlapping cron runs send a row once', async () => {
    const { key } = await hookWithEvent();
    const now = Date.now();
    const runs = await Promise.all([deliverDue(db(), now), deliverDue(db(), now), deliverDue(db(), now)]);
    expect(runs.reduce((n, r) => n + r.delivered, 0)).toBe(1);
    expect(await received(key)).toHaveLength(1);
  });

  it('queues an event once per dedupe key, only for enabled webhooks subscribed to it', async () => {
    const [on, off, other] = [uid('hook'), uid('hook'), uid('hook')];
    await putHook(on, { url: receiverUrl(on), format: 'json', events: ['upgrade.requested'], secret: SECRET });
    await putHook(off, { url: receiverUrl(off), format: 'json', events: ['upgrade.requested'], secret: SECRET, enabled: false });
    await putHook(other, { url: receiverUrl(other), format: 'json', events: ['pqa.sales_ready'], secret: SECRET });
    const dedupe = uid('request');
    for (let i = 0; i < 3; i++) await sqlBatch(db(), [enqueueWebhookEvent('upgrade.requested', dedupe, { account_id: 'acme' }, Date.now())]);
    const { results } = await env.DB.prepare(`SELECT webhook_id FROM webhook_outbox WHERE dedupe_key = ?`).bind(dedupe).all<{ webhook_id: string }>();
    expect(results.map((r) => r.webhook_id)).toEqual([on]);
  });

  it('speaks Slack incoming-webhook format: text and blocks, configuration text escaped', async () => {
    const { key } = await hookWithEvent({
      format: 'slack',
      payload: { account_id: 'acme', account_name: 'Acme <script> & Co', plan_id: 'pro', amount_charged_cents: 2500 },
    });
    await deliverDue(db(), Date.now());
    const body = JSON.parse((await received(key))[0]!.body);
    expect(Object.keys(body).sort()).toEqual(['blocks', 'text']);
    expect(body.text).toBe('Acme &lt;script&gt; &amp; Co upgraded');
    expect(body.blocks[0]).toEqual({ type: 'section', text: { type: 'mrkdwn', text: '*Acme &lt;script&gt; &amp; Co* upgraded.' } });
    expect(body.blocks[1].fields).toContainEqual({ type: 'mrkdwn', text: '*plan_id*\npro' });
  });
  it('names the account and the request in Slack for billing\'s nested upgrade payloads', () => {
    const message = slackMessage('upgrade.requested', {
      event: 'upgrade.requested',
      account: { id: 'acme', name: 'Acme', plan_id: 'starter', seats: 5 },
      user: { id: 'u7', email: 'ann@acme.com' },
      request: { id: 'req_1', plan_id: 'pro', seats: null, note: 'Need more API calls' },
    });
    expect(message.text).toBe('Acme requested an upgrade');
    const fields = (message.blocks[1] as { fields: { text: string }[] }).fields.map((f) => f.text);
    expect(fields).toEqual(expect.arrayContaining(['*request plan_id*\npro', '*account plan_id*\nstarter', '*user email*\nann@acme.com', '*request note*\n`Need more API calls`']));
    expect(fields.length).toBeLessThanOrEqual(10);
  });
});

describe('admin webhooks API', () => {
  it('creates, lists and updates a webhook without ever returning its secret', async () => {
    const id = uid('crm');
    const created = await putHook(id, { url: 'https://crm.example.com/ladder', format: 'json', events: ['pqa.sales_ready', 'upgrade.succeeded'], secret: SECRET });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ id, url: 'https://crm.example.com/ladder', format: 'json', events: ['pqa.sales_ready', 'upgrade.succeeded'], enabled: true, secret_prefix: 'whsec_…' });
    const updated = await putHook(id, { url: 'https://crm.example.com/v2', format: 'json', events: ['pqa.sales_ready'] });
    expect(updated.status).toBe(200);
    const list = await api('GET', '/v1/admin/webhooks', { token: ADMIN });
    expect(list.status).toBe(200);
    expect(list.json.webhooks.find((w: { id: string }) => w.id === id)).toMatchObject({ url: 'https://crm.example.com/v2', events: ['pqa.sales_ready'], secret_prefix: 'whsec_…', deliveries: { pending: 0 } });
    expect(JSON.stringify(list.json)).not.toContain(SECRET);
    const stored = await env.DB.prepare('SELECT secret FROM webhooks WHERE id = ?').bind(id).first<{ secret: string }>();
    expect(stored!.secret).toBe(SECRET); // an update without a secret keeps it
    const slack = await putHook(uid('slack'), { url: 'https://hooks.slack.com/services/T/B/X', format: 'slack', events: ['pqa.sales_ready'] });
    expect(slack.status).toBe(201);
    expect(slack.json.secret_prefix).toMatch(/^whsec_..…$/);
  });

  it('refuses a bad URL, an unknown event, an unknown field and a json webhook without a secret', async () => {
    const ok = { url: 'https://crm.example.com/ladder', format: 'json', events: ['pqa.sales_ready'], secret: SECRET };
    const cases: [Record<string, unknown>, string][] = [
      [{ ...ok, url: 'ftp://crm.example.com/x' }, 'url'],
      [{ ...ok, url: 'not a url' }, 'url'],
      [{ ...ok, events: ['pqa.sales_ready', 'account.deleted'] }, 'events.1'],
      [{ ...ok, events: [] }, 'events'],
      [{ ...ok, format: 'xml' }, 'format'],
      [{ ...ok, secret: 'short' }, 'secret'],
      [{ ...ok, colour: 'blue' }, 'colour'],
      [{ url: ok.url, format: 'json', events: ok.events }, 'secret'],
    ];
    for (const [body, path] of cases) {
      const res = await putHook(uid('bad'), body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.json.error.details.map((d: { path: string }) => d.path)).toContain(path);
    }
    expect((await putHook('bad id!', ok)).status).toBe(400);
    expect((await api('PUT', `/v1/admin/webhooks/${uid()}`, { body: ok })).status).toBe(401); // the secret key is not an admin key
  });

  it('refuses plain http in production', async () => {
    const send = (url: string) =>
      app.request(`/v1/admin/webhooks/${uid('prod')}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${PRODUCTION.LADDER_ADMIN_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ url, format: 'json', events: ['pqa.sales_ready'], secret: SECRET }),
      }, { ...env, ...PRODUCTION });
    const refused = await send('http://crm.example.com/ladder');
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: { details: { path: string }[] } }).error.details[0]!.path).toBe('url');
    expect((await send('https://crm.example.com/ladder')).status).toBe(201);
  });

  it('test-send delivers a signed sample of the event now and reports the outcome', async () => {
    const key = uid('hook');
    await putHook(key, { url: receiverUrl(key, 1, 503), format: 'json', events: ['pqa.sales_ready'], secret: SECRET });
    const failed = await api('POST', `/v1/admin/webhooks/${key}/test`, { token: ADMIN });
    expect(failed.status).toBe(200);
    expect(failed.json).toMatchObject({ delivered: false, status: 503, event: 'pqa.sales_ready' });
    const ok = await api('POST', `/v1/admin/webhooks/${key}/test`, { token: ADMIN, body: { event: 'upgrade.requested' } });
    expect(ok.json).toMatchObject({ delivered: true, status: 200, error: null, event: 'upgrade.requested' });
    const [, got] = await received(key);
    expect((await signatureValid(got!.headers['ladder-signature']!, got!.body, SECRET)).valid).toBe(true);
    expect(JSON.parse(got!.body)).toMatchObject({ type: 'upgrade.requested', test: true, data: { account_id: 'example' } });
    // A test-send is not queued: the outbox has nothing for this webhook.
    expect(await outboxRow(key)).toBeNull();
    expect((await api('POST', '/v1/admin/webhooks/nope/test', { token: ADMIN })).status).toBe(404);
    expect((await api('POST', `/v1/admin/webhooks/${key}/test`, { token: ADMIN, body: { event: 'nope' } })).status).toBe(400);
  });
});

describe('webhook endpoints cannot be turned on the inside', () => {
  it('keep only the status of a failed delivery, never what the receiver answered', async () => {
    const { key } = await hookWithEvent({ fail: 1 });
    await deliverDue(db(), Date.now());
    const row = (await outboxRow(key))!;
    expect(row.last_error).toBe('HTTP 500');
    const [view] = (await api('GET', '/v1/admin/webhooks', { token: ADMIN })).json.webhooks.filter((w: { id: string }) => w.id === key);
    expect(JSON.stringify(view)).not.toContain('receiver failed on purpose');
    expect(view.deliveries.last_error).toBe('HTTP 500');
  });

  it('are disabled with a reason after 15 failed attempts in a row, and a PUT enables them again', async () => {
    const key = uid('dead');
    const hook = { url: receiverUrl(key, 1000, 503), format: 'json', events: ['upgrade.succeeded'], secret: SECRET };
    expect((await putHook(key, hook)).status).toBe(201);
    await sqlBatch(db(), [enqueueWebhookEvent('upgrade.succeeded', `dead:${key}`, { account_id: 'acme' }, Date.now())]);
    await env.DB.prepare(`UPDATE webhook_outbox SET next_attempt_at = 9e15 WHERE webhook_id != ? AND delivered_at IS NULL`).bind(key).run();
    let t = Date.now();
    for (let attempt = 1; attempt <= 15; attempt++) {
      expect(await deliverDue(db(), t), `attempt ${attempt}`).toMatchObject({ claimed: 1, failed: 1 });
      t += backoffMs(attempt);
    }
    const view = (await api('GET', '/v1/admin/webhooks', { token: ADMIN })).json.webhooks.find((w: { id: string }) => w.id === key);
    expect(view).toMatchObject({ disabled: true, disabled_reason: expect.stringMatching(/15 failed attempts in a row \(last: HTTP 503\)/) });
    expect(await deliverDue(db(), t + 7 * 3600_000)).toMatchObject({ claimed: 0 });
    expect((await received(key)).length).toBe(15);

    expect((await putHook(key, { ...hook, url: receiverUrl(key) })).status).toBe(200);
    const again = (await api('GET', '/v1/admin/webhooks', { token: ADMIN })).json.webhooks.find((w: { id: string }) => w.id === key);
    expect(again).toMatchObject({ disabled: false, disabled_reason: null });
    expect(await deliverDue(db(), t + 7 * 3600_000)).toMatchObject({ claimed: 1 });
  });

  it('share the sends fairly: a dead endpoint with a backlog does not hold up another', async () => {
    const dead = uid('backlog');
    const alive = uid('alive');
    await putHook(dead, { url: receiverUrl(dead, 1000, 500), format: 'json', events: ['upgrade.succeeded'], secret: SECRET });
    await putHook(alive, { url: receiverUrl(alive), format: 'json', events: ['upgrade.requested'], secret: SECRET });
    const t = Date.now();
    await sqlBatch(db(), Array.from({ length: 60 }, (_, i) => enqueueWebhookEvent('upgrade.succeeded', `backlog:${dead}:${i}`, { i }, t - 1000)));
    await sqlBatch(db(), [enqueueWebhookEvent('upgrade.requested', `alive:${alive}`, { account_id: 'acme' }, t)]);
    await env.DB.prepare(`UPDATE webhook_outbox SET next_attempt_at = 9e15 WHERE webhook_id NOT IN (?, ?) AND delivered_at IS NULL`).bind(dead, alive).run();
    const first = await deliverDue(db(), t, 10);
    expect(first.delivered).toBe(1);
    expect((await received(alive)).length).toBe(1);
    expect((await received(dead)).length).toBeLessThanOrEqual(5);
  });

  it('in production must be https on port 443 to a public host name; slack only to hooks.slack.com', async () => {
    const send = (url: string, format = 'json') =>
      app.request(`/v1/admin/webhooks/${uid('prod')}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${PRODUCTION.LADDER_ADMIN_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ url, format, events: ['pqa.sales_ready'], secret: SECRET }),
      }, { ...env, ...PRODUCTION });
    const refused = [
      'http://crm.example.com/ladder',
      'https://crm.example.com:8443/ladder',
      'https://127.0.0.1/hook',
      'https://2130706433/hook',
      'https://[::1]/hook',
      'https://169.254.169.254/latest/meta-data',
      'https://localhost/hook',
      'https://printer.local/hook',
      'https://db.internal/hook',
      'https://intranet/hook',
      'https://user:pw@crm.example.com/hook',
    ];
    for (const url of refused) {
      const res = await send(url);
      expect(res.status, url).toBe(400);
      expect(((await res.json()) as { error: { details: { path: string }[] } }).error.details[0]!.path, url).toBe('url');
    }
    expect((await send('https://crm.example.com/ladder', 'slack')).status).toBe(400);
    expect((await send('https://hooks.slack.com/services/T0/B0/x', 'slack')).status).toBe(201);
    expect((await send('https://crm.example.com:443/ladder')).status).toBe(201);
  });
});

describe('Slack messages', () => {
  it('quote a user-written note so a link in it is not clickable', () => {
    const msg = slackMessage('upgrade.requested', { account_name: 'Acme', note: 'see https://evil.example/login <https://evil.example|click> `x`' });
    const noteField = JSON.stringify(msg.blocks).match(/\*note\*\\n([^"]*)/)![1]!;
    expect(noteField.startsWith('`') && noteField.endsWith('`')).toBe(true);
    expect(noteField.slice(1, -1)).not.toContain('`');
    expect(noteField).not.toContain('<https');
  });
});
