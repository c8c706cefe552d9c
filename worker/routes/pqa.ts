import { sql } from 'drizzle-orm';
import { Hono } from 'hono';
import { graceCeiling } from '../../shared/entitlements';
import { graceState } from '../../shared/grace';
import { pqaConfigSchema } from '../../shared/pqaScore';
import { catalogPutQuerySchema, id } from '../../shared/schemas';
import { pqaListQuerySchema } from '../../shared/webhookSchemas';
import { loadAccountState, snapshotOf } from '../accounts';
import { database, laggingReads, sqlBatch } from '../db';
import type { AppEnv } from '../env';
import { validate } from '../errors';
import { readJson, readQuery } from '../middleware/body';
import { loadCatalog } from '../catalog';
import { accountsNamed, loadPqaConfig, previewPqaConfig, readAggregates, savePqaConfig, scoreAccount } from '../pqa';
import { routesOf, routingFrom, routingQuery, type AccountRouteRow } from '../routing';
import { DAY_MS, isoOrNull } from '../../shared/time';

/**
 * `GET /v1/pqa?band=&limit=` (secret key): accounts by PQA score, highest first. An account
 * not scored yet (no events, no cron run since it was created) lists as 0, nurture, as the
 * account endpoint shows it.
 */
export const pqaRoutes = new Hono<AppEnv>().get('/', async (c) => {
  const { band, limit } = readQuery(c, pqaListQuerySchema);
  const order = sql`ORDER BY score DESC, entered_band_at ASC, account_id ASC LIMIT ${limit}`;
  const query =
    band && band !== 'nurture'
      ? sql`SELECT p.account_id, p.score, p.band, p.entered_band_at, p.top_signals, a.plan_id, a.seats, a.billing_interval
            FROM pqa_scores p JOIN accounts a ON a.id = p.account_id WHERE p.band = ${band} ${order}`
      : sql`SELECT a.id AS account_id, coalesce(p.score, 0) AS score, coalesce(p.band, 'nurture') AS band,
                   coalesce(p.entered_band_at, a.created_at) AS entered_band_at, coalesce(p.top_signals, '[]') AS top_signals,
                   a.plan_id, a.seats, a.billing_interval
            FROM accounts a LEFT JOIN pqa_scores p ON p.account_id = a.id
            ${band ? sql`WHERE coalesce(p.band, 'nurture') = 'nurture'` : sql``} ${order}`;
  const db = database(c.env.DB);
  const [[rows = []], [routingRows], catalog] = await Promise.all([sqlBatch(laggingReads(c.env.DB), [query]), sqlBatch(db, [routingQuery]), loadCatalog(db)]);
  // Where each account goes: its route under the routing rules, its next plan up as the expansion.
  const routes = routesOf(
    catalog,
    routingFrom(routingRows),
    rows.map((r) => ({
      account_id: String(r.account_id),
      band: String(r.band) as AccountRouteRow['band'],
      plan_id: String(r.plan_id),
      seats: Number(r.seats),
      billing_interval: r.billing_interval === 'year' || r.billing_interval === 'month' ? r.billing_interval : null,
    })),
  );
  return c.json({
    accounts: rows.map((r) => ({
      account_id: String(r.account_id),
      score: Number(r.score),
      band: String(r.band),
      entered_band_at: isoOrNull(Number(r.entered_band_at)),
      top_signals: JSON.parse(String(r.top_signals)) as string[],
      route: routes.get(String(r.account_id))!.route,
    })),
  });
});

/**
 * `GET /v1/accounts/:accountId/readiness` (secret key): the expansion-readiness view a CSM
 * reads before a call — the PQA score as of now with every signal behind it, seat and usage
 * utilisation, activation and the next plan up.
 */
export const readinessRoutes = new Hono<AppEnv>().get('/:accountId/readiness', async (c) => {
  const accountId = validate(id, c.req.param('accountId'), ['accountId']);
  const now = c.get('now');
  const db = database(c.env.DB);
  const [state, { config, aggregates: [aggregate] }] = await Promise.all([loadAccountState(db, accountId), readAggregates(db, accountsNamed([accountId]), now)]);
  const live = aggregate ? scoreAccount(aggregate, now, config) : null;
  const snap = snapshotOf(state, now);
  const a = state.account;
  const seatMeter = snap.meters.find((m) => m.metric === 'seats');
  const next = snap.upgradeOptions[0] ?? null;
  return c.json({
    account_id: a.id,
    name: a.name,
    status: a.status,
    plan: { id: snap.plan.id, name: snap.plan.name, price_cents: snap.plan.price_cents, currency: snap.plan.currency, interval: snap.plan.interval },
    next_plan: next && { id: next.id, name: next.name, price_cents: next.price_cents, currency: next.currency, interval: next.interval },
    pqa: {
      score: live?.score ?? 0,
      band: live?.band ?? 'nurture',
      // When the account entered its band, as last stored (null if the stored band is behind).
      entered_band_at: state.pqa && live && state.pqa.band === live.band ? isoOrNull(state.pqa.enteredBandAt) : null,
      top_signals: live?.top_signals ?? [],
      signals: live?.details ?? [],
      last_active_at: isoOrNull(aggregate?.last_active_at ?? null),
      computed_at: isoOrNull(now),
    },
    seats: { used: snap.seats.used, limit: snap.seats.limit, pct: seatMeter?.pct ?? null },
    usage: snap.meters
      .filter((m) => m.metric !== 'seats')
      .map((m) => {
        // Grace use shows here: `grace` (ceiling, left, in_grace) where the plan allows going past the limit.
        const grace = graceState(m, graceCeiling(snap.plan, m.metric, a));
        return { metric: m.metric, name: m.name, used: m.used, limit: m.limit, pct: m.pct, threshold: m.threshold, projected_at_period_end: m.projected_at_period_end, ...(grace && { grace }) };
      }),
    created_at: isoOrNull(a.createdAt),
    days_since_created: Math.max(0, Math.floor((now - a.createdAt) / DAY_MS)),
    activated_at: isoOrNull(a.activatedAt),
    days_since_activation: a.activatedAt === null ? null : Math.max(0, Math.floor((now - a.activatedAt) / DAY_MS)),
  });
});

/**
 * `GET/PUT /v1/admin/pqa/config` (admin): the points table, decay and band edges.
 * `PUT ?dry_run=true` saves nothing and answers how accounts would score and band under it.
 */
export const pqaAdminRoutes = new Hono<AppEnv>()
  .get('/config', async (c) => c.json(await loadPqaConfig(database(c.env.DB))))
  .put('/config', async (c) => {
    const { dry_run } = readQuery(c, catalogPutQuerySchema);
    const config = await readJson(c, pqaConfigSchema);
    if (dry_run) return c.json({ config, ...(await previewPqaConfig(database(c.env.DB), config, c.get('now'))) });
    await savePqaConfig(database(c.env.DB), config, c.get('now'));
    return c.json(config);
  });
