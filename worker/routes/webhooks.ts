import { Hono } from 'hono';
import { id } from '../../shared/schemas';
import { productionWebhookUrlProblem, webhookInputSchema, webhookTestSchema, type WebhookEvent } from '../../shared/webhookSchemas';
import { database } from '../db';
import { isProduction } from '../config';
import type { AppEnv } from '../env';
import { ApiError, notFound, validate } from '../errors';
import { readJson } from '../middleware/body';
import { deliveryBody, generateSecret, getWebhook, listWebhooks, putWebhook, sendDelivery } from '../webhooks';
import { DAY_MS } from '../../shared/time';

/** `GET /v1/admin/webhooks`, `PUT /v1/admin/webhooks/:id`, `POST /v1/admin/webhooks/:id/test` (admin). */
export const webhookRoutes = new Hono<AppEnv>()
  .get('/', async (c) => c.json({ webhooks: await listWebhooks(database(c.env.DB)) }))
  .put('/:id', async (c) => {
    const webhookId = validate(id, c.req.param('id'), ['id']);
    const input = await readJson(c, webhookInputSchema);
    const urlProblem = isProduction(c.env) ? productionWebhookUrlProblem(input.url, input.format) : null;
    if (urlProblem) throw new ApiError(400, 'validation_failed', 'The request is not valid.', [{ path: 'url', message: urlProblem }]);
    const db = database(c.env.DB);
    const existing = await getWebhook(db, webhookId);
    const secret = input.secret ?? existing?.secret ?? (input.format === 'slack' ? generateSecret() : null);
    if (!secret)
      throw new ApiError(400, 'validation_failed', 'The request is not valid.', [{ path: 'secret', message: 'required for a new json webhook (it signs every delivery)' }]);
    await putWebhook(db, webhookId, { ...input, secret }, c.get('now'));
    const [view] = await listWebhooks(db, [webhookId]);
    return c.json(view, existing ? 200 : 201);
  })
  .post('/:id/test', async (c) => {
    const webhookId = validate(id, c.req.param('id'), ['id']);
    const { event } = c.req.raw.body ? await readJson(c, webhookTestSchema) : webhookTestSchema.parse({});
    const hook = await getWebhook(database(c.env.DB), webhookId);
    if (!hook) throw notFound('webhook', webhookId, 'id');
    const now = c.get('now');
    const row = { id: `test_${crypto.randomUUID()}`, event, payload: samplePayload(event, now), created_at: now };
    const outcome = await sendDelivery(hook, event, row.id, deliveryBody(hook.format, row, { test: true }), now);
    return c.json({ ...outcome, delivery_id: row.id, event });
  });

/** What a test-send carries: the real shape of the event, with example values. */
function samplePayload(event: WebhookEvent, now: number): Record<string, unknown> {
  const account = { account_id: 'example', account_name: 'Example Co', plan_id: 'starter' };
  switch (event) {
    case 'pqa.sales_ready':
      return { ...account, score: 85, band: 'sales_ready', entered_band_at: new Date(now).toISOString(), top_signals: ['2 users active on 10 days (+40)', 'API integration built (+30)', 'Usage limit hit this month (+25)'] };
    case 'upgrade.requested':
      return { ...account, user_id: 'user_1', requested_plan_id: 'pro', seats: null, note: 'Could we move to Pro?' };
    case 'upgrade.succeeded':
      return { ...account, from_plan_id: 'starter', plan_id: 'pro', amount_charged_cents: 7500, currency: 'usd' };
    case 'usage.threshold_crossed':
      return { ...account, metric: 'api_calls', threshold: 90, used: 9100, limit: 10000, period_start: new Date(now).toISOString() };
    case 'usage.growth':
      return { ...account, metric: 'api_calls', wow_pct: 24.5, mom_pct: 61.2, last_7_days: 3500, last_30_days: 12400 };
    case 'pqa.band_changed':
      return { ...account, from: 'warm', to: 'sales_assist', score: 64, changed_at: new Date(now).toISOString() };
    case 'plan.downgrade_scheduled':
      return { ...account, plan_id: 'pro', to_plan_id: 'starter', seats: 5, effective_at: new Date(now + 15 * DAY_MS).toISOString() };
    case 'subscription.cancel_scheduled':
      return { ...account, reason: 'too_expensive', effective_at: new Date(now + 15 * DAY_MS).toISOString() };
    case 'save_offer.accepted':
      return { ...account, reason: 'too_expensive', kind: 'discount', percent_off: 25, months: 3, saved_mrr_cents: 3750 };
  }
}
