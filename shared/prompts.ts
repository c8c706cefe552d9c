/**
 * Prompt definitions: what the admin API accepts (`PUT /v1/admin/prompts/:id`), the
 * frequency-cap defaults from the design, and the prompts a fresh install starts with.
 */
import { z } from 'zod';
import { ANY } from './wildcard';

export const PROMPT_KINDS = ['limit_notice', 'feature_gate', 'invite', 'milestone', 'forecast'] as const;
export type PromptKind = (typeof PROMPT_KINDS)[number];

export interface PromptCaps {
  per_session: number;
  total: number;
  dismiss_limit: number;
  dismiss_cooldown_days: number;
  snooze_days: number;
}

/** The design's frequency caps for a limit notice, also the default for every kind unless said otherwise. */
const defaultCaps: Readonly<PromptCaps> = {
  per_session: 1,
  total: 3,
  dismiss_limit: 3,
  dismiss_cooldown_days: 30,
  snooze_days: 7,
};

/** Defaults per kind: a feature-gate preview shows once per feature per user, a milestone is celebrated once. */
const defaultCapsByKind: Readonly<Record<PromptKind, Readonly<PromptCaps>>> = {
  limit_notice: defaultCaps,
  feature_gate: { ...defaultCaps, total: 1 },
  invite: defaultCaps,
  milestone: { ...defaultCaps, total: 1 },
  forecast: defaultCaps,
};

const slug = /^[A-Za-z0-9][\w.:-]{0,63}$/;
const slugMessage = 'letters, digits, _ . : - and at most 64 characters';

export const promptDefinitionIdSchema = z.string().regex(slug, slugMessage);
const targetSchema = z.string().regex(/^(\*|[A-Za-z0-9][\w.:-]{0,63})$/, `"*" or ${slugMessage}`);

const unique = (values: readonly number[]) => new Set(values).size === values.length;

const capsSchema = (d: Readonly<PromptCaps>) =>
  z
    .strictObject({
      per_session: z.int().min(0).max(100).default(d.per_session),
      total: z.int().min(0).max(10_000).default(d.total),
      dismiss_limit: z.int().min(1).max(100).default(d.dismiss_limit),
      dismiss_cooldown_days: z.int().min(0).max(3650).default(d.dismiss_cooldown_days),
      snooze_days: z.int().min(0).max(365).default(d.snooze_days),
    })
    .prefault({});

/** Copy as plain text; an empty `cta_label` or `secondary_label` means no such button. */
export const promptCopySchema = z.strictObject({
  title: z.string().trim().min(1).max(120),
  body: z.string().trim().min(1).max(600),
  cta_label: z.string().trim().max(40),
  secondary_label: z.string().trim().max(40),
});
export type PromptCopy = z.output<typeof promptCopySchema>;

const limitNoticeTriggerSchema = z.strictObject({
  metric: targetSchema,
  /** Whole percents 1–100, e.g. `[80]` for the playbooks' 80% upgrade prompt. */
  thresholds: z
    .array(z.int('a threshold is a whole percent').min(1).max(100))
    .min(1)
    .max(20)
    .refine(unique, 'thresholds must not repeat'),
  /** Whether the 100% notice blocks; lower thresholds never block. Absent means true. */
  blocking: z.boolean().optional(),
});

const featureGateTriggerSchema = z.strictObject({ feature_id: targetSchema });

const inviteTriggerSchema = z.strictObject({ seat_pct: z.int().min(1).max(100) });

const milestoneTriggerSchema = z.strictObject({
  metric: targetSchema,
  milestones: z
    .array(z.number().positive().max(1e12))
    .min(1)
    .max(20)
    .refine(unique, 'milestones must not repeat'),
});

/**
 * A forecast prompt shows when the metric's limit is forecast (at the recent daily rate)
 * within `days_before` days; like a limit notice, its `total` counts per metric per period.
 */
const forecastTriggerSchema = z.strictObject({
  metric: targetSchema,
  days_before: z.int('days_before is a whole number of days').min(1).max(365).default(7),
});

const common = (kind: PromptKind) => ({
  caps: capsSchema(defaultCapsByKind[kind]),
  copy: promptCopySchema,
  enabled: z.boolean().default(true),
});

const limitNoticeInput = z.strictObject({
  kind: z.literal('limit_notice'),
  trigger: limitNoticeTriggerSchema,
  ...common('limit_notice'),
});
const featureGateInput = z.strictObject({
  kind: z.literal('feature_gate'),
  trigger: featureGateTriggerSchema,
  ...common('feature_gate'),
});
const inviteInput = z.strictObject({
  kind: z.literal('invite'),
  trigger: inviteTriggerSchema,
  ...common('invite'),
});
const milestoneInput = z.strictObject({
  kind: z.literal('milestone'),
  trigger: milestoneTriggerSchema,
  ...common('milestone'),
});

const forecastInput = z.strictObject({
  kind: z.literal('forecast'),
  trigger: forecastTriggerSchema,
  ...common('forecast'),
});

/** Body of `PUT /v1/admin/prompts/:id`; unknown fields are refused and missing caps take the kind's defaults. */
export const promptInputSchema = z.discriminatedUnion('kind', [
  limitNoticeInput,
  featureGateInput,
  inviteInput,
  milestoneInput,
  forecastInput,
]);

const withId = { id: promptDefinitionIdSchema };

/** A stored definition: the admin body plus its `:id`. */
export const promptDefinitionSchema = z.discriminatedUnion('kind', [
  limitNoticeInput.extend(withId),
  featureGateInput.extend(withId),
  inviteInput.extend(withId),
  milestoneInput.extend(withId),
  forecastInput.extend(withId),
]);
export type PromptDefinition = z.output<typeof promptDefinitionSchema>;
export type LimitNoticeDefinition = Extract<PromptDefinition, { kind: 'limit_notice' }>;
export type FeatureGateDefinition = Extract<PromptDefinition, { kind: 'feature_gate' }>;
export type InviteDefinition = Extract<PromptDefinition, { kind: 'invite' }>;
export type MilestoneDefinition = Extract<PromptDefinition, { kind: 'milestone' }>;
export type ForecastDefinition = Extract<PromptDefinition, { kind: 'forecast' }>;

/**
 * The prompts a new install starts with: one limit notice per threshold for every metric
 * (the design's intent and call to action per threshold), a preview for every locked
 * feature, an invite prompt at 80% of seats, usage milestones, and a forecast prompt a week
 * before a limit is reached at the recent pace.
 */
export const defaultPrompts: PromptDefinition[] = [
  {
    id: 'limit-50',
    kind: 'limit_notice',
    trigger: { metric: ANY, thresholds: [50] },
    caps: { ...defaultCaps },
    copy: {
      title: "You're halfway through your {metric}",
      body: "You've used {used} of the {limit} {metric} included in {plan} ({pct}).",
      cta_label: 'View usage',
      secondary_label: '',
    },
    enabled: true,
  },
  {
    id: 'limit-75',
    kind: 'limit_notice',
    trigger: { metric: ANY, thresholds: [75] },
    caps: { ...defaultCaps },
    copy: {
      title: 'Approaching your {metric} limit',
      body: "You've used {pct} of the {metric} in {plan}. {next_plan} includes {next_limit} {metric}.",
      cta_label: 'Compare plans',
      secondary_label: 'Remind me later',
    },
    enabled: true,
  },
  {
    id: 'limit-90',
    kind: 'limit_notice',
    trigger: { metric: ANY, thresholds: [90] },
    caps: { ...defaultCaps },
    copy: {
      title: 'Almost at your {metric} limit',
      body: '{used} of {limit} {metric} used ({pct}). Upgrade to {next_plan} in one click for {next_limit} {metric}.',
      cta_label: 'Upgrade',
      secondary_label: 'Remind me later',
    },
    enabled: true,
  },
  {
    id: 'limit-100',
    kind: 'limit_notice',
    trigger: { metric: ANY, thresholds: [100], blocking: true },
    caps: { ...defaultCaps },
    copy: {
      title: '{metric} limit reached',
      body: "You've used all {limit} {metric} included in {plan}. Upgrade to {next_plan} for {next_limit} {metric} and keep going.",
      cta_label: 'Upgrade',
      secondary_label: '',
    },
    enabled: true,
  },
  {
    id: 'gate',
    kind: 'feature_gate',
    trigger: { feature_id: ANY },
    caps: { ...defaultCapsByKind.feature_gate },
    copy: {
      title: 'Unlock {feature}',
      body: '{feature} is included in {next_plan}. See what it does, then upgrade from {plan} when you are ready.',
      cta_label: 'Upgrade',
      secondary_label: 'Maybe later',
    },
    enabled: true,
  },
  {
    id: 'invite',
    kind: 'invite',
    trigger: { seat_pct: 80 },
    caps: { ...defaultCaps },
    copy: {
      title: 'Bring your whole team',
      // below the seat limit the CTA opens the host's invite flow; at the limit the widget makes it "Add seats"
      body: '{used} of {limit} seats on {plan} are in use. Bring in the teammates who still need access.',
      cta_label: 'Invite teammates',
      secondary_label: 'Remind me later',
    },
    enabled: true,
  },
  {
    id: 'milestone',
    kind: 'milestone',
    trigger: { metric: ANY, milestones: [1_000, 10_000, 100_000, 1_000_000] },
    caps: { ...defaultCapsByKind.milestone },
    copy: {
      title: 'Milestone reached',
      body: 'Your team has reached {used} {metric}. Nice work!',
      cta_label: '',
      secondary_label: '',
    },
    enabled: true,
  },
  {
    id: 'forecast',
    kind: 'forecast',
    trigger: { metric: ANY, days_before: 7 },
    caps: { ...defaultCaps },
    copy: {
      title: 'Heading for your {metric} limit',
      body: "At this pace you'll reach your {metric} limit on {date}. {next_plan} includes {next_limit} {metric}.",
      cta_label: 'Compare plans',
      secondary_label: 'Remind me later',
    },
    enabled: true,
  },
];

const eventName = z.string().regex(slug, slugMessage);

/**
 * Activation first (`GET`/`PUT /v1/admin/activation`): an account is activated once it has
 * `min_events` tracked events whose names are in `events` and is `min_age_days` old. Until
 * then it gets no soft expansion prompts; hard blocks still show.
 */
export const activationRuleSchema = z.strictObject({
  events: z
    .array(eventName)
    .min(1)
    .max(20)
    .refine((names) => new Set(names).size === names.length, 'events must not repeat'),
  min_events: z.int().min(1).max(1000).default(1),
  min_age_days: z.int().min(0).max(3650).default(0),
});
export type ActivationRule = z.output<typeof activationRuleSchema>;

export const defaultActivation: Readonly<ActivationRule> = {
  events: ['core_feature_activated'],
  min_events: 1,
  min_age_days: 0,
};

/** A prompt definition as the admin API answers it: the definition, whether it is built in, when it was last edited. */
export const promptViewSchema = z.looseObject({ id: z.string(), kind: z.string(), builtin: z.boolean(), updated_at: z.string().nullable() });
/** `GET /v1/admin/prompts` answer. */
export const promptListSchema = z.object({ prompts: z.array(promptViewSchema) });
export const promptParams = z.strictObject({ id: promptDefinitionIdSchema });
