import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN, api, seedAccount, uid, userToken } from '../test/api';
import { DAY_MS } from '../../shared/time';

const defaults = { events: ['core_feature_activated'], min_events: 1, min_age_days: 0 };
const put = (body: unknown) => api('PUT', '/v1/admin/activation', { token: ADMIN, body });
const track = (acct: string, events: string[]) =>
  api('POST', '/v1/track', { body: { events: events.map((event) => ({ account_id: acct, event, idempotency_key: uid('k') })) } });
const shown = async (acct: string) =>
  (await api('GET', '/v1/widget/state?session=s1', { token: await userToken({ acct, sub: 'ana' }) })).json.prompts.map((p: { id: string }) => p.id);

/** An account created today at `pct`% of its API calls. */
async function accountAt(pct: number) {
  const acct = uid();
  await seedAccount(acct, { created_at: Date.now() });
  await api('POST', '/v1/usage', { body: { events: [{ account_id: acct, metric: 'api_calls', value: pct * 100, idempotency_key: 'u' }] } });
  return acct;
}

afterEach(async () => {
  await put(defaults);
});

describe('activation rule', () => {
  it('defaults to one core_feature_activated at any age', async () => {
    const res = await api('GET', '/v1/admin/activation', { token: ADMIN });
    expect(res.status).toBe(200);
    expect(res.json).toEqual(defaults);
    const acct = await accountAt(93);
    expect(await shown(acct)).toEqual([]);
    await track(acct, ['core_feature_activated']);
    expect(await shown(acct)).toEqual(['limit-api_calls-90']);
  });

  it('a PM-set rule counts any of its events up to the minimum, and hard blocks show before it', async () => {
    const rule = { events: ['project_created', 'report_shared'], min_events: 3, min_age_days: 0 };
    expect((await put(rule)).json).toEqual(rule);
    expect((await api('GET', '/v1/admin/activation', { token: ADMIN })).json).toEqual(rule);
    const acct = await accountAt(93);
    await track(acct, ['core_feature_activated', 'project_created', 'report_shared']);
    expect(await shown(acct)).toEqual([]);
    await track(acct, ['project_created']);
    expect(await shown(acct)).toEqual(['limit-api_calls-90']);
    const full = await accountAt(100);
    expect(await shown(full)).toEqual(['limit-api_calls-100']);
  });

  it('a minimum age holds back soft prompts from a young account', async () => {
    await put({ events: ['core_feature_activated'], min_age_days: 7 });
    const young = await accountAt(93);
    await track(young, ['core_feature_activated']);
    expect(await shown(young)).toEqual([]);
    const old = uid();
    await seedAccount(old, { created_at: Date.now() - 8 * DAY_MS });
    await api('POST', '/v1/usage', { body: { events: [{ account_id: old, metric: 'api_calls', value: 9300, idempotency_key: 'u' }] } });
    await track(old, ['core_feature_activated']);
    expect(await shown(old)).toEqual(['limit-api_calls-90']);
  });

  it.each([
    [{ events: [], min_events: 1 }, 'events'],
    [{ events: ['a', 'a'] }, 'events'],
    [{ events: ['core_feature_activated'], min_events: 0 }, 'min_events'],
    [{ events: ['core_feature_activated'], min_age_days: 1.5 }, 'min_age_days'],
    [{ events: ['core_feature_activated'], minimum: 2 }, 'minimum'],
  ])('refuses %j naming the field', async (body, path) => {
    const res = await put(body);
    expect(res.status).toBe(400);
    expect(res.json.error.details.map((d: { path: string }) => d.path)).toContain(path);
    expect((await api('GET', '/v1/admin/activation', { token: ADMIN })).json).toEqual(defaults);
  });
});
