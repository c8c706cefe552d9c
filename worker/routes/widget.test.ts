import { afterEach, describe, expect, it, vi } from 'vitest';
import { api, DAY, flushCounters, seedAccount, taken, uid, userToken } from '../test/api';

afterEach(() => {
  vi.useRealTimers();
});

describe('widget state', () => {
  it('has account, meters with threshold and projection, features and upgrade options in one call', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const start = Date.UTC(2026, 10, 1);
    vi.setSystemTime(start + 15 * DAY);
    const acct = uid();
    await seedAccount(acct, { period_start: start, period_end: Date.UTC(2026, 11, 1) });
    await api('POST', '/v1/usage', {
      body: {
        events: [
          { account_id: acct, metric: 'api_calls', value: 9100, idempotency_key: 'a' },
          { account_id: acct, metric: 'seats', value: 4, mode: 'set', idempotency_key: 'b' },
        ],
      },
    });
    const res = await api('GET', '/v1/widget/state?session=s1&path=/settings', { token: await userToken({ acct }) });
    expect(res.status).toBe(200);
    expect(res.json.account).toEqual({
      id: acct,
      name: acct,
      role: 'admin',
      plan: { id: 'starter', name: 'Starter', price_cents: 5000, currency: 'usd', interval: 'month' },
      seats: { used: 4, limit: 5 },
    });
    expect(res.json.meters[0]).toEqual({
      metric: 'api_calls', name: 'API calls', unit: 'call', kind: 'counter', used: 9100, limit: 10000, pct: 91, threshold: 90,
      period_end: '2026-12-01T00:00:00.000Z', projected_at_period_end: 18200,
      // A brand-new account has no whole day of history to forecast from.
      forecast: { limit_at: null, days_to_limit: null },
    });
    expect(res.json.features.sso).toEqual({ name: 'Single sign-on', description: 'SAML SSO', trial_days: 14, entitled: false, trial_available: true, trial_ends_at: null, required_plan: 'business' });
    expect(res.json.upgrade_options.map((o: { plan_id: string }) => o.plan_id)).toEqual(['pro', 'business']);
    expect(res.json.caps).toEqual({ session_prompts_left: expect.any(Number) });
    expect(Array.isArray(res.json.prompts)).toBe(true);
  });

  it('a meter says when the limit will be reached at the recent daily rate', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const now = Date.UTC(2026, 11, 2, 12);
    vi.setSystemTime(now);
    const acct = uid();
    await seedAccount(acct, { created_at: now - 60 * DAY, period_start: Date.UTC(2026, 10, 18), period_end: Date.UTC(2026, 11, 18) });
    // 500 calls on each of the last 14 days: 7,000 used, 3,000 left → 6 days at 500 a day.
    const events = Array.from({ length: 14 }, (_, i) => ({ account_id: acct, metric: 'api_calls', value: 500, idempotency_key: `d${i}`, timestamp: now - (i + 1) * DAY }));
    expect((await api('POST', '/v1/usage', { body: { events } })).json).toEqual(taken(14));
    await flushCounters(acct); // the forecast reads the daily roll-ups in D1: with account objects, written on the flush
    const token = await userToken({ acct });
    const state = async () => (await api('GET', '/v1/widget/state?session=s1', { token })).json;
    const meter = (await state()).meters.find((m: { metric: string }) => m.metric === 'api_calls');
    expect(meter).toMatchObject({ used: 7000, limit: 10000, forecast: { limit_at: '2026-12-08T12:00:00.000Z', days_to_limit: 6 } });
    // Gauges are set, not used up: no forecast.
    expect((await state()).meters.find((m: { metric: string }) => m.metric === 'seats').forecast).toEqual({ limit_at: null, days_to_limit: null });
    // A slower pace that will not reach the limit before the period ends (Dec 18) has no date.
    const slow = uid();
    await seedAccount(slow, { created_at: now - 60 * DAY, period_start: Date.UTC(2026, 10, 18), period_end: Date.UTC(2026, 11, 18) });
    await api('POST', '/v1/usage', { body: { events: Array.from({ length: 14 }, (_, i) => ({ account_id: slow, metric: 'api_calls', value: 100, idempotency_key: `d${i}`, timestamp: now - (i + 1) * DAY })) } });
    const slowMeter = (await api('GET', '/v1/widget/state?session=s1', { token: await userToken({ acct: slow }) })).json.meters[0];
    expect(slowMeter.forecast).toEqual({ limit_at: null, days_to_limit: null });
  });

  it('needs a session id and refuses unknown parameters', async () => {
    const acct = uid();
    await seedAccount(acct);
    const token = await userToken({ acct });
    expect((await api('GET', '/v1/widget/state', { token })).json.error.details[0].path).toBe('session');
    expect((await api('GET', '/v1/widget/state?session=s&acct=other', { token })).status).toBe(400);
  });
});
