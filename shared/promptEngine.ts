/**
 * The prompt engine: which expansion prompts a user sees now, and when to hold back.
 * Pure: the worker loads definitions and history and passes them in with the clock;
 * the widget reuses `mirrorSessionCaps` to stay consistent offline.
 */
import { renderCopy, withoutSentencesNaming, type CopyVars } from './copy';
import { highestCrossed, highestThreshold, usagePct } from './metering';
import type {
  FeatureGateDefinition,
  ForecastDefinition,
  InviteDefinition,
  LimitNoticeDefinition,
  MilestoneDefinition,
  PromptCaps,
  PromptCopy,
  PromptDefinition,
  PromptKind,
} from './prompts';
import { DAY_MS } from './time';
import { ANY } from './wildcard';

/** The seats metric is served by invite prompts; `*` triggers never match it. */
export const SEATS_METRIC = 'seats';

interface GlobalPromptCaps {
  /** Soft prompts per session, feature-gate previews not included. */
  max_soft_per_session: number;
  max_feature_per_session: number;
}

const defaultGlobalCaps: Readonly<GlobalPromptCaps> = {
  max_soft_per_session: 2,
  max_feature_per_session: 3,
};

export type PromptEventType = 'impression' | 'click' | 'dismiss' | 'snooze' | 'gate_hit' | 'invite_sent';

export interface PromptHistoryEvent {
  prompt_id: string;
  type: PromptEventType;
  session_id: string;
  user_id: string;
  feature_id?: string | null;
  threshold?: number | null;
  metric?: string | null;
  /** Epoch milliseconds. */
  timestamp: number;
}

export interface MeterInput {
  metric: string;
  /** Display name, used for `{metric}`. */
  name: string;
  used: number;
  limit: number | null;
  /**
   * Start of the current billing or usage period (epoch ms): a limit notice's `total` counts
   * its metric's impressions from here. Dismissal suppression and snooze ignore it.
   */
  period_start?: number;
  /** When the limit is reached at the recent daily rate (epoch ms), and in how many whole days; absent or null when not this period. */
  limit_at?: number | null;
  days_to_limit?: number | null;
}

export interface FeatureInput {
  name: string;
  entitled: boolean;
  trial_available?: boolean;
  /** Plan id. */
  required_plan?: string | null;
  /** Display name of `required_plan`, used for `{next_plan}` in a feature-gate preview. */
  required_plan_name?: string | null;
}

export interface PlanRef {
  id: string;
  name: string;
  /** Limits per metric (`null` = unlimited), for `{next_limit}`. */
  limits?: Readonly<Record<string, number | null>>;
}

export interface PromptEngineInput {
  /** Epoch milliseconds. */
  now: number;
  session_id: string;
  user_id: string;
  /** Not used by the rules: members see the same prompts and the widget asks an admin instead of upgrading. */
  role?: 'admin' | 'member';
  locale: string;
  activated: boolean;
  definitions: readonly PromptDefinition[];
  meters: readonly MeterInput[];
  seats: { used: number; limit: number | null };
  features: Readonly<Record<string, FeatureInput>>;
  plan: PlanRef;
  next_plan: PlanRef | null;
  /** Features the host asked `Ladder.gate()` for this session and were refused, oldest first. */
  gate_hits_this_session: readonly string[];
  /** An invite was attempted beyond the seat limit. */
  invite_blocked: boolean;
  /** This user's prompt events across sessions and devices; other users' events are ignored. */
  history: readonly PromptHistoryEvent[];
  /**
   * Impressions per prompt id this user has ever had, kept apart from `history` (which
   * retention trims): feature previews and milestones count their `total` from it, for good.
   */
  lifetime_impressions?: Readonly<Record<string, number>>;
  global?: Partial<GlobalPromptCaps>;
  /** Experiment copy, keyed by prompt id or definition id (prompt id wins). */
  copy_overrides?: Readonly<Record<string, PromptCopy>>;
}

/** A prompt as `GET /v1/widget/state` lists it, before the worker adds `variant_id`/`experiment_id`. */
export interface RenderedPrompt {
  id: string;
  /** The definition whose copy and caps were used; experiments attach here. */
  definition_id: string;
  kind: PromptKind;
  metric?: string;
  /** Whole percent 1–100. */
  threshold?: number;
  feature_id?: string;
  blocking: boolean;
  title: string;
  body: string;
  cta_label: string;
  secondary_label: string;
}

export interface EligiblePrompts {
  prompts: RenderedPrompt[];
  /** Soft prompts this session may still show after `prompts`. */
  session_prompts_left: number;
}

/** One prompt as a user experiences it; caps are counted per instance. */
export type PromptInstance =
  | { kind: 'limit_notice'; metric: string; threshold: number }
  | { kind: 'feature_gate'; feature_id: string }
  | { kind: 'invite'; blocking: boolean }
  | { kind: 'milestone'; metric: string; milestone: number }
  | { kind: 'forecast'; metric: string };

/**
 * The stable prompt id of an instance, as stored in prompt events.
 * @example promptIdFor({ kind: 'limit_notice', metric: 'api_calls', threshold: 90 }) // 'limit-api_calls-90'
 */
export function promptIdFor(instance: PromptInstance): string {
  switch (instance.kind) {
    case 'limit_notice':
      return `limit-${instance.metric}-${instance.threshold}`;
    case 'feature_gate':
      return `gate-${instance.feature_id}`;
    case 'invite':
      return instance.blocking ? 'invite-seats-blocked' : 'invite-seats';
    case 'milestone':
      return `milestone-${instance.metric}-${instance.milestone}`;
    case 'forecast':
      return `forecast-${instance.metric}`;
  }
}

/**
 * The instance a prompt id names, or `null` for an id `promptIdFor` does not produce.
 * @example parsePromptId('gate-sso') // { kind: 'feature_gate', feature_id: 'sso' }
 */
export function parsePromptId(id: string): PromptInstance | null {
  if (id === 'invite-seats') return { kind: 'invite', blocking: false };
  if (id === 'invite-seats-blocked') return { kind: 'invite', blocking: true };
  if (id.startsWith('gate-') && id.length > 5) return { kind: 'feature_gate', feature_id: id.slice(5) };
  if (id.startsWith('forecast-') && id.length > 9) return { kind: 'forecast', metric: id.slice(9) };
  const numbered = /^(limit|milestone)-(.+)-(\d+(?:\.\d+)?)$/.exec(id);
  if (!numbered) return null;
  const [, prefix, metric = '', n] = numbered;
  const value = Number(n);
  if (prefix === 'milestone') return { kind: 'milestone', metric, milestone: value };
  return Number.isInteger(value) && value >= 1 && value <= 100 ? { kind: 'limit_notice', metric, threshold: value } : null;
}

/** Which session budget a prompt draws from: blocks from none. */
export type Budget = 'block' | 'soft' | 'feature';

/** A prompt the caps let show, before the session budgets. */
export interface Candidate {
  prompt: RenderedPrompt;
  budget: Budget;
}

/**
 * A user's prompt history as the caps read it: the user's events (oldest first) grouped by
 * what caps count together — a metric's soft limit notices, else one prompt id (`capKeyOf`);
 * blocks are in no group. `eligiblePrompts` builds it from `input.history` (`capHistoryOf`); the
 * rule simulator carries it forward event by event instead of rebuilding it at every moment.
 */
export interface CapHistory {
  eventsByCapKey: ReadonlyMap<string, readonly PromptHistoryEvent[]>;
}

export interface CandidateOptions {
  /** false: prompts carry empty copy (the rule simulator counts prompts and never reads it). Default true. */
  copy?: boolean;
  /** The input's definitions looked up once (`DefinitionIndex`), for a caller that asks many times with the same ones. */
  index?: DefinitionIndex;
}

interface Context {
  input: PromptEngineInput;
  /** History grouped by what caps count together: a metric's limit notices, else one prompt id. */
  eventsByCapKey: ReadonlyMap<string, readonly PromptHistoryEvent[]>;
  copy: boolean;
  defs: DefinitionIndex;
}

/** All thresholds of one metric's soft limit notices share their caps. */
const limitCapKey = (metric: string) => `limit:${metric}`;

/**
 * The group of prompt events whose caps count together: a metric's soft limit notices share
 * one, every other prompt id is its own; null for a block (never capped).
 * @example capKeyOf('limit-api_calls-90', defaultPrompts) // 'limit:api_calls'
 */
function capKeyOf(promptId: string, definitions: readonly PromptDefinition[]): string | null {
  const instance = parsePromptId(promptId);
  if (instance?.kind !== 'limit_notice') return promptId;
  // a block is not capped, and its showings do not use up the metric's soft notices
  return budgetOf(promptId, definitions) === 'block' ? null : limitCapKey(instance.metric);
}

const ofKind =
  <K extends PromptKind>(kind: K) =>
  (d: PromptDefinition): d is Extract<PromptDefinition, { kind: K }> =>
    d.kind === kind;

/**
 * The definition that speaks for a metric or feature: definitions naming it win over `*`
 * ones, and within the winning group the first enabled one is used, so a disabled
 * specific definition switches the prompt off for that metric or feature.
 */
function resolve<D extends PromptDefinition>(
  definitions: readonly D[],
  key: string,
  keyOf: (d: D) => string,
  covers: (d: D) => boolean,
): D | undefined {
  const named = definitions.filter((d) => keyOf(d) === key && covers(d));
  const group =
    named.length > 0 || key === SEATS_METRIC ? named : definitions.filter((d) => keyOf(d) === ANY && covers(d));
  return group.find((d) => d.enabled);
}

const resolveLimitNotice = (defs: readonly LimitNoticeDefinition[], metric: string, threshold: number) =>
  resolve(defs, metric, (d) => d.trigger.metric, (d) => d.trigger.thresholds.includes(threshold));

/** Every threshold some limit-notice definition (enabled or not) sets for a metric. */
const thresholdsFor = (defs: readonly LimitNoticeDefinition[], metric: string): number[] =>
  defs
    .filter((d) => d.trigger.metric === metric || (d.trigger.metric === ANY && metric !== SEATS_METRIC))
    .flatMap((d) => d.trigger.thresholds);

const blocksAt = (def: LimitNoticeDefinition, threshold: number) =>
  threshold === 100 && (def.trigger.blocking ?? true);

/**
 * A set of definitions with the engine's look-ups in it remembered: which definition speaks
 * for a metric's threshold, a feature, a metric's forecast or milestone, and each prompt id's
 * cap group and session budget. The answers are those of the look-ups themselves; a caller
 * asking the engine many times with the same definitions (the rule simulator) builds one and
 * passes it in `CandidateOptions.index`. The definitions must not change while it is in use.
 */
export class DefinitionIndex {
  readonly limitNotices: LimitNoticeDefinition[];
  readonly featureGates: FeatureGateDefinition[];
  readonly milestones: MilestoneDefinition[];
  readonly forecasts: ForecastDefinition[];
  readonly invite: InviteDefinition | undefined;
  private memo = {
    thresholds: new Map<string, number[]>(),
    limitNotice: new Map<string, Map<number, LimitNoticeDefinition | undefined>>(),
    featureGate: new Map<string, FeatureGateDefinition | undefined>(),
    forecast: new Map<string, ForecastDefinition | undefined>(),
    milestonesFor: new Map<string, number[]>(),
    milestone: new Map<string, Map<number, MilestoneDefinition | undefined>>(),
    capKey: new Map<string, string | null>(),
    budget: new Map<string, Budget>(),
  };

  constructor(readonly definitions: readonly PromptDefinition[]) {
    this.limitNotices = definitions.filter(ofKind('limit_notice'));
    this.featureGates = definitions.filter(ofKind('feature_gate'));
    this.milestones = definitions.filter(ofKind('milestone'));
    this.forecasts = definitions.filter(ofKind('forecast'));
    this.invite = definitions.filter(ofKind('invite')).find((d) => d.enabled);
  }

  /** Every threshold some limit-notice definition sets for the metric. */
  thresholds(metric: string): number[] {
    return this.memo.thresholds.get(metric) ?? remember(this.memo.thresholds, metric, thresholdsFor(this.limitNotices, metric));
  }

  limitNotice(metric: string, threshold: number): LimitNoticeDefinition | undefined {
    const byThreshold = this.memo.limitNotice.get(metric) ?? remember(this.memo.limitNotice, metric, new Map<number, LimitNoticeDefinition | undefined>());
    const hit = byThreshold.get(threshold);
    if (hit !== undefined || byThreshold.has(threshold)) return hit;
    return remember(byThreshold, threshold, resolveLimitNotice(this.limitNotices, metric, threshold));
  }

  featureGate(featureId: string): FeatureGateDefinition | undefined {
    return cached(this.memo.featureGate, featureId, () => resolve(this.featureGates, featureId, (d) => d.trigger.feature_id, () => true));
  }

  forecast(metric: string): ForecastDefinition | undefined {
    return cached(this.memo.forecast, metric, () => resolve(this.forecasts, metric, (d) => d.trigger.metric, () => true));
  }

  /** Every milestone the definitions that apply to the metric set. */
  milestonesFor(metric: string): number[] {
    const hit = this.memo.milestonesFor.get(metric);
    if (hit) return hit;
    return remember(
      this.memo.milestonesFor,
      metric,
      this.milestones.filter((d) => d.trigger.metric === metric || (d.trigger.metric === ANY && metric !== SEATS_METRIC)).flatMap((d) => d.trigger.milestones),
    );
  }

  milestone(metric: string, milestone: number): MilestoneDefinition | undefined {
    const byMilestone = cached(this.memo.milestone, metric, () => new Map<number, MilestoneDefinition | undefined>());
    return cached(byMilestone, milestone, () =>
      resolve(this.milestones, metric, (d) => d.trigger.metric, (d) => d.trigger.milestones.includes(milestone)),
    );
  }

  capKey(promptId: string): string | null {
    const hit = this.memo.capKey.get(promptId);
    if (hit !== undefined || this.memo.capKey.has(promptId)) return hit as string | null;
    return remember(this.memo.capKey, promptId, capKeyOf(promptId, this.definitions));
  }

  budget(promptId: string): Budget {
    return this.memo.budget.get(promptId) ?? remember(this.memo.budget, promptId, budgetOf(promptId, this.definitions));
  }
}

function remember<K, V>(memo: Map<K, V>, key: K, value: V): V {
  memo.set(key, value);
  return value;
}

// The look-ups asked at every call (thresholds, limit notices, cap keys, budgets) check the memo
// before building anything; the rarer ones go through `cached`.
function cached<K, V>(memo: Map<K, V>, key: K, make: () => V): V {
  const hit = memo.get(key);
  if (hit !== undefined || memo.has(key)) return hit as V;
  const value = make();
  memo.set(key, value);
  return value;
}

const indexFor = (input: PromptEngineInput, index: DefinitionIndex | undefined) =>
  index && index.definitions === input.definitions ? index : new DefinitionIndex(input.definitions);

interface CapCount {
  /** The prompt about to show. */
  promptId: string;
  /** `total` counts impressions from here (a limit notice: its period start). */
  periodStart?: number;
  /** A limit notice's newly crossed threshold shows once in the period even past `total`. */
  firstShowingExempt?: boolean;
  /** Impressions of this prompt ever; `total` holds for good against it. */
  lifetime?: number;
}

/**
 * Whether the frequency caps let a soft prompt show now, from the events of everything its
 * caps count together (oldest first). Dismissal suppression and snooze run on wall-clock
 * time whatever the period; a cooldown that ends after `dismiss_limit` dismissals starts a
 * fresh count of impressions and dismissals.
 */
function withinCaps(
  events: readonly PromptHistoryEvent[],
  caps: PromptCaps,
  now: number,
  sessionId: string,
  count: CapCount,
): boolean {
  const periodStart = count.periodStart ?? Number.NEGATIVE_INFINITY;
  let countFrom = Number.NEGATIVE_INFINITY;
  let impressions = 0;
  let dismissals = 0;
  let inSession = 0;
  let dismissedInSession = false;
  let shownThisPeriod = false;
  let hiddenUntil = Number.NEGATIVE_INFINITY;
  for (const e of events) {
    if (e.session_id === sessionId) {
      if (e.type === 'impression') inSession += 1;
      if (e.type === 'dismiss') dismissedInSession = true;
    }
    if (e.type === 'impression' && e.timestamp >= periodStart && e.prompt_id === count.promptId) shownThisPeriod = true;
    if (e.timestamp < countFrom) continue;
    if (e.type === 'impression' && e.timestamp >= periodStart) impressions += 1;
    if (e.type === 'snooze') hiddenUntil = Math.max(hiddenUntil, e.timestamp + caps.snooze_days * DAY_MS);
    if (e.type === 'dismiss' && ++dismissals >= caps.dismiss_limit) {
      countFrom = e.timestamp + caps.dismiss_cooldown_days * DAY_MS;
      hiddenUntil = Math.max(hiddenUntil, countFrom);
      impressions = 0;
      dismissals = 0;
    }
  }
  const underTotal =
    Math.max(impressions, count.lifetime ?? 0) < caps.total || (!!count.firstShowingExempt && !shownThisPeriod);
  return now >= hiddenUntil && underTotal && inSession < caps.per_session && !dismissedInSession;
}

function render(
  ctx: Context,
  def: PromptDefinition,
  instance: PromptInstance,
  varsOf: () => CopyVars,
  extra: Pick<RenderedPrompt, 'metric' | 'threshold' | 'feature_id' | 'blocking'>,
): RenderedPrompt {
  const id = promptIdFor(instance);
  if (!ctx.copy) {
    // the same fields in the same order, without spreading `extra` in (the rule simulator asks this per moment)
    const plain = { id, definition_id: def.id, kind: def.kind } as RenderedPrompt;
    if ('metric' in extra) plain.metric = extra.metric;
    if ('threshold' in extra) plain.threshold = extra.threshold;
    if ('feature_id' in extra) plain.feature_id = extra.feature_id;
    plain.blocking = extra.blocking;
    plain.title = plain.body = plain.cta_label = plain.secondary_label = '';
    return plain;
  }
  const vars = varsOf();
  const copy = ctx.input.copy_overrides?.[id] ?? ctx.input.copy_overrides?.[def.id] ?? def.copy;
  const { locale } = ctx.input;
  // on the top plan (or with its limit unknown) the sentences about the next plan are left out
  const missing = (['next_plan', 'next_limit'] as const).filter((name) => vars[name] === null || vars[name] === undefined);
  const text = (template: string) => renderCopy(withoutSentencesNaming(template, missing), vars, locale);
  return {
    id,
    definition_id: def.id,
    kind: def.kind,
    ...extra,
    title: text(copy.title),
    body: text(copy.body),
    cta_label: text(copy.cta_label),
    secondary_label: text(copy.secondary_label),
  };
}

const planVars = (input: PromptEngineInput): CopyVars => ({
  plan: input.plan.name,
  next_plan: input.next_plan?.name ?? null,
});

/** Copy variables of a prompt about one meter. */
const meterVars = (input: PromptEngineInput, meter: MeterInput): CopyVars => {
  const nextLimit = input.next_plan?.limits?.[meter.metric];
  return {
    ...planVars(input),
    used: meter.used,
    limit: meter.limit,
    pct: usagePct(meter.used, meter.limit),
    metric: meter.name,
    next_limit: nextLimit === null ? 'unlimited' : nextLimit,
  };
};

function limitNotices(ctx: Context): Candidate[] {
  const { input } = ctx;
  const out: Candidate[] = [];
  for (const meter of input.meters) {
    // only the highest crossed threshold speaks, whichever thresholds the definitions set
    const threshold = highestCrossed(meter.used, meter.limit, ctx.defs.thresholds(meter.metric));
    if (threshold === null) continue;
    const def = ctx.defs.limitNotice(meter.metric, threshold);
    if (!def) continue;
    const instance = { kind: 'limit_notice', metric: meter.metric, threshold } as const;
    const blocking = blocksAt(def, threshold);
    const events = ctx.eventsByCapKey.get(limitCapKey(meter.metric)) ?? [];
    const count: CapCount = { promptId: promptIdFor(instance), firstShowingExempt: true };
    if (meter.period_start !== undefined) count.periodStart = meter.period_start;
    if (!blocking && !withinCaps(events, def.caps, input.now, input.session_id, count)) continue;
    out.push({
      prompt: render(ctx, def, instance, () => meterVars(input, meter), { metric: meter.metric, threshold, blocking }),
      budget: blocking ? 'block' : 'soft',
    });
  }
  return out;
}

/** Caps of a prompt whose `total` holds for good, beyond the history kept (feature previews, milestones). */
const withinCapsForGood = (ctx: Context, promptId: string, caps: PromptCaps): boolean =>
  withinCaps(ctx.eventsByCapKey.get(promptId) ?? [], caps, ctx.input.now, ctx.input.session_id, {
    promptId,
    lifetime: ctx.input.lifetime_impressions?.[promptId] ?? 0,
  });

const requiredPlanName = (feature: FeatureInput, next: PlanRef | null): string | null =>
  feature.required_plan_name ??
  (feature.required_plan && feature.required_plan !== next?.id ? feature.required_plan : null) ??
  next?.name ??
  null;

function featureGates(ctx: Context): Candidate[] {
  const { input } = ctx;
  const out: Candidate[] = [];
  if (input.gate_hits_this_session.length === 0) return out;
  for (const featureId of new Set(input.gate_hits_this_session)) {
    const feature = input.features[featureId];
    if (!feature || feature.entitled) continue;
    const def = ctx.defs.featureGate(featureId);
    if (!def) continue;
    const instance = { kind: 'feature_gate', feature_id: featureId } as const;
    if (!withinCapsForGood(ctx, promptIdFor(instance), def.caps)) continue;
    const vars = () => ({
      ...planVars(input),
      feature: feature.name,
      next_plan: requiredPlanName(feature, input.next_plan),
    });
    out.push({
      prompt: render(ctx, def, instance, vars, { feature_id: featureId, blocking: false }),
      budget: 'feature',
    });
  }
  return out;
}

function invites(ctx: Context): Candidate[] {
  const { input } = ctx;
  const def = ctx.defs.invite;
  const { used, limit } = input.seats;
  if (!def || limit === null) return [];
  const pct = usagePct(used, limit);
  const vars = () => ({ ...planVars(input), used, limit, pct });
  if (input.invite_blocked) {
    const instance = { kind: 'invite', blocking: true } as const;
    return [{ prompt: render(ctx, def, instance, vars, { blocking: true }), budget: 'block' }];
  }
  const instance = { kind: 'invite', blocking: false } as const;
  const promptId = promptIdFor(instance);
  const events = ctx.eventsByCapKey.get(promptId) ?? [];
  if (pct === null || pct < def.trigger.seat_pct || !withinCaps(events, def.caps, input.now, input.session_id, { promptId })) {
    return [];
  }
  return [{ prompt: render(ctx, def, instance, vars, { blocking: false }), budget: 'soft' }];
}

/** Once a meter has crossed a limit threshold its limit notices speak for it, not a celebration. */
function milestones(ctx: Context): Candidate[] {
  const { input } = ctx;
  const out: Candidate[] = [];
  for (const meter of input.meters) {
    if (highestThreshold(meter.used, meter.limit) !== null) continue;
    const reached = ctx.defs.milestonesFor(meter.metric).filter((m) => m <= meter.used);
    if (reached.length === 0) continue;
    const milestone = Math.max(...reached);
    const def = ctx.defs.milestone(meter.metric, milestone);
    if (!def) continue;
    const instance = { kind: 'milestone', metric: meter.metric, milestone } as const;
    if (!withinCapsForGood(ctx, promptIdFor(instance), def.caps)) continue;
    out.push({
      prompt: render(ctx, def, instance, () => meterVars(input, meter), { metric: meter.metric, blocking: false }),
      budget: 'soft',
    });
  }
  return out;
}

/**
 * Forecast prompts: a meter whose limit is forecast within the definition's `days_before`.
 * The definition naming the metric wins over `*` whatever its days. Capped like a limit
 * notice (soft, `total` per metric per period, its own cap key). Held back while the metric's
 * 90% or higher notice shows: "almost at your limit" already says it; below that the date adds
 * what a "halfway" notice does not.
 */
function forecasts(ctx: Context, limitNoticeMetrics: ReadonlySet<string>): Candidate[] {
  const { input } = ctx;
  const out: Candidate[] = [];
  for (const meter of input.meters) {
    const at = meter.limit_at;
    if (meter.limit === null || meter.used >= meter.limit || at == null || limitNoticeMetrics.has(meter.metric)) continue;
    const def = ctx.defs.forecast(meter.metric);
    if (!def || at > input.now + def.trigger.days_before * DAY_MS) continue;
    const instance = { kind: 'forecast', metric: meter.metric } as const;
    const promptId = promptIdFor(instance);
    const count: CapCount = { promptId };
    if (meter.period_start !== undefined) count.periodStart = meter.period_start;
    if (!withinCaps(ctx.eventsByCapKey.get(promptId) ?? [], def.caps, input.now, input.session_id, count)) continue;
    const days = meter.days_to_limit ?? Math.max(0, Math.floor((at - input.now) / DAY_MS));
    out.push({
      prompt: render(ctx, def, instance, () => ({ ...meterVars(input, meter), date: at, days }), { metric: meter.metric, blocking: false }),
      budget: 'soft',
    });
  }
  return out;
}

/** Which session budget an impression of this prompt id drew from, judged by today's definitions. */
function budgetOf(promptId: string, definitions: readonly PromptDefinition[]): Budget {
  const instance = parsePromptId(promptId);
  if (!instance) return 'soft';
  if (instance.kind === 'feature_gate') return 'feature';
  if (instance.kind === 'invite') return instance.blocking ? 'block' : 'soft';
  if (instance.kind === 'limit_notice' && instance.threshold === 100) {
    const def = resolveLimitNotice(definitions.filter(ofKind('limit_notice')), instance.metric, 100);
    return !def || blocksAt(def, 100) ? 'block' : 'soft';
  }
  return 'soft';
}

const NO_METRICS: ReadonlySet<string> = new Set();

/** From this limit-notice threshold on, the notice speaks for the metric instead of a forecast. */
const FORECAST_QUIET_FROM = 90;

const KIND_ORDER: Record<PromptKind, number> = { limit_notice: 0, forecast: 1, feature_gate: 2, invite: 3, milestone: 4 };

const byDisplayOrder = (a: RenderedPrompt, b: RenderedPrompt) =>
  Number(b.blocking) - Number(a.blocking) ||
  (b.threshold ?? -1) - (a.threshold ?? -1) ||
  KIND_ORDER[a.kind] - KIND_ORDER[b.kind];

/**
 * The prompts a user may see now, after frequency caps, the session budgets and
 * activation: blocking prompts first, then by threshold, highest first.
 * @example eligiblePrompts({ ...input, meters: [{ metric: 'api_calls', name: 'API calls', used: 9100, limit: 10000 }] })
 * // { prompts: [{ id: 'limit-api_calls-90', kind: 'limit_notice', threshold: 90, blocking: false, … }], session_prompts_left: 1 }
 */
export function eligiblePrompts(input: PromptEngineInput): EligiblePrompts {
  const history = input.history
    .filter((e) => e.user_id === input.user_id)
    .sort((a, b) => a.timestamp - b.timestamp);
  const sessionImpressions: string[] = [];
  for (const e of history) if (e.session_id === input.session_id && e.type === 'impression') sessionImpressions.push(e.prompt_id);
  const index = new DefinitionIndex(input.definitions);
  return withinSessionBudget(input, promptCandidates(input, capHistoryOf(index, history), { index }), sessionImpressions, { index });
}

/**
 * The history grouped as the caps read it, from a user's events already filtered to the user
 * and sorted oldest first.
 */
function capHistoryOf(definitions: DefinitionIndex, history: readonly PromptHistoryEvent[]): CapHistory {
  const eventsByCapKey = new Map<string, PromptHistoryEvent[]>();
  for (const e of history) {
    const key = definitions.capKey(e.prompt_id);
    if (key === null) continue;
    const list = eventsByCapKey.get(key);
    if (list) list.push(e);
    else eventsByCapKey.set(key, [e]);
  }
  return { eventsByCapKey };
}

/**
 * The prompts the triggers and frequency caps let show now, in display order, before the
 * session budgets (`withinSessionBudget`). `input.history` is not read: `history` stands for it.
 */
export function promptCandidates(input: PromptEngineInput, history: CapHistory, options: CandidateOptions = {}): Candidate[] {
  const ctx: Context = { input, eventsByCapKey: history.eventsByCapKey, copy: options.copy ?? true, defs: indexFor(input, options.index) };
  // built in one array, sorted (stably) when there is more than one
  const out = limitNotices(ctx);
  let quiet: Set<string> | null = null;
  for (const c of out) if ((c.prompt.threshold ?? 0) >= FORECAST_QUIET_FROM) (quiet ??= new Set()).add(c.prompt.metric!);
  for (const more of [forecasts(ctx, quiet ?? NO_METRICS), featureGates(ctx), invites(ctx), milestones(ctx)]) for (const c of more) out.push(c);
  // a stable insertion sort: as Array.prototype.sort orders them, without its copy for a list this short
  for (let i = 1; i < out.length; i++) {
    const c = out[i]!;
    let j = i;
    for (; j > 0 && byDisplayOrder(out[j - 1]!.prompt, c.prompt) > 0; j--) out[j] = out[j - 1]!;
    out[j] = c;
  }
  return out;
}

/** A session with no impressions yet (never written to). */
const NOTHING_SHOWN: Readonly<Record<Budget, ReadonlySet<string>>> = { block: new Set(), soft: new Set(), feature: new Set() };

export interface BudgetOptions {
  index?: DefinitionIndex;
  /** Budgets to use instead of `input.global`. */
  global?: Partial<GlobalPromptCaps>;
}

/**
 * Of the candidates, those the session budgets (`input.global`) and activation let show:
 * `sessionImpressions` are the prompt ids this user was shown in this session (any order).
 */
export function withinSessionBudget(
  input: PromptEngineInput,
  candidates: readonly Candidate[],
  sessionImpressions: readonly string[],
  options: BudgetOptions = {},
): EligiblePrompts {
  if (!input.activated) {
    return { prompts: candidates.filter((c) => c.budget === 'block').map((c) => c.prompt), session_prompts_left: 0 };
  }
  const index = options.index;
  const asked = options.global ?? input.global;
  const global = asked ? { ...defaultGlobalCaps, ...asked } : defaultGlobalCaps;
  const shownThisSession: Record<Budget, ReadonlySet<string>> =
    sessionImpressions.length === 0 ? NOTHING_SHOWN : { block: new Set(), soft: new Set(), feature: new Set() };
  if (sessionImpressions.length > 0) {
    const defs = indexFor(input, index);
    for (const id of sessionImpressions) (shownThisSession[defs.budget(id)] as Set<string>).add(id);
  }
  const left: Record<Budget, number> = {
    block: Number.POSITIVE_INFINITY,
    soft: Math.max(global.max_soft_per_session - shownThisSession.soft.size, 0),
    feature: Math.max(global.max_feature_per_session - shownThisSession.feature.size, 0),
  };
  const prompts: RenderedPrompt[] = [];
  for (const { prompt, budget } of candidates) {
    if (shownThisSession[budget].has(prompt.id)) prompts.push(prompt);
    else if (left[budget] > 0) {
      left[budget] -= 1;
      prompts.push(prompt);
    }
  }
  return { prompts, session_prompts_left: left.soft };
}

/**
 * The widget's offline mirror of the session caps: of the prompts in the last state, those
 * still showable after this tab's own events since it was fetched. A soft prompt already
 * shown, dismissed or snoozed is held back until the worker says otherwise; blocks stay.
 * @example mirrorSessionCaps(state.prompts, [{ type: 'impression', prompt_id: 'limit-api_calls-90' }]) // []
 */
export function mirrorSessionCaps(
  prompts: readonly RenderedPrompt[],
  localEvents: readonly Pick<PromptHistoryEvent, 'type' | 'prompt_id'>[],
): RenderedPrompt[] {
  const spent = new Set(
    localEvents
      .filter((e) => e.type === 'impression' || e.type === 'dismiss' || e.type === 'snooze')
      .map((e) => e.prompt_id),
  );
  return prompts.filter((p) => p.blocking || !spent.has(p.id));
}
