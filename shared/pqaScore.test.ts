import { describe, expect, it } from 'vitest';
import {
  defaultPqaConfig,
  pqaBand,
  pqaConfigSchema,
  pqaScore,
  type PqaConfig,
  type PqaEvent,
} from './pqaScore';
import { DAY_MS } from './time';

const at = (iso: string) => Date.parse(iso);
const ev = (event: string, timestamp: number, extra: Partial<PqaEvent> = {}): PqaEvent => ({
  event,
  timestamp,
  ...extra,
});
/** One `user_active` event per user per day, for `days` days ending on the day of `lastDay`. */
const activeDays = (users: string[], days: number, lastDay: number): PqaEvent[] =>
  Array.from({ length: days }, (_, i) => lastDay - i * DAY_MS).flatMap((t) =>
    users.map((user_id) => ev('user_active', t, { user_id })),
  );
const withConfig = (patch: Partial<PqaConfig>): PqaConfig => ({ ...defaultPqaConfig, ...patch });

describe('an engaged account', () => {
  // Friday 2026-03-20, midday. Both users were active every day from 11 to 20 March.
  const now = at('2026-03-20T12:00:00Z');
  const history = [
    ev('core_feature_activated', at('2026-03-01T09:00:00Z'), { user_id: 'u1' }),
    ...activeDays(['u1', 'u2'], 10, at('2026-03-20T08:00:00Z')),
    ev('teammate_invited', at('2026-03-12T10:00:00Z'), { user_id: 'u1' }),
    ev('teammate_invited', at('2026-03-13T10:00:00Z'), { user_id: 'u1' }),
    ev('limit_hit', at('2026-03-15T16:00:00Z')),
  ];

  it('is clamped to 100 and sales-ready', () => {
    // core 20 + daily active 2 users × 10 days × 2 = 40 + 2 invites × 15 = 30 + limit this month 25
    // = 115 → clamped to 100.
    const result = pqaScore(history, now);
    expect(result.score).toBe(100);
    expect(result.band).toBe('sales_ready');
    expect(result.signals).toEqual([
      { signal: 'user_active', points: 40 },
      { signal: 'teammate_invited', points: 30 },
      { signal: 'limit_hit', points: 25 },
      { signal: 'core_feature_activated', points: 20 },
    ]);
    expect(result.top_signals).toEqual([
      '2 users active on 10 days (+40)',
      '2 teammates invited (+30)',
      'Usage limit hit this month (+25)',
    ]);
  });

  it('40 full days of inactivity later has lost the monthly limit hit and all daily-active points', () => {
    // Last active day 20 March; 21 March … 29 April are 40 full inactive days.
    // core 20 + daily active (40 − 40 decay) = 0 + invites 30; the March limit hit is gone = 50 → warm.
    const later = at('2026-04-30T12:00:00Z');
    const result = pqaScore(history, later);
    expect(result.score).toBe(50);
    expect(result.band).toBe('warm');
    expect(result.signals).toEqual([
      { signal: 'user_active', points: 40 },
      { signal: 'teammate_invited', points: 30 },
      { signal: 'core_feature_activated', points: 20 },
      { signal: 'user_inactive', points: -40 },
    ]);
    expect(result.top_signals).toEqual([
      '2 users active on 10 days (+40)',
      '2 teammates invited (+30)',
      'Core feature activated (+20)',
    ]);
  });

  it('ignores events sent with a timestamp after now', () => {
    const future = [ev('api_integration_built', now + 1), ev('teammate_invited', now + DAY_MS)];
    expect(pqaScore([...history, ...future], now).signals).toEqual(pqaScore(history, now).signals);
  });
});

describe('scores below the clamp', () => {
  const now = at('2026-03-20T12:00:00Z'); // a Friday; its ISO week began Monday 16 March

  it('a warm account: activation, one user for five days, one invite, a gate hit this week', () => {
    // 20 + 1 user × 5 days × 2 = 10 + 15 + 10 = 55 → warm
    const events = [
      ev('core_feature_activated', at('2026-03-02T09:00:00Z')),
      ...activeDays(['u1'], 5, at('2026-03-20T09:00:00Z')),
      ev('teammate_invited', at('2026-03-10T09:00:00Z')),
      ev('feature_gate_hit', at('2026-03-17T09:00:00Z'), { properties: { feature: 'sso' } }),
    ];
    const result = pqaScore(events, now);
    expect(result.score).toBe(55);
    expect(result.band).toBe('warm');
    expect(result.top_signals).toEqual([
      'Core feature activated (+20)',
      '1 teammate invited (+15)',
      'Locked feature tried this week (+10)',
    ]);
  });

  it('the same account hitting a limit reaches exactly 80, the first sales-ready score', () => {
    // 55 + 25 = 80
    const events = [
      ev('core_feature_activated', at('2026-03-02T09:00:00Z')),
      ...activeDays(['u1'], 5, at('2026-03-20T09:00:00Z')),
      ev('teammate_invited', at('2026-03-10T09:00:00Z')),
      ev('feature_gate_hit', at('2026-03-17T09:00:00Z')),
      ev('limit_hit', at('2026-03-19T09:00:00Z')),
    ];
    expect(pqaScore(events, now)).toMatchObject({ score: 80, band: 'sales_ready' });
  });

  it('two invites alone are 30, the top of nurture', () => {
    const events = [ev('teammate_invited', now - DAY_MS), ev('teammate_invited', now - 2 * DAY_MS)];
    expect(pqaScore(events, now)).toMatchObject({ score: 30, band: 'nurture' });
  });

  it('an account with no events scores 0 with no signals', () => {
    expect(pqaScore([], now)).toEqual({ score: 0, band: 'nurture', signals: [], top_signals: [] });
  });

  it('the signals add up to the score whenever it is not clamped', () => {
    const events = [
      ev('admin_settings_configured', now - DAY_MS),
      ...activeDays(['a', 'b', 'c'], 3, now - 5 * DAY_MS),
    ];
    // 15 + 3 users × 3 days × 2 = 18, decayed by the 4 full days since (−4) = 29
    const result = pqaScore(events, now);
    expect(result.score).toBe(29);
    expect(result.signals.reduce((sum, s) => sum + s.points, 0)).toBe(29);
    expect(result.signals.at(-1)).toEqual({ signal: 'user_inactive', points: -4 });
  });
});

describe('daily active users', () => {
  const day = at('2026-03-10T00:00:00Z');

  it('counts a user once per UTC day however many events they send', () => {
    const events = [0, 1, 2].map((h) => ev('user_active', day + h * 3_600_000, { user_id: 'u1' }));
    expect(pqaScore(events, day + 3 * 3_600_000).signals).toEqual([{ signal: 'user_active', points: 2 }]);
  });

  it('counts two users on the same day twice', () => {
    const events = [ev('user_active', day, { user_id: 'u1' }), ev('user_active', day, { user_id: 'u2' })];
    expect(pqaScore(events, day).score).toBe(4);
  });

  it('splits days at midnight UTC', () => {
    const events = [
      ev('user_active', day - 1, { user_id: 'u1' }),
      ev('user_active', day, { user_id: 'u1' }),
    ];
    expect(pqaScore(events, day).score).toBe(4);
  });

  it('counts events without a user id as one user', () => {
    const events = [ev('user_active', day), ev('user_active', day + 1, { user_id: null })];
    expect(pqaScore(events, day + 2).score).toBe(2);
  });

  it('does not decay during the day after the last active day, and decays 1 at the next midnight', () => {
    const events = activeDays(['u1'], 5, day + 3_600_000); // 10 points, last active day 10 March
    expect(pqaScore(events, at('2026-03-11T23:59:59.999Z')).score).toBe(10);
    expect(pqaScore(events, at('2026-03-12T00:00:00.000Z')).score).toBe(9);
    expect(pqaScore(events, at('2026-03-12T00:00:00.000Z')).signals).toContainEqual({
      signal: 'user_inactive',
      points: -1,
    });
  });

  it('does not decay for gaps between active days, only since the last one', () => {
    const events = [
      ev('user_active', at('2026-03-01T10:00:00Z'), { user_id: 'u1' }),
      ev('user_active', at('2026-03-10T10:00:00Z'), { user_id: 'u1' }),
    ];
    expect(pqaScore(events, at('2026-03-10T20:00:00Z')).score).toBe(4);
  });

  it('never decays the daily-active component below 0 or into the other points', () => {
    const events = [
      ev('core_feature_activated', day),
      ...activeDays(['u1'], 2, day), // 4 points
    ];
    const result = pqaScore(events, day + 60 * DAY_MS);
    expect(result.score).toBe(20);
    expect(result.signals).toContainEqual({ signal: 'user_inactive', points: -4 });
  });

  it('uses the configured points per user-day and decay per day', () => {
    const config = withConfig({ user_active: { points_per_user_day: 3, decay_per_inactive_day: 2 } });
    const events = activeDays(['u1', 'u2'], 4, day); // 2 × 4 × 3 = 24
    expect(pqaScore(events, day + 5 * DAY_MS, config).score).toBe(24 - 4 * 2);
  });
});

describe('weekly reset of feature-gate hits (Monday 00:00 UTC)', () => {
  const monday = at('2026-03-16T00:00:00Z');
  const sundayHit = [ev('feature_gate_hit', monday - 1)];

  it('a Sunday hit counts until the last millisecond of Sunday', () => {
    expect(pqaScore(sundayHit, monday - 1).score).toBe(10);
  });

  it('a Sunday hit is gone at Monday 00:00', () => {
    expect(pqaScore(sundayHit, monday).score).toBe(0);
  });

  it('a hit at Monday 00:00 counts for the whole week and no longer', () => {
    const hit = [ev('feature_gate_hit', monday)];
    expect(pqaScore(hit, monday).score).toBe(10);
    expect(pqaScore(hit, monday + 7 * DAY_MS - 1).score).toBe(10);
    expect(pqaScore(hit, monday + 7 * DAY_MS).score).toBe(0);
  });

  it('counts once per week however many gates were hit', () => {
    const hits = [1, 2, 3].map((d) => ev('feature_gate_hit', monday + d * DAY_MS));
    expect(pqaScore(hits, monday + 4 * DAY_MS).score).toBe(10);
  });
});

describe('monthly reset of limit hits (the 1st, 00:00 UTC)', () => {
  const april = at('2026-04-01T00:00:00Z');
  const marchHit = [ev('limit_hit', april - 1)];

  it('a hit on 31 March counts until the last millisecond of March', () => {
    expect(pqaScore(marchHit, april - 1).score).toBe(25);
  });

  it('a hit on 31 March is gone at 1 April 00:00', () => {
    expect(pqaScore(marchHit, april).score).toBe(0);
  });

  it('a hit at 1 April 00:00 counts in April', () => {
    expect(pqaScore([ev('limit_hit', april)], april).score).toBe(25);
  });

  it('counts once per month however many limits were hit', () => {
    const hits = [1, 5, 9].map((d) => ev('limit_hit', april + d * DAY_MS, { properties: { metric: 'seats' } }));
    expect(pqaScore(hits, april + 10 * DAY_MS).score).toBe(25);
  });

  it('rolls over at the year end too', () => {
    const newYear = at('2027-01-01T00:00:00Z');
    expect(pqaScore([ev('limit_hit', newYear - 1)], newYear).score).toBe(0);
  });
});

describe('one-time credits', () => {
  const now = at('2026-06-01T12:00:00Z');

  it('are counted once even when each is sent 5 times', () => {
    const names = ['core_feature_activated', 'api_integration_built', 'data_imported', 'admin_settings_configured'];
    const events = names.flatMap((name) => Array.from({ length: 5 }, (_, i) => ev(name, now - i * DAY_MS)));
    // 20 + 30 + 20 + 15 = 85
    const result = pqaScore(events, now);
    expect(result.score).toBe(85);
    expect(result.signals).toEqual([
      { signal: 'api_integration_built', points: 30 },
      { signal: 'core_feature_activated', points: 20 },
      { signal: 'data_imported', points: 20 },
      { signal: 'admin_settings_configured', points: 15 },
    ]);
  });

  it('never expire', () => {
    expect(pqaScore([ev('api_integration_built', now - 3 * 365 * DAY_MS)], now).score).toBe(30);
  });

  it('while every teammate invite counts', () => {
    const invites = Array.from({ length: 5 }, (_, i) => ev('teammate_invited', now - i * DAY_MS));
    expect(pqaScore(invites, now).score).toBe(75);
    expect(pqaScore(invites, now).top_signals).toEqual(['5 teammates invited (+75)']);
  });
});

describe('data imported', () => {
  const now = at('2026-06-01T12:00:00Z');
  const imported = (properties: PqaEvent['properties']) => [ev('data_imported', now, { properties })];

  it('under the 1,000-row threshold scores 0', () => {
    expect(pqaScore(imported({ rows: 999 }), now)).toMatchObject({ score: 0, signals: [] });
  });

  it('at the threshold scores 20', () => {
    expect(pqaScore(imported({ rows: 1000 }), now).score).toBe(20);
  });

  it('without a rows property scores 20', () => {
    expect(pqaScore(imported(null), now).score).toBe(20);
    expect(pqaScore(imported({ source: 'csv' }), now).score).toBe(20);
  });

  it('accepts a numeric string and refuses a non-numeric rows value', () => {
    expect(pqaScore(imported({ rows: '5000' }), now).score).toBe(20);
    expect(pqaScore(imported({ rows: 'lots' }), now).score).toBe(0);
    expect(pqaScore(imported({ rows: true }), now).score).toBe(0);
  });

  it('scores once an import over the threshold follows small ones', () => {
    const events = [...imported({ rows: 10 }), ...imported({ rows: 20 }), ...imported({ rows: 2000 })];
    expect(pqaScore(events, now).score).toBe(20);
  });

  it('uses the configured threshold', () => {
    const config = withConfig({ data_imported: { points: 20, min_rows: 100 } });
    expect(pqaScore(imported({ rows: 500 }), now, config).score).toBe(20);
    expect(pqaScore(imported({ rows: 99 }), now, config).score).toBe(0);
  });
});

describe('custom events', () => {
  const now = at('2026-06-01T12:00:00Z');
  const config = withConfig({
    custom: {
      report_exported: { points: 5, mode: 'each' },
      sso_enabled: { points: 10, mode: 'once' },
    },
  });

  it('score as configured, each or once', () => {
    const events = [
      ...[1, 2, 3].map((d) => ev('report_exported', now - d * DAY_MS)),
      ev('sso_enabled', now - DAY_MS),
      ev('sso_enabled', now - 2 * DAY_MS),
    ];
    // 3 × 5 + 10 = 25
    const result = pqaScore(events, now, config);
    expect(result.score).toBe(25);
    expect(result.signals).toEqual([
      { signal: 'report_exported', points: 15 },
      { signal: 'sso_enabled', points: 10 },
    ]);
    expect(result.top_signals).toEqual(['3 × report_exported (+15)', 'sso_enabled (+10)']);
  });

  it('score 0 when not configured', () => {
    expect(pqaScore([ev('report_exported', now)], now).score).toBe(0);
    expect(pqaScore([ev('page_viewed', now)], now, config).signals).toEqual([]);
  });

  it('named like an Object.prototype member score 0', () => {
    const events = ['constructor', 'toString', '__proto__', 'hasOwnProperty'].map((name) => ev(name, now));
    expect(pqaScore(events, now, config)).toMatchObject({ score: 0, signals: [] });
  });
});

describe('pqaBand', () => {
  it.each([
    [0, 'nurture'],
    [30, 'nurture'],
    [31, 'warm'],
    [60, 'warm'],
    [61, 'sales_assist'],
    [79, 'sales_assist'],
    [80, 'sales_ready'],
    [100, 'sales_ready'],
  ] as const)('%i is %s', (score, band) => {
    expect(pqaBand(score)).toBe(band);
  });

  it('uses configured edges', () => {
    const config = withConfig({ bands: { warm: 21, sales_assist: 51, sales_ready: 71 } });
    expect([20, 21, 50, 51, 70, 71].map((s) => pqaBand(s, config))).toEqual([
      'nurture',
      'warm',
      'warm',
      'sales_assist',
      'sales_assist',
      'sales_ready',
    ]);
  });

  it('refuses NaN', () => {
    expect(() => pqaBand(Number.NaN)).toThrow(RangeError);
  });
});

describe('pqaConfigSchema', () => {
  const issuePaths = (input: unknown) =>
    pqaConfigSchema.safeParse(input).error?.issues.map((i) => i.path.join('.'));

  it('accepts the defaults, which follow the DESIGN.md table', () => {
    expect(pqaConfigSchema.parse(defaultPqaConfig)).toEqual(defaultPqaConfig);
    expect(defaultPqaConfig.data_imported.min_rows).toBe(1000);
    expect(defaultPqaConfig.bands).toEqual({ warm: 31, sales_assist: 61, sales_ready: 80 });
  });

  it('survives a JSON round trip, so an admin endpoint can store it', () => {
    expect(pqaConfigSchema.parse(JSON.parse(JSON.stringify(defaultPqaConfig)))).toEqual(defaultPqaConfig);
  });

  it('refuses unknown fields at every level', () => {
    expect(pqaConfigSchema.safeParse({ ...defaultPqaConfig, extra: 1 }).success).toBe(false);
    expect(
      pqaConfigSchema.safeParse({ ...defaultPqaConfig, limit_hit: { points: 25, reset: 'weekly' } }).success,
    ).toBe(false);
    expect(
      pqaConfigSchema.safeParse({ ...defaultPqaConfig, custom: { x: { points: 1, mode: 'each', y: 2 } } }).success,
    ).toBe(false);
  });

  it('refuses fractional, negative and over-100 points', () => {
    expect(issuePaths({ ...defaultPqaConfig, teammate_invited: { points: 1.5 } })).toEqual([
      'teammate_invited.points',
    ]);
    expect(issuePaths({ ...defaultPqaConfig, limit_hit: { points: -5 } })).toEqual(['limit_hit.points']);
    expect(issuePaths({ ...defaultPqaConfig, limit_hit: { points: 101 } })).toEqual(['limit_hit.points']);
  });

  it('refuses a custom entry for a built-in event', () => {
    expect(issuePaths({ ...defaultPqaConfig, custom: { limit_hit: { points: 5, mode: 'each' } } })).toEqual([
      'custom.limit_hit',
    ]);
  });

  it('refuses band edges that do not rise', () => {
    expect(issuePaths({ ...defaultPqaConfig, bands: { warm: 61, sales_assist: 61, sales_ready: 80 } })).toEqual([
      'bands',
    ]);
  });

  it('the defaults cannot be changed by a caller', () => {
    expect(Object.isFrozen(defaultPqaConfig)).toBe(true);
    expect(Object.isFrozen(defaultPqaConfig.limit_hit)).toBe(true);
    expect(Object.isFrozen(defaultPqaConfig.custom)).toBe(true);
  });
});
