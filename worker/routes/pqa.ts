import { sql } from 'drizzle-orm';
import { pqaListSchema } from '../../shared/schemas';
import { pqaListQuerySchema } from '../../shared/webhookSchemas';
import type { PqaBand } from '../../shared/pqaScore';
import { isoOrNull } from '../../shared/time';
import { loadCatalog } from '../catalog';
import { database, laggingReads, sqlBatch } from '../db';
import { routesOf, routingFrom, routingQuery, type AccountRouteRow } from '../routing';
import { hostRouter, json, route } from './groups';

const listPqa = route({
  method: 'get',
  path: '/',
  summary: 'Accounts by PQA score, highest first, optionally one band',
  request: { query: pqaListQuerySchema },
  responses: { 200: json(pqaListSchema, 'Accounts by score') },
});

/**
 * `GET /v1/pqa?band=&limit=` (secret key): accounts by PQA score, highest first. An account
 * not scored yet (no events, no cron run since it was created) lists as 0, nurture, as the
 * account endpoint shows it. Mounted at `/v1/pqa`.
 */
export const pqaRoutes = hostRouter().openapi(listPqa, async (c) => {
  const { band, limit } = c.req.valid('query');
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
  return c.json(
    {
      accounts: rows.map((r) => ({
        account_id: String(r.account_id),
        score: Number(r.score),
        band: String(r.band) as PqaBand,
        entered_band_at: isoOrNull(Number(r.entered_band_at)),
        top_signals: JSON.parse(String(r.top_signals)) as string[],
        route: routes.get(String(r.account_id))!.route,
      })),
    },
    200,
  );
});
