/**
 * What changes only on admin writes — the catalog, prompt definitions, the activation rule and
 * the running experiments — kept in the isolate between requests, keyed by the config token
 * (`config_version`) that triggers change on every write to those tables.
 *
 * Hot paths read the token in the same D1 batch as their own statements. A warm isolate sends
 * only the token beside them: the six config statements (each a table read guarded by a token
 * subquery, returning no rows when current) are not in the batch at all. A cold isolate — and
 * one whose own request just wrote config (`configWritten`, from the write routes) — sends them
 * in that same batch, so it too needs one round trip. Only when the token moved without this
 * isolate knowing (a write from another isolate, or SQL by hand) does the request read the
 * config in a second round trip, once per change per isolate. A request never uses a stale
 * config: the answer's config is at least as new as the token its own batch read.
 */
import { asc, eq } from 'drizzle-orm';
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

/**
 * This isolate just wrote config (or a guarded write found its copy stale): drop the copy, so the
 * next hot request reads the config inside its own batch (one round trip) instead of learning
 * from the token that it moved and reading it in a second one.
 */
export function configWritten(): void {
  cached = null;
}

/** The isolate's copy as it stands, for tests. */
export const cachedHotConfig = () => cached;

type None = Placeholders<Record<string, never>>;
// The statements, rendered once per isolate (worker/db `preparedOnce`).
const tokenQuery = preparedOnce((db, _: None) => db.select({ token: configVersion.token }).from(configVersion).where(eq(configVersion.id, 1)));
const metricsQuery = preparedOnce((db, _: None) => db.select().from(metrics).orderBy(asc(metrics.position)));
const featuresQuery = preparedOnce((db, _: None) => db.select().from(features).orderBy(asc(features.position)));
const plansQuery = preparedOnce((db, _: None) => db.select().from(plans).orderBy(asc(plans.position)));
const promptsQuery = preparedOnce((db, _: None) => db.select().from(prompts));
const activationQuery = preparedOnce((db, _: None) => db.select().from(settings).where(eq(settings.key, 'activation')));
const runningQuery = preparedOnce((db, _: None) => db.select().from(experiments).where(eq(experiments.status, 'running')));

const configStatements = (db: Db) => [metricsQuery(db, {}), featuresQuery(db, {}), plansQuery(db, {}), promptsQuery(db, {}), activationQuery(db, {}), runningQuery(db, {})] as const;

type RowsOf<T extends readonly unknown[]> = { -readonly [K in keyof T]: ResultOf<T[K]> };
type ConfigRows = RowsOf<ReturnType<typeof configStatements>>;

function configFrom(token: string | null, [m, f, p, definitionRows, activation, running]: ConfigRows): HotConfig {
  const config: HotConfig = {
    token,
    catalog: toCatalog({ metrics: m, features: f, plans: p }),
    definitions: mergeDefinitions(definitionRows),
    activation: activationRuleFrom(activation),
    running,
  };
  // Without a token (migrations not applied) nothing can say when it goes stale: never keep it.
  cached = token === null ? null : config;
  return config;
}

/**
 * Run `items` in one D1 batch together with the config token, and the config's rows when this
 * isolate holds no copy. Returns the config in force (never older than the token the batch read)
 * and the items' results. A warm isolate whose token moved elsewhere reads the config in a
 * second round trip.
 * @example const { config, results: [account] } = await withHotConfig(db, [db.select().from(accounts).where(…)])
 */
export async function withHotConfig<const T extends readonly BatchItem[]>(db: Db, items: T) {
  const copy = cached;
  const loaded = copy ? [] : configStatements(db);
  const [tokenRows, ...rest] = await mixedBatch(db, [tokenQuery(db, {}), ...loaded, ...items] as const);
  const token = tokenRows[0]?.token ?? null;
  const results = rest.slice(loaded.length) as unknown as { -readonly [K in keyof T]: ResultOf<T[K]> };
  if (!copy) return { config: configFrom(token, rest.slice(0, loaded.length) as ConfigRows), results };
  if (token !== null && token === copy.token) return { config: copy, results };
  // The token moved without this isolate writing: the config afresh, with the token it goes with.
  const [freshToken, ...fresh] = await mixedBatch(db, [tokenQuery(db, {}), ...configStatements(db)] as const);
  return { config: configFrom(freshToken[0]?.token ?? null, fresh as ConfigRows), results };
}
