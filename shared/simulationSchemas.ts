/**
 * `POST /v1/admin/simulations`: the proposed rule to replay the last days of history under
 * (definitions in the shapes of `PUT /v1/admin/prompts/:id`, keyed by prompt id, and an
 * optional activation rule) and the answer's shape, shared by the worker and the dashboard.
 */
import { z } from 'zod';
import { activationRuleSchema, promptDefinitionIdSchema, promptInputSchema } from './prompts';
import type { DefinitionCounts, PromptCounts, ThresholdCrossings } from './simulator';
import type { UpgradeProjection } from './upgradeProjection';

const MAX_SIMULATION_DAYS = 90;
const MAX_PROPOSED_DEFINITIONS = 50;

export const simulationRequestSchema = z.strictObject({
  /** Prompt id → the definition it would have; ids not named keep the one in force. */
  definitions: z
    .record(promptDefinitionIdSchema, promptInputSchema)
    .refine((d) => Object.keys(d).length <= MAX_PROPOSED_DEFINITIONS, `at most ${MAX_PROPOSED_DEFINITIONS} definitions`)
    .default({}),
  /** The activation rule, in the shape of `PUT /v1/admin/activation`; the one in force when left out. */
  activation: activationRuleSchema.optional(),
  window_days: z.int().min(1).max(MAX_SIMULATION_DAYS).default(MAX_SIMULATION_DAYS),
  /**
   * Preview shipping an experiment's variant: its copy becomes the prompt's (as
   * `POST /v1/admin/experiments/:id/ship` would), and the proposed projection takes the
   * conversion rate observed for that variant for the prompts the experiment covers.
   */
  variant: z.strictObject({ experiment_id: z.string().min(1).max(64), variant_id: z.string().min(1).max(64) }).optional(),
});

type Iso = string;

/** One rule's replay, times as ISO strings. */
export interface SimulationRun {
  totals: { sessions: number; sessions_at_cap: number; impressions: number; accounts_shown: number; users_shown: number; suppressed_by_dismissals: number };
  definitions: DefinitionCounts[];
  prompts: PromptCounts[];
  days: { day: Iso; sessions: number; sessions_at_cap: number; impressions: number; accounts_shown: number; users_shown: number; suppressed_by_dismissals: number }[];
  prompt_days: (PromptCounts & { day: Iso })[];
  thresholds: (Omit<ThresholdCrossings, 'daily'> & { daily: { day: Iso; accounts: number }[] })[];
  projection: UpgradeProjection;
}

export interface SimulationResponse {
  from: Iso;
  to: Iso;
  window_days: number;
  sampling: {
    sampled: boolean;
    accounts_with_history: number;
    accounts_simulated: number;
    users_simulated: number;
    /** True when the sample still held more prompt events than one request reads (the newest were left out). */
    events_truncated: boolean;
    method: string;
  };
  /** What the replay reproduces and why not exactly (the simulator's documented tolerance). */
  tolerance: string;
  projection_basis: string;
  activation: { current: z.output<typeof activationRuleSchema>; proposed: z.output<typeof activationRuleSchema> };
  /** The variant previewed (`variant` in the request): its experiment's prompt and what its arm observed. */
  variant: { experiment_id: string; variant_id: string; prompt_id: string; unit: 'account' | 'user'; exposed: number; conversions: number } | null;
  current: SimulationRun;
  proposed: SimulationRun;
}

const counts = { sessions: z.number(), sessions_at_cap: z.number(), impressions: z.number(), accounts_shown: z.number(), users_shown: z.number(), suppressed_by_dismissals: z.number() };
/** One rule's replay (`SimulationRun`): the totals and days checked field by field, the per-prompt rows by their keys. */
const simulationRunSchema = z.object({
  totals: z.object(counts),
  definitions: z.array(z.looseObject({ definition_id: z.string(), accounts_shown: z.number() })),
  prompts: z.array(z.looseObject({ prompt_id: z.string(), impressions: z.number() })),
  days: z.array(z.object({ day: z.string(), ...counts })),
  prompt_days: z.array(z.looseObject({ day: z.string(), prompt_id: z.string(), impressions: z.number() })),
  thresholds: z.array(z.looseObject({ daily: z.array(z.object({ day: z.string(), accounts: z.number() })) })),
  projection: z.looseObject({}),
});

/** `POST /v1/admin/simulations` answer (JSON; CSV per prompt and day with `Accept: text/csv`); the type is `SimulationResponse`. */
export const simulationResponseSchema = z.object({
  from: z.string(),
  to: z.string(),
  window_days: z.number(),
  sampling: z.object({
    sampled: z.boolean(),
    accounts_with_history: z.number(),
    accounts_simulated: z.number(),
    users_simulated: z.number(),
    events_truncated: z.boolean(),
    method: z.string(),
  }),
  tolerance: z.string(),
  projection_basis: z.string(),
  activation: z.object({ current: z.looseObject({}), proposed: z.looseObject({}) }),
  variant: z
    .object({ experiment_id: z.string(), variant_id: z.string(), prompt_id: z.string(), unit: z.enum(['account', 'user']), exposed: z.number(), conversions: z.number() })
    .nullable(),
  current: simulationRunSchema,
  proposed: simulationRunSchema,
});
