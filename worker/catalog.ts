/** The catalog (metrics, features, plans) in D1: read whole, replaced whole and atomically. */
import { asc } from 'drizzle-orm';
import type { Catalog } from '../shared/schemas';
import { chunks, type Db } from './db';
import { features, metrics, plans } from './db/schema';

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
      limits: p.limits,
      features: p.features,
    })),
  };
}

/** Read the whole catalog. @example const catalog = await loadCatalog(db) */
export async function loadCatalog(db: Db): Promise<Catalog> {
  const [m, f, p] = await db.batch(catalogQueries(db));
  return toCatalog({ metrics: m, features: f, plans: p });
}

/** Replace the whole catalog in one transaction. @example await replaceCatalog(db, catalog) */
export async function replaceCatalog(db: Db, catalog: Catalog): Promise<void> {
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
    limits: p.limits,
    features: p.features,
  }));
  const inserts = [
    ...chunks(metricRows, 6).map((part) => db.insert(metrics).values(part)),
    ...chunks(featureRows, 5).map((part) => db.insert(features).values(part)),
    ...chunks(planRows, 14).map((part) => db.insert(plans).values(part)),
  ];
  await db.batch([db.delete(metrics), db.delete(features), db.delete(plans), ...inserts]);
}
