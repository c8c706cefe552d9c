import { Hono } from 'hono';
import { upgradeRequestsQuerySchema, type UpgradeRequestView } from '../../shared/analyticsSchemas';
import { database } from '../db';
import type { AppEnv } from '../env';
import { readQuery } from '../middleware/body';
import { listUpgradeRequests } from '../upgradeRequests';
import { toCsv } from '../../shared/csv';

const CSV_COLUMNS: (keyof UpgradeRequestView & string)[] = ['id', 'account_id', 'user_id', 'user_name', 'plan_id', 'seats', 'note', 'status', 'created_at', 'resolved_at'];

/** Admin: members' upgrade requests across accounts (`?status&from&to`), as JSON or CSV. */
export const upgradeRequestRoutes = new Hono<AppEnv>().get('/', async (c) => {
  const q = readQuery(c, upgradeRequestsQuerySchema);
  const requests = await listUpgradeRequests(database(c.env.DB), q);
  c.header('Cache-Control', 'no-store');
  if (!(c.req.header('accept') ?? '').toLowerCase().includes('text/csv')) return c.json({ requests });
  return c.body(toCsv(requests, CSV_COLUMNS), 200, {
    'Content-Type': 'text/csv; charset=utf-8',
    'Content-Disposition': 'attachment; filename="upgrade-requests.csv"',
  });
});
