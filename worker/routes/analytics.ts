/**
 * Admin analytics routes for the dashboard: prompt funnels, the self-serve upgrade rate over
 * time, per-account prompt history and the accounts list with PQA. Each reads its query, checks
 * the range and answers JSON, or CSV with `Accept: text/csv`; the SQL is in worker/analytics.ts.
 */
import { Hono, type Context } from 'hono';
import {
  accountIdParam,
  adminAccountsQuerySchema,
  funnelQuerySchema,
  promptHistoryQuerySchema,
  upgradesQuerySchema,
} from '../../shared/analyticsSchemas';
import { DAY_MS } from '../../shared/time';
import { toCsv } from '../../shared/csv';
import { adminAccounts, bucketStarts, MAX_BUCKETS, promptFunnel, promptHistory, upgradeRates } from '../analytics';
import { database, laggingReads } from '../db';
import type { AppEnv } from '../env';
import { ApiError, notFound, validate } from '../errors';
import { readQuery } from '../middleware/body';

// ---------------------------------------------------------------- ranges and CSV

const rangeError = (message: string) => new ApiError(400, 'validation_failed', 'The request is not valid.', [{ path: 'from', message }]);

/** The query's [from, to) widened to whole UTC days (default: the 30 days up to now). */
function dayRange(q: { from?: number; to?: number }, now: number, defaultDays = 30): { from: number; to: number } {
  const to = Math.ceil((q.to ?? now + 1) / DAY_MS) * DAY_MS;
  const from = Math.floor((q.from ?? to - defaultDays * DAY_MS) / DAY_MS) * DAY_MS;
  if (from >= to) throw rangeError('must be before to');
  return { from, to };
}

const wantsCsv = (c: Context) => (c.req.header('accept') ?? '').toLowerCase().includes('text/csv');

/** JSON, or the rows as CSV when the client accepts `text/csv`. */
export function respond<T extends object>(c: Context, body: unknown, rows: readonly T[], columns: readonly (keyof T & string)[], name: string) {
  c.header('Cache-Control', 'no-store');
  if (!wantsCsv(c)) return c.json(body);
  return c.body(toCsv(rows, columns), 200, {
    'Content-Type': 'text/csv; charset=utf-8',
    'Content-Disposition': `attachment; filename="${name}.csv"`,
  });
}

const funnelColumns = ['prompt_id', 'kind', 'experiment_id', 'variant_id', 'impressions', 'clicks', 'previews', 'upgrades', 'expansion_mrr_cents', 'click_rate', 'preview_rate', 'upgrades_per_preview'] as const;
const upgradeColumns = ['start', 'eligible_accounts', 'upgraded_accounts', 'rate'] as const;
const byKindColumns = ['kind', 'accounts_shown', 'upgraded_accounts', 'rate', 'upgrades', 'expansion_mrr_cents'] as const;

/** `GET /v1/admin/analytics/funnel` and `GET /v1/admin/analytics/upgrades`. */
export const analyticsRoutes = new Hono<AppEnv>()
  .get('/funnel', async (c) => {
    const q = readQuery(c, funnelQuerySchema);
    const { from, to } = dayRange(q, c.get('now'));
    const body = await promptFunnel(laggingReads(c.env.DB), { from, to, promptId: q.prompt_id ?? null });
    return respond(c, body, body.rows, funnelColumns, 'funnel');
  })
  .get('/upgrades', async (c) => {
    const q = readQuery(c, upgradesQuerySchema);
    const days = dayRange(q, c.get('now'), q.interval === 'month' ? 365 : q.interval === 'week' ? 12 * 7 : 30);
    const starts = bucketStarts(q.interval, days.from, days.to);
    if (starts.length - 1 > MAX_BUCKETS) throw rangeError(`at most ${MAX_BUCKETS} ${q.interval}s`);
    const body = await upgradeRates(laggingReads(c.env.DB), q.interval, starts);
    if (q.by === 'kind') return respond(c, body, body.by_kind, byKindColumns, `upgrades-by-kind`);
    return respond(c, body, body.series, upgradeColumns, `upgrades-${q.interval}`);
  });

// ---------------------------------------------------------------- accounts

const historyColumns = ['user_id', 'prompt_id', 'kind', 'impressions', 'clicks', 'dismisses', 'snoozes', 'first_seen_at', 'last_seen_at', 'last_event_at'] as const;
const accountColumns = ['account_id', 'name', 'plan_id', 'status', 'seats', 'score', 'band', 'entered_band_at', 'top_signals', 'computed_at', 'route'] as const;

/** `GET /v1/admin/accounts` (with PQA) and `GET /v1/admin/accounts/:id/prompt-history`. */
export const adminAccountRoutes = new Hono<AppEnv>()
  .get('/', async (c) => {
    const q = readQuery(c, adminAccountsQuerySchema);
    const accounts = await adminAccounts(laggingReads(c.env.DB), database(c.env.DB), q);
    return respond(c, { accounts }, accounts, accountColumns, 'accounts');
  })
  .get('/:id/prompt-history', async (c) => {
    const accountId = validate(accountIdParam, c.req.param('id'), ['id']);
    const q = readQuery(c, promptHistoryQuerySchema);
    const to = q.to ?? c.get('now') + 1;
    const from = q.from ?? to - 90 * DAY_MS;
    if (from >= to) throw rangeError('must be before to');
    const body = await promptHistory(laggingReads(c.env.DB), accountId, { from, to, limit: q.limit });
    if (!body) throw notFound('account', accountId, 'id');
    return respond(c, body, body.prompts, historyColumns, `prompt-history-${accountId}`);
  });
