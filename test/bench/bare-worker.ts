/**
 * The runtime's own ceiling for `npm run bench`: bare Hono routes on the same workerd, started
 * by the bench the same way as the product (test/bench/runtime.mjs). No auth, no validation.
 * `GET /bare` answers `{"ok":true}` with no database. `POST /bare` reads the JSON body as the
 * product does and answers the same shape as `POST /v1/usage`.
 *
 * `GET /bare-d1` sends ONE D1 batch with the same 12 statements and parameters as a warm
 * `GET /v1/widget/state?session=bench&path=/settings` for the bench's user (account `initech`,
 * user `bench-user`, admin), captured from the product's batch through a D1 wrapper that logs
 * each statement's SQL and bound parameters, and answers a small JSON. Its D1 is a copy of the
 * product's local D1 taken after the bench's seed (test/bench/http.mjs), so the statements read
 * the same rows. The gap between it and the widget state is the product's own JS (auth, the
 * prompt engine, drizzle, serve tokens, the JSON answer); the gap between it and `GET /bare` is
 * local D1 (miniflare's D1 object: SQLite plus JSON both ways).
 *
 * `GET /bare-d1-one` sends one batch of one `SELECT 1`: the floor of any route that makes one D1
 * round trip on this runtime. Never part of the product worker.
 */
import type { D1Database } from '@cloudflare/workers-types/latest';
import { Hono } from 'hono';

const DAY = 86_400_000;
const ACCOUNT = 'initech';
const USER = 'bench-user';

/** The warm widget state's batch, statement for statement (SQL as drizzle and the product's raw SQL render it). */
function stateBatch(db: D1Database, now: number) {
  const a = ACCOUNT;
  return [
    db.prepare('select "token" from "config_version" where "config_version"."id" = ?').bind(1),
    db
      .prepare(
        'select "id", "name", "plan_id", "seats", "created_at", "stripe_customer_id", "stripe_subscription_id", "period_start", "period_end", "status", "activated_at", "updated_at", "billing_interval", "discount_percent", "discount_ends_at", "paused_until" from "accounts" where "accounts"."id" = ?',
      )
      .bind(a),
    db.prepare('select "account_id", "metric", "period_start", "used", "highest_threshold", "set_at" from "usage_counters" where "usage_counters"."account_id" = ?').bind(a),
    db.prepare('select "account_id", "feature_id", "started_at", "ends_at" from "trials" where "trials"."account_id" = ?').bind(a),
    db
      .prepare(
        'select "prompt_id", "type", "session_id", "feature_id", "timestamp" from (select "prompt_id", "type", "session_id", "feature_id", "timestamp" from "prompt_events" where ("prompt_events"."account_id" = ? and "prompt_events"."user_id" = ? and "prompt_events"."timestamp" >= ?) order by "prompt_events"."timestamp" desc limit ?) "recent" where ("recent"."type" in (?, ?, ?) or ("recent"."type" = ? and "recent"."session_id" = ?))',
      )
      .bind(a, USER, now - 120 * DAY, 5000, 'impression', 'dismiss', 'snooze', 'gate_hit', 'bench'),
    db.prepare('select "prompt_id", "impressions" from "user_prompt_caps" where ("user_prompt_caps"."account_id" = ? and "user_prompt_caps"."user_id" = ?)').bind(a, USER),
    db
      .prepare(
        `
  SELECT count(*) AS n FROM (
    SELECT 1 FROM track_events t
    WHERE t.account_id = ? AND t.event IN (SELECT value FROM json_each(coalesce(
      (SELECT json_extract(value, '$.events') FROM settings WHERE key = ?), ?)))
    LIMIT 1000)`,
      )
      .bind(a, 'activation', '["core_feature_activated"]'),
    db.prepare('SELECT kind, plan_id, seats, effective_at, idempotency_key, reason FROM scheduled_changes WHERE account_id = ?').bind(a),
    db
      .prepare(
        `
  UPDATE upgrade_requests SET status = 'approved', resolved_at = ?, resolved_by = 'upgrade'
  WHERE account_id = ? AND status = 'open' AND (
    (plan_id IS NOT NULL AND (SELECT rank FROM plans WHERE id = upgrade_requests.plan_id)
      <= (SELECT p.rank FROM accounts a JOIN plans p ON p.id = a.plan_id WHERE a.id = ?))
    OR (seats IS NOT NULL AND seats <= (SELECT seats FROM accounts WHERE id = ?))) AND ? = 1`,
      )
      .bind(now, a, a, a, 1),
    db
      .prepare(
        "SELECT id, account_id, user_id, user_name, plan_id, seats, note, status, created_at, resolved_at FROM upgrade_requests WHERE account_id = ? AND status = 'open' AND ? = 1 ORDER BY created_at LIMIT 50",
      )
      .bind(a, 1),
    db
      .prepare(
        `
  SELECT experiment_id, unit_id FROM experiment_exposures
  WHERE experiment_id IN (SELECT id FROM experiments WHERE status = 'running')
    AND unit_id IN (?, ?)`,
      )
      .bind(a, `${a}:${USER}`),
    db.prepare('select "metric", "day", "used" from "usage_daily" where ("usage_daily"."account_id" = ? and "usage_daily"."day" >= ?)').bind(a, Math.floor(now / DAY) - 14),
  ];
}

const app = new Hono<{ Bindings: { DB?: D1Database } }>();
app.get('/bare', (c) => c.json({ ok: true }));
app.post('/bare', async (c) => {
  const body = (await c.req.json()) as { events?: unknown[] };
  return c.json({ accepted: body.events?.length ?? 0, duplicates: 0 });
});
app.get('/bare-d1', async (c) => {
  if (!c.env.DB) return c.json({ error: 'no D1 binding' }, 500);
  const results = await c.env.DB.batch(stateBatch(c.env.DB, Date.now()));
  return c.json({ ok: true, statements: results.length, rows: results.reduce((n, r) => n + (r.results?.length ?? 0), 0) });
});

// The floor of any handler that makes one D1 round trip: one batch of one trivial statement.
app.get('/bare-d1-one', async (c) => {
  if (!c.env.DB) return c.json({ error: 'no D1 binding' }, 500);
  const [r] = await c.env.DB.batch([c.env.DB.prepare('SELECT 1 AS one')]);
  return c.json({ ok: true, statements: 1, rows: r?.results?.length ?? 0 });
});

export default app;
