/**
 * The catalog (metrics, features, plans) in D1: read whole, replaced whole and atomically,
 * each applied catalog kept as a numbered version with its changes.
 */
import { asc, desc, eq, sql } from 'drizzle-orm';
import { accountsLosingFeatures, accountsOverNewLimits, catalogDiff, isLowered, type AffectedAccount, type CatalogChange, type FeatureLoss } from '../shared/catalogDiff';
import type { Catalog } from '../shared/schemas';
import { chunks, type Db } from './db';
import { accounts, catalogVersions, features, metrics, plans, usageCounters } from './db/schema';

/** The three catalog reads, to run alone or inside a larger `db.batch`. */
export const catalogQueries = (db: Db) =>
  [
    db.select().from(metrics).orderBy(asc(metrics.position)),
    db.select().from(features).orderBy(asc(features.position)),
    db.select().from(plans).orderBy(asc(plans.position)),
  ] as const;

type Rows = {
  metrics: (typeof metrics.$inferSelect)[];
  features: (typeof features.$inferSelect)[];
  plans: (typeof plans.$inferSelect)[];
};

/** Catalog rows as the API's catalog shape. */
export function toCatalog(rows: Rows): Catalog {
  return {
    metrics: rows.metrics.map(({ id, name, unit, kind, reset }) => ({ id, name, unit, kind, reset })),
    features: rows.features.map(({ id, name, description, trialDays }) => ({ id, name, description, trial_days: trialDays })),
    plans: rows.plans.map((p) => ({
      id: p.id,
      name: p.name,
      rank: p.rank,
      currency: p.currency,
      price_cents: p.priceCents,
      interval: p.interval,
      stripe_price_id: p.stripePriceId,
      seat_price_cents: p.seatPriceCents,
      stripe_seat_price_id: p.stripeSeatPriceId,
      ...(p.annualPriceCents !== null && { annual_price_cents: p.annualPriceCents }),
      ...(p.stripeAnnualPriceId !== null && { stripe_annual_price_id: p.stripeAnnualPriceId }),
      ...(p.annualSeatPriceCents !== null && { annual_seat_price_cents: p.annualSeatPriceCents }),
      ...(p.stripeAnnualSeatPriceId !== null && { stripe_annual_seat_price_id: p.stripeAnnualSeatPriceId }),
      limits: p.limits,
      features: p.features,
      hidden: p.hidden,
      ...(p.overage && Object.keys(p.overage).length > 0 && { overage: p.overage }),
    })),
  };
}

/** Read the whole catalog. @example const catalog = await loadCatalog(db) */
export async function loadCatalog(db: Db): Promise<Catalog> {
  const [m, f, p] = await db.batch(catalogQueries(db));
  return toCatalog({ metrics: m, features: f, plans: p });
}

const EMPTY: Catalog = { metrics: [], features: [], plans: [] };

/**
 * What applying `next` would change: the changes from the stored catalog and the accounts it
 * puts at or over a lowered limit. Reads only.
 * @example const { changes, affected_accounts } = await catalogImpact(db, proposed, Date.now())
 */
export async function catalogImpact(
  db: Db,
  next: Catalog,
  now: number,
): Promise<{ changes: CatalogChange[]; affected_accounts: AffectedAccount[]; accounts_losing_features: FeatureLoss[] }> {
  const current = await loadCatalog(db);
  const changes = catalogDiff(current, next);
  // Lowered limits, and less grace past a limit (a lower ceiling where the plan allows grace).
  const lowered = changes.flatMap((c) =>
    (c.kind === 'limit_changed' && isLowered(c.from, c.to)) || (c.kind === 'overage_changed' && c.to < c.from) ? [c] : [],
  );
  const losing = changes.flatMap((c) => (c.kind === 'plan_feature_removed' ? [c.plan] : []));
  if (!lowered.length && !losing.length) return { changes, affected_accounts: [], accounts_losing_features: [] };
  // Only accounts on a plan with a lowered limit or a lost feature, and only their counters of the lowered metrics.
  const planIds = JSON.stringify([...new Set([...lowered.map((c) => c.plan), ...losing])]);
  const metricIds = JSON.stringify([...new Set(lowered.map((c) => c.metric))]);
  const onPlans = sql`${accounts.planId} IN (SELECT value FROM json_each(${planIds}))`;
  const [accountRows, counterRows] = await db.batch([
    db.select().from(accounts).where(onPlans).orderBy(asc(accounts.id)),
    db
      .select({ accountId: usageCounters.accountId, metric: usageCounters.metric, periodStart: usageCounters.periodStart, used: usageCounters.used, highestThreshold: usageCounters.highestThreshold })
      .from(usageCounters)
      .innerJoin(accounts, sql`${accounts.id} = ${usageCounters.accountId}`)
      .where(sql`${onPlans} AND ${usageCounters.metric} IN (SELECT value FROM json_each(${metricIds}))`),
  ]);
  return {
    changes,
    affected_accounts: accountsOverNewLimits({ before: current, after: next, accounts: accountRows, counters: counterRows, now }),
    accounts_losing_features: accountsLosingFeatures({ before: current, after: next, accounts: accountRows }),
  };
}

/**
 * Replace the whole catalog in one transaction, adding a version with its changes from the
 * stored one (no version when nothing changed), and return those changes. The first version
 * applied over a catalog stored before versions existed is preceded by that catalog, so the
 * history starts from what was in force.
 * @example const changes = await replaceCatalog(db, next, Date.now())
 */
export async function replaceCatalog(db: Db, catalog: Catalog, now: number): Promise<CatalogChange[]> {
  const [m, f, p, stored] = await db.batch([...catalogQueries(db), db.select({ n: sql<number>`COUNT(*)` }).from(catalogVersions)]);
  const current = toCatalog({ metrics: m, features: f, plans: p });
  const changes = catalogDiff(current, catalog);
  const metricRows = catalog.metrics.map((m, position) => ({ ...m, position }));
  const featureRows = catalog.features.map((f, position) => ({
    id: f.id, position, name: f.name, description: f.description, trialDays: f.trial_days,
  }));
  const planRows = catalog.plans.map((p, position) => ({
    id: p.id,
    position,
    name: p.name,
    rank: p.rank,
    currency: p.currency,
    priceCents: p.price_cents,
    interval: p.interval,
    stripePriceId: p.stripe_price_id,
    seatPriceCents: p.seat_price_cents,
    stripeSeatPriceId: p.stripe_seat_price_id,
    annualPriceCents: p.annual_price_cents ?? null,
    stripeAnnualPriceId: p.stripe_annual_price_id ?? null,
    annualSeatPriceCents: p.annual_seat_price_cents ?? null,
    stripeAnnualSeatPriceId: p.stripe_annual_seat_price_id ?? null,
    limits: p.limits,
    features: p.features,
    hidden: p.hidden,
    overage: p.overage && Object.keys(p.overage).length > 0 ? p.overage : null,
  }));
  const inserts = [
    ...chunks(metricRows, 6).map((part) => db.insert(metrics).values(part)),
    ...chunks(featureRows, 5).map((part) => db.insert(features).values(part)),
    ...chunks(planRows, 18).map((part) => db.insert(plans).values(part)),
  ];
  // Numbered inside the transaction, so two concurrent PUTs never take the same number.
  const nextVersion = sql`(SELECT COALESCE(MAX(${catalogVersions.version}), 0) + 1 FROM ${catalogVersions})`;
  const version = (c: Catalog, ch: CatalogChange[]) => db.insert(catalogVersions).values({ version: nextVersion, createdAt: now, catalog: c, changes: ch });
  const baseline = !stored[0]?.n && current.plans.length > 0 ? [version(current, catalogDiff(EMPTY, current))] : [];
  const versions = changes.length ? [...baseline, version(catalog, changes)] : baseline;
  await db.batch([db.delete(metrics), db.delete(features), db.delete(plans), ...inserts, ...versions]);
  return changes;
}

export type CatalogVersion = { version: number; created_at: string; changes: CatalogChange[] };

/**
 * Applied catalogs, newest first, each with its changes from the one before.
 * @example await catalogVersionList(db, 50) // [{ version: 3, created_at: '2026-12-01T…', changes: [...] }, …]
 */
export async function catalogVersionList(db: Db, limit: number): Promise<CatalogVersion[]> {
  const rows = await db
    .select({ version: catalogVersions.version, createdAt: catalogVersions.createdAt, changes: catalogVersions.changes })
    .from(catalogVersions)
    .orderBy(desc(catalogVersions.version))
    .limit(limit);
  return rows.map((r) => ({ version: r.version, created_at: new Date(r.createdAt).toISOString(), changes: r.changes }));
}

/**
 * One applied catalog, whole, with its changes; `null` if there is no such version.
 * @example (await catalogVersion(db, 2))?.catalog.plans
 */
export async function catalogVersion(db: Db, version: number): Promise<(CatalogVersion & { catalog: Catalog }) | null> {
  const [row] = await db.select().from(catalogVersions).where(eq(catalogVersions.version, version));
  return row ? { version: row.version, created_at: new Date(row.createdAt).toISOString(), changes: row.changes, catalog: row.catalog } : null;
}
