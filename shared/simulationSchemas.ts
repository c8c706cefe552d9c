/**
 * `POST /v1/admin/simulations`: the proposed rule to replay the last days of history under
 * (definitions in the shapes of `PUT /v1/admin/prompts/:id`, keyed by prompt id, and an
 * optional activation rule) and the answer's shape, shared by the worker and the dashboard.
 */
import { z } from 'zod';
import { activationRuleSchema, PROMPT_KINDS, promptDefinitionIdSchema, promptInputSchema } from './prompts';

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

const counts = { sessions: z.number(), sessions_at_cap: z.number(), impressions: z.number(), accounts_shown: z.number(), users_shown: z.number(), suppressed_by_dismissals: z.number() };
const promptKind = z.enum(PROMPT_KINDS);
/** One prompt's counts over the window (shared/simulator.ts `PromptCounts`). */
const promptCounts = {
  prompt_id: z.string(),
  definition_id: z.string(),
  kind: promptKind,
  metric: z.string().nullable(),
  threshold: z.number().nullable(),
  feature_id: z.string().nullable(),
  impressions: z.number(),
  accounts_shown: z.number(),
  users_shown: z.number(),
  held_by_session_cap: z.number(),
  suppressed_by_dismissals: z.number(),
};
const range = z.object({ low: z.number(), expected: z.number(), high: z.number() });
const interval = z.tuple([z.number(), z.number()]);
/** Projected upgrades (shared/upgradeProjection.ts `UpgradeProjection`): ranges, never one number. */
const projectionSchema = z.object({
  upgrades: range,
  clicks: range,
  expansion_mrr_cents: range.nullable(),
  groups: z.array(
    z.object({
      group: z.string(),
      basis: z.enum(['group', 'kind', 'all', 'none']),
      exposures: z.number(),
      upgrades: z.number(),
      rate: z.number().nullable(),
      interval,
      click_rate: z.number().nullable(),
      click_interval: interval,
      mrr_per_upgrade_cents: z.number().nullable(),
      projected_exposures: z.number(),
      projected_impressions: z.number(),
      projected_upgrades: range,
      projected_clicks: range,
      projected_expansion_mrr_cents: range.nullable(),
    }),
  ),
});
/** One rule's replay, days as ISO strings. */
const simulationRunSchema = z.object({
  totals: z.object(counts),
  definitions: z.array(z.object({ definition_id: z.string(), kind: promptKind, impressions: z.number(), accounts_shown: z.number(), users_shown: z.number() })),
  prompts: z.array(z.object(promptCounts)),
  days: z.array(z.object({ day: z.string(), ...counts })),
  prompt_days: z.array(z.object({ ...promptCounts, day: z.string() })),
  thresholds: z.array(z.object({ metric: z.string(), threshold: z.number(), accounts: z.number(), daily: z.array(z.object({ day: z.string(), accounts: z.number() })) })),
  projection: projectionSchema,
});
export type SimulationRun = z.output<typeof simulationRunSchema>;

/** `POST /v1/admin/simulations` answer (JSON; CSV per prompt and day with `Accept: text/csv`). */
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
  activation: z.object({ current: activationRuleSchema, proposed: activationRuleSchema }),
  variant: z
    .object({ experiment_id: z.string(), variant_id: z.string(), prompt_id: z.string(), unit: z.enum(['account', 'user']), exposed: z.number(), conversions: z.number() })
    .nullable(),
  current: simulationRunSchema,
  proposed: simulationRunSchema,
});
export type SimulationResponse = z.output<typeof simulationResponseSchema>;
