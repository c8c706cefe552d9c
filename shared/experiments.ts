/**
 * Experiments on prompt copy, the pure rules: which arm a user's unit is in and what the
 * widget is served, where a shipped variant's copy goes, and results from per-arm counts.
 * Assignment hashing and statistics are `bucketing.ts` and `statistics.ts`; the worker
 * (`worker/experiments.ts`) keeps the SQL.
 */
import { assignVariant } from './bucketing';
import { compositeKey } from './compositeKey';
import { HOLDOUT_ID, type ExperimentStatus } from './experimentSchemas';
import { parsePromptId, type RenderedPrompt } from './promptEngine';
import type { PromptCopy, PromptDefinition } from './prompts';
import type { UserClaims } from './schemas';
import {
  chanceToBeatControl,
  experimentResults,
  relativeLift,
  twoProportionZTest,
  type ExperimentArmCounts,
  type ExperimentResults,
  type VariantResult,
} from './statistics';
import { ANY } from './wildcard';

/** An experiment as stored: what the rules here read of it. The first variant is the control. */
export interface Experiment {
  id: string;
  key: string;
  promptId: string;
  unit: 'account' | 'user';
  holdoutPct: number;
  attributionDays: number;
  minConversions: number;
  variants: { id: string; weight: number; copy: Record<string, string> }[];
  status: ExperimentStatus;
}
type Variant = Experiment['variants'][number];

// ---------------------------------------------------------------- shipping

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

// ---------------------------------------------------------------- widget state

export interface ExperimentAssignment<E extends Experiment = Experiment> {
  experiment: E;
  unitId: string;
  /** null for a holdout unit. */
  variant: Variant | null;
}

/** A user's unit id: the account, or the user within the account (user ids are only unique per account). */
export const unitIdFor = (experiment: Pick<Experiment, 'unit'>, user: Pick<UserClaims, 'sub' | 'acct'>) =>
  experiment.unit === 'user' ? compositeKey(user.acct, user.sub) : user.acct;

/**
 * Assign the user's unit in every running experiment, keyed by the experiment's prompt id,
 * with the copy overrides the prompt engine renders (keyed the same way).
 * @example assignExperiments(running, user).copyOverrides // { 'limit-90': { title: '…', … } }
 */
export function assignExperiments<E extends Experiment>(running: E[], user: Pick<UserClaims, 'sub' | 'acct'>) {
  const byPrompt = new Map<string, ExperimentAssignment<E>>();
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
export function applyExperiments(prompts: RenderedPrompt[], byPrompt: Map<string, ExperimentAssignment<Experiment>>) {
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

// ---------------------------------------------------------------- results

export interface ArmCounts {
  /** null for the holdout. */
  variant_id: string | null;
  exposed: number;
  conversions: number;
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
export function resultsFromCounts(experiment: Experiment, counts: ArmCounts[]): ExperimentResultsView {
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
