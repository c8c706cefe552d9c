/**
 * Routing rules in D1 (`settings` key `routing`) and the route of an account or of an
 * expansion it asks for, from the catalog's prices (`shared/routing.ts` decides).
 */
import { sql } from 'drizzle-orm';
import { defaultRouting, routeFor, routingSchema, type RouteChoice, type Routing, type RoutingSubject } from '../shared/routing';
import { offeredPlans } from '../shared/entitlements';
import type { Catalog, Plan } from '../shared/schemas';
import { catalogMrr } from './billing/ledger';
import { sqlBatch, type Db } from './db';

const ROUTING_KEY = 'routing';

/** The rules as one statement, to run inside a larger batch; read them with `routingFrom`. */
export const routingQuery = sql`SELECT value FROM settings WHERE key = ${ROUTING_KEY}`;

/** The stored rules, or the playbooks' default when none are stored (or they no longer parse). */
export function routingFrom(rows: Record<string, unknown>[] | undefined): Routing {
  const raw = rows?.[0]?.value;
  if (typeof raw !== 'string') return defaultRouting;
  return routingSchema.safeParse(JSON.parse(raw)).data ?? defaultRouting;
}

/** @example (await loadRouting(db)).rules[0].route // 'sales' */
export async function loadRouting(db: Db): Promise<Routing> {
  const [rows] = await sqlBatch(db, [routingQuery]);
  return routingFrom(rows);
}

export async function saveRouting(db: Db, routing: Routing, now: number): Promise<void> {
  await sqlBatch(db, [
    sql`INSERT INTO settings (key, value, updated_at) VALUES (${ROUTING_KEY}, ${JSON.stringify(routing)}, ${now})
        ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
  ]);
}

type RoutedAccount = {
  band: RoutingSubject['band'];
  plan: Plan;
  seats: number;
  /** How the account is billed now (a monthly plan may be billed yearly). */
  interval: 'month' | 'year';
};

/**
 * The subject of routing: an account and an expansion — the plan (and seats) it asks for, or
 * by default its next plan up at the same seats (none on the top plan).
 */
function routingSubject(a: RoutedAccount, expansion: { plan: Plan; seats: number } | null): RoutingSubject {
  // at the account's billing interval where the plan is sold that way, else the plan's own
  const mrr = (plan: Plan, seats: number) => catalogMrr(plan, seats, a.interval);
  return {
    band: a.band,
    plan_id: a.plan.id,
    seats: a.seats,
    current_mrr_cents: mrr(a.plan, a.seats),
    expanded_mrr_cents: expansion ? mrr(expansion.plan, expansion.seats) : null,
  };
}

/** The route of an account (its next plan up as the expansion) under `routing`. */
const accountRoute = (routing: Routing, a: RoutedAccount, next: Plan | null): RouteChoice =>
  routeFor(routing.rules, routingSubject(a, next && { plan: next, seats: a.seats }));

/** An account as the PQA list and the score writer read it. */
export type AccountRouteRow = { account_id: string; band: RoutingSubject['band']; plan_id: string; seats: number; billing_interval: 'month' | 'year' | null };

/**
 * Each account's route (next plan up as the expansion); an account on a plan the catalog no
 * longer has routes by band, plan and seats alone.
 * @example routesOf(catalog, routing, rows).get('acme') // { route: 'sales', rule_id: 'large-expansion', webhook_ids: [] }
 */
export function routesOf(catalog: Pick<Catalog, 'plans'>, routing: Routing, rows: AccountRouteRow[]): Map<string, RouteChoice> {
  const out = new Map<string, RouteChoice>();
  for (const r of rows) {
    const plan = catalog.plans.find((p) => p.id === r.plan_id);
    if (!plan) {
      out.set(r.account_id, routeFor(routing.rules, { band: r.band, plan_id: r.plan_id, seats: r.seats, current_mrr_cents: 0, expanded_mrr_cents: null }));
      continue;
    }
    const next = offeredPlans(catalog, plan)[0] ?? null;
    out.set(r.account_id, accountRoute(routing, { band: r.band, plan, seats: r.seats, interval: r.billing_interval ?? plan.interval }, next));
  }
  return out;
}
