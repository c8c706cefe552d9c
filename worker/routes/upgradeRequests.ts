import { upgradeRequestListSchema, upgradeRequestsQuerySchema, type UpgradeRequestView } from '../../shared/analyticsSchemas';
import { database } from '../db';
import { listUpgradeRequests } from '../upgradeRequests';
import { toCsv } from '../../shared/csv';
import { adminRouter, jsonOrCsv, route } from './groups';

const CSV_COLUMNS: (keyof UpgradeRequestView & string)[] = ['id', 'account_id', 'user_id', 'user_name', 'plan_id', 'seats', 'note', 'status', 'created_at', 'resolved_at'];

const listUpgradeRequestsRoute = route({
  method: 'get',
  path: '/',
  summary: 'Upgrade requests by status and time (JSON, or CSV with Accept: text/csv)',
  request: { query: upgradeRequestsQuerySchema },
  responses: { 200: jsonOrCsv(upgradeRequestListSchema, 'The requests') },
});

/** Admin: members' upgrade requests across accounts (`?status&from&to`), as JSON or CSV. Mounted at `/v1/admin/upgrade-requests`. */
export const upgradeRequestRoutes = adminRouter().openapi(listUpgradeRequestsRoute, async (c) => {
  const requests = await listUpgradeRequests(database(c.env.DB), c.req.valid('query'));
  c.header('Cache-Control', 'no-store');
  if (!(c.req.header('accept') ?? '').toLowerCase().includes('text/csv')) return c.json({ requests }, 200);
  return c.body(toCsv(requests, CSV_COLUMNS), 200, {
    'Content-Type': 'text/csv; charset=utf-8',
    'Content-Disposition': 'attachment; filename="upgrade-requests.csv"',
  });
});
