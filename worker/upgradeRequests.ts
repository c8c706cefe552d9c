/**
 * Upgrade requests: a member asks the account's admins for a plan or seats. The same ask
 * within 24 hours is the same request; admins see open requests in the widget, decline them,
 * or upgrade — an upgrade that reaches a request's plan or seat count approves it.
 */
import { sql } from 'drizzle-orm';
import type { UpgradeRequestView } from '../shared/analyticsSchemas';
import type { UpgradeRequestInput } from '../shared/billingSchemas';
import type { UserClaims } from '../shared/schemas';
import type { AccountState } from './accounts';
import { sqlBatch, type Db } from './db';
import { ApiError } from './errors';
import { enqueueWebhookEvent } from './webhooks';
import { DAY_MS } from '../shared/time';

const DEDUPE_MS = DAY_MS;
const COLUMNS = sql`id, account_id, user_id, user_name, plan_id, seats, note, status, created_at, resolved_at`;

export const view = (r: Record<string, unknown>): UpgradeRequestView => ({
  id: String(r.id),
  account_id: String(r.account_id),
  user_id: String(r.user_id),
  user_name: r.user_name === null || r.user_name === undefined ? null : String(r.user_name),
  plan_id: r.plan_id === null || r.plan_id === undefined ? null : String(r.plan_id),
  seats: r.seats === null || r.seats === undefined ? null : Number(r.seats),
  note: String(r.note ?? ''),
  status: String(r.status) as UpgradeRequestView['status'],
  created_at: new Date(Number(r.created_at)).toISOString(),
  resolved_at: r.resolved_at === null || r.resolved_at === undefined ? null : new Date(Number(r.resolved_at)).toISOString(),
});

/**
 * Record a member's request and queue `upgrade.requested` for subscribed webhooks, in one
 * batch — unless the same user asked for the same plan or seats within 24 hours and it is
 * still open: then that request is answered and nothing is sent twice.
 * @example await createUpgradeRequest(db, user, state, { plan_id: 'pro' }, Date.now()) // { request: {…}, created: true }
 */
export async function createUpgradeRequest(
  db: Db,
  user: UserClaims,
  state: AccountState,
  input: UpgradeRequestInput,
  now: number,
): Promise<{ request: UpgradeRequestView; created: boolean }> {
  const plan = input.plan_id ?? null;
  const seats = input.seats ?? null;
  const [same] = await sqlBatch(db, [
    sql`SELECT ${COLUMNS} FROM upgrade_requests
        WHERE account_id = ${user.acct} AND user_id = ${user.sub} AND status = 'open' AND created_at > ${now - DEDUPE_MS}
          AND plan_id IS ${plan} AND seats IS ${seats}
        ORDER BY created_at DESC LIMIT 1`,
  ]);
  if (same?.[0]) return { request: view(same[0]), created: false };
  const id = `upr_${crypto.randomUUID().replace(/-/g, '')}`;
  const row = { id, account_id: user.acct, user_id: user.sub, user_name: user.name ?? null, plan_id: plan, seats, note: input.note ?? '', status: 'open', created_at: now, resolved_at: null };
  const request = view(row);
  const payload = {
    event: 'upgrade.requested',
    account: { id: state.account.id, name: state.account.name, plan_id: state.account.planId, seats: state.account.seats },
    user: { id: user.sub, ...(user.name && { name: user.name }), ...(user.email && { email: user.email }) },
    request: { id, account_id: user.acct, user_id: user.sub, plan_id: plan, seats, note: row.note, created_at: request.created_at },
  };
  // The request and one outbox entry per enabled webhook subscribed to the event, in one batch.
  await sqlBatch(db, [
    sql`INSERT INTO upgrade_requests (id, account_id, user_id, user_name, plan_id, seats, note, created_at)
        VALUES (${id}, ${user.acct}, ${user.sub}, ${row.user_name}, ${plan}, ${seats}, ${row.note}, ${now})`,
    enqueueWebhookEvent('upgrade.requested', id, payload, now),
  ]);
  return { request, created: true };
}

/** Approves the account's open requests its current plan rank and seats now meet. */
const approveMetSql = (accountId: string, now: number) => sql`
  UPDATE upgrade_requests SET status = 'approved', resolved_at = ${now}, resolved_by = 'upgrade'
  WHERE account_id = ${accountId} AND status = 'open' AND (
    (plan_id IS NOT NULL AND (SELECT rank FROM plans WHERE id = upgrade_requests.plan_id)
      <= (SELECT p.rank FROM accounts a JOIN plans p ON p.id = a.plan_id WHERE a.id = ${accountId}))
    OR (seats IS NOT NULL AND seats <= (SELECT seats FROM accounts WHERE id = ${accountId})))`;

/** Resolve as approved the requests an upgrade has met (after an upgrade, or a plan change from Stripe). */
export async function approveMetRequests(db: Db, accountId: string, now: number): Promise<void> {
  await sqlBatch(db, [approveMetSql(accountId, now)]);
}

/**
 * The statements of `openUpgradeRequests`, to run inside a larger batch: approve the met
 * requests, then the open ones (rows of the second, as `view` reads them). With `when` false
 * both do nothing (a member's widget state).
 */
export const openUpgradeRequestsSql = (accountId: string, now: number, when = true) =>
  [
    sql`${approveMetSql(accountId, now)} AND ${when ? 1 : 0} = 1`,
    sql`SELECT ${COLUMNS} FROM upgrade_requests WHERE account_id = ${accountId} AND status = 'open' AND ${when ? 1 : 0} = 1 ORDER BY created_at LIMIT 50`,
  ] as const;

/**
 * The account's open requests, oldest first, after approving those already met (so a plan
 * changed through Stripe or the host never leaves a stale request on an admin's screen).
 */
async function openUpgradeRequests(db: Db, accountId: string, now: number): Promise<UpgradeRequestView[]> {
  const [, rows = []] = await sqlBatch(db, [...openUpgradeRequestsSql(accountId, now)]);
  return rows.map(view);
}

/**
 * An admin declines an open request of the account.
 * @example await declineUpgradeRequest(db, admin, 'upr_…', Date.now()) // { …, status: 'declined' }
 */
export async function declineUpgradeRequest(db: Db, user: UserClaims, id: string, now: number): Promise<UpgradeRequestView> {
  if (user.role !== 'admin')
    throw new ApiError(403, 'admin_required', 'Only an account admin can decline an upgrade request.', [{ path: 'role', message: 'must be admin' }]);
  const [, rows] = await sqlBatch(db, [
    sql`UPDATE upgrade_requests SET status = 'declined', resolved_at = ${now}, resolved_by = ${user.sub}
        WHERE id = ${id} AND account_id = ${user.acct} AND status = 'open'`,
    sql`SELECT ${COLUMNS} FROM upgrade_requests WHERE id = ${id} AND account_id = ${user.acct}`,
  ]);
  const row = rows?.[0];
  if (!row) throw new ApiError(404, 'not_found', `No upgrade request "${id}" in this account.`, [{ path: 'id', message: 'not found' }]);
  if (row.status !== 'declined')
    throw new ApiError(409, 'already_resolved', `This request was already ${String(row.status)}.`, [{ path: 'id', message: `already ${String(row.status)}` }]);
  return view(row);
}

/**
 * Requests across accounts for the dashboard, newest first (at most 5,000).
 * @example await listUpgradeRequests(db, { status: 'open' }) // [{ id: 'upr_…', … }]
 */
export async function listUpgradeRequests(db: Db, q: { status?: string; from?: number; to?: number }): Promise<UpgradeRequestView[]> {
  const [rows = []] = await sqlBatch(db, [
    sql`SELECT ${COLUMNS} FROM upgrade_requests
        WHERE (${q.status ?? null} IS NULL OR status = ${q.status ?? null})
          AND created_at >= ${q.from ?? 0} AND created_at < ${q.to ?? Number.MAX_SAFE_INTEGER}
        ORDER BY created_at DESC LIMIT 5000`,
  ]);
  return rows.map(view);
}
