/**
 * Experiments on prompt copy in D1: the admin lifecycle (draft → running → stopped /
 * shipped), first exposures for the widget state, and per-arm counts from exposures joined
 * to the self-serve ledger. The rules (assignment, where shipped copy goes, results from
 * counts) are pure, in `shared/experiments.ts`.
 */
import { and, desc, eq, inArray, notExists, sql } from 'drizzle-orm';
import { compositeKey } from '../shared/compositeKey';
import { alias } from 'drizzle-orm/sqlite-core';
import type { ExperimentInput, ExperimentStatus } from '../shared/experimentSchemas';
import { shippedDefinition, type ArmCounts, type Exposure } from '../shared/experiments';
import { parsePromptId } from '../shared/promptEngine';
import type { UserClaims } from '../shared/schemas';
import { promptDefinitionSchema, type PromptCopy } from '../shared/prompts';
import { sqlBatch, type Db } from './db';
import { experiments } from './db/schema';
import { ApiError, notFound } from './errors';
import { definitionsQuery, mergeDefinitions, savePrompt } from './prompts';
import { DAY_MS, isoOrNull } from '../shared/time';

export type ExperimentRow = typeof experiments.$inferSelect;

/** An experiment as the admin API shows it. @example experimentView(row).status // 'draft' */
export function experimentView(row: ExperimentRow) {
  return {
    id: row.id,
    key: row.key,
    prompt_id: row.promptId,
    unit: row.unit,
    holdout_pct: row.holdoutPct,
    attribution_days: row.attributionDays,
    min_conversions: row.minConversions,
    variants: row.variants,
    control_id: row.variants[0]?.id ?? null,
    status: row.status,
    started_at: isoOrNull(row.startedAt),
    stopped_at: isoOrNull(row.stoppedAt),
    shipped_variant_id: row.shippedVariantId,
    created_at: isoOrNull(row.createdAt),
  };
}

const conflict = (code: string, message: string, path = '') => new ApiError(409, code, message, [{ path, message }]);

const configOf = (input: ExperimentInput) => ({
  key: input.key,
  promptId: input.prompt_id,
  unit: input.unit,
  holdoutPct: input.holdout_pct,
  attributionDays: input.attribution_days,
  minConversions: input.min_conversions,
  variants: input.variants.map((v) => ({ id: v.id, weight: v.weight, copy: { ...v.copy } })),
});

/** A prompt id is testable if it names a definition in force or a prompt the engine renders. */
async function assertPromptExists(db: Db, promptId: string): Promise<void> {
  const known = mergeDefinitions(await definitionsQuery(db)).some((d) => d.id === promptId);
  if (!known && parsePromptId(promptId) === null) {
    throw new ApiError(400, 'validation_failed', 'The request is not valid.', [
      { path: 'prompt_id', message: `no prompt definition or prompt "${promptId}"` },
    ]);
  }
}

/** Create a draft experiment; a key already used is a 409. @example await createExperiment(db, input, Date.now()) */
export async function createExperiment(db: Db, input: ExperimentInput, now: number): Promise<ExperimentRow> {
  await assertPromptExists(db, input.prompt_id);
  const id = `exp_${crypto.randomUUID().replace(/-/g, '').slice(0, 20)}`;
  const [row] = await db
    .insert(experiments)
    .values({ id, ...configOf(input), status: 'draft', createdAt: now })
    .onConflictDoNothing()
    .returning();
  if (!row) throw conflict('experiment_key_taken', `An experiment with key "${input.key}" exists; a new configuration needs a new key.`, 'key');
  return row;
}

/** The experiment, or a 404. */
export async function getExperiment(db: Db, id: string): Promise<ExperimentRow> {
  const [row] = await db.select().from(experiments).where(eq(experiments.id, id));
  if (!row) throw notFound('experiment', id, 'id');
  return row;
}

/** Experiments, newest first, optionally of one status or prompt. */
export function listExperiments(db: Db, filter: { status?: ExperimentStatus | undefined; prompt_id?: string | undefined }) {
  const where = and(
    filter.status ? eq(experiments.status, filter.status) : undefined,
    filter.prompt_id ? eq(experiments.promptId, filter.prompt_id) : undefined,
  );
  return db.select().from(experiments).where(where).orderBy(desc(experiments.createdAt), experiments.id);
}

const lockedMessage = (row: ExperimentRow) =>
  `Experiment "${row.id}" is ${row.status}: its variants, weights and holdout can no longer change, because that would move units between arms. Stop it and start a new experiment with a new key.`;

/** Replace a draft's configuration; once started it is locked (409). */
export async function replaceDraft(db: Db, id: string, input: ExperimentInput): Promise<ExperimentRow> {
  const current = await getExperiment(db, id);
  if (current.status !== 'draft') throw conflict('experiment_locked', lockedMessage(current));
  await assertPromptExists(db, input.prompt_id);
  const taken = await db.select({ id: experiments.id }).from(experiments).where(eq(experiments.key, input.key));
  if (taken.some((r) => r.id !== id)) throw conflict('experiment_key_taken', `An experiment with key "${input.key}" exists.`, 'key');
  const [row] = await db
    .update(experiments)
    .set(configOf(input))
    .where(and(eq(experiments.id, id), eq(experiments.status, 'draft')))
    .returning();
  if (!row) throw conflict('experiment_locked', lockedMessage(await getExperiment(db, id)));
  return row;
}

/**
 * Start a draft. At most one experiment runs per prompt id: the check and the change are one
 * statement, so two concurrent starts cannot both win. Starting a running experiment is a no-op.
 */
export async function startExperiment(db: Db, id: string, now: number): Promise<ExperimentRow> {
  const current = await getExperiment(db, id);
  if (current.status === 'running') return current;
  if (current.status !== 'draft') {
    throw conflict('experiment_ended', `Experiment "${id}" is ${current.status} and cannot run again; create a new one with a new key.`);
  }
  const other = alias(experiments, 'other');
  const [row] = await db
    .update(experiments)
    .set({ status: 'running', startedAt: now })
    .where(
      and(
        eq(experiments.id, id),
        eq(experiments.status, 'draft'),
        notExists(
          db
            .select({ one: sql`1` })
            .from(other)
            .where(and(eq(other.promptId, current.promptId), eq(other.status, 'running'))),
        ),
      ),
    )
    .returning();
  if (row) return row;
  const after = await getExperiment(db, id);
  if (after.status === 'running') return after;
  const [running] = await db
    .select({ id: experiments.id })
    .from(experiments)
    .where(and(eq(experiments.promptId, current.promptId), eq(experiments.status, 'running')));
  throw conflict(
    'experiment_already_running',
    running
      ? `Experiment "${running.id}" already runs on prompt "${current.promptId}"; stop it first.`
      : `Experiment "${id}" is ${after.status} and cannot start.`,
    'prompt_id',
  );
}

/** Stop a running experiment (stopping a stopped one is a no-op); results stay readable. */
export async function stopExperiment(db: Db, id: string, now: number): Promise<ExperimentRow> {
  const [row] = await db
    .update(experiments)
    .set({ status: 'stopped', stoppedAt: now })
    .where(and(eq(experiments.id, id), eq(experiments.status, 'running')))
    .returning();
  if (row) return row;
  const current = await getExperiment(db, id);
  if (current.status === 'stopped') return current;
  throw conflict('experiment_not_running', `Experiment "${id}" is ${current.status}, not running.`);
}

/**
 * Ship a variant: write its copy into the prompt definition and end the experiment. The copy
 * is written first, so a retry after a failure in between ships the same copy again.
 */
export async function shipExperiment(db: Db, id: string, variantId: string, now: number): Promise<ExperimentRow> {
  const current = await getExperiment(db, id);
  if (current.status === 'shipped') {
    if (current.shippedVariantId === variantId) return current;
    throw conflict('experiment_ended', `Experiment "${id}" already shipped variant "${current.shippedVariantId}".`);
  }
  if (current.status === 'draft') throw conflict('experiment_not_started', `Experiment "${id}" never ran; start it or edit the prompt directly.`);
  const variant = current.variants.find((v) => v.id === variantId);
  if (!variant) {
    throw new ApiError(400, 'validation_failed', 'The request is not valid.', [
      { path: 'variant_id', message: `not a variant of this experiment (${current.variants.map((v) => `"${v.id}"`).join(', ')})` },
    ]);
  }
  const shipped = shippedDefinition(mergeDefinitions(await definitionsQuery(db)), current.promptId, variant.copy as PromptCopy);
  const definition = shipped && promptDefinitionSchema.safeParse(shipped).data;
  if (!definition) {
    throw new ApiError(422, 'prompt_not_found', `No enabled prompt definition serves "${current.promptId}" any more, so there is nowhere to ship the copy.`, [
      { path: 'prompt_id', message: 'no definition serves this prompt' },
    ]);
  }
  await savePrompt(db, definition, now);
  const [row] = await db
    .update(experiments)
    .set({ status: 'shipped', shippedVariantId: variantId, stoppedAt: current.stoppedAt ?? now })
    .where(and(eq(experiments.id, id), inArray(experiments.status, ['running', 'stopped'])))
    .returning();
  return row ?? getExperiment(db, id);
}

// ---------------------------------------------------------------- widget state

const runningExperimentsQuery = (db: Db) => db.select().from(experiments).where(eq(experiments.status, 'running'));

/**
 * Which of the user's units (the account, the user within it) are already exposed to a running
 * experiment: rows of experiment_id, unit_id, read in the widget state's batch.
 */
export const exposedUnitsSql = (user: Pick<UserClaims, 'sub' | 'acct'>) => sql`
  SELECT experiment_id, unit_id FROM experiment_exposures
  WHERE experiment_id IN (SELECT id FROM experiments WHERE status = 'running')
    AND unit_id IN (${user.acct}, ${compositeKey(user.acct, user.sub)})`;

/** Record first exposures in one statement; a unit already exposed keeps its first time and arm. */
export async function recordExposures(db: Db, accountId: string, exposures: Exposure[], now: number): Promise<void> {
  if (exposures.length === 0) return;
  const rows = exposures.map((e) => ({ e: e.experimentId, u: e.unitId, v: e.variantId }));
  await sqlBatch(db, [
    sql`
      INSERT INTO experiment_exposures (experiment_id, unit_id, account_id, variant_id, first_exposed_at)
      SELECT json_extract(x.value, '$.e'), json_extract(x.value, '$.u'), ${accountId}, json_extract(x.value, '$.v'), ${now}
      FROM json_each(${JSON.stringify(rows)}) AS x WHERE true
      ON CONFLICT DO NOTHING`,
  ]);
}

// ---------------------------------------------------------------- results

/**
 * Exposed units and converted units per arm, in one set-based query: each exposure joined to
 * its account's self-serve expansions in [first exposure, first exposure + window), a unit
 * counted once however often its account upgraded. With `unit = user` an account's upgrade
 * converts only the exposed users who took the path to it themselves: the user who made the
 * upgrade, and users who clicked this experiment's prompt before it — never every exposed
 * user of the account, in whichever arm each was.
 */
export async function armCounts(db: Db, experiment: Pick<ExperimentRow, 'id' | 'attributionDays' | 'unit'>): Promise<ArmCounts[]> {
  const windowMs = experiment.attributionDays * DAY_MS;
  // a user unit is "<account>:<user>"; the upgrade's ledger key is "upgrade:<account>:<idempotency key>"
  const userOfUnit = sql`substr(e.unit_id, length(e.account_id) + 2)`;
  const tookThePath =
    experiment.unit === 'user'
      ? sql`AND (
          EXISTS (SELECT 1 FROM upgrades u
                  WHERE u.account_id = e.account_id AND u.user_id = ${userOfUnit}
                    AND l.dedupe_key = 'upgrade:' || e.account_id || ':' || u.idempotency_key
                    AND u.idempotency_key = substr(l.dedupe_key, length(e.account_id) + 10))
          OR EXISTS (SELECT 1 FROM prompt_events p
                  WHERE p.account_id = e.account_id AND p.user_id = ${userOfUnit} AND p.type = 'click'
                    AND p.experiment_id = e.experiment_id AND p.timestamp >= e.first_exposed_at AND p.timestamp <= l.at))`
      : sql``;
  return db.all<ArmCounts>(sql`
    SELECT e.variant_id AS variant_id,
           count(DISTINCT e.unit_id) AS exposed,
           count(DISTINCT CASE WHEN l.id IS NOT NULL THEN e.unit_id END) AS conversions
    FROM experiment_exposures AS e
    LEFT JOIN mrr_ledger AS l
      ON l.account_id = e.account_id
     AND l.source = 'self_serve'
     AND l.kind = 'expansion'
     AND l.at >= e.first_exposed_at
     AND l.at < e.first_exposed_at + ${windowMs}
     ${tookThePath}
    WHERE e.experiment_id = ${experiment.id}
    GROUP BY e.variant_id`);
}
