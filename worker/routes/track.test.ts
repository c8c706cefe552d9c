import { describe, expect, it } from 'vitest';
import { api, env, QUEUED, seedAccount, taken, uid } from '../test/api';

const track = (events: unknown[]) => api('POST', '/v1/track', { body: { events } });

describe('behavioural events', () => {
  it('are stored once per idempotency key, also when retried concurrently', async () => {
    const acct = uid();
    await seedAccount(acct);
    const events = [
      { account_id: acct, user_id: 'u1', event: 'user_active', idempotency_key: 'a' },
      { account_id: acct, user_id: 'u1', event: 'teammate_invited', idempotency_key: 'b', properties: { email_domain: 'acme.com' } },
      { account_id: acct, event: 'custom_thing', idempotency_key: 'c' },
    ];
    const results = await Promise.all([track(events), track(events), track(events)]);
    // Stored at once, the three answers count each event as new once; queued, each answers 3 queued.
    if (QUEUED) expect(results.map((r) => r.json)).toEqual([taken(3), taken(3), taken(3)]);
    else expect(results.reduce((s, r) => s + r.json.accepted, 0)).toBe(3);
    const row = await env.DB.prepare('SELECT count(*) AS n FROM track_events WHERE account_id = ?').bind(acct).first<{ n: number }>();
    expect(row?.n).toBe(3);
  });

  it('the first core_feature_activated marks the account activated', async () => {
    const acct = uid();
    await seedAccount(acct);
    await track([{ account_id: acct, event: 'core_feature_activated', idempotency_key: 'x', timestamp: '2026-11-02T10:00:00Z' }]);
    expect((await api('GET', `/v1/accounts/${acct}`)).json.activated_at).toBe('2026-11-02T10:00:00.000Z');
  });

  it('refuses unknown accounts and bad events whole', async () => {
    const acct = uid();
    await seedAccount(acct);
    const res = await track([
      { account_id: acct, event: 'user_active', idempotency_key: 'ok' },
      { account_id: 'ghost', event: 'user_active', idempotency_key: 'x' },
    ]);
    expect(res.status).toBe(404);
    expect(res.json.error.details[0].path).toBe('events.1.account_id');
    const bad = await track([{ account_id: acct, event: 'user_active', idempotency_key: 'y', properties: { nested: { no: 1 } } }]);
    expect(bad.status).toBe(400);
    expect(bad.json.error.details[0].path).toMatch(/^events\.0\.properties/);
    const row = await env.DB.prepare('SELECT count(*) AS n FROM track_events WHERE account_id = ?').bind(acct).first<{ n: number }>();
    expect(row?.n).toBe(0);
  });
});
