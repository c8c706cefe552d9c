/**
 * Experiments on prompt copy in D1: the admin lifecycle (draft → running → stopped /
 * shipped), assignment and first exposures for the widget state, and results counted
 * from exposures joined to the self-serve ledger. Assignment and statistics are the pure
 * rules of `shared/bucketing.ts` and `shared/statistics.ts`.
 */
import { compositeKey } from '../shared/compositeKey';
import { and, desc, eq, inArray, notExists, sql } from 'drizzle-orm';
import { alias } from 'drizzle-orm/sqlite-core';
import { assignVariant } from '../shared/bucketing';
import { HOLDOUT_ID, type ExperimentInput, type ExperimentStatus } from '../shared/experimentSchemas';
import { ANY, parsePromptId, type RenderedPrompt } from '../shared/promptEngine';
import { promptDefinitionSchema, type PromptCopy, type PromptDefinition } from '../shared/prompts';
import type { UserClaims } from '../shared/schemas';
import {
  chanceToBeatControl,
  experimentResults,
  relativeLift,
  twoProportionZTest,
  type ExperimentArmCounts,
  type ExperimentResults,
  type VariantResult,
} from '../shared/statistics';
import { sqlBatch, type Db } from './db';
import { experiments } from './db/schema';
import { ApiError, notFound } from './errors';
import { definitionsQuery, mergeDefinitions, savePrompt } from './prompts';

const DAY = 86_400_000;

export type ExperimentRow = typeof experiments.$inferSelect;
type Variant = ExperimentRow['variants'][number];

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

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
    started_at: iso(row.startedAt),
    stopped_at: iso(row.stoppedAt),
    shipped_variant_id: row.shippedVariantId,
    created_at: iso(row.createdAt),
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
 * The definition that should carry a shipped variant's copy. A definition id gets the copy
 * itself. A rendered prompt id changes only that prompt: the definition that already speaks
 * for exactly its metric or feature gets the copy, else a new definition narrowed to it
 * (same kind and caps as the `*` one it replaces) is created under the prompt id.
 */
export function shippedDefinition(definitions: PromptDefinition[], promptId: string, copy: PromptCopy): PromptDefinition | null {
  const strip = ({ id, kind, trigger, caps, enabled }: PromptDefinition) => ({ id, kind, trigger, caps, enabled }) as Omit<PromptDefinition, 'copy'>;
  const own = definitions.find((d) => d.id === promptId);
  if (own) return { ...strip(own), copy } as PromptDefinition;
  const instance = parsePromptId(promptId);
  if (!instance) return null;
  const enabled = definitions.filter((d) => d.enabled && d.kind === instance.kind);
  switch (instance.kind) {
    case 'invite': {
      const def = enabled[0];
      return def ? ({ ...strip(def), copy } as PromptDefinition) : null;
    }
    case 'limit_notice': {
      const covering = enabled.filter((d) => d.kind === 'limit_notice' && d.trigger.thresholds.includes(instance.threshold));
      const named = covering.find((d) => d.kind === 'limit_notice' && d.trigger.metric === instance.metric);
      if (named) return { ...strip(named), copy } as PromptDefinition;
      const any = covering.find((d) => d.kind === 'limit_notice' && d.trigger.metric === ANY);
      if (!any || any.kind !== 'limit_notice') return null; // narrows `any` for its trigger
      const trigger = { metric: instance.metric, thresholds: [instance.threshold], ...(any.trigger.blocking !== undefined && { blocking: any.trigger.blocking }) };
      return { ...strip(any), id: promptId, trigger, copy } as PromptDefinition;
    }
    case 'feature_gate': {
      const named = enabled.find((d) => d.kind === 'feature_gate' && d.trigger.feature_id === instance.feature_id);
      if (named) return { ...strip(named), copy } as PromptDefinition;
      const any = enabled.find((d) => d.kind === 'feature_gate' && d.trigger.feature_id === ANY);
      return any ? ({ ...strip(any), id: promptId, trigger: { feature_id: instance.feature_id }, copy } as PromptDefinition) : null;
    }
    case 'milestone': {
      const covering = enabled.filter((d) => d.kind === 'milestone' && d.trigger.milestones.includes(instance.milestone));
      const named = covering.find((d) => d.kind === 'milestone' && d.trigger.metric === instance.metric);
      if (named) return { ...strip(named), copy } as PromptDefinition;
      const any = covering.find((d) => d.kind === 'milestone' && d.trigger.metric === ANY);
      return any ? ({ ...strip(any), id: promptId, trigger: { metric: instance.metric, milestones: [instance.milestone] }, copy } as PromptDefinition) : null;
    }
    case 'forecast': {
      const named = enabled.find((d) => d.kind === 'forecast' && d.trigger.metric === instance.metric);
      if (named) return { ...strip(named), copy } as PromptDefinition;
      const any = enabled.find((d) => d.kind === 'forecast' && d.trigger.metric === ANY);
      if (!any || any.kind !== 'forecast') return null; // narrows `any` for its trigger
      return { ...strip(any), id: promptId, trigger: { metric: instance.metric, days_before: any.trigger.days_before }, copy } as PromptDefinition;
    }
  }
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

export const runningExperimentsQuery = (db: Db) => db.select().from(experiments).where(eq(experiments.status, 'running'));

export interface ExperimentAssignment {
  experiment: ExperimentRow;
  unitId: string;
  /** null for a holdout unit. */
  variant: Variant | null;
}

/** A user's unit id: the account, or the user within the account (user ids are only unique per account). */
export const unitIdFor = (experiment: Pick<ExperimentRow, 'unit'>, user: Pick<UserClaims, 'sub' | 'acct'>) =>
  experiment.unit === 'user' ? compositeKey(user.acct, user.sub) : user.acct;

/**
 * Assign the user's unit in every running experiment, keyed by the experiment's prompt id,
 * with the copy overrides the prompt engine renders (keyed the same way).
 * @example assignExperiments(running, user).copyOverrides // { 'limit-90': { title: '…', … } }
 */
export function assignExperiments(running: ExperimentRow[], user: Pick<UserClaims, 'sub' | 'acct'>) {
  const byPrompt = new Map<string, ExperimentAssignment>();
  const copyOverrides: Record<string, PromptCopy> = {};
  for (const experiment of running) {
    if (byPrompt.has(experiment.promptId)) continue;
    const unitId = unitIdFor(experiment, user);
    const { variantId } = assignVariant({ key: experiment.key, holdoutPct: experiment.holdoutPct, variants: experiment.variants }, unitId);
    const variant = experiment.variants.find((v) => v.id === variantId) ?? null;
    byPrompt.set(experiment.promptId, { experiment, unitId, variant });
    if (variant) copyOverrides[experiment.promptId] = variant.copy as PromptCopy;
  }
  return { byPrompt, copyOverrides };
}

export interface Exposure {
  experimentId: string;
  unitId: string;
  variantId: string | null;
}

/**
 * Tag each rendered prompt with its experiment and variant (a prompt id's own experiment wins
 * over its definition's), drop prompts a holdout unit must not see, and list the exposures.
 */
export function applyExperiments(prompts: RenderedPrompt[], byPrompt: Map<string, ExperimentAssignment>) {
  const exposures = new Map<string, Exposure>();
  const served: (RenderedPrompt & { variant_id: string | null; experiment_id: string | null })[] = [];
  for (const prompt of prompts) {
    const assignment = byPrompt.get(prompt.id) ?? byPrompt.get(prompt.definition_id);
    if (!assignment) {
      served.push({ ...prompt, variant_id: null, experiment_id: null });
      continue;
    }
    const { experiment, unitId, variant } = assignment;
    exposures.set(experiment.id, { experimentId: experiment.id, unitId, variantId: variant?.id ?? null });
    if (variant) served.push({ ...prompt, variant_id: variant.id, experiment_id: experiment.id });
  }
  return { prompts: served, exposures: [...exposures.values()] };
}

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

export interface ArmCounts {
  /** null for the holdout. */
  variant_id: string | null;
  exposed: number;
  conversions: number;
}

/**
 * Exposed units and converted units per arm, in one set-based query: each exposure joined to
 * its account's self-serve expansions in [first exposure, first exposure + window), a unit
 * counted once however often its account upgraded. With `unit = user` an account's upgrade
 * converts only the exposed users who took the path to it themselves: the user who made the
 * upgrade, and users who clicked this experiment's prompt before it — never every exposed
 * user of the account, in whichever arm each was.
 */
export async function armCounts(db: Db, experiment: Pick<ExperimentRow, 'id' | 'attributionDays' | 'unit'>): Promise<ArmCounts[]> {
  const windowMs = experiment.attributionDays * DAY;
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

type Row = VariantResult;

export interface ExperimentResultsView {
  experiment_id: string;
  status: ExperimentStatus;
  control_id: string;
  attribution_days: number;
  variants: Row[];
  /** Control copy against no prompt at all: the prompt's incremental lift. null without a holdout. */
  incremental: { lift: number | null; lift_ci: [number, number] | null; p_value: number; chance_to_beat_holdout: number } | null;
  srm: ExperimentResults['srm'];
  verdict: ExperimentResults['verdict'];
  /** Plain-language cautions for the reader, e.g. the peeking warning while the test runs. */
  warnings: string[];
}

const PEEKING_WARNING =
  'This test is still running. Checking results repeatedly and stopping as soon as they look good inflates false positives: decide the sample up front (min_conversions) and read the verdict once it is reached.';

/**
 * Results from per-arm counts. The verdict is about copy: Holm and the minimum sample run
 * over the variants only. The holdout row is compared with control like a variant but as a
 * family of its own (adjusted p = p); the sample-ratio check covers every arm, the holdout
 * weighted by its share, and a mismatch there outranks the copy verdict.
 * @example resultsFromCounts(row, [{ variant_id: 'a', exposed: 2000, conversions: 200 }, …]).verdict.status // 'winner'
 */
export function resultsFromCounts(experiment: ExperimentRow, counts: ArmCounts[]): ExperimentResultsView {
  const controlId = experiment.variants[0]?.id ?? '';
  const totalWeight = experiment.variants.reduce((sum, v) => sum + v.weight, 0);
  const countOf = (id: string | null) => counts.find((c) => c.variant_id === id) ?? { exposed: 0, conversions: 0 };
  const variantArms: ExperimentArmCounts[] = experiment.variants.map((v) => ({
    id: v.id,
    weight: ((100 - experiment.holdoutPct) * v.weight) / totalWeight,
    exposed: Number(countOf(v.id).exposed),
    conversions: Number(countOf(v.id).conversions),
  }));
  const copy = experimentResults({ controlId, minConversions: experiment.minConversions, variants: variantArms });
  const base = {
    experiment_id: experiment.id,
    status: experiment.status,
    control_id: controlId,
    attribution_days: experiment.attributionDays,
    warnings: experiment.status === 'running' ? [PEEKING_WARNING] : [],
  };
  if (experiment.holdoutPct === 0) return { ...base, variants: copy.variants, incremental: null, srm: copy.srm, verdict: copy.verdict };

  const holdoutArm = {
    id: HOLDOUT_ID,
    weight: experiment.holdoutPct,
    exposed: Number(countOf(null).exposed),
    conversions: Number(countOf(null).conversions),
  };
  const all = experimentResults({ controlId, minConversions: experiment.minConversions, variants: [...variantArms, holdoutArm] });
  const holdoutRow = all.variants.find((r) => r.id === HOLDOUT_ID)!;
  const control = variantArms[0]!;
  const lift = relativeLift(holdoutArm.conversions, holdoutArm.exposed, control.conversions, control.exposed);
  return {
    ...base,
    variants: [...copy.variants, { ...holdoutRow, p_value_adjusted: holdoutRow.p_value }],
    incremental: {
      lift: lift.lift,
      lift_ci: lift.ci,
      p_value: twoProportionZTest(holdoutArm.conversions, holdoutArm.exposed, control.conversions, control.exposed).pValue,
      chance_to_beat_holdout: chanceToBeatControl(holdoutArm.conversions, holdoutArm.exposed, control.conversions, control.exposed),
    },
    srm: all.srm,
    verdict: all.srm.flagged ? all.verdict : copy.verdict,
  };
}
