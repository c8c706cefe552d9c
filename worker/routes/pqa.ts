import { sql } from 'drizzle-orm';
import { pqaListSchema } from '../../shared/schemas';
import { pqaListQuerySchema } from '../../shared/webhookSchemas';
import type { PqaBand } from '../../shared/pqaScore';
import { laggingReads, sqlBatch } from '../db';
import { hostRouter, json, route } from './groups';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export const listPqa = route({
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
      ? sql`SELECT account_id, score, band, entered_band_at, top_signals FROM pqa_scores WHERE band = ${band} ${order}`
      : sql`SELECT a.id AS account_id, coalesce(p.score, 0) AS score, coalesce(p.band, 'nurture') AS band,
                   coalesce(p.entered_band_at, a.created_at) AS entered_band_at, coalesce(p.top_signals, '[]') AS top_signals
            FROM accounts a LEFT JOIN pqa_scores p ON p.account_id = a.id
            ${band ? sql`WHERE coalesce(p.band, 'nurture') = 'nurture'` : sql``} ${order}`;
  const [rows = []] = await sqlBatch(laggingReads(c.env.DB), [query]);
  return c.json(
    {
      accounts: rows.map((r) => ({
        account_id: String(r.account_id),
        score: Number(r.score),
        band: String(r.band) as PqaBand,
        entered_band_at: iso(Number(r.entered_band_at)),
        top_signals: JSON.parse(String(r.top_signals)) as string[],
      })),
    },
    200,
  );
});
