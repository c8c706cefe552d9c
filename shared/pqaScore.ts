/**
 * PQA (product-qualified account) score: points per behaviour, clamped to 0–100, and the
 * band the score falls in. Pure: plain data in, plain data out, time passed in as epoch
 * milliseconds. All calendar arithmetic is in UTC.
 */
import { z } from 'zod';
import { TRACK_EVENTS as BUILT_IN_EVENTS } from './schemas';

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
export type PqaSignal = { signal: string; points: number };
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
 * Scores one account's behavioural events as of `now`; events after `now` are ignored.
 * `config` is trusted to have passed `pqaConfigSchema`.
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
  const monthStart = utcMonthStart(now);
  const weekStart = isoWeekStart(now);

  const once = new Set<string>();
  let invites = 0;
  const usersByDay = new Map<number, Set<string>>();
  const customCounts = new Map<string, number>();

  for (const e of events) {
    if (!Number.isFinite(e.timestamp) || e.timestamp > now) continue;
    switch (e.event) {
      case 'core_feature_activated':
      case 'api_integration_built':
      case 'admin_settings_configured':
        once.add(e.event);
        break;
      case 'data_imported':
        if (importQualifies(e.properties, config.data_imported.min_rows)) once.add(e.event);
        break;
      case 'teammate_invited':
        invites += 1;
        break;
      case 'limit_hit':
        if (e.timestamp >= monthStart) once.add(e.event);
        break;
      case 'feature_gate_hit':
        if (e.timestamp >= weekStart) once.add(e.event);
        break;
      case 'user_active': {
        const day = utcDay(e.timestamp);
        const users = usersByDay.get(day) ?? new Set<string>();
        users.add(e.user_id ?? '');
        usersByDay.set(day, users);
        break;
      }
      default:
        if (Object.hasOwn(config.custom, e.event)) {
          customCounts.set(e.event, (customCounts.get(e.event) ?? 0) + 1);
        }
    }
  }

  const found: (PqaSignal & { label: string })[] = [];
  const add = (signal: string, pts: number, label: string) => {
    if (pts !== 0) found.push({ signal, points: pts, label: `${label} (${pts > 0 ? '+' : ''}${pts})` });
  };

  if (once.has('core_feature_activated')) {
    add('core_feature_activated', config.core_feature_activated.points, 'Core feature activated');
  }
  if (once.has('api_integration_built')) {
    add('api_integration_built', config.api_integration_built.points, 'API integration built');
  }
  if (once.has('data_imported')) add('data_imported', config.data_imported.points, 'Data imported');
  if (once.has('admin_settings_configured')) {
    add('admin_settings_configured', config.admin_settings_configured.points, 'Admin settings configured');
  }
  if (invites > 0) {
    add('teammate_invited', invites * config.teammate_invited.points, `${plural(invites, 'teammate')} invited`);
  }
  if (once.has('limit_hit')) add('limit_hit', config.limit_hit.points, 'Usage limit hit this month');
  if (once.has('feature_gate_hit')) {
    add('feature_gate_hit', config.feature_gate_hit.points, 'Locked feature tried this week');
  }

  if (usersByDay.size > 0) {
    const distinctUsers = new Set<string>();
    let userDays = 0;
    let lastActiveDay = -Infinity;
    for (const [day, users] of usersByDay) {
      userDays += users.size;
      lastActiveDay = Math.max(lastActiveDay, day);
      for (const u of users) distinctUsers.add(u);
    }
    const activePoints = userDays * config.user_active.points_per_user_day;
    add(
      'user_active',
      activePoints,
      `${plural(distinctUsers.size, 'user')} active on ${plural(usersByDay.size, 'day')}`,
    );
    const inactiveDays = Math.max(0, utcDay(now) - lastActiveDay - 1);
    const decay = Math.min(inactiveDays * config.user_active.decay_per_inactive_day, activePoints);
    add('user_inactive', -decay, `${plural(inactiveDays, 'day')} without an active user`);
  }

  for (const [name, count] of customCounts) {
    const rule = config.custom[name];
    if (!rule) continue;
    const times = rule.mode === 'each' ? count : 1;
    add(name, times * rule.points, rule.mode === 'each' ? `${count} × ${name}` : name);
  }

  found.sort((a, b) => b.points - a.points || (a.signal < b.signal ? -1 : a.signal > b.signal ? 1 : 0));
  const raw = found.reduce((sum, s) => sum + s.points, 0);
  const score = Math.min(100, Math.max(0, raw));
  return {
    score,
    band: pqaBand(score, config),
    signals: found.map(({ signal, points: pts }) => ({ signal, points: pts })),
    top_signals: found.filter((s) => s.points > 0).slice(0, 3).map((s) => s.label),
  };
}

const DAY = 86_400_000;

function utcDay(t: number): number {
  return Math.floor(t / DAY);
}

function utcMonthStart(t: number): number {
  const d = new Date(t);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

/** Day 0 (1970-01-01) was a Thursday, three days after a Monday. */
function isoWeekStart(t: number): number {
  const day = utcDay(t);
  const sinceMonday = (((day + 3) % 7) + 7) % 7;
  return (day - sinceMonday) * DAY;
}

function importQualifies(properties: PqaEvent['properties'], minRows: number): boolean {
  const rows = properties?.rows;
  if (rows === undefined || rows === null) return true;
  const n = typeof rows === 'string' && rows.trim() !== '' ? Number(rows) : rows;
  return typeof n === 'number' && Number.isFinite(n) && n >= minRows;
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

function deepFreeze<T extends object>(value: T): T {
  for (const v of Object.values(value)) if (typeof v === 'object' && v !== null) deepFreeze(v);
  return Object.freeze(value);
}
