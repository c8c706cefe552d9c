import { z } from 'zod';
import { batchResultSchema, checkFeatureSchema, checkMetricSchema, checkResultSchema, id, jsonObject, queuedResultSchema, usageBatchSchema } from '../../shared/schemas';
import { sql } from 'drizzle-orm';
import { cachedAccounts, freshnessGuard, isStale, rememberAccounts } from '../accountCache';
import { loadAccountState, snapshotOf } from '../accounts';
import { cachedHotConfig, configWritten, withHotConfig } from '../configCache';
import { accounts } from '../db/schema';
import { ApiError, notFound, validate } from '../errors';
import { checkEventTimes } from '../middleware/body';
import { enqueue } from '../ingest';
import { scaleOptions } from '../scale';
import { checkAndRecord, liveCounters, meterOf, recordUsage, resolveUsage } from '../usage';
import { body, hostRouter, json, route } from './groups';

const postUsage = route({
  method: 'post',
  path: '/usage',
  summary: 'Record up to 1,000 usage events in one transaction; with LADDER_INGEST=queue, validate and queue them (202)',
  request: { body: body(usageBatchSchema) },
  responses: { 200: json(batchResultSchema, 'Recorded: events stored now and those seen before'), 202: json(queuedResultSchema, 'Validated and queued (LADDER_INGEST=queue)') },
  errors: ['not_found', 'invalid_mode'],
});

const postCheck = route({
  method: 'post',
  path: '/check',
  summary: 'Atomic check-and-record of a metric, or a feature check',
  request: { body: body(z.union([checkMetricSchema, checkFeatureSchema])) },
  responses: { 200: json(checkResultSchema, "The metric's room after recording, or the feature's entitlement") },
  errors: ['account_not_found', 'feature_not_found', 'metric_not_found'],
});

const getEntitlement = route({
  method: 'get',
  path: '/entitlements/{accountId}/{key}',
  summary: 'Whether an account may use a feature or metric',
  request: { params: z.strictObject({ accountId: id, key: id }) },
  responses: { 200: json(checkResultSchema, "The feature's entitlement, or the metric's room") },
  errors: ['account_not_found', 'feature_or_metric_not_found'],
});

/** A /v1/check body is a feature check when it names `feature`: its failures are that schema's, field by field. */
const checkHook = (result: { success: boolean; data?: unknown }): undefined => {
  if (result.success) return undefined;
  const raw = validate(jsonObject, result.data);
  validate('feature' in raw ? checkFeatureSchema : checkMetricSchema, raw);
  return undefined;
};

/** `POST /v1/usage` (200 once stored, or 202 once queued with LADDER_INGEST=queue), `POST /v1/check` (always synchronous), `GET /v1/entitlements/{accountId}/{key}` (secret key). Mounted at `/v1`. */
export const usageRoutes = hostRouter()
  .openapi(postUsage, async (c) => {
    const { events } = c.req.valid('json');
    checkEventTimes(events, c.get('now'));
    const meter = meterOf(c.env);
    const db = meter.db;
    const now = c.get('now');
    const ids = [...new Set(events.map((e) => e.account_id))];
    const direct = !meter.objects && scaleOptions(c.env).ingest !== 'queue';
    // A warm isolate holds the catalog and the accounts: the D1 write's own batch checks them (one round trip).
    const config = cachedHotConfig();
    const cached = direct && config?.token ? cachedAccounts(ids) : null;
    if (config?.token && cached) {
      try {
        return c.json(await recordUsage(meter, config.catalog, cached, events, now, freshnessGuard(config.token, cached)), 200);
      } catch (err) {
        // Stale (rolled back whole), or refused by what memory says: read afresh and decide again,
        // the config in the same batch as the accounts (configWritten drops the isolate's copy).
        if (!isStale(err) && !(err instanceof ApiError)) throw err;
        configWritten();
      }
    }
    const {
      config: fresh,
      results: [rows],
    } = await withHotConfig(db, [db.select().from(accounts).where(sql`${accounts.id} IN (SELECT value FROM json_each(${JSON.stringify(ids)}))`)]);
    rememberAccounts(rows);
    const accountsById = new Map(rows.map((r) => [r.id, r]));
    if (scaleOptions(c.env).ingest === 'queue') {
      resolveUsage(fresh.catalog, accountsById, events, now); // refuses as the direct path does, before anything is queued
      return c.json({ queued: await enqueue(c.env.LADDER_INGEST_QUEUE!, 'usage', events, now) }, 202);
    }
    return c.json(await recordUsage(meter, fresh.catalog, accountsById, events, now), 200);
  })
  .openapi(
    postCheck,
    async (c) => {
      const body = c.req.valid('json');
      const meter = meterOf(c.env);
      const now = c.get('now');
      if ('feature' in body) return c.json(featureAnswer(snapshotOf(await loadAccountState(meter.db, body.account_id), now), body.feature), 200);
      const state = await loadAccountState(meter.db, body.account_id);
      return c.json(await checkAndRecord(meter, state, body.metric, body.amount, body.idempotency_key ?? crypto.randomUUID(), now), 200);
    },
    checkHook as never,
  )
  .openapi(getEntitlement, async (c) => {
    const { accountId, key } = c.req.valid('param');
    const m = meterOf(c.env);
    const snap = snapshotOf(await loadAccountState(m.db, accountId, liveCounters(m, accountId)), c.get('now'));
    if (snap.features[key]) return c.json(featureAnswer(snap, key), 200);
    const meter = snap.meters.find((x) => x.metric === key);
    if (!meter) throw notFound('feature_or_metric', key, 'key');
    return c.json(
      {
        allowed: meter.limit === null || meter.used < meter.limit,
        used: meter.used,
        limit: meter.limit,
        remaining: meter.limit === null ? null : Math.max(meter.limit - meter.used, 0),
      },
      200,
    );
  });

function featureAnswer(snap: ReturnType<typeof snapshotOf>, featureId: string) {
  const f = snap.features[featureId];
  if (!f) throw notFound('feature', featureId, 'feature');
  return {
    allowed: f.entitled,
    ...(f.trial_ends_at && { trial_ends_at: f.trial_ends_at }),
    ...(!f.entitled && f.required_plan && { required_plan: f.required_plan }),
  };
}
