import { afterEach, describe, expect, it, vi } from 'vitest';
import { ADMIN, api, DAY, env, seedAccount, serveToken, uid, userToken } from '../test/api';

afterEach(() => {
  vi.useRealTimers();
});

/** An activated account on Starter at `pct`% of its 10,000 API calls, and a token for its admin. */
async function accountAt(pct: number, opts: { activated?: boolean } = {}) {
  const acct = uid();
  await seedAccount(acct, { created_at: Date.now() - 60 * DAY });
  if (opts.activated !== false)
    await api('POST', '/v1/track', { body: { events: [{ account_id: acct, event: 'core_feature_activated', idempotency_key: 'act' }] } });
  await api('POST', '/v1/usage', { body: { events: [{ account_id: acct, metric: 'api_calls', value: pct * 100, idempotency_key: `u${pct}` }] } });
  return { acct, token: await userToken({ acct, sub: 'alice' }) };
}

const state = async (token: string, session: string) => (await api('GET', `/v1/widget/state?session=${session}`, { token })).json;
const ids = (s: { prompts: { id: string }[] }) => s.prompts.map((p) => p.id);
let keys = 0;
const send = async (token: string, session: string, type: string, prompt_id: string | null, extra: Record<string, unknown> = {}) =>
  api('POST', '/v1/widget/events', {
    token,
    body: { events: [{ type, prompt_id, session_id: session, idempotency_key: `e${++keys}`, ...(prompt_id && { serve_token: await serveToken(token, prompt_id) }), ...extra }] },
  });

describe('prompts through the API, with history in D1', () => {
  it('at 93% the 90% notice shows once per session, and not in a 4th session after 3 impressions', async () => {
    const { token } = await accountAt(93);
    for (const session of ['s1', 's2', 's3']) {
      const s = await state(token, session);
      expect(ids(s)).toContain('limit-api_calls-90');
      expect(s.prompts.find((p: { id: string }) => p.id === 'limit-api_calls-90')).toMatchObject({ kind: 'limit_notice', threshold: 90, blocking: false, cta_label: expect.any(String) });
      await send(token, session, 'impression', 'limit-api_calls-90');
      expect(ids(await state(token, session))).not.toContain('limit-api_calls-90');
    }
    expect(ids(await state(token, 's4'))).not.toContain('limit-api_calls-90');
  });

  it('three dismissals suppress the notice for 30 days: hidden on day 29, back on day 31', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const t0 = Date.now();
    const { acct, token } = await accountAt(80);
    for (const session of ['a', 'b', 'c']) {
      expect(ids(await state(token, session))).toContain('limit-api_calls-75');
      await send(token, session, 'dismiss', 'limit-api_calls-75');
    }
    vi.setSystemTime(t0 + 29 * DAY);
    expect(ids(await state(await userToken({ acct, sub: 'alice' }), 'd29'))).not.toContain('limit-api_calls-75');
    vi.setSystemTime(t0 + 31 * DAY); // a new billing period: usage is back at 80% of it
    await api('POST', '/v1/usage', { body: { events: [{ account_id: acct, metric: 'api_calls', value: 8000, idempotency_key: 'next-period' }] } });
    expect(ids(await state(await userToken({ acct, sub: 'alice' }), 'd31'))).toContain('limit-api_calls-75');
  });

  it('"Remind me later" snoozes for 7 days', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const t0 = Date.now();
    const { acct, token } = await accountAt(93);
    await send(token, 's1', 'snooze', 'limit-api_calls-90');
    vi.setSystemTime(t0 + 6 * DAY);
    expect(ids(await state(await userToken({ acct, sub: 'alice' }), 's2'))).not.toContain('limit-api_calls-90');
    vi.setSystemTime(t0 + 7 * DAY + 1000);
    expect(ids(await state(await userToken({ acct, sub: 'alice' }), 's3'))).toContain('limit-api_calls-90');
  });

  it('caps hold across devices: another session of the same user sees the stored history', async () => {
    const { token } = await accountAt(93);
    for (const s of ['laptop', 'phone', 'tablet']) await send(token, s, 'dismiss', 'limit-api_calls-90');
    expect(ids(await state(token, 'desktop'))).not.toContain('limit-api_calls-90');
  });

  it('at 100% the block shows despite every cap being used up', async () => {
    const { token } = await accountAt(100);
    for (const s of ['a', 'b', 'c', 'd']) await send(token, s, 'dismiss', 'limit-api_calls-100');
    const s = await state(token, 'e');
    expect(s.prompts[0]).toMatchObject({ id: 'limit-api_calls-100', blocking: true });
  });

  it('an unactivated account gets no soft prompts but still gets the block', async () => {
    const soft = await accountAt(93, { activated: false });
    expect(ids(await state(soft.token, 's'))).toEqual([]);
    expect((await state(soft.token, 's')).caps.session_prompts_left).toBe(0);
    const hard = await accountAt(100, { activated: false });
    expect(ids(await state(hard.token, 's'))).toEqual(['limit-api_calls-100']);
  });

  it('a gate hit shows the feature preview in that session and records the PQA behaviour once', async () => {
    const { acct, token } = await accountAt(10);
    expect(ids(await state(token, 's1'))).not.toContain('gate-sso');
    const body = { events: [{ type: 'gate_hit', feature_id: 'sso', session_id: 's1', idempotency_key: 'g1' }] };
    expect((await api('POST', '/v1/widget/events', { token, body })).json).toEqual({ accepted: 1, duplicates: 0 });
    expect((await api('POST', '/v1/widget/events', { token, body })).json).toEqual({ accepted: 0, duplicates: 1 });
    const s = await state(token, 's1');
    expect(s.prompts.find((p: { id: string }) => p.id === 'gate-sso')).toMatchObject({ kind: 'feature_gate', feature_id: 'sso' });
    const row = await env.DB.prepare("SELECT count(*) AS n FROM track_events WHERE account_id = ? AND event = 'feature_gate_hit'").bind(acct).first<{ n: number }>();
    expect(row?.n).toBe(1);
  });

  it('an invite attempt at the seat limit is a block', async () => {
    const { acct, token } = await accountAt(10);
    await api('POST', '/v1/usage', { body: { events: [{ account_id: acct, metric: 'seats', value: 5, mode: 'set', idempotency_key: 'full' }] } });
    expect(ids(await state(token, 's1'))).toContain('invite-seats');
    await send(token, 's1', 'gate_hit', null, { feature_id: 'seats' });
    expect((await state(token, 's1')).prompts.find((p: { id: string }) => p.id === 'invite-seats-blocked')).toMatchObject({ blocking: true });
  });

  it('events of one account never touch another account’s history', async () => {
    const a = await accountAt(93);
    const b = await accountAt(93);
    for (const s of ['1', '2', '3']) await send(a.token, s, 'dismiss', 'limit-api_calls-90');
    expect(ids(await state(b.token, 'x'))).toContain('limit-api_calls-90');
  });

  it('the third dismissal suppresses the notice for 30 days, across the start of a new billing period', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const t0 = Date.UTC(2026, 10, 25);
    vi.setSystemTime(t0);
    const acct = uid();
    await seedAccount(acct, { created_at: t0 - 60 * DAY, period_start: Date.UTC(2026, 10, 1), period_end: Date.UTC(2026, 11, 1) });
    await api('POST', '/v1/track', { body: { events: [{ account_id: acct, event: 'core_feature_activated', idempotency_key: 'act' }] } });
    await api('POST', '/v1/usage', { body: { events: [{ account_id: acct, metric: 'api_calls', value: 9300, idempotency_key: 'nov' }] } });
    const token = () => userToken({ acct, sub: 'alice' });
    for (const session of ['a', 'b', 'c']) {
      expect(ids(await state(await token(), session))).toContain('limit-api_calls-90');
      await send(await token(), session, 'dismiss', 'limit-api_calls-90');
    }
    vi.setSystemTime(Date.UTC(2026, 11, 10)); // December's period: 93% again
    await api('POST', '/v1/usage', { body: { events: [{ account_id: acct, metric: 'api_calls', value: 9300, idempotency_key: 'dec' }] } });
    expect(ids(await state(await token(), 'd10'))).not.toContain('limit-api_calls-90');
    vi.setSystemTime(t0 + 30 * DAY + 1000);
    expect(ids(await state(await token(), 'd30'))).toContain('limit-api_calls-90');
  });

  it('a heavy user\'s newest dismissals count: the history is read newest first', async () => {
    const { acct, token } = await accountAt(93);
    // 6,000 older events of another prompt, more than the history holds
    await env.DB.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 6000)
       INSERT INTO prompt_events (account_id, idempotency_key, user_id, session_id, type, prompt_id, timestamp)
       SELECT ?, 'old' || i, 'alice', 'old' || i, 'impression', 'invite-seats', ? - i * 60000 FROM n`,
    ).bind(acct, Date.now() - DAY).run();
    for (const s of ['1', '2', '3']) await send(token, s, 'dismiss', 'limit-api_calls-90');
    expect(ids(await state(token, '4'))).not.toContain('limit-api_calls-90');
  });

  it('a feature preview shows once per user for good, even after retention removed its events', async () => {
    const { acct, token } = await accountAt(10);
    const hit = (session: string) => send(token, session, 'gate_hit', null, { feature_id: 'sso' });
    await hit('s1');
    expect(ids(await state(token, 's1'))).toContain('gate-sso');
    const impression = { events: [{ type: 'impression', prompt_id: 'gate-sso', session_id: 's1', idempotency_key: 'seen-sso', serve_token: await serveToken(token, 'gate-sso') }] };
    await api('POST', '/v1/widget/events', { token, body: impression });
    await api('POST', '/v1/widget/events', { token, body: impression }); // a retry counts once
    const caps = await env.DB.prepare('SELECT impressions FROM user_prompt_caps WHERE account_id = ? AND prompt_id = ?').bind(acct, 'gate-sso').first<{ impressions: number }>();
    expect(caps?.impressions).toBe(1);
    await env.DB.prepare('DELETE FROM prompt_events WHERE account_id = ?').bind(acct).run();
    await hit('s2');
    expect(ids(await state(token, 's2'))).not.toContain('gate-sso');
    const other = await userToken({ acct, sub: 'bob' });
    await send(other, 'b1', 'gate_hit', null, { feature_id: 'sso' });
    expect(ids(await state(other, 'b1'))).toContain('gate-sso');
  });

  it('bad events are refused whole', async () => {
    const { acct, token } = await accountAt(93);
    const res = await api('POST', '/v1/widget/events', { token, body: { events: [{ type: 'open', session_id: 's', idempotency_key: 'k' }] } });
    expect(res.status).toBe(400);
    expect(res.json.error.details[0].path).toBe('events.0.type');
    const row = await env.DB.prepare('SELECT count(*) AS n FROM prompt_events WHERE account_id = ?').bind(acct).first<{ n: number }>();
    expect(row?.n).toBe(0);
  });
});

describe('admin prompts', () => {
  it('lists a default prompt of every kind', async () => {
    const res = await api('GET', '/v1/admin/prompts', { token: ADMIN });
    expect(res.status).toBe(200);
    expect(new Set(res.json.prompts.map((p: { kind: string }) => p.kind))).toEqual(new Set(['limit_notice', 'feature_gate', 'invite', 'milestone', 'forecast']));
  });

  it('stores copy as text: markup comes back verbatim, in the API and in the widget state', async () => {
    const copy = { title: '<script>alert(1)</script> at {pct}', body: '<img src=x onerror=alert(1)> {used} of {limit}', cta_label: 'Upgrade', secondary_label: 'Later' };
    const put = await api('PUT', '/v1/admin/prompts/limit-90', { token: ADMIN, body: { kind: 'limit_notice', trigger: { metric: '*', thresholds: [90] }, copy, enabled: true } });
    expect(put.status).toBe(200);
    expect(put.json.copy).toEqual(copy);
    const { token } = await accountAt(93);
    const notice = (await state(token, 's')).prompts.find((p: { id: string }) => p.id === 'limit-api_calls-90');
    expect(notice.title).toBe('<script>alert(1)</script> at 93%');
    expect(notice.body).toBe('<img src=x onerror=alert(1)> 9,300 of 10,000');
  });

  it('a disabled prompt is not shown', async () => {
    await api('PUT', '/v1/admin/prompts/limit-75', { token: ADMIN, body: { kind: 'limit_notice', trigger: { metric: '*', thresholds: [75] }, copy: { title: 'x', body: 'y', cta_label: 'z', secondary_label: '' }, enabled: false } });
    const { token } = await accountAt(80);
    expect(ids(await state(token, 's'))).not.toContain('limit-api_calls-75');
  });

  it('an 80% upgrade prompt added through the API shows at 82% with its copy, and 90% takes over at 93%', async () => {
    const copy = { title: 'You have used {pct} of your {metric}', body: 'Upgrade to {next_plan} before you run out.', cta_label: 'Upgrade', secondary_label: 'Remind me later' };
    const put = await api('PUT', '/v1/admin/prompts/upgrade-at-80', { token: ADMIN, body: { kind: 'limit_notice', trigger: { metric: 'api_calls', thresholds: [80] }, copy } });
    expect(put.status).toBe(200);
    const { acct, token } = await accountAt(82);
    expect((await state(token, 's1')).prompts.filter((p: { kind: string }) => p.kind === 'limit_notice')).toMatchObject([
      { id: 'limit-api_calls-80', threshold: 80, blocking: false, title: 'You have used 82% of your API calls', body: 'Upgrade to Pro before you run out.' },
    ]);
    await api('POST', '/v1/usage', { body: { events: [{ account_id: acct, metric: 'api_calls', value: 1100, idempotency_key: 'more' }] } });
    expect(ids(await state(token, 's2'))).toContain('limit-api_calls-90');
    await env.DB.prepare('DELETE FROM prompts WHERE id = ?').bind('upgrade-at-80').run(); // the other tests use the defaults
  });

  it('refuses bad definitions naming the field', async () => {
    const cases: [unknown, string][] = [
      [{ kind: 'popup', trigger: {}, copy: {} }, 'kind'],
      [{ kind: 'limit_notice', trigger: { metric: '*', thresholds: [101] }, copy: { title: 't', body: 'b', cta_label: '', secondary_label: '' } }, 'trigger.thresholds.0'],
      [{ kind: 'invite', trigger: { seat_pct: 80 }, copy: { title: 't', body: 'b', cta_label: '', secondary_label: '' }, caps: { per_sesion: 1 } }, 'caps.per_sesion'],
    ];
    for (const [body, path] of cases) {
      const res = await api('PUT', '/v1/admin/prompts/p1', { token: ADMIN, body });
      expect(res.status, path).toBe(400);
      expect(res.json.error.details.map((d: { path: string }) => d.path), path).toContain(path);
    }
  });
});
