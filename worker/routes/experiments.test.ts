import { afterEach, describe, expect, it } from 'vitest';
import { assignVariant } from '../../shared/bucketing';
import { experimentResults } from '../../shared/statistics';
import { ADMIN, api, DAY, env, seedAccount, uid, userToken } from '../test/api';

/** Experiments left running would change the prompts of later tests in this file. */
afterEach(async () => {
  await env.DB.prepare("UPDATE experiments SET status = 'stopped' WHERE status = 'running'").run();
});

const copy = (title: string) => ({ title, body: '{used} of {limit} {metric} used ({pct}).', cta_label: 'Upgrade', secondary_label: 'Later' });

let keys = 0;
/** A valid experiment body; `overrides` replace whole fields. */
const experimentBody = (overrides: Record<string, unknown> = {}) => ({
  key: `exp-${++keys}-${Math.random().toString(36).slice(2, 8)}`,
  prompt_id: 'limit-90',
  variants: [
    { id: 'control', weight: 1, copy: copy('Control at {pct}') },
    { id: 'urgent', weight: 1, copy: copy('Urgent at {pct}') },
  ],
  ...overrides,
});

const admin = (method: string, path: string, body?: unknown) => api(method, path, { token: ADMIN, ...(body !== undefined && { body }) });

async function create(overrides: Record<string, unknown> = {}) {
  const res = await admin('POST', '/v1/admin/experiments', experimentBody(overrides));
  expect(res.status, JSON.stringify(res.json)).toBe(201);
  return res.json as { id: string; key: string; status: string; variants: { id: string; weight: number }[] };
}

async function started(overrides: Record<string, unknown> = {}) {
  const exp = await create(overrides);
  const res = await admin('POST', `/v1/admin/experiments/${exp.id}/start`);
  expect(res.status, JSON.stringify(res.json)).toBe(200);
  return res.json as typeof exp & { holdout_pct: number };
}

/** An activated account on Starter at 93% of its 10,000 API calls, so `limit-api_calls-90` shows. */
async function accountAt93(acct = uid()) {
  await seedAccount(acct, { created_at: Date.now() - 60 * DAY });
  await api('POST', '/v1/track', { body: { events: [{ account_id: acct, event: 'core_feature_activated', idempotency_key: 'act' }] } });
  await api('POST', '/v1/usage', { body: { events: [{ account_id: acct, metric: 'api_calls', value: 9300, idempotency_key: 'u93' }] } });
  return acct;
}

type Prompt = { id: string; title: string; variant_id: string | null; experiment_id: string | null; serve_token: string };
const notice = async (acct: string, sub = 'alice') => {
  const res = await api('GET', '/v1/widget/state?session=s1', { token: await userToken({ acct, sub }) });
  expect(res.status).toBe(200);
  return (res.json.prompts as Prompt[]).find((p) => p.id === 'limit-api_calls-90');
};

const exposures = async (experimentId: string) =>
  (
    await env.DB.prepare('SELECT unit_id, account_id, variant_id, first_exposed_at FROM experiment_exposures WHERE experiment_id = ? ORDER BY unit_id')
      .bind(experimentId)
      .all<{ unit_id: string; account_id: string; variant_id: string | null; first_exposed_at: number }>()
  ).results;

const bucket = (exp: { key: string; holdout_pct?: number; variants: { id: string; weight: number }[] }, unit: string) =>
  assignVariant({ key: exp.key, holdoutPct: exp.holdout_pct ?? 0, variants: exp.variants }, unit);

/** Account ids whose unit lands in the holdout (`true`) or in a variant (`false`). */
function accountsWhere(exp: Parameters<typeof bucket>[0], holdout: boolean, count: number) {
  const out: string[] = [];
  while (out.length < count) {
    const id = uid();
    if (bucket(exp, id).holdout === holdout) out.push(id);
  }
  return out;
}

let ledgerKeys = 0;
/** A ledger row as billing writes it for an upgrade (self-serve expansion unless said otherwise). */
const upgradeRow = (accountId: string, at: number, extra: { source?: string; kind?: string } = {}) =>
  env.DB.prepare(
    'INSERT INTO mrr_ledger (account_id, at, kind, mrr_before_cents, mrr_after_cents, source, dedupe_key) VALUES (?, ?, ?, 5000, 20000, ?, ?)',
  ).bind(accountId, at, extra.kind ?? 'expansion', extra.source ?? 'self_serve', `test-${++ledgerKeys}`);
const upgrade = (accountId: string, at: number, extra: { source?: string; kind?: string } = {}) => upgradeRow(accountId, at, extra).run();

const exposureRow = (experimentId: string, accountId: string, variantId: string | null, at: number) =>
  env.DB.prepare('INSERT INTO experiment_exposures (experiment_id, unit_id, account_id, variant_id, first_exposed_at) VALUES (?, ?, ?, ?, ?)').bind(
    experimentId,
    accountId,
    accountId,
    variantId,
    at,
  );
const expose = (experimentId: string, accountId: string, variantId: string | null, at: number) => exposureRow(experimentId, accountId, variantId, at).run();

describe('experiment lifecycle', () => {
  it('creates a draft with the defaults, lists it and reads it back', async () => {
    const res = await admin('POST', '/v1/admin/experiments', experimentBody({ prompt_id: 'limit-api_calls-75' }));
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({
      id: expect.stringMatching(/^exp_/),
      prompt_id: 'limit-api_calls-75',
      unit: 'account',
      holdout_pct: 0,
      attribution_days: 7,
      min_conversions: 100,
      status: 'draft',
      control_id: 'control',
      started_at: null,
    });
    expect((await admin('GET', `/v1/admin/experiments/${res.json.id}`)).json).toEqual(res.json);
    const list = await admin('GET', '/v1/admin/experiments?status=draft&prompt_id=limit-api_calls-75');
    expect(list.json.experiments.map((e: { id: string }) => e.id)).toContain(res.json.id);
    expect((await admin('GET', '/v1/admin/experiments?status=running&prompt_id=limit-api_calls-75')).json.experiments).toEqual([]);
  });

  it('refuses bad experiments naming the field, and writes nothing', async () => {
    const one = [{ id: 'a', weight: 1, copy: copy('A') }];
    const cases: [Record<string, unknown>, string][] = [
      [{ variants: one }, 'variants'],
      [{ variants: [...one, { id: 'a', weight: 1, copy: copy('B') }] }, 'variants.1.id'],
      [{ variants: [...one, { id: 'b', weight: 0, copy: copy('B') }] }, 'variants.1.weight'],
      [{ variants: [...one, { id: 'b', weight: -2, copy: copy('B') }] }, 'variants.1.weight'],
      [{ variants: [...one, { id: 'holdout', weight: 1, copy: copy('B') }] }, 'variants.1.id'],
      [{ variants: [...one, { id: 'b', weight: 1, copy: { title: 'B' } }] }, 'variants.1.copy.body'],
      [{ variants: Array.from({ length: 7 }, (_, i) => ({ id: `v${i}`, weight: 1, copy: copy('x') })) }, 'variants'],
      [{ holdout_pct: 60 }, 'holdout_pct'],
      [{ attribution_days: 0 }, 'attribution_days'],
      [{ unit: 'session' }, 'unit'],
      [{ colour: 'red' }, 'colour'],
      [{ prompt_id: 'no-such-prompt' }, 'prompt_id'],
    ];
    for (const [overrides, path] of cases) {
      const res = await admin('POST', '/v1/admin/experiments', experimentBody(overrides));
      expect(res.status, path).toBe(400);
      expect(res.json.error.details.map((d: { path: string }) => d.path), path).toContain(path);
    }
    const body = experimentBody({ holdout_pct: 60 });
    await admin('POST', '/v1/admin/experiments', body);
    expect((await admin('GET', '/v1/admin/experiments')).json.experiments.map((e: { key: string }) => e.key)).not.toContain(body.key);
  });

  it('refuses a key already used (409) and unknown ids (404)', async () => {
    const exp = await create();
    const again = await admin('POST', '/v1/admin/experiments', experimentBody({ key: exp.key }));
    expect(again.status).toBe(409);
    expect(again.json.error.code).toBe('experiment_key_taken');
    for (const [method, path] of [
      ['GET', '/v1/admin/experiments/exp_nope'],
      ['POST', '/v1/admin/experiments/exp_nope/start'],
      ['POST', '/v1/admin/experiments/exp_nope/stop'],
      ['GET', '/v1/admin/experiments/exp_nope/results'],
    ] as const) {
      const res = await admin(method, path);
      expect(res.status, path).toBe(404);
      expect(res.json.error.code).toBe('experiment_not_found');
    }
    expect((await admin('POST', '/v1/admin/experiments/exp_nope/ship', { variant_id: 'a' })).status).toBe(404);
  });

  it('needs the admin key', async () => {
    expect((await api('GET', '/v1/admin/experiments', { token: null })).status).toBe(401);
    expect((await api('GET', '/v1/admin/experiments/exp_x/results')).status).toBe(401);
  });

  it('runs one experiment per prompt: a second start is 409 until the first stops', async () => {
    const first = await started({ prompt_id: 'limit-50' });
    expect(first.status).toBe('running');
    expect((await admin('POST', `/v1/admin/experiments/${first.id}/start`)).json.status).toBe('running');
    const second = await create({ prompt_id: 'limit-50' });
    const refused = await admin('POST', `/v1/admin/experiments/${second.id}/start`);
    expect(refused.status).toBe(409);
    expect(refused.json.error.code).toBe('experiment_already_running');
    expect(refused.json.error.message).toContain(first.id);
    expect((await admin('GET', `/v1/admin/experiments/${second.id}`)).json.status).toBe('draft');

    const stopped = await admin('POST', `/v1/admin/experiments/${first.id}/stop`);
    expect(stopped.json).toMatchObject({ status: 'stopped', stopped_at: expect.any(String) });
    expect((await admin('POST', `/v1/admin/experiments/${first.id}/stop`)).status).toBe(200);
    expect((await admin('POST', `/v1/admin/experiments/${second.id}/start`)).json.status).toBe('running');
    const restart = await admin('POST', `/v1/admin/experiments/${first.id}/start`);
    expect(restart.status).toBe(409);
    expect(restart.json.error.code).toBe('experiment_ended');
  });

  it('a draft may be edited; a running experiment refuses new weights or variants (409)', async () => {
    const exp = await create({ prompt_id: 'limit-75' });
    const edited = await admin('PUT', `/v1/admin/experiments/${exp.id}`, experimentBody({ key: exp.key, prompt_id: 'limit-75', holdout_pct: 10 }));
    expect(edited.status).toBe(200);
    expect(edited.json.holdout_pct).toBe(10);
    await admin('POST', `/v1/admin/experiments/${exp.id}/start`);
    const reweighted = experimentBody({
      key: exp.key,
      prompt_id: 'limit-75',
      variants: [
        { id: 'control', weight: 1, copy: copy('Control') },
        { id: 'urgent', weight: 3, copy: copy('Urgent') },
      ],
    });
    const refused = await admin('PUT', `/v1/admin/experiments/${exp.id}`, reweighted);
    expect(refused.status).toBe(409);
    expect(refused.json.error.code).toBe('experiment_locked');
    const after = await admin('GET', `/v1/admin/experiments/${exp.id}`);
    expect(after.json.variants.map((v: { weight: number }) => v.weight)).toEqual([1, 1]);
    expect(after.json.holdout_pct).toBe(10);
  });

  it('ship writes the variant copy into the prompt definition and ends the experiment', async () => {
    const definition = { kind: 'limit_notice', trigger: { metric: 'projects', thresholds: [90] }, copy: copy('Old title'), enabled: true };
    expect((await admin('PUT', '/v1/admin/prompts/projects-90', definition)).status).toBe(200);
    const exp = await create({ prompt_id: 'projects-90' });
    const early = await admin('POST', `/v1/admin/experiments/${exp.id}/ship`, { variant_id: 'urgent' });
    expect(early.status).toBe(409);
    expect(early.json.error.code).toBe('experiment_not_started');
    await admin('POST', `/v1/admin/experiments/${exp.id}/start`);

    const unknown = await admin('POST', `/v1/admin/experiments/${exp.id}/ship`, { variant_id: 'holdout' });
    expect(unknown.status).toBe(400);
    expect(unknown.json.error.details[0].path).toBe('variant_id');
    expect((await admin('POST', `/v1/admin/experiments/${exp.id}/ship`, { variant: 'urgent' })).status).toBe(400);

    const shipped = await admin('POST', `/v1/admin/experiments/${exp.id}/ship`, { variant_id: 'urgent' });
    expect(shipped.status).toBe(200);
    expect(shipped.json).toMatchObject({ status: 'shipped', shipped_variant_id: 'urgent', stopped_at: expect.any(String) });
    const prompts = (await admin('GET', '/v1/admin/prompts')).json.prompts as { id: string; copy: unknown; trigger: unknown; enabled: boolean }[];
    expect(prompts.find((p) => p.id === 'projects-90')).toMatchObject({ copy: copy('Urgent at {pct}'), trigger: definition.trigger, enabled: true });

    expect((await admin('POST', `/v1/admin/experiments/${exp.id}/ship`, { variant_id: 'urgent' })).status).toBe(200);
    expect((await admin('POST', `/v1/admin/experiments/${exp.id}/ship`, { variant_id: 'control' })).status).toBe(409);
    expect((await admin('POST', `/v1/admin/experiments/${exp.id}/stop`)).status).toBe(409);
  });

  it('shipping a test of one rendered prompt changes only that prompt, not its "*" definition', async () => {
    const exp = await started({ prompt_id: 'limit-projects-75' });
    await admin('POST', `/v1/admin/experiments/${exp.id}/stop`);
    expect((await admin('POST', `/v1/admin/experiments/${exp.id}/ship`, { variant_id: 'urgent' })).status).toBe(200);
    const prompts = (await admin('GET', '/v1/admin/prompts')).json.prompts as { id: string; copy: { title: string }; trigger: unknown; caps: unknown }[];
    const general = prompts.find((p) => p.id === 'limit-75');
    expect(prompts.find((p) => p.id === 'limit-projects-75')).toMatchObject({
      copy: copy('Urgent at {pct}'),
      trigger: { metric: 'projects', thresholds: [75] },
      caps: general?.caps,
    });
    expect(general?.copy.title).toBe('Approaching your {metric} limit');
  });
});

describe('assignment in the widget state', () => {
  it('serves each unit its variant copy, the same every time, and records one exposure per unit', async () => {
    const exp = await started();
    const accounts = await Promise.all(Array.from({ length: 8 }, () => accountAt93()));
    for (const acct of accounts) {
      const expected = bucket(exp, acct).variantId;
      const title = expected === 'urgent' ? 'Urgent at 93%' : 'Control at 93%';
      for (const sub of ['alice', 'alice', 'bob']) {
        expect(await notice(acct, sub)).toMatchObject({ variant_id: expected, experiment_id: exp.id, title, body: '9,300 of 10,000 API calls used (93%).' });
      }
    }
    const rows = await exposures(exp.id);
    expect(rows).toHaveLength(accounts.length);
    expect(Object.fromEntries(rows.map((r) => [r.unit_id, r.variant_id]))).toEqual(Object.fromEntries(accounts.map((a) => [a, bucket(exp, a).variantId])));
    expect(rows.every((r) => r.account_id === r.unit_id)).toBe(true);
    expect(new Set(rows.map((r) => r.variant_id))).toEqual(new Set(accounts.map((a) => bucket(exp, a).variantId)));
  }, 30_000);

  it('keeps the first exposure time on later calls', async () => {
    const exp = await started();
    const acct = await accountAt93();
    await notice(acct);
    const [first] = await exposures(exp.id);
    await new Promise((r) => setTimeout(r, 5));
    await notice(acct);
    expect(await exposures(exp.id)).toEqual([first]);
  });

  it('a holdout unit gets no prompt but its exposure is recorded', async () => {
    const exp = await started({ holdout_pct: 50 });
    const [held] = accountsWhere(exp, true, 1);
    const [shown] = accountsWhere(exp, false, 1);
    await accountAt93(held);
    await accountAt93(shown);
    expect(await notice(held!)).toBeUndefined();
    expect(await notice(held!)).toBeUndefined();
    expect(await notice(shown!)).toMatchObject({ experiment_id: exp.id, variant_id: bucket(exp, shown!).variantId });
    const rows = await exposures(exp.id);
    expect(rows.find((r) => r.unit_id === held)).toMatchObject({ variant_id: null, account_id: held });
    expect(rows.find((r) => r.unit_id === shown)).toMatchObject({ variant_id: bucket(exp, shown!).variantId });
    expect(rows).toHaveLength(2);
  });

  it('with unit "user", each user of an account is bucketed and counted on their own', async () => {
    const exp = await started({ unit: 'user' });
    const acct = await accountAt93();
    const subs = ['u1', 'u2', 'u3', 'u4', 'u5', 'u6'];
    for (const sub of subs) expect((await notice(acct, sub))?.variant_id).toBe(bucket(exp, `${acct}:${sub}`).variantId);
    const rows = await exposures(exp.id);
    expect(rows.map((r) => r.unit_id)).toEqual(subs.map((s) => `${acct}:${s}`));
    expect(rows.every((r) => r.account_id === acct)).toBe(true);
  });

  it('with unit "user", an account upgrade converts only the exposed users who made it or clicked the prompt', async () => {
    const exp = await started({ unit: 'user', holdout_pct: 0 });
    const acct = await accountAt93();
    const shown: Record<string, Prompt> = {};
    for (const sub of ['buyer', 'clicker', 'bystander', 'onlooker']) shown[sub] = (await notice(acct, sub))!;
    const clicker = await userToken({ acct, sub: 'clicker', role: 'member' });
    const click = { type: 'click', prompt_id: 'limit-api_calls-90', variant_id: shown.clicker!.variant_id, experiment_id: exp.id, session_id: 's1', idempotency_key: 'c1', serve_token: shown.clicker!.serve_token };
    expect((await api('POST', '/v1/widget/events', { token: clicker, body: { events: [click] } })).status).toBe(200);
    const buyer = await userToken({ acct, sub: 'buyer', role: 'admin' });
    const t = (await api('POST', '/v1/widget/upgrade/preview', { token: buyer, body: { plan_id: 'pro' } })).json.proration_date;
    const done = await api('POST', '/v1/widget/upgrade', { token: buyer, body: { plan_id: 'pro', proration_date: t, idempotency_key: 'buy' } });
    expect(done.json.status).toBe('succeeded');
    const results = (await admin('GET', `/v1/admin/experiments/${exp.id}/results`)).json;
    const arms = results.variants as { id: string; exposed: number; conversions: number }[];
    expect(arms.reduce((n, a) => n + a.exposed, 0)).toBe(4);
    expect(arms.reduce((n, a) => n + a.conversions, 0)).toBe(2);
    for (const sub of ['buyer', 'clicker']) expect(arms.find((a) => a.id === shown[sub]!.variant_id)!.conversions).toBeGreaterThanOrEqual(1);
    await admin('POST', `/v1/admin/experiments/${exp.id}/stop`);
  });

  it('an experiment on one rendered prompt leaves other prompts of its definition alone', async () => {
    const exp = await started({ prompt_id: 'limit-seats-90' });
    const acct = await accountAt93();
    expect(await notice(acct)).toMatchObject({ variant_id: null, experiment_id: null, title: 'Almost at your API calls limit' });
    expect(await exposures(exp.id)).toEqual([]);
  });

  it('no exposure is recorded for a unit that is not shown the prompt', async () => {
    const exp = await started();
    const acct = uid();
    await seedAccount(acct, { created_at: Date.now() - 60 * DAY });
    expect(await notice(acct)).toBeUndefined();
    expect(await exposures(exp.id)).toEqual([]);
  });
});

describe('results', () => {
  it('count a conversion only for a self-serve expansion inside [first exposure, + window), once per unit', async () => {
    const exp = await started({ prompt_id: 'limit-100', attribution_days: 7 });
    const t0 = Date.UTC(2026, 0, 10);
    const inside = async (variant: string) => {
      const a = uid();
      await expose(exp.id, a, variant, t0);
      return a;
    };
    // control: 6 exposed, 2 convert
    const c = await Promise.all(Array.from({ length: 6 }, () => inside('control')));
    await upgrade(c[0]!, t0 + DAY); // inside
    await upgrade(c[1]!, t0); // at the first exposure itself: inside
    await upgrade(c[1]!, t0 + 2 * DAY); // a second upgrade of the same unit: still one conversion
    await upgrade(c[2]!, t0 + 7 * DAY); // the window is half-open: outside
    await upgrade(c[3]!, t0 - 1); // before exposure
    await upgrade(c[4]!, t0 + DAY, { source: 'sales' }); // not self-serve
    await upgrade(c[5]!, t0 + DAY, { kind: 'contraction' }); // not an expansion
    // urgent: 5 exposed, 3 convert
    const u = await Promise.all(Array.from({ length: 5 }, () => inside('urgent')));
    await upgrade(u[0]!, t0 + 7 * DAY - 1);
    await upgrade(u[1]!, t0 + 3 * DAY);
    await upgrade(u[2]!, t0 + 6 * DAY);
    await upgrade(u[3]!, t0 + 30 * DAY); // long after the window
    await upgrade(uid(), t0 + DAY); // an account never exposed

    const res = await admin('GET', `/v1/admin/experiments/${exp.id}/results`);
    expect(res.status).toBe(200);
    const expected = experimentResults({
      controlId: 'control',
      minConversions: 100,
      variants: [
        { id: 'control', weight: 50, exposed: 6, conversions: 2 },
        { id: 'urgent', weight: 50, exposed: 5, conversions: 3 },
      ],
    });
    expect(res.json).toMatchObject({ experiment_id: exp.id, control_id: 'control', attribution_days: 7, incremental: null });
    expect(res.json.variants).toEqual(expected.variants);
    expect(res.json.srm).toEqual(expected.srm);
    expect(res.json.verdict).toEqual(expected.verdict);
    expect(res.json.verdict.status).toBe('insufficient_data');
    expect(res.json.warnings).toEqual([expect.stringContaining('inflates false positives')]);
    await admin('POST', `/v1/admin/experiments/${exp.id}/stop`);
    const stopped = await admin('GET', `/v1/admin/experiments/${exp.id}/results`);
    expect(stopped.json).toMatchObject({ status: 'stopped', warnings: [] });
    expect(stopped.json.variants).toEqual(expected.variants);
  });

  it('report the holdout as its own row against control, outside the copy verdict, with the incremental lift', async () => {
    const exp = await started({ prompt_id: 'invite', holdout_pct: 20, min_conversions: 10, attribution_days: 14 });
    const t0 = Date.UTC(2026, 1, 1);
    const arms: [string | null, number, number][] = [
      ['control', 200, 20],
      ['urgent', 200, 40],
      [null, 100, 4],
    ];
    for (const [variant, exposed, converted] of arms) {
      const statements = Array.from({ length: exposed }, (_, i) => {
        const a = uid();
        return [exposureRow(exp.id, a, variant, t0 + i), ...(i < converted ? [upgradeRow(a, t0 + i + 13 * DAY)] : [])];
      });
      await env.DB.batch(statements.flat());
    }
    const res = await admin('GET', `/v1/admin/experiments/${exp.id}/results`);
    const variants = [
      { id: 'control', weight: 40, exposed: 200, conversions: 20 },
      { id: 'urgent', weight: 40, exposed: 200, conversions: 40 },
    ];
    const copyOnly = experimentResults({ controlId: 'control', minConversions: 10, variants });
    const withHoldout = experimentResults({ controlId: 'control', minConversions: 10, variants: [...variants, { id: 'holdout', weight: 20, exposed: 100, conversions: 4 }] });
    const holdout = withHoldout.variants[2]!;
    expect(res.json.variants).toEqual([...copyOnly.variants, { ...holdout, p_value_adjusted: holdout.p_value }]);
    expect(res.json.variants.map((v: { id: string; exposed: number; conversions: number }) => [v.id, v.exposed, v.conversions])).toEqual([
      ['control', 200, 20],
      ['urgent', 200, 40],
      ['holdout', 100, 4],
    ]);
    expect(res.json.srm).toEqual(withHoldout.srm);
    expect(res.json.verdict).toEqual(copyOnly.verdict);
    expect(res.json.verdict).toMatchObject({ status: 'winner', winner_id: 'urgent' });
    expect(res.json.incremental.lift).toBeCloseTo(20 / 200 / (4 / 100) - 1, 12);
    expect(res.json.incremental.chance_to_beat_holdout).toBeGreaterThan(0.9);
  });

  it('flag a sample ratio mismatch that includes the holdout', async () => {
    const exp = await started({ prompt_id: 'milestone', holdout_pct: 50 });
    for (const [variant, n] of [['control', 300], ['urgent', 300], [null, 100]] as const) {
      await env.DB.batch(Array.from({ length: n }, (_, i) => exposureRow(exp.id, `${exp.id}-${variant}-${i}`, variant, 1)));
    }
    const res = await admin('GET', `/v1/admin/experiments/${exp.id}/results`);
    expect(res.json.srm.flagged).toBe(true);
    expect(res.json.verdict.status).toBe('srm');
  });

  it('end to end: accounts exposed through the widget, upgrades inside and outside the window', async () => {
    const exp = await started({ attribution_days: 3 });
    const accounts = await Promise.all(Array.from({ length: 8 }, () => accountAt93()));
    for (const acct of accounts) await notice(acct);
    const rows = await exposures(exp.id);
    expect(rows).toHaveLength(8);
    const expected = new Map<string, { exposed: number; conversions: number }>([
      ['control', { exposed: 0, conversions: 0 }],
      ['urgent', { exposed: 0, conversions: 0 }],
    ]);
    rows.forEach((r, i) => {
      const arm = expected.get(r.variant_id!)!;
      arm.exposed += 1;
      if (i % 3 === 0) arm.conversions += 1;
    });
    for (const [i, r] of rows.entries()) {
      if (i % 3 === 0) await upgrade(r.account_id, r.first_exposed_at + 2 * DAY); // inside
      else if (i % 3 === 1) await upgrade(r.account_id, r.first_exposed_at + 4 * DAY); // outside
    }
    const res = await admin('GET', `/v1/admin/experiments/${exp.id}/results`);
    const counts = res.json.variants.map((v: { id: string; exposed: number; conversions: number }) => ({ id: v.id, exposed: v.exposed, conversions: v.conversions }));
    expect(counts).toEqual([...expected.entries()].map(([id, c]) => ({ id, ...c })));
    expect(res.json.variants).toEqual(
      experimentResults({ controlId: 'control', variants: [...expected.entries()].map(([id, c]) => ({ id, weight: 50, ...c })) }).variants,
    );
 }, 30_000);

  it('of a draft are empty, not an error', async () => {
    const exp = await create();
    const res = await admin('GET', `/v1/admin/experiments/${exp.id}/results`);
    expect(res.status).toBe(200);
    expect(res.json.variants.map((v: { exposed: number; rate: number | null }) => [v.exposed, v.rate])).toEqual([
      [0, null],
      [0, null],
    ]);
    expect(res.json.verdict.status).toBe('insufficient_data');
  });
});
