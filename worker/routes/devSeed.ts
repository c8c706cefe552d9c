/**
 * `POST /v1/admin/dev/seed-history` (admin, never in production): six weeks of demo history
 * that no public endpoint can back-date — demo accounts, their API calls per day, prompt events, self-serve and
 * sales-led MRR changes, and exposures and conversions for a running experiment, so every
 * dashboard view has something to show. Deterministic per account and idempotent: a second
 * call adds nothing (fixed idempotency and dedupe keys, `ON CONFLICT DO NOTHING`).
 */
import { sql, type SQL } from 'drizzle-orm';
import { Hono } from 'hono';
import { z } from 'zod';
import { assignVariant, murmurHash3 } from '../../shared/bucketing';
import { database, sqlBatch } from '../db';
import { isProduction } from '../config';
import type { AppEnv } from '../env';
import { ApiError, notFound } from '../errors';
import { readJson } from '../middleware/body';
import { DAY_MS } from '../../shared/time';

const H = 3_600_000;
const DEMO_ACCOUNTS = 400;
const HISTORY_DAYS = 42;
const PRICE = { starter: 5000, pro: 20000, business: 80000 } as const;
/** Conversion chance within the attribution window, per experiment arm (by position: control first). */
const ARM_CONVERSION = [0.06, 0.16, 0.1, 0.1, 0.1, 0.1];
const PROMPTS = ['limit-api_calls-75', 'limit-api_calls-90', 'limit-api_calls-100', 'gate-sso', 'gate-audit_log', 'invite-seats', 'invite-seats-blocked'];

export const seedHistorySchema = z.strictObject({
  /** The experiment to give exposures and conversions (its prompt should be `limit-90` or `limit-api_calls-90`). */
  experiment_id: z.string().min(1).max(128).optional(),
  /** The end of the history, epoch ms (default: now). */
  now: z.number().int().min(0).optional(),
});

/** mulberry32: a small deterministic PRNG, seeded per account so reruns produce the same history. */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type UsageRow = { a: string; k: string; v: number; t: number; p: number };
type EventRow = { a: string; k: string; u: string; s: string; y: string; p: string; v: string | null; x: string | null; t: number };
type LedgerRow = { a: string; t: number; kind: string; b: number; f: number; src: string; p: string | null; v: string | null; x: string | null; d: string };

/** Insert rows through one JSON parameter per chunk (D1 binds at most 100 parameters). */
function chunked<T>(rows: T[], size: number, statement: (json: string) => SQL): SQL[] {
  const out: SQL[] = [];
  for (let i = 0; i < rows.length; i += size) out.push(statement(JSON.stringify(rows.slice(i, i + size))));
  return out;
}

export const devSeedRoutes = new Hono<AppEnv>().post('/seed-history', async (c) => {
  if (isProduction(c.env)) throw new ApiError(403, 'dev_only', 'Demo history is never seeded in production.', []);
  const input = await readJson(c, seedHistorySchema);
  const now = input.now ?? c.get('now');
  const start = now - HISTORY_DAYS * DAY_MS;
  const db = database(c.env.DB);

  let experiment: { id: string; key: string; holdoutPct: number; variants: { id: string; weight: number }[]; attributionDays: number } | null = null;
  if (input.experiment_id) {
    const [row] = await db.all<{ id: string; key: string; holdout_pct: number; variants: string; attribution_days: number }>(
      sql`SELECT id, key, holdout_pct, variants, attribution_days FROM experiments WHERE id = ${input.experiment_id}`,
    );
    if (!row) throw notFound('experiment', input.experiment_id, 'experiment_id');
    experiment = { id: row.id, key: row.key, holdoutPct: row.holdout_pct, variants: JSON.parse(row.variants), attributionDays: row.attribution_days };
  }

  const named = await db.all<{ id: string; plan_id: string }>(sql`SELECT id, plan_id FROM accounts WHERE id NOT LIKE 'demo-%'`);
  const demo = Array.from({ length: DEMO_ACCOUNTS }, (_, i) => `demo-${String(i + 1).padStart(4, '0')}`);
  const accounts: { id: string; name: string; plan: keyof typeof PRICE }[] = [
    ...named.map((a) => ({ id: a.id, name: a.id, plan: (a.plan_id in PRICE ? a.plan_id : 'starter') as keyof typeof PRICE })),
    ...demo.map((id, i) => ({ id, name: `Demo ${String(i + 1).padStart(3, '0')}`, plan: (i % 10 === 0 ? 'pro' : 'starter') as keyof typeof PRICE })),
  ];

  const events: EventRow[] = [];
  const usage: UsageRow[] = [];
  const ledger: LedgerRow[] = [];
  const exposures: { a: string; v: string | null; t: number }[] = [];
  const finalPlan = new Map<string, { plan: keyof typeof PRICE; mrr: number }>();

  for (const acct of accounts) {
    const r = rng(murmurHash3(`seed:${acct.id}`));
    const users = [1, 2, 3].map((n) => `${acct.id}-u${n}`);
    let mrr: number = PRICE[acct.plan];
    let plan = acct.plan;
    ledger.push({ a: acct.id, t: now - 120 * DAY_MS, kind: 'new', b: 0, f: mrr, src: 'sales', p: null, v: null, x: null, d: `baseline:${acct.id}` });
    let n = 0;
    const event = (y: string, p: string, t: number, user: string, arm: string | null = null) =>
      events.push({ a: acct.id, k: `seed:${acct.id}:${n++}`, u: user, s: `seed-${acct.id}-${Math.floor(t / DAY_MS)}`, y, p, v: arm, x: arm === null ? null : experiment!.id, t });

    // Experiment: first exposure in the first five weeks, then maybe an upgrade within the window.
    let arm: string | null = null;
    let converted = false;
    if (experiment && acct.id.startsWith('demo-') && plan === 'starter') {
      const assigned = assignVariant({ key: experiment.key, holdoutPct: experiment.holdoutPct, variants: experiment.variants }, acct.id);
      arm = assigned.variantId;
      const exposedAt = start + Math.floor(r() * (HISTORY_DAYS - 7 - 1) * DAY_MS) + DAY_MS;
      exposures.push({ a: acct.id, v: arm, t: exposedAt });
      if (arm !== null) {
        const user = users[0]!;
        event('impression', 'limit-api_calls-90', exposedAt, user, arm);
        const index = experiment.variants.findIndex((v) => v.id === arm);
        if (r() < (ARM_CONVERSION[index] ?? 0.1)) {
          const at = exposedAt + Math.floor((0.5 + r() * Math.min(5.5, experiment.attributionDays - 1)) * DAY_MS);
          event('click', 'limit-api_calls-90', at - H, user, arm);
          ledger.push({ a: acct.id, t: at, kind: 'expansion', b: mrr, f: PRICE.pro, src: 'self_serve', p: 'limit-api_calls-90', v: arm, x: experiment.id, d: `seed:upgrade:${acct.id}` });
          mrr = PRICE.pro;
          plan = 'pro';
          converted = true;
        } else if (r() < 0.4) event('dismiss', 'limit-api_calls-90', exposedAt + H, user, arm);
      }
    }

    // API calls through the six weeks (demo accounts count per calendar month), so a rule can be replayed
    // over them: a steady daily pace from 20% to 160% of Starter's 10,000 a month. Its own random stream.
    if (acct.id.startsWith('demo-')) {
      const u = rng(murmurHash3(`usage:${acct.id}`));
      const pace = (10_000 / 30) * (0.2 + u() * 1.4);
      for (let d = 0; d < HISTORY_DAYS; d++) {
        const t = start + d * DAY_MS + Math.floor(u() * 20 * H);
        const month = new Date(t);
        usage.push({ a: acct.id, k: `seed:usage:${acct.id}:${d}`, v: Math.round(pace * (0.5 + u())), t, p: Date.UTC(month.getUTCFullYear(), month.getUTCMonth(), 1) });
      }
    }

    // Prompts seen over the six weeks: a few a week, some clicked, some dismissed or snoozed.
    const shown = 2 + Math.floor(r() * 9);
    for (let i = 0; i < shown; i++) {
      const t = start + Math.floor(r() * HISTORY_DAYS * DAY_MS);
      const prompt = PROMPTS[Math.floor(r() * PROMPTS.length)]!;
      const user = users[Math.floor(r() * users.length)]!;
      const inExperiment = prompt === 'limit-api_calls-90' && arm !== null ? arm : null;
      event('impression', prompt, t, user, inExperiment);
      const roll = r();
      if (roll < 0.16) event('click', prompt, t + 5 * 60_000, user, inExperiment);
      else if (roll < 0.46) event('dismiss', prompt, t + 2 * 60_000, user, inExperiment);
      else if (roll < 0.56) event('snooze', prompt, t + 2 * 60_000, user, inExperiment);
    }

    // One more MRR change for some accounts: a self-serve upgrade after a gate or seat prompt,
    // a sales-led expansion, a contraction or a churn.
    if (!converted && acct.id.startsWith('demo-')) {
      const roll = r();
      const at = start + Math.floor((3 + r() * (HISTORY_DAYS - 4)) * DAY_MS);
      const user = users[0]!;
      if (roll < 0.05) {
        const prompt = plan === 'pro' ? 'gate-sso' : 'invite-seats-blocked';
        const after = plan === 'pro' ? PRICE.business : mrr + 2000;
        event('impression', prompt, at - 2 * H, user);
        event('click', prompt, at - H, user);
        ledger.push({ a: acct.id, t: at, kind: 'expansion', b: mrr, f: after, src: 'self_serve', p: prompt, v: null, x: null, d: `seed:upgrade:${acct.id}` });
        if (plan === 'pro') plan = 'business';
        mrr = after;
      } else if (roll < 0.08) {
        ledger.push({ a: acct.id, t: at, kind: 'expansion', b: mrr, f: PRICE.business, src: 'sales', p: null, v: null, x: null, d: `seed:sales:${acct.id}` });
        plan = 'business';
        mrr = PRICE.business;
      } else if (roll < 0.1 && plan === 'pro') {
        ledger.push({ a: acct.id, t: at, kind: 'contraction', b: mrr, f: PRICE.starter, src: 'webhook', p: null, v: null, x: null, d: `seed:contraction:${acct.id}` });
        plan = 'starter';
        mrr = PRICE.starter;
      } else if (roll < 0.125) {
        ledger.push({ a: acct.id, t: at, kind: 'churn', b: mrr, f: 0, src: 'webhook', p: null, v: null, x: null, d: `seed:churn:${acct.id}` });
        mrr = 0;
      }
    }
    finalPlan.set(acct.id, { plan, mrr });
  }

  const statements: SQL[] = [
    ...chunked(
      accounts.filter((a) => a.id.startsWith('demo-')).map((a) => ({ a: a.id, n: a.name, p: finalPlan.get(a.id)!.plan, c: finalPlan.get(a.id)!.mrr === 0 ? 'canceled' : 'active' })),
      200,
      (json) => sql`
        INSERT INTO accounts (id, name, plan_id, seats, created_at, status, activated_at, updated_at)
        SELECT json_extract(value, '$.a'), json_extract(value, '$.n'), json_extract(value, '$.p'), 5, ${now - 120 * DAY_MS},
               json_extract(value, '$.c'), ${now - 110 * DAY_MS}, ${now}
        FROM json_each(${json}) WHERE true
        ON CONFLICT (id) DO NOTHING`,
    ),
    ...chunked(
      events,
      300,
      (json) => sql`
        INSERT INTO prompt_events (account_id, idempotency_key, user_id, session_id, type, prompt_id, variant_id, experiment_id, feature_id, timestamp)
        SELECT json_extract(value, '$.a'), json_extract(value, '$.k'), json_extract(value, '$.u'), json_extract(value, '$.s'), json_extract(value, '$.y'),
               json_extract(value, '$.p'), json_extract(value, '$.v'), json_extract(value, '$.x'), NULL, json_extract(value, '$.t')
        FROM json_each(${json}) WHERE true
        ON CONFLICT DO NOTHING`,
    ),
    ...chunked(
      ledger,
      300,
      (json) => sql`
        INSERT INTO mrr_ledger (account_id, at, kind, mrr_before_cents, mrr_after_cents, source, prompt_id, variant_id, experiment_id, dedupe_key)
        SELECT json_extract(value, '$.a'), json_extract(value, '$.t'), json_extract(value, '$.kind'), json_extract(value, '$.b'), json_extract(value, '$.f'),
               json_extract(value, '$.src'), json_extract(value, '$.p'), json_extract(value, '$.v'), json_extract(value, '$.x'), json_extract(value, '$.d')
        FROM json_each(${json}) WHERE true
        ON CONFLICT (dedupe_key) DO NOTHING`,
    ),
    ...chunked(
      [...finalPlan].map(([a, s]) => ({ a, m: s.mrr, ch: s.mrr === 0 ? 1 : 0 })),
      300,
      (json) => sql`
        INSERT INTO billing_state (account_id, stripe_object_updated_at, mrr_cents, churned)
        SELECT json_extract(value, '$.a'), 0, json_extract(value, '$.m'), json_extract(value, '$.ch') FROM json_each(${json}) WHERE true
        ON CONFLICT (account_id) DO NOTHING`,
    ),
  ];
  const month = new Date(now);
  const currentMonth = Date.UTC(month.getUTCFullYear(), month.getUTCMonth(), 1);
  statements.push(
    ...chunked(
      usage,
      300,
      (json) => sql`
        INSERT INTO usage_events (account_id, idempotency_key, metric, value, mode, timestamp, period_start, batch_id)
        SELECT json_extract(value, '$.a'), json_extract(value, '$.k'), 'api_calls', json_extract(value, '$.v'), 'increment',
               json_extract(value, '$.t'), json_extract(value, '$.p'), 'seed-usage'
        FROM json_each(${json}) WHERE true
        ON CONFLICT DO NOTHING`,
    ),
    // The demo accounts' meters show this month's part of it.
    sql`
      INSERT INTO usage_counters (account_id, metric, period_start, used)
      SELECT account_id, 'api_calls', period_start, sum(value) FROM usage_events
      WHERE batch_id = 'seed-usage' AND period_start = ${currentMonth} GROUP BY account_id, period_start
      ON CONFLICT (account_id, metric) DO NOTHING`,
  );
  if (experiment)
    statements.push(
      ...chunked(
        exposures,
        300,
        (json) => sql`
          INSERT INTO experiment_exposures (experiment_id, unit_id, account_id, variant_id, first_exposed_at)
          SELECT ${experiment.id}, json_extract(value, '$.a'), json_extract(value, '$.a'), json_extract(value, '$.v'), json_extract(value, '$.t')
          FROM json_each(${json}) WHERE true
          ON CONFLICT DO NOTHING`,
      ),
    );
  await sqlBatch(db, statements);
  return c.json({
    accounts: accounts.length,
    prompt_events: events.length,
    usage_events: usage.length,
    mrr_changes: ledger.length,
    exposures: exposures.length,
    from: new Date(start).toISOString(),
    to: new Date(now).toISOString(),
  });
});
