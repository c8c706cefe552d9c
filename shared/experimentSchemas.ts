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
