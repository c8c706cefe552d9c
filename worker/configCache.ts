/**
 * What changes only on admin writes — the catalog, prompt definitions, the activation rule and
 * the running experiments — kept in the isolate between requests, keyed by the config token
 * (`config_version`) that triggers change on every write to those tables.
 *
 * Hot paths read the token in the same D1 batch as their own statements, and every config
 * statement of that batch is guarded by "the token is not the one cached": on a warm isolate
 * whose cache is current they return no rows and cost nothing; after any write (from this
 * isolate, another isolate, or SQL run by hand) the token differs and the same batch returns
 * the fresh config. So a request never needs a second round trip for config and never uses a
 * stale one: the config and the account's state come from one transaction.
 */
import { asc, eq, sql } from 'drizzle-orm';
import type { ActivationRule } from '../shared/prompts';
import type { Catalog } from '../shared/schemas';
import { toCatalog } from './catalog';
import { mixedBatch, preparedOnce, type BatchItem, type Db, type Placeholders, type ResultOf } from './db';
import { configVersion, experiments, features, metrics, plans, prompts, settings } from './db/schema';
import type { ExperimentRow } from './experiments';
import { activationRuleFrom, mergeDefinitions } from './prompts';

type HotConfig = {
  token: string | null;
  catalog: Catalog;
  definitions: ReturnType<typeof mergeDefinitions>;
  activation: ActivationRule;
  running: ExperimentRow[];
};

let cached: HotConfig | null = null;

/** Drop the isolate's copy (tests that simulate a fresh isolate). */
export const forgetHotConfig = () => void (cached = null);

/** The isolate's copy as it stands, for tests. */
export const cachedHotConfig = () => cached;

type Have = Placeholders<{ have: string | null }>;
/** `IS NOT` so an empty cache (null) always loads, and a missing token row never matches a cached one. */
const stale = (p: Have) => sql`(SELECT token FROM config_version WHERE id = 1) IS NOT ${p.have}`;
// The config statements, rendered once per isolate (worker/db `preparedOnce`); `have` is the cached token.
const tokenQuery = preparedOnce((db, _: Have) => db.select({ token: configVersion.token }).from(configVersion).where(eq(configVersion.id, 1)));
const metricsQuery = preparedOnce((db, p: Have) => db.select().from(metrics).where(stale(p)).orderBy(asc(metrics.position)));
const featuresQuery = preparedOnce((db, p: Have) => db.select().from(features).where(stale(p)).orderBy(asc(features.position)));
const plansQuery = preparedOnce((db, p: Have) => db.select().from(plans).where(stale(p)).orderBy(asc(plans.position)));
const promptsQuery = preparedOnce((db, p: Have) => db.select().from(prompts).where(stale(p)));
const activationQuery = preparedOnce((db, p: Have) => db.select().from(settings).where(sql`${settings.key} = 'activation' AND ${stale(p)}`));
const runningQuery = preparedOnce((db, p: Have) => db.select().from(experiments).where(sql`${experiments.status} = 'running' AND ${stale(p)}`));

/**
 * Run `items` in one D1 batch together with the config: the token, and the config's rows
 * only when the isolate's copy is not current. Returns the config in force in that
 * transaction and the items' results.
 * @example const { config, results: [account] } = await withHotConfig(db, [db.select().from(accounts).where(…)])
 */
export async function withHotConfig<const T extends readonly BatchItem[]>(db: Db, items: T) {
  const have = cached?.token ?? null;
  const v = { have };
  const [tokenRows, m, f, p, definitionRows, activation, running, ...results] = await mixedBatch(db, [
    tokenQuery(db, v),
    metricsQuery(db, v),
    featuresQuery(db, v),
    plansQuery(db, v),
    promptsQuery(db, v),
    activationQuery(db, v),
    runningQuery(db, v),
    ...items,
  ] as const);
  const token = tokenRows[0]?.token ?? null;
  let config: HotConfig;
  if (cached && token !== null && token === have) config = cached;
  else {
    config = {
      token,
      catalog: toCatalog({ metrics: m, features: f, plans: p }),
      definitions: mergeDefinitions(definitionRows),
      activation: activationRuleFrom(activation),
      running,
    };
    // Without a token (migrations not applied) nothing can say when it goes stale: never keep it.
    cached = token === null ? null : config;
  }
  return { config, results: results as unknown as { -readonly [K in keyof T]: ResultOf<T[K]> } };
}

