import { beforeAll, describe, expect, it } from 'vitest';
import type { SimulationResponse, SimulationRun } from '../../shared/simulationSchemas';
import { MAX_SIMULATED_ACCOUNTS, MAX_SIMULATED_EVENTS } from '../simulations';
import { ADMIN, api, DAY, env, SECRET, seedAccount } from '../test/api';

const H = 3_600_000;
const today = Math.floor(Date.now() / DAY) * DAY;
const copy = { title: 'Almost there', body: '{used} of {limit} {metric}', cta_label: 'Upgrade', secondary_label: '' };
let key = 0;

/**
 * An account on Starter (10,000 API calls) whose use climbs evenly over the 12 days before
 * today to `pct`%, and whose one user opens the app once a day for the last 10 days (stored as
 * a gate hit, and the impressions the rules in force showed: the feature preview once, and the
 * notice of the highest threshold crossed while the metric's 3 showings a period last).
 */
async function seedHistory(id: string, pct: number, opts: { upgradedFrom?: string } = {}) {
  const periodStart = today - 15 * DAY;
  await seedAccount(id, { period_start: periodStart, period_end: periodStart + 30 * DAY, created_at: today - 200 * DAY });
  const perDay = Math.round((pct * 100) / 12);
  const statements = [env.DB.prepare('UPDATE accounts SET activated_at = ? WHERE id = ?').bind(today - 100 * DAY, id)];
  for (let k = 12; k >= 1; k--)
    statements.push(
      env.DB.prepare(
        `INSERT INTO usage_events (account_id, idempotency_key, metric, value, mode, timestamp, period_start, batch_id) VALUES (?, ?, 'api_calls', ?, 'increment', ?, ?, 'seed')`,
      ).bind(id, `u${++key}`, perDay, today - k * DAY + 9 * H, periodStart),
    );
  // As the worker stores it: a metric's soft notices share 3 showings a period, a newly crossed threshold shows once more.
  const shown = new Set<number>();
  let showings = 0;
  for (let k = 10; k >= 1; k--) {
    const used = perDay * (13 - k);
    const at = today - k * DAY + 15 * H;
    const crossed = [100, 90, 75, 50].find((t) => used * 100 >= t * 10_000);
    const threshold = crossed !== undefined && (showings < 3 || !shown.has(crossed)) ? crossed : undefined;
    if (threshold !== undefined) {
      shown.add(threshold);
      showings += 1;
    }
    const event = (type: string, promptId: string | null, featureId: string | null, t: number) =>
      env.DB.prepare(
        `INSERT INTO prompt_events (account_id, idempotency_key, user_id, session_id, type, prompt_id, variant_id, experiment_id, feature_id, timestamp)
         VALUES (?, ?, ?, ?, ?, ?, NULL, NULL, ?, ?)`,
      ).bind(id, `p${++key}`, `${id}-u1`, `${id}-s${k}`, type, promptId, featureId, t);
    // Every visit starts at a refused feature (so the session is on record even when nothing else shows); its preview shows once, ever.
    statements.push(event('gate_hit', null, 'sso', at - 60_000));
    if (k === 10) statements.push(event('impression', 'gate-sso', null, at - 60_000));
    if (threshold !== undefined) statements.push(event('impression', `limit-api_calls-${threshold}`, null, at));
  }
  if (opts.upgradedFrom)
    statements.push(
      env.DB.prepare(
        `INSERT INTO mrr_ledger (account_id, at, kind, mrr_before_cents, mrr_after_cents, source, prompt_id, variant_id, experiment_id, dedupe_key)
         VALUES (?, ?, 'expansion', 5000, 20000, 'self_serve', ?, NULL, NULL, ?)`,
      ).bind(id, today - DAY + 16 * H, opts.upgradedFrom, `sim-${++key}`),
    );
  await env.DB.batch(statements);
}

const simulate = async (body: unknown, headers: Record<string, string> = {}) => api('POST', '/v1/admin/simulations', { token: ADMIN, body, headers });
/** Distinct accounts a definition reached. */
const reached = (run: SimulationRun, definitionId: string) => run.definitions.find((d) => d.definition_id === definitionId)?.accounts_shown ?? 0;

const limitNotice = (thresholds: number[], enabled = true) => ({ kind: 'limit_notice', trigger: { metric: '*', thresholds }, copy, enabled });

describe('POST /v1/admin/simulations on seeded history', () => {
  beforeAll(async () => {
    await seedHistory('sim-85a', 85);
    await seedHistory('sim-85b', 85);
    await seedHistory('sim-95', 95, { upgradedFrom: 'limit-api_calls-90' });
    await seedHistory('sim-30', 30);
  });

  it('showing the upgrade notice from 75% instead of 90% reaches more accounts; projected upgrades are ranges', async () => {
    const res = await simulate({ definitions: { 'limit-75': limitNotice([75], false), 'limit-90': limitNotice([75, 90]) }, window_days: 30 });
    expect(res.status).toBe(200);
    const body = res.json as SimulationResponse;
    expect(body.window_days).toBe(30);
    expect(Date.parse(body.to) - Date.parse(body.from)).toBe(30 * DAY);
    expect(body.sampling).toMatchObject({ sampled: false, accounts_with_history: 4, accounts_simulated: 4, users_simulated: 4 });
    expect(reached(body.current, 'limit-90')).toBe(1);
    expect(reached(body.proposed, 'limit-90')).toBe(3);
    expect(body.proposed.prompts.find((p) => p.prompt_id === 'limit-api_calls-75')).toMatchObject({ definition_id: 'limit-90', accounts_shown: 3 });
    // Under the rules in force the replay shows the 75% and 90% notices exactly as often as they were stored.
    for (const prompt of ['limit-api_calls-75', 'limit-api_calls-90']) {
      const stored = await env.DB.prepare(`SELECT count(*) AS n FROM prompt_events WHERE prompt_id = ? AND type = 'impression'`).bind(prompt).first<{ n: number }>();
      expect(body.current.prompts.find((p) => p.prompt_id === prompt)?.impressions, prompt).toBe(stored!.n);
    }
    // Crossings do not depend on the rule: three accounts crossed 75% inside the window, one 90%.
    expect(body.proposed.thresholds.find((t) => t.metric === 'api_calls' && t.threshold === 75)?.accounts).toBe(3);
    expect(body.current.thresholds.find((t) => t.metric === 'api_calls' && t.threshold === 90)?.accounts).toBe(1);
    // Projections are ranges from the observed rates: one upgrade after the one account shown the 90% notice.
    for (const run of [body.current, body.proposed]) {
      const { low, expected, high } = run.projection.upgrades;
      expect(low).toBeLessThanOrEqual(expected);
      expect(expected).toBeLessThanOrEqual(high);
      expect(high).toBeGreaterThan(low);
    }
    expect(body.current.projection.groups.find((g) => g.group === 'limit_notice:90')).toMatchObject({ basis: 'group', exposures: 1, upgrades: 1, projected_exposures: 1 });
    expect(body.current.projection.expansion_mrr_cents?.expected).toBeGreaterThan(0);
    expect(body.tolerance).toMatch(/±5%/);
    expect(body.current.days).toHaveLength(30);
  });

  it('moving the 90% notice to 80% reaches more accounts', async () => {
    const res = await simulate({ definitions: { 'limit-90': limitNotice([80]) }, window_days: 30 });
    expect(res.status).toBe(200);
    expect(reached(res.json.current, 'limit-90')).toBe(1);
    expect(reached(res.json.proposed, 'limit-90')).toBe(3);
  });

  it('a stricter activation rule leaves only hard blocks, and the answer names both rules', async () => {
    const res = await simulate({ activation: { events: ['core_feature_activated'], min_events: 1, min_age_days: 1000 } });
    expect(res.status).toBe(200);
    const body = res.json as SimulationResponse;
    expect(body.window_days).toBe(90);
    expect(body.activation.current).toEqual({ events: ['core_feature_activated'], min_events: 1, min_age_days: 0 });
    expect(body.activation.proposed.min_age_days).toBe(1000);
    expect(body.current.totals.accounts_shown).toBe(4);
    expect(body.current.projection.upgrades.expected).toBeGreaterThan(0);
    expect(body.proposed.totals.accounts_shown).toBe(0);
    expect(body.proposed.projection.upgrades).toEqual({ low: 0, expected: 0, high: 0 });
  });

  it('answers CSV per rule, prompt and day with Accept: text/csv', async () => {
    const res = await simulate({ definitions: { 'limit-90': limitNotice([75, 90]) }, window_days: 30 }, { accept: 'text/csv' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    const lines = String(res.json).trim().split('\r\n');
    expect(lines[0]).toBe('rule,day,prompt_id,definition_id,kind,metric,threshold,feature_id,impressions,accounts_shown,users_shown,held_by_session_cap,suppressed_by_dismissals');
    expect(lines.some((l) => l.startsWith('current,'))).toBe(true);
    expect(lines.some((l) => l.startsWith('proposed,') && l.includes(',limit-api_calls-90,limit-90,'))).toBe(true);
  });

  it('refuses bad input with a 4xx naming the field, and callers without the admin key', async () => {
    const cases: [unknown, string][] = [
      [{ window_days: 91 }, 'window_days'],
      [{ window_days: 0 }, 'window_days'],
      [{ window_days: 7.5 }, 'window_days'],
      [{ typo: 1 }, 'typo'],
      [{ definitions: { 'limit-90': { ...limitNotice([90]), extra: true } } }, 'definitions.limit-90.extra'],
      [{ definitions: { 'limit-90': { kind: 'banner', trigger: {}, copy } } }, 'definitions.limit-90.kind'],
      [{ definitions: { 'bad id!': limitNotice([90]) } }, 'definitions'],
      [{ activation: { events: [], min_events: 1, min_age_days: 0 } }, 'activation.events'],
      [{ activation: { events: ['x'], min_events: -1, min_age_days: 0 } }, 'activation.min_events'],
    ];
    for (const [body, path] of cases) {
      const res = await simulate(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.json.error.details.map((d: { path: string }) => d.path).join(' '), JSON.stringify(body)).toContain(path);
    }
    expect((await api('POST', '/v1/admin/simulations', { token: ADMIN, raw: '{"window_days": ', headers: { 'content-type': 'application/json' } })).status).toBe(400);
    expect((await api('POST', '/v1/admin/simulations', { token: SECRET, body: {} })).status).toBe(401);
    expect((await api('POST', '/v1/admin/simulations', { token: null, body: {} })).status).toBe(401);
  });

  it("previews shipping an experiment's variant: the same impressions, upgrades projected from that variant's arm; nothing is shipped", async () => {
    const created = await api('POST', '/v1/admin/experiments', {
      token: ADMIN,
      body: {
        key: 'sim-variant',
        prompt_id: 'limit-90',
        variants: [
          { id: 'control', weight: 1, copy },
          { id: 'urgent', weight: 1, copy: { ...copy, title: 'Upgrade now' } },
        ],
      },
    });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    const experiment = created.json as { id: string };
    expect((await api('POST', `/v1/admin/experiments/${experiment.id}/start`, { token: ADMIN })).status).toBe(200);
    // Three accounts saw "urgent" (one of them upgraded the next day), one saw the control.
    const expose = (account: string, variant: string) =>
      env.DB.prepare('INSERT INTO experiment_exposures (experiment_id, unit_id, account_id, variant_id, first_exposed_at) VALUES (?, ?, ?, ?, ?)').bind(
        experiment.id,
        account,
        account,
        variant,
        today - 3 * DAY,
      );
    await env.DB.batch([expose('sim-85a', 'urgent'), expose('sim-85b', 'urgent'), expose('sim-95', 'urgent'), expose('sim-30', 'control')]);
    const definitionsBefore = (await api('GET', '/v1/admin/prompts', { token: ADMIN })).json;

    const res = await simulate({ variant: { experiment_id: experiment.id, variant_id: 'urgent' }, window_days: 30 });
    expect(res.status, JSON.stringify(res.json)).toBe(200);
    const body = res.json as SimulationResponse;
    expect(body.variant).toEqual({ experiment_id: experiment.id, variant_id: 'urgent', prompt_id: 'limit-90', unit: 'account', exposed: 3, conversions: 1 });
    // Copy does not change who is shown what.
    expect(body.proposed.totals).toEqual(body.current.totals);
    // The rule in force projects from the one account shown the 90% notice (it upgraded); the variant from its arm: 1 of 3.
    expect(body.current.projection.groups.find((g) => g.group === 'limit_notice:90')).toMatchObject({ exposures: 1, upgrades: 1 });
    expect(body.proposed.projection.groups.find((g) => g.group === 'limit_notice:90')).toMatchObject({ exposures: 3, upgrades: 1 });
    expect(body.proposed.projection.upgrades.expected).toBeLessThan(body.current.projection.upgrades.expected);
    // Nothing shipped: the experiment still runs and the definitions are as they were.
    expect((await api('GET', `/v1/admin/experiments/${experiment.id}`, { token: ADMIN })).json.status).toBe('running');
    expect((await api('GET', '/v1/admin/prompts', { token: ADMIN })).json).toEqual(definitionsBefore);

    const unknownVariant = await simulate({ variant: { experiment_id: experiment.id, variant_id: 'nope' } });
    expect(unknownVariant.status).toBe(400);
    expect(unknownVariant.json.error.details[0].path).toBe('variant.variant_id');
    expect((await simulate({ variant: { experiment_id: 'exp_missing', variant_id: 'urgent' } })).status).toBe(404);
    expect((await simulate({ variant: { experiment_id: experiment.id } })).status).toBe(400);
    await env.DB.prepare("UPDATE experiments SET status = 'stopped' WHERE id = ?").bind(experiment.id).run();
  });
});

describe('bounded work per request', () => {
  it(`above ${MAX_SIMULATED_EVENTS} prompt events in the window, replays a sample of the accounts`, async () => {
    const each = Math.ceil(MAX_SIMULATED_EVENTS * 0.6);
    // Two very busy accounts (clicks in one session, cheap to replay) and the four seeded above.
    for (const id of ['busy-1', 'busy-2'])
      await env.DB.batch([
        env.DB.prepare(
          `INSERT INTO accounts (id, name, plan_id, seats, created_at, status, activated_at, updated_at) VALUES (?, ?, 'starter', 5, ?, 'active', ?, ?)`,
        ).bind(id, id, today - 200 * DAY, today - 100 * DAY, today),
        env.DB.prepare(
          `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
           INSERT INTO prompt_events (account_id, idempotency_key, user_id, session_id, type, prompt_id, variant_id, experiment_id, feature_id, timestamp)
           SELECT ?, 'c' || i, ? || '-u', ? || '-s', 'click', 'invite-seats', NULL, NULL, NULL, ? + i FROM n`,
        ).bind(each, id, id, id, today - 3 * DAY),
      ]);
    const res = await simulate({ window_days: 7 });
    expect(res.status).toBe(200);
    const body = res.json as SimulationResponse;
    expect(body.sampling.sampled).toBe(true);
    expect(body.sampling.accounts_with_history).toBe(6);
    expect(body.sampling.accounts_simulated).toBeLessThan(6);
    expect(body.sampling.method).toContain(`${MAX_SIMULATED_EVENTS} prompt events`);
    await env.DB.prepare(`DELETE FROM prompt_events WHERE account_id LIKE 'busy-%'`).run();
  }, 60_000);

  it(`above ${MAX_SIMULATED_ACCOUNTS} accounts with history, replays a deterministic sample and says so`, async () => {
    const extra = MAX_SIMULATED_ACCOUNTS + 50;
    const ids = Array.from({ length: extra }, (_, i) => `bulk-${i}`);
    await env.DB.batch([
      env.DB.prepare(
        `INSERT INTO accounts (id, name, plan_id, seats, created_at, status, activated_at, updated_at)
         SELECT value, value, 'starter', 5, ?, 'active', ?, ? FROM json_each(?)`,
      ).bind(today - 200 * DAY, today - 100 * DAY, today, JSON.stringify(ids)),
      env.DB.prepare(
        `INSERT INTO prompt_events (account_id, idempotency_key, user_id, session_id, type, prompt_id, variant_id, experiment_id, feature_id, timestamp)
         SELECT value, 'bulk', value || '-u', value || '-s', 'impression', 'invite-seats', NULL, NULL, NULL, ? FROM json_each(?)`,
      ).bind(today - 2 * DAY, JSON.stringify(ids)),
    ]);
    const first = await simulate({ window_days: 7 });
    expect(first.status).toBe(200);
    const body = first.json as SimulationResponse;
    expect(body.sampling.sampled).toBe(true);
    expect(body.sampling.accounts_with_history).toBeGreaterThanOrEqual(extra);
    expect(body.sampling.accounts_simulated).toBe(MAX_SIMULATED_ACCOUNTS);
    expect(body.sampling.method).toMatch(/hash/);
    const again = (await simulate({ window_days: 7 })).json as SimulationResponse;
    expect(again.current.totals).toEqual(body.current.totals);
  }, 60_000);
});
