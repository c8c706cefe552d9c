import { afterEach, describe, expect, it, vi } from 'vitest';
import { api, DAY, env, seedAccount, serveToken, uid, userToken } from './test/api';

afterEach(() => vi.useRealTimers());

/** An activated account at 93% of its API calls: its state serves the 90% notice. */
async function served() {
  const acct = uid();
  await seedAccount(acct, { created_at: Date.now() - 60 * DAY });
  await api('POST', '/v1/track', { body: { events: [{ account_id: acct, event: 'core_feature_activated', idempotency_key: 'act' }] } });
  await api('POST', '/v1/usage', { body: { events: [{ account_id: acct, metric: 'api_calls', value: 9300, idempotency_key: 'u' }] } });
  const token = await userToken({ acct, sub: 'alice' });
  const state = (await api('GET', '/v1/widget/state?session=s1', { token })).json;
  const prompt = state.prompts.find((p: { id: string }) => p.id === 'limit-api_calls-90');
  expect(prompt.serve_token).toMatch(/^\d+\.[0-9a-f]{32}$/);
  return { acct, token, prompt };
}

const stored = async (acct: string) => (await env.DB.prepare('SELECT count(*) AS n FROM prompt_events WHERE account_id = ?').bind(acct).first<{ n: number }>())!.n;
const event = (extra: Record<string, unknown>) => ({ type: 'click', session_id: 's1', idempotency_key: uid('k'), ...extra });

describe('prompt events name only what was served', () => {
  it('an event carrying the serve token of its prompt from the state is accepted', async () => {
    const { acct, token, prompt } = await served();
    const res = await api('POST', '/v1/widget/events', { token, body: { events: [event({ prompt_id: prompt.id, serve_token: prompt.serve_token })] } });
    expect(res.json).toEqual({ accepted: 1, duplicates: 0 });
    expect(await stored(acct)).toBe(1);
  });

  it('an invented prompt, variant or experiment, a missing token, or another user’s token is 400 and records nothing', async () => {
    const { acct, token, prompt } = await served();
    const other = await userToken({ acct, sub: 'mallory' });
    const cases: [string, Record<string, unknown>, string][] = [
      ['no token', { prompt_id: prompt.id }, 'events.0.serve_token'],
      ['invented prompt', { prompt_id: 'limit-api_calls-100', serve_token: prompt.serve_token }, 'events.0.serve_token'],
      ['invented variant', { prompt_id: prompt.id, variant_id: 'b', experiment_id: 'exp_x', serve_token: prompt.serve_token }, 'events.0.serve_token'],
      ['variant without prompt', { variant_id: 'b', experiment_id: 'exp_x' }, 'events.0.prompt_id'],
      ['garbage token', { prompt_id: prompt.id, serve_token: 'x.y' }, 'events.0.serve_token'],
    ];
    for (const [name, fields, path] of cases) {
      const res = await api('POST', '/v1/widget/events', { token, body: { events: [event(fields)] } });
      expect(res.status, name).toBe(400);
      expect(res.json.error.details.map((d: { path: string }) => d.path), name).toEqual([path]);
    }
    // Alice's token in Mallory's hands does not pass for Mallory.
    const stolen = await api('POST', '/v1/widget/events', { token: other, body: { events: [event({ prompt_id: prompt.id, serve_token: prompt.serve_token })] } });
    expect(stolen.status).toBe(400);
    expect(await stored(acct)).toBe(0);
  });

  it('a serve token is good for a day after its hour, not longer', async () => {
    const t0 = Date.now();
    vi.useFakeTimers({ now: t0, toFake: ['Date'] });
    const { acct, token, prompt } = await served();
    vi.setSystemTime(t0 + 23 * 3600_000);
    expect((await api('POST', '/v1/widget/events', { token: await userToken({ acct, sub: 'alice' }), body: { events: [event({ prompt_id: prompt.id, serve_token: prompt.serve_token })] } })).status).toBe(200);
    vi.setSystemTime(t0 + 27 * 3600_000);
    const late = await api('POST', '/v1/widget/events', { token: await userToken({ acct, sub: 'alice' }), body: { events: [event({ prompt_id: prompt.id, serve_token: prompt.serve_token })] } });
    expect(late.status).toBe(400);
  });

  it('the test helper signs as the state does', async () => {
    const { token, prompt } = await served();
    expect(await serveToken(token, prompt.id)).toBe(prompt.serve_token);
  });
});
