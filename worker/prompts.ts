/**
 * Prompts in D1: definitions (the defaults of `shared/prompts.ts`, overridden or added to by
 * the admin API) and each user's prompt history, from which the worker enforces frequency
 * caps across tabs and devices. Which prompt shows is decided by `shared/promptEngine.ts`.
 */
import { and, desc, eq, gte, inArray, or, sql } from 'drizzle-orm';
import type { PromptHistoryEvent, RenderedPrompt } from '../shared/promptEngine';
import { capPeriodMetric, HISTORY_DAYS, HISTORY_LIMIT, historyWindow, servePrompts } from '../shared/promptInput';
import {
  activationRuleSchema,
  defaultActivation,
  defaultPrompts,
  promptDefinitionSchema,
  type ActivationRule,
  type PromptDefinition,
} from '../shared/prompts';
import type { UserClaims, WidgetEvent } from '../shared/schemas';
import { metricPeriod, type AccountSnapshot } from '../shared/entitlements';
import type { Forecast } from '../shared/forecast';
import type { AccountState } from './accounts';
import { preparedOnce, sqlBatch, type Db, type Placeholders } from './db';
import { rescoreAccounts } from './pqa';
import { promptEvents, prompts, settings, userPromptCaps } from './db/schema';
import { DAY_MS } from '../shared/time';


type PromptRow = typeof prompts.$inferSelect;

const toDefinition = (row: PromptRow): PromptDefinition =>
  promptDefinitionSchema.parse({ id: row.id, kind: row.kind, trigger: row.trigger, caps: row.caps, copy: row.copy, enabled: row.enabled });

/**
 * The definitions in force: the built-in defaults, each replaced by a stored definition with
 * the same id, followed by stored definitions of new ids.
 * @example mergeDefinitions(rows).map((d) => d.id) // ['limit-50', …, 'gate', 'invite', 'milestone', 'my-prompt']
 */
export function mergeDefinitions(rows: PromptRow[]): (PromptDefinition & { updated_at: string | null; builtin: boolean })[] {
  const stored = new Map(rows.map((r) => [r.id, r]));
  const builtins = defaultPrompts.map((d) => {
    const row = stored.get(d.id);
    return { ...(row ? toDefinition(row) : d), updated_at: row ? new Date(row.updatedAt).toISOString() : null, builtin: true };
  });
  const added = rows
    .filter((r) => !defaultPrompts.some((d) => d.id === r.id))
    .map((r) => ({ ...toDefinition(r), updated_at: new Date(r.updatedAt).toISOString(), builtin: false }));
  return [...builtins, ...added];
}

export const definitionsQuery = (db: Db) => db.select().from(prompts);

/** Store a definition (create or replace). @example await savePrompt(db, 'limit-90', input, Date.now()) */
export async function savePrompt(db: Db, definition: PromptDefinition, now: number): Promise<void> {
  const values = {
    kind: definition.kind,
    trigger: definition.trigger as Record<string, unknown>,
    caps: definition.caps as unknown as Record<string, number>,
    copy: definition.copy as unknown as Record<string, string>,
    enabled: definition.enabled,
    updatedAt: now,
  };
  await db.insert(prompts).values({ id: definition.id, ...values }).onConflictDoUpdate({ target: prompts.id, set: values });
}

/** The event types the caps read in any session; a gate hit is read only in the session it was in (`engineInputFor`). */
const CAP_EVENT_TYPES = ['impression', 'dismiss', 'snooze'] as const;

const historyStatement = preparedOnce((db, p: Placeholders<{ acct: string; sub: string; since: number; session: string }>) => {
  // The window is the user's newest HISTORY_LIMIT events of every type (as the rule simulator replays it);
  // of those only what the engine reads comes back: clicks, invites and other sessions' gate hits never
  // change a prompt, and a heavy user's page view would otherwise carry them all.
  const recent = db
    .select({ promptId: promptEvents.promptId, type: promptEvents.type, sessionId: promptEvents.sessionId, featureId: promptEvents.featureId, timestamp: promptEvents.timestamp })
    .from(promptEvents)
    .where(and(eq(promptEvents.accountId, p.acct), eq(promptEvents.userId, p.sub), gte(promptEvents.timestamp, p.since)))
    .orderBy(desc(promptEvents.timestamp))
    .limit(HISTORY_LIMIT)
    .as('recent');
  return db
    .select()
    .from(recent)
    .where(or(inArray(recent.type, [...CAP_EVENT_TYPES]), and(eq(recent.type, 'gate_hit'), eq(recent.sessionId, p.session))));
});

/**
 * What a user's recent prompt events tell the caps at `now` in `session` (for `mixedBatch`):
 * of the newest `HISTORY_LIMIT` within `HISTORY_DAYS`, impressions, dismissals and snoozes, and
 * this session's gate hits. The window counts every event, so a heavy user's latest dismissals
 * are the ones kept.
 */
export const historyQuery = (db: Db, accountId: string, userId: string, now: number, session: string) =>
  historyStatement(db, { acct: accountId, sub: userId, since: now - HISTORY_DAYS * DAY_MS, session });

type HistoryRow = ReturnType<typeof historyQuery>['result'][number];

const lifetimeStatement = preparedOnce((db, p: Placeholders<{ acct: string; sub: string }>) =>
  db
    .select({ promptId: userPromptCaps.promptId, impressions: userPromptCaps.impressions })
    .from(userPromptCaps)
    .where(and(eq(userPromptCaps.accountId, p.acct), eq(userPromptCaps.userId, p.sub))),
);

/** A user's impressions per prompt, ever (see `userPromptCaps`), for `mixedBatch`. */
export const lifetimeQuery = (db: Db, accountId: string, userId: string) => lifetimeStatement(db, { acct: accountId, sub: userId });

const ACTIVATION_KEY = 'activation';

/** The stored activation rule, or the default; a rule stored before `events` existed keeps its age. */
export function activationRuleFrom(rows: { value: unknown }[]): ActivationRule {
  const stored = rows[0]?.value;
  const parsed = activationRuleSchema.safeParse({ ...defaultActivation, ...(typeof stored === 'object' && stored) });
  return parsed.success ? parsed.data : { ...defaultActivation };
}

export const activationQuery = (db: Db) => db.select().from(settings).where(eq(settings.key, ACTIVATION_KEY));

export async function loadActivationRule(db: Db): Promise<ActivationRule> {
  return activationRuleFrom(await activationQuery(db));
}

/** Store the activation rule; the next widget state of every account follows it. */
export async function saveActivationRule(db: Db, rule: ActivationRule, now: number): Promise<void> {
  await db
    .insert(settings)
    .values({ key: ACTIVATION_KEY, value: rule, updatedAt: now })
    .onConflictDoUpdate({ target: settings.key, set: { value: rule, updatedAt: now } });
}

/**
 * How many of an account's tracked events count toward the stored rule, counted up to 1,000
 * (the highest `min_events`), in one statement that reads the rule itself.
 */
export const activationEventsSql = (accountId: string) => sql`
  SELECT count(*) AS n FROM (
    SELECT 1 FROM track_events t
    WHERE t.account_id = ${accountId} AND t.event IN (SELECT value FROM json_each(coalesce(
      (SELECT json_extract(value, '$.events') FROM settings WHERE key = ${ACTIVATION_KEY}), ${JSON.stringify(defaultActivation.events)})))
    LIMIT 1000)`;

/**
 * Whether an account has reached its activation milestone: `min_events` events named in the
 * rule and the minimum age. Until then it gets no soft expansion prompts.
 * @example isActivated(account, { events: ['project_created'], min_events: 3, min_age_days: 7 }, 3, Date.now())
 */
export function isActivated(account: AccountState['account'], rule: ActivationRule, events: number, now: number): boolean {
  // the first core_feature_activated is also kept on the account, beyond the events' retention
  const kept = rule.min_events === 1 && rule.events.includes('core_feature_activated') && account.activatedAt !== null;
  return (kept || events >= rule.min_events) && now - account.createdAt >= rule.min_age_days * DAY_MS;
}

/**
 * The prompts a user may see now, from the account snapshot and the user's stored history.
 * An invite attempt beyond the seat limit is signalled by a `gate_hit` on the `seats` feature id.
 * The engine's input is built by `engineInputFor` (shared with the rule simulator).
 */
export function promptsFor(p: {
  state: AccountState;
  snap: AccountSnapshot;
  user: UserClaims;
  sessionId: string;
  definitions: PromptDefinition[];
  history: HistoryRow[];
  lifetime?: { promptId: string; impressions: number }[];
  activated: boolean;
  copyOverrides?: Record<string, PromptDefinition['copy']>;
  /** Each meter's forecast (`withForecasts`), for forecast prompts. */
  forecasts?: ReadonlyMap<string, Forecast>;
  now: number;
}): { prompts: RenderedPrompt[]; session_prompts_left: number } {
  const { snap, state, now } = p;
  const history: PromptHistoryEvent[] = p.history
    .filter((h) => h.promptId !== null || h.type === 'gate_hit')
    .map((h) => ({
      prompt_id: h.promptId ?? '',
      type: h.type as PromptHistoryEvent['type'],
      session_id: h.sessionId,
      user_id: p.user.sub,
      feature_id: h.featureId,
      timestamp: h.timestamp,
    }));
  const catalogFeatures = new Map(state.catalog.features.map((f) => [f.id, f]));
  const catalogMetrics = new Map(state.catalog.metrics.map((m) => [m.id, m]));
  const planName = (id: string | null) => state.catalog.plans.find((pl) => pl.id === id)?.name ?? null;
  const next = snap.upgradeOptions[0] ?? null;
  return servePrompts({
    now,
    session_id: p.sessionId,
    user_id: p.user.sub,
    role: p.user.role,
    locale: p.user.locale ?? 'en-US',
    activated: p.activated,
    definitions: p.definitions,
    meters: snap.meters.map((m) => {
      const f = p.forecasts?.get(m.metric);
      return {
        metric: m.metric,
        name: m.name,
        used: m.used,
        limit: m.limit,
        cap_period_start: metricPeriod(capPeriodMetric(catalogMetrics.get(m.metric)), state.account, now).start,
        ...(f?.limit_at && { limit_at: Date.parse(f.limit_at), days_to_limit: f.days_to_limit }),
      };
    }),
    seats: snap.seats,
    features: Object.fromEntries(
      Object.entries(snap.features).map(([id, f]) => [
        id,
        {
          name: catalogFeatures.get(id)?.name ?? id,
          entitled: f.entitled,
          trial_available: f.trial_available,
          required_plan: f.required_plan,
          required_plan_name: planName(f.required_plan),
        },
      ]),
    ),
    plan: { id: snap.plan.id, name: snap.plan.name },
    next_plan: next && { id: next.id, name: next.name, limits: next.limits },
    history: historyWindow(history, now),
    lifetime: Object.fromEntries((p.lifetime ?? []).map((r) => [r.promptId, r.impressions])),
    ...(p.copyOverrides && { copy_overrides: p.copyOverrides }),
  });
}

/**
 * Store widget events for the token's user and account; a seen idempotency key changes
 * nothing. A `gate_hit` also records the PQA behaviour `feature_gate_hit` and rescores the
 * account at once, so a sales-ready entry is pushed by the next cron run.
 * @example await recordWidgetEvents(db, user, events, Date.now()) // { accepted: 3, duplicates: 0 }
 */
export async function recordWidgetEvents(db: Db, user: UserClaims, events: WidgetEvent[], now: number): Promise<{ accepted: number; duplicates: number }> {
  const batchId = crypto.randomUUID();
  const rows = events.map((e) => ({
    k: e.idempotency_key,
    s: e.session_id,
    y: e.type,
    p: e.prompt_id ?? null,
    v: e.variant_id ?? null,
    x: e.experiment_id ?? null,
    f: e.feature_id ?? null,
    t: Math.min(e.timestamp ?? now, now),
  }));
  const [, , inserted] = await sqlBatch(db, [
    // Before the events land, so only impressions not seen before add to the lifetime counts.
    sql`
      INSERT INTO user_prompt_caps (account_id, user_id, prompt_id, impressions, first_shown_at, last_shown_at)
      SELECT ${user.acct}, ${user.sub}, n.p, count(*), min(n.t), max(n.t)
      FROM (
        SELECT json_extract(e.value, '$.k') AS k, min(json_extract(e.value, '$.p')) AS p, min(json_extract(e.value, '$.t')) AS t
        FROM json_each(${JSON.stringify(rows.filter((r) => r.y === 'impression' && r.p !== null))}) AS e
        WHERE NOT EXISTS (SELECT 1 FROM prompt_events pe WHERE pe.account_id = ${user.acct} AND pe.idempotency_key = json_extract(e.value, '$.k'))
        GROUP BY k
      ) AS n
      GROUP BY n.p
      ON CONFLICT (account_id, user_id, prompt_id) DO UPDATE SET
        impressions = impressions + excluded.impressions,
        first_shown_at = min(first_shown_at, excluded.first_shown_at),
        last_shown_at = max(last_shown_at, excluded.last_shown_at)`,
    sql`
      INSERT INTO prompt_events (account_id, idempotency_key, user_id, session_id, type, prompt_id, variant_id, experiment_id, feature_id, timestamp)
      SELECT ${user.acct}, json_extract(e.value, '$.k'), ${user.sub}, json_extract(e.value, '$.s'), json_extract(e.value, '$.y'),
             json_extract(e.value, '$.p'), json_extract(e.value, '$.v'), json_extract(e.value, '$.x'), json_extract(e.value, '$.f'),
             json_extract(e.value, '$.t')
      FROM json_each(${JSON.stringify(rows)}) AS e WHERE true
      ON CONFLICT DO NOTHING`,
    // The row count of the statement just before, inside the same transaction.
    sql`SELECT changes() AS n`,
    sql`
      INSERT INTO track_events (account_id, idempotency_key, user_id, event, timestamp, properties, batch_id)
      SELECT ${user.acct}, 'gate:' || json_extract(e.value, '$.k'), ${user.sub}, 'feature_gate_hit', json_extract(e.value, '$.t'),
             json_object('feature', json_extract(e.value, '$.f')), ${batchId}
      FROM json_each(${JSON.stringify(rows.filter((r) => r.y === 'gate_hit'))}) AS e WHERE true
      ON CONFLICT DO NOTHING`,
  ]);
  const accepted = Number(inserted?.[0]?.n ?? 0);
  if (rows.some((r) => r.y === 'gate_hit'))
    await rescoreAccounts(db, [user.acct], now).catch((err: unknown) =>
      console.error('[ladder] PQA rescore after gate_hit failed', err instanceof Error ? (err.stack ?? err.message) : err),
    );
  return { accepted, duplicates: events.length - accepted };
}
