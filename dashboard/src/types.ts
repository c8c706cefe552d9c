/**
 * Shapes of the admin API answers the dashboard reads: the response schemas the worker's routes
 * declare (shared/*Schemas.ts), as types only.
 */
import type { z } from 'zod';
import type { experimentResultsSchema, experimentViewSchema } from '../../shared/experimentSchemas';
import type { webhookViewSchema } from '../../shared/webhookSchemas';

export type { AdminAccount, FunnelResponse, FunnelRow, PromptHistoryResponse, UpgradesResponse } from '../../shared/analyticsSchemas';
export type { RevenueResponse } from '../../shared/billingSchemas';
export type { PromptCopy, PromptDefinition } from '../../shared/prompts';

export type Experiment = z.output<typeof experimentViewSchema>;
export type ExperimentResults = z.output<typeof experimentResultsSchema>;
export type VariantResult = ExperimentResults['variants'][number];
export type Webhook = z.output<typeof webhookViewSchema>;
