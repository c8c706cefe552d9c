import { Hono } from 'hono';
import { checkFeatureSchema, checkMetricSchema, id, jsonObject, usageBatchSchema } from '../../shared/schemas';
import { sql } from 'drizzle-orm';
import { cachedAccounts, freshnessGuard, isStale, rememberAccounts } from '../accountCache';
import { loadAccountState, snapshotOf } from '../accounts';
import { cachedHotConfig, withHotConfig } from '../configCache';
import { accounts } from '../db/schema';
import type { AppEnv } from '../env';
import { ApiError, notFound, validate } from '../errors';
import { checkEventTimes, readJson } from '../middleware/body';
import { enqueue } from '../ingest';
import { scaleOptions } from '../scale';
import { checkAndRecord, liveCounters, meterOf, recordUsage, resolveUsage } from '../usage';

/** `POST /v1/usage` (200 once stored, or 202 once queued with LADDER_INGEST=queue), `POST /v1/check` (always synchronous), `GET /v1/entitlements/:accountId/:key` (secret key). */
export const usageRoutes = new Hono<AppEnv>()
  .post('/usage', async (c) => {
    const { events } = await readJson(c, usageBatchSchema);
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
        return c.json(await recordUsage(meter, config.catalog, cached, events, now, freshnessGuard(config.token, cached)));
      } catch (err) {
        // Stale (rolled back whole), or refused by what memory says: read afresh and decide again.
        if (!isStale(err) && !(err instanceof ApiError)) throw err;
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
    return c.json(await recordUsage(meter, fresh.catalog, accountsById, events, now));
  })
  .post('/check', async (c) => {
    const raw = await readJson(c, jsonObject);
    const body = 'feature' in raw ? validate(checkFeatureSchema, raw) : validate(checkMetricSchema, raw);
    const meter = meterOf(c.env);
    const now = c.get('now');
    if ('feature' in body) return c.json(featureAnswer(snapshotOf(await loadAccountState(meter.db, body.account_id), now), body.feature));
    const state = await loadAccountState(meter.db, body.account_id);
    return c.json(await checkAndRecord(meter, state, body.metric, body.amount, body.idempotency_key ?? crypto.randomUUID(), now));
  })
  .get('/entitlements/:accountId/:key', async (c) => {
    const accountId = validate(id, c.req.param('accountId'), ['accountId']);
    const key = validate(id, c.req.param('key'), ['key']);
    const m = meterOf(c.env);
    const snap = snapshotOf(await loadAccountState(m.db, accountId, liveCounters(m, accountId)), c.get('now'));
    if (snap.features[key]) return c.json(featureAnswer(snap, key));
    const meter = snap.meters.find((x) => x.metric === key);
    if (!meter) throw notFound('feature_or_metric', key, 'key');
    return c.json({
      allowed: meter.limit === null || meter.used < meter.limit,
      used: meter.used,
      limit: meter.limit,
      remaining: meter.limit === null ? null : Math.max(meter.limit - meter.used, 0),
    });
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
