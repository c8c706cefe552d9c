/**
 * PQA (product-qualified account) score: points per behaviour, clamped to 0–100, and the
 * band the score falls in. Pure: plain data in, plain data out, time passed in as epoch
 * milliseconds. All calendar arithmetic is in UTC.
 */
import { z } from 'zod';
import { TRACK_EVENTS as BUILT_IN_EVENTS } from './schemas';
import { isoWeekStart, utcDay, utcMonthStart } from './time';

const points = z.number().int().min(0).max(100);
const flat = z.strictObject({ points });
const bandEdge = z.number().int().min(1).max(100);

/**
 * The points table. Each built-in behaviour has a fixed way of counting (see `pqaScore`);
 * only its numbers are configurable. `bands` holds the lowest score of each band above
 * nurture. `custom` gives points to event names outside the built-in list.
 */
export const pqaConfigSchema = z
  .strictObject({
    core_feature_activated: flat,
    user_active: z.strictObject({ points_per_user_day: points, decay_per_inactive_day: points }),
    teammate_invited: flat,
    limit_hit: flat,
    feature_gate_hit: flat,
    api_integration_built: flat,
    data_imported: z.strictObject({ points, min_rows: z.number().int().min(0) }),
    admin_settings_configured: flat,
    custom: z.record(
      z.string().min(1).max(100),
      z.strictObject({ points, mode: z.enum(['once', 'each']) }),
    ),
    bands: z.strictObject({ warm: bandEdge, sales_assist: bandEdge, sales_ready: bandEdge }),
  })
  .superRefine((config, ctx) => {
    for (const name of Object.keys(config.custom)) {
      if ((BUILT_IN_EVENTS as readonly string[]).includes(name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['custom', name],
          message: `"${name}" is a built-in event; set its points in the "${name}" field`,
        });
      }
    }
    const { warm, sales_assist, sales_ready } = config.bands;
    if (!(warm < sales_assist && sales_assist < sales_ready)) {
      ctx.addIssue({
        code: 'custom',
        path: ['bands'],
        message: 'band edges must rise: warm < sales_assist < sales_ready',
      });
    }
  });

export type PqaConfig = z.infer<typeof pqaConfigSchema>;
export type PqaBand = 'nurture' | 'warm' | 'sales_assist' | 'sales_ready';
export type PqaEvent = {
  event: string;
  user_id?: string | null;
  timestamp: number;
  properties?: Record<string, unknown> | null;
};
type PqaSignal = { signal: string; points: number };
export type PqaResult = {
  score: number;
  band: PqaBand;
  signals: PqaSignal[];
  top_signals: string[];
};

/** The defaults of DESIGN.md. Frozen, so one caller cannot change it for the others. */
export const defaultPqaConfig: PqaConfig = deepFreeze({
  core_feature_activated: { points: 20 },
  user_active: { points_per_user_day: 2, decay_per_inactive_day: 1 },
  teammate_invited: { points: 15 },
  limit_hit: { points: 25 },
  feature_gate_hit: { points: 10 },
  api_integration_built: { points: 30 },
  data_imported: { points: 20, min_rows: 1000 },
  admin_settings_configured: { points: 15 },
  custom: {},
  bands: { warm: 31, sales_assist: 61, sales_ready: 80 },
});

/**
 * The band a score falls in; each edge in `config.bands` is the lowest score of its band.
 * @example pqaBand(61) // 'sales_assist'
 */
export function pqaBand(score: number, config: PqaConfig = defaultPqaConfig): PqaBand {
  if (Number.isNaN(score)) throw new RangeError('PQA score is NaN');
  const { warm, sales_assist, sales_ready } = config.bands;
  if (score >= sales_ready) return 'sales_ready';
  if (score >= sales_assist) return 'sales_assist';
  if (score >= warm) return 'warm';
  return 'nurture';
}

/**
 * What the scoring needs to know about one account's behaviour as of a moment: what
 * `pqaAggregate` counts from events, and what the worker reads with one GROUP BY.
 */
export type PqaAggregate = {
  core: boolean;
  api: boolean;
  admin: boolean;
  invites: number;
  /** A `limit_hit` in the calendar month of `now`; a `feature_gate_hit` in its ISO week. */
  limit_hit: boolean;
  gate: boolean;
  /** `data_imported` without a row count, the largest numeric count, and counts sent as text. */
  import_unsized: boolean;
  import_max_rows: number | null;
  import_text_rows: string[];
  /** Distinct (user, UTC day) pairs of `user_active`, distinct users, distinct days, newest event. */
  user_days: number;
  users: number;
  days: number;
  last_active_at: number | null;
  /** Counts of configured custom events. */
  custom: Record<string, number>;
};

export type PqaSignalDetail = PqaSignal & { label: string };

/**
 * Counts one account's behavioural events as of `now` into the aggregate the score is
 * computed from; events after `now` (or without a finite time) are ignored, and only custom
 * events named in `config.custom` are counted.
 * @example pqaAggregate([{ event: 'teammate_invited', timestamp: t }], now).invites // 1
 */
export function pqaAggregate(events: readonly PqaEvent[], now: number, config: PqaConfig = defaultPqaConfig): PqaAggregate {
  const monthStart = utcMonthStart(now);
  const weekStart = isoWeekStart(now);
  const agg: PqaAggregate = {
    core: false,
    api: false,
    admin: false,
    invites: 0,
    limit_hit: false,
    gate: false,
    import_unsized: false,
    import_max_rows: null,
    import_text_rows: [],
    user_days: 0,
    users: 0,
    days: 0,
    last_active_at: null,
    custom: {},
  };
  const userDays = new Set<string>();
  const users = new Set<string>();
  const days = new Set<number>();
  const textRows = new Set<string>();
  const custom = new Map<string, number>();
  for (const e of events) {
    if (!Number.isFinite(e.timestamp) || e.timestamp > now) continue;
    switch (e.event) {
      case 'core_feature_activated':
        agg.core = true;
        break;
      case 'api_integration_built':
        agg.api = true;
        break;
      case 'admin_settings_configured':
        agg.admin = true;
        break;
      case 'data_imported': {
        const rows = e.properties?.rows;
        if (rows === undefined || rows === null) agg.import_unsized = true;
        else if (typeof rows === 'number' && Number.isFinite(rows)) agg.import_max_rows = Math.max(agg.import_max_rows ?? -Infinity, rows);
        else if (typeof rows === 'string') textRows.add(rows);
        break;
      }
      case 'teammate_invited':
        agg.invites += 1;
        break;
      case 'limit_hit':
        if (e.timestamp >= monthStart) agg.limit_hit = true;
        break;
      case 'feature_gate_hit':
        if (e.timestamp >= weekStart) agg.gate = true;
        break;
      case 'user_active': {
        const user = e.user_id ?? '';
        const day = utcDay(e.timestamp);
        userDays.add(`${user}|${day}`);
        users.add(user);
        days.add(day);
        agg.last_active_at = Math.max(agg.last_active_at ?? -Infinity, e.timestamp);
        break;
      }
      default:
        if (Object.hasOwn(config.custom, e.event)) custom.set(e.event, (custom.get(e.event) ?? 0) + 1);
    }
  }
  agg.custom = Object.fromEntries(custom);
  agg.import_text_rows = [...textRows];
  agg.user_days = userDays.size;
  agg.users = users.size;
  agg.days = days.size;
  return agg;
}

/**
 * Scores one account from its aggregate (the one rule the worker and `pqaScore` both use);
 * `details` carries each signal's label. `config` is trusted to have passed `pqaConfigSchema`.
 * @example pqaFromAggregate(pqaAggregate(events, now), now).band // 'warm'
 */
export function pqaFromAggregate(
  agg: PqaAggregate,
  now: number,
  config: PqaConfig = defaultPqaConfig,
): PqaResult & { details: PqaSignalDetail[] } {
  const found: PqaSignalDetail[] = [];
  const add = (signal: string, pts: number, label: string) => {
    if (pts !== 0) found.push({ signal, points: pts, label: `${label} (${pts > 0 ? '+' : ''}${pts})` });
  };
  if (agg.core) add('core_feature_activated', config.core_feature_activated.points, 'Core feature activated');
  if (agg.api) add('api_integration_built', config.api_integration_built.points, 'API integration built');
  if (importQualifies(agg, config.data_imported.min_rows)) add('data_imported', config.data_imported.points, 'Data imported');
  if (agg.admin) add('admin_settings_configured', config.admin_settings_configured.points, 'Admin settings configured');
  if (agg.invites > 0) add('teammate_invited', agg.invites * config.teammate_invited.points, `${plural(agg.invites, 'teammate')} invited`);
  if (agg.limit_hit) add('limit_hit', config.limit_hit.points, 'Usage limit hit this month');
  if (agg.gate) add('feature_gate_hit', config.feature_gate_hit.points, 'Locked feature tried this week');
  if (agg.user_days > 0 && agg.last_active_at !== null) {
    const activePoints = agg.user_days * config.user_active.points_per_user_day;
    add('user_active', activePoints, `${plural(agg.users, 'user')} active on ${plural(agg.days, 'day')}`);
    const inactiveDays = Math.max(0, utcDay(now) - utcDay(agg.last_active_at) - 1);
    const decay = Math.min(inactiveDays * config.user_active.decay_per_inactive_day, activePoints);
    add('user_inactive', -decay, `${plural(inactiveDays, 'day')} without an active user`);
  }
  for (const name of Object.keys(agg.custom).sort()) {
    const rule = Object.hasOwn(config.custom, name) ? config.custom[name] : undefined;
    const count = agg.custom[name] ?? 0;
    if (!rule || count === 0) continue;
    add(name, (rule.mode === 'each' ? count : 1) * rule.points, rule.mode === 'each' ? `${count} × ${name}` : name);
  }
  found.sort((a, b) => b.points - a.points || (a.signal < b.signal ? -1 : a.signal > b.signal ? 1 : 0));
  const score = Math.min(100, Math.max(0, found.reduce((sum, s) => sum + s.points, 0)));
  return {
    score,
    band: pqaBand(score, config),
    signals: found.map(({ signal, points: pts }) => ({ signal, points: pts })),
    top_signals: found.filter((s) => s.points > 0).slice(0, 3).map((s) => s.label),
    details: found,
  };
}

/**
 * Scores one account's behavioural events as of `now`; events after `now` are ignored.
 * `config` is trusted to have passed `pqaConfigSchema`. It is `pqaFromAggregate` over
 * `pqaAggregate`, so it scores exactly as the worker does from its SQL aggregates.
 *
 * How each behaviour counts (points from `config`):
 * - `core_feature_activated`, `api_integration_built`, `admin_settings_configured`:
 *   once, however many times the event was sent.
 * - `data_imported`: once, and only for an event whose `properties.rows` is at least
 *   `min_rows` or that has no `rows` at all; a non-numeric `rows` does not qualify.
 * - `teammate_invited`: every event.
 * - `limit_hit`: once if any hit falls in the calendar month of `now` (from the 1st, 00:00 UTC).
 * - `feature_gate_hit`: once if any hit falls in the ISO week of `now` (from Monday, 00:00 UTC).
 * - `user_active`: `points_per_user_day` for each distinct (user, UTC day) pair; events
 *   without a `user_id` count together as one user. Decay: `decay_per_inactive_day` for
 *   each full UTC day between the account's last active day and the day of `now` (last
 *   active Monday, `now` on Wednesday = 1 day: Tuesday). Only trailing inactivity decays,
 *   and decay never takes the daily-active component below 0.
 * - custom events: as configured, `once` or for `each` event; other names score 0.
 *
 * `signals` lists every non-zero contribution (decay as `user_inactive`, negative), by
 * points descending; they sum to the score before clamping to 0–100. `top_signals`
 * describes the three largest positive ones.
 * @example
 * pqaScore([{ event: 'teammate_invited', timestamp: t }, { event: 'teammate_invited', timestamp: t }], now)
 * // { score: 30, band: 'nurture', signals: [{ signal: 'teammate_invited', points: 30 }],
 * //   top_signals: ['2 teammates invited (+30)'] }
 */
export function pqaScore(
  events: readonly PqaEvent[],
  now: number,
  config: PqaConfig = defaultPqaConfig,
): PqaResult {
  const { details: _details, ...result } = pqaFromAggregate(pqaAggregate(events, now, config), now, config);
  return result;
}

/** A count sent as a number qualifies at `minRows`; one sent as text when it is a non-blank number. */
function importQualifies(agg: PqaAggregate, minRows: number): boolean {
  if (agg.import_unsized) return true;
  if (agg.import_max_rows !== null && agg.import_max_rows >= minRows) return true;
  return agg.import_text_rows.some((rows) => rows.trim() !== '' && Number.isFinite(Number(rows)) && Number(rows) >= minRows);
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

function deepFreeze<T extends object>(value: T): T {
  for (const v of Object.values(value)) if (typeof v === 'object' && v !== null) deepFreeze(v);
  return Object.freeze(value);
}
