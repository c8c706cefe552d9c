/**
 * Zod schemas of the admin experiments API (`/v1/admin/experiments`): what a product
 * manager may configure for an A/B test of prompt copy. Used by the worker's routes, the
 * OpenAPI document and the dashboard.
 */
import { z } from 'zod';
import { promptCopySchema } from './prompts';

/** The arm id the results give to units held out of the prompt. */
export const HOLDOUT_ID = 'holdout';
const EXPERIMENT_STATUSES = ['draft', 'running', 'stopped', 'shipped'] as const;
export type ExperimentStatus = (typeof EXPERIMENT_STATUSES)[number];

const slug = z.string().regex(/^[A-Za-z0-9][\w.:-]{0,63}$/, 'letters, digits, _ . : - and at most 64 characters');

const experimentVariantSchema = z.strictObject({
  id: slug.refine((id) => id !== HOLDOUT_ID, `"${HOLDOUT_ID}" is reserved for the holdout`),
  /** Relative weight: any positive number, on one scale across the variants. */
  weight: z.number().positive().max(1_000_000),
  copy: promptCopySchema,
});

/**
 * Body of `POST /v1/admin/experiments` (and of `PUT /v1/admin/experiments/:id` for a draft).
 * `prompt_id` is a prompt definition id (`limit-90`: every prompt it renders) or one
 * rendered prompt id (`limit-api_calls-90`). The first variant is the control. `key` seeds
 * the assignment hash: a new configuration needs a new key.
 */
export const experimentInputSchema = z.strictObject({
  key: slug,
  prompt_id: z.string().regex(/^[A-Za-z0-9][\w.:@-]{0,199}$/, 'a prompt definition id or a prompt id'),
  unit: z.enum(['account', 'user']).default('account'),
  /** Percentage of units that see no prompt at all, to measure the prompt's incremental lift. */
  holdout_pct: z.int().min(0).max(50).default(0),
  attribution_days: z.int().min(1).max(90).default(7),
  /** Conversions across the variants before the verdict may name a winner. */
  min_conversions: z.int().min(1).max(1_000_000).default(100),
  variants: z
    .array(experimentVariantSchema)
    .min(2)
    .max(6)
    .superRefine((variants, ctx) => {
      const seen = new Set<string>();
      variants.forEach((v, i) => {
        if (seen.has(v.id)) ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `variant id "${v.id}" is used twice` });
        seen.add(v.id);
      });
    }),
});
export type ExperimentInput = z.output<typeof experimentInputSchema>;

/** Body of `POST /v1/admin/experiments/:id/ship`. */
export const experimentShipSchema = z.strictObject({ variant_id: z.string().min(1).max(64) });

/** Query of `GET /v1/admin/experiments`. */
export const experimentListQuerySchema = z.strictObject({
  status: z.enum(EXPERIMENT_STATUSES).optional(),
  prompt_id: z.string().max(200).optional(),
});

/** An experiment id in a path. */
export const experimentParams = z.strictObject({ id: z.string().min(1).max(64) });

/** One experiment as the admin API answers it. */
export const experimentViewSchema = z.object({
  id: z.string(),
  key: z.string(),
  prompt_id: z.string(),
  unit: z.enum(['account', 'user']),
  holdout_pct: z.number(),
  attribution_days: z.number(),
  min_conversions: z.number(),
  variants: z.array(z.object({ id: z.string(), weight: z.number(), copy: z.record(z.string(), z.string()) })),
  control_id: z.string().nullable(),
  status: z.enum(EXPERIMENT_STATUSES),
  started_at: z.string().nullable(),
  stopped_at: z.string().nullable(),
  shipped_variant_id: z.string().nullable(),
  created_at: z.string().nullable(),
});
type ExperimentView = z.output<typeof experimentViewSchema>;

/** `GET /v1/admin/experiments` answer. */
export const experimentListSchema = z.object({ experiments: z.array(experimentViewSchema) });

const interval = z.tuple([z.number(), z.number()]);
/** One arm of the results (a variant, or the holdout). */
const variantResultSchema = z.object({
  id: z.string(),
  exposed: z.number(),
  conversions: z.number(),
  rate: z.number().nullable(),
  rate_ci: interval,
  lift: z.number().nullable(),
  lift_ci: interval.nullable(),
  p_value: z.number().nullable(),
  p_value_adjusted: z.number().nullable(),
  chance_to_beat_control: z.number().nullable(),
});

/** `GET /v1/admin/experiments/{id}/results`: per arm, the incremental lift against the holdout, SRM and the verdict. */
export const experimentResultsSchema = z.object({
  experiment_id: z.string(),
  status: z.enum(EXPERIMENT_STATUSES),
  control_id: z.string(),
  attribution_days: z.number(),
  variants: z.array(variantResultSchema),
  incremental: z.object({ lift: z.number().nullable(), lift_ci: interval.nullable(), p_value: z.number(), chance_to_beat_holdout: z.number() }).nullable(),
  srm: z.object({ p_value: z.number(), flagged: z.boolean() }),
  verdict: z.object({ status: z.enum(['insufficient_data', 'no_difference', 'winner', 'loser', 'srm']), winner_id: z.string().nullable(), message: z.string() }),
  warnings: z.array(z.string()),
});
type ExperimentResultsResponse = z.output<typeof experimentResultsSchema>;
