import { Hono } from 'hono';
import { checkFeatureSchema, checkMetricSchema, id, jsonObject, usageBatchSchema } from '../../shared/schemas';
import { sql } from 'drizzle-orm';
import { cachedAccounts, freshnessGuard, isStale, rememberAccounts } from '../accountCache';
import { loadAccountState, snapshotOf } from '../accounts';
import { cachedHotConfig, withHotConfig } from '../configCache';
import { accounts } from '../db/schema';
import { database } from '../db';
import type { AppEnv } from '../env';
import { ApiError, notFound, validate } from '../errors';
import { checkEventTimes, readJson } from '../middleware/body';
import { checkAndRecord, recordUsage } from '../usage';

/** `POST /v1/usage`, `POST /v1/check`, `GET /v1/entitlements/:accountId/:key` (secret key). */
export const usageRoutes = new Hono<AppEnv>()
  .post('/usage', async (c) => {
    const { events } = await readJson(c, usageBatchSchema);
    checkEventTimes(events, c.get('now'));
    const db = database(c.env.DB);
    const now = c.get('now');
    const ids = [...new Set(events.map((e) => e.account_id))];
    // A warm isolate holds the catalog and the accounts: the write's own batch checks them (one round trip).
    const config = cachedHotConfig();
    const cached = config?.token ? cachedAccounts(ids) : null;
    if (config?.token && cached) {
      try {
        return c.json(await recordUsage(db, config.catalog, cached, events, now, freshnessGuard(config.token, cached)));
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
    return c.json(await recordUsage(db, fresh.catalog, new Map(rows.map((r) => [r.id, r])), events, now));
  })
  .post('/check', async (c) => {
    const raw = await readJson(c, jsonObject);
    const body = 'feature' in raw ? validate(checkFeatureSchema, raw) : validate(checkMetricSchema, raw);
    const db = database(c.env.DB);
    const state = await loadAccountState(db, body.account_id);
    const now = c.get('now');
    if ('feature' in body) return c.json(featureAnswer(snapshotOf(state, now), body.feature));
    return c.json(await checkAndRecord(db, state, body.metric, body.amount, body.idempotency_key ?? crypto.randomUUID(), now));
  })
  .get('/entitlements/:accountId/:key', async (c) => {
    const accountId = validate(id, c.req.param('accountId'), ['accountId']);
    const key = validate(id, c.req.param('key'), ['key']);
    const snap = snapshotOf(await loadAccountState(database(c.env.DB), accountId), c.get('now'));
    if (snap.features[key]) return c.json(featureAnswer(snap, key));
    const meter = snap.meters.find((m) => m.metric === key);
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
