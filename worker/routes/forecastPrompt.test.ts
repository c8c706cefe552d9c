import { afterEach, describe, expect, it, vi } from 'vitest';
import { defaultPrompts } from '../../shared/prompts';
import { ADMIN, api, DAY, env, flushCounters, seedAccount, taken, uid, userToken } from '../test/api';

const NOW = Date.UTC(2026, 11, 2, 12);
const forecastDefault = defaultPrompts.find((d) => d.id === 'forecast')!;
const { id: _, ...forecastBody } = forecastDefault;

afterEach(async () => {
  vi.useRealTimers();
  await env.DB.prepare("UPDATE experiments SET status = 'stopped' WHERE status = 'running'").run();
  await env.DB.prepare("DELETE FROM prompts WHERE kind = 'forecast'").run();
});

const admin = (method: string, path: string, body?: unknown) => api(method, path, { token: ADMIN, ...(body !== undefined && { body }) });

/**
 * An account on Starter (10,000 API calls, period Nov 18 – Dec 18) that used 500 calls on each
 * of the last 14 days: 7,000 used, the limit reached on Dec 8 at this pace (6 days ahead).
 */
async function headingForLimit(activated = true, acct = uid()) {
  await seedAccount(acct, { created_at: NOW - 60 * DAY, period_start: Date.UTC(2026, 10, 18), period_end: Date.UTC(2026, 11, 18) });
  if (activated) await api('POST', '/v1/track', { body: { events: [{ account_id: acct, event: 'core_feature_activated', idempotency_key: 'act' }] } });
  const events = Array.from({ length: 14 }, (_, i) => ({ account_id: acct, metric: 'api_calls', value: 500, idempotency_key: `d${i}`, timestamp: NOW - (i + 1) * DAY }));
  expect((await api('POST', '/v1/usage', { body: { events } })).json).toEqual(taken(14));
  await flushCounters(acct); // the forecast reads the daily roll-ups in D1: with account objects, written on the flush
  return acct;
}

type Prompt = { id: string; kind: string; title: string; body: string; cta_label: string; blocking: boolean; variant_id: string | null; experiment_id: string | null; serve_token: string };
const promptsOf = async (acct: string, session = 's1', sub = 'alice') => {
  const res = await api('GET', `/v1/widget/state?session=${session}`, { token: await userToken({ acct, sub }) });
  expect(res.status).toBe(200);
  return res.json.prompts as Prompt[];
};
/** At 70% the 50% notice shows too (the forecast adds the date); the forecast prompt, if any. */
const forecastOf = async (acct: string, session = 's1') => (await promptsOf(acct, session)).find((p) => p.kind === 'forecast');

describe('forecast prompt', () => {
  it('shows a week before the forecast limit with the date filled in, once a session, and not before activation', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(NOW);
    const acct = await headingForLimit();
    expect((await promptsOf(acct)).map((q) => q.id)).toEqual(['limit-api_calls-50', 'forecast-api_calls']);
    const p = await forecastOf(acct);
    expect(p).toMatchObject({
      id: 'forecast-api_calls',
      kind: 'forecast',
      blocking: false,
      title: 'Heading for your API calls limit',
      body: "At this pace you'll reach your API calls limit on Dec 8. Pro includes 50,000 API calls.",
      cta_label: 'Compare plans',
      serve_token: expect.any(String),
    });
    // its impression is recorded like any served prompt's, and caps it for the session
    const token = await userToken({ acct, sub: 'alice' });
    const seen = await api('POST', '/v1/widget/events', {
      token,
      body: { events: [{ type: 'impression', prompt_id: p!.id, session_id: 's1', idempotency_key: 'imp1', serve_token: p!.serve_token }] },
    });
    expect(seen.json).toEqual({ accepted: 1, duplicates: 0 });
    expect(await forecastOf(acct)).toBeUndefined();
    expect(await forecastOf(acct, 's2')).toMatchObject({ id: 'forecast-api_calls' });
    // activation first: an account that has not activated gets no forecast prompt
    expect(await promptsOf(await headingForLimit(false))).toEqual([]);
  });

  it('a PM edits its days and copy in the admin API; a bad trigger is a 400 that changes nothing', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(NOW);
    const acct = await headingForLimit();
    const listed = (await admin('GET', '/v1/admin/prompts')).json.prompts.find((d: { id: string }) => d.id === 'forecast');
    expect(listed).toMatchObject({ kind: 'forecast', trigger: { metric: '*', days_before: 7 }, builtin: true });

    const bad = await admin('PUT', '/v1/admin/prompts/forecast', { ...forecastBody, trigger: { metric: '*', days_before: 0 } });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.json.error.details)).toContain('days_before');
    expect(await forecastOf(acct)).toMatchObject({ id: 'forecast-api_calls' });

    // 3 days before: the limit 6 days ahead is not close enough yet
    expect((await admin('PUT', '/v1/admin/prompts/forecast', { ...forecastBody, trigger: { metric: '*', days_before: 3 } })).status).toBe(200);
    expect(await forecastOf(acct, 's2')).toBeUndefined();

    const copy = { title: '{days} days of {metric} left', body: 'On {date} you will be out of {metric}.', cta_label: 'See plans', secondary_label: '' };
    expect((await admin('PUT', '/v1/admin/prompts/forecast', { ...forecastBody, trigger: { metric: 'api_calls', days_before: 10 }, copy })).status).toBe(200);
    expect(await forecastOf(acct, 's3')).toMatchObject({ id: 'forecast-api_calls', title: '6 days of API calls left', body: 'On Dec 8 you will be out of API calls.', cta_label: 'See plans' });
  });

  it('is A/B-testable: a running experiment serves its variant copy, and shipping writes it to the definition', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(NOW);
    const variantCopy = (title: string) => ({ title, body: 'Out of {metric} in {days} days ({date}).', cta_label: 'Upgrade', secondary_label: 'Later' });
    const created = await admin('POST', '/v1/admin/experiments', {
      key: `forecast-${uid()}`,
      prompt_id: 'forecast-api_calls',
      variants: [
        { id: 'control', weight: 1, copy: variantCopy('Control') },
        { id: 'urgent', weight: 1, copy: variantCopy('Urgent') },
      ],
    });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    expect((await admin('POST', `/v1/admin/experiments/${created.json.id}/start`)).status).toBe(200);
    const acct = await headingForLimit();
    const p = await forecastOf(acct);
    expect(p).toMatchObject({ id: 'forecast-api_calls', experiment_id: created.json.id, body: 'Out of API calls in 6 days (Dec 8).' });
    expect(['control', 'urgent']).toContain(p!.variant_id);
    expect(p!.title).toBe(p!.variant_id === 'control' ? 'Control' : 'Urgent');

    const shipped = await admin('POST', `/v1/admin/experiments/${created.json.id}/ship`, { variant_id: 'urgent' });
    expect(shipped.status, JSON.stringify(shipped.json)).toBe(200);
    const defs = (await admin('GET', '/v1/admin/prompts')).json.prompts as { id: string; kind: string; trigger: unknown; copy: { title: string } }[];
    // a definition narrowed to the metric, with the `*` one's days, carries the shipped copy
    expect(defs.find((d) => d.id === 'forecast-api_calls')).toMatchObject({ kind: 'forecast', trigger: { metric: 'api_calls', days_before: 7 }, copy: { title: 'Urgent' } });
    expect(await forecastOf(acct, 's2')).toMatchObject({ title: 'Urgent', experiment_id: null });
  });
});
