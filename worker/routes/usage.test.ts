import { afterEach, describe, expect, it, vi } from 'vitest';
import { apiWith, COUNTERS, DAY, QUEUED, seedAccount, TAKEN, taken, uid } from '../test/api';

afterEach(() => {
  vi.useRealTimers();
});

// Every behaviour holds with the counters in D1 and in a Durable Object per account.
describe.each(COUNTERS)('with LADDER_COUNTERS=$LADDER_COUNTERS', (counters) => {
  const api = (...args: Parameters<typeof apiWith> extends [unknown, ...infer R] ? R : never) => apiWith(counters, ...args);
  const usage = (events: unknown[]) => api('POST', '/v1/usage', { body: { events } });
  const used = async (acct: string, metric = 'api_calls') => (await api('GET', `/v1/accounts/${acct}`)).json.usage[metric];

  describe('usage metering', () => {
    it('applies a batch, counts duplicates, and a retried batch changes nothing', async () => {
      const acct = uid();
      await seedAccount(acct);
      const events = [
        { account_id: acct, metric: 'api_calls', value: 120, idempotency_key: 'a' },
        { account_id: acct, metric: 'api_calls', value: 30, idempotency_key: 'b' },
        { account_id: acct, metric: 'seats', value: 4, mode: 'set', idempotency_key: 'c' },
      ];
      expect((await usage(events)).json).toEqual(taken(3, 0));
      expect((await usage(events)).json).toEqual(taken(0, 3));
      expect(await used(acct)).toEqual({ used: 150, limit: 10000, pct: 1 });
      expect(await used(acct, 'seats')).toEqual({ used: 4, limit: 5, pct: 80 });
    });

    it('the same batch sent 3 times concurrently is applied once', async () => {
      const acct = uid();
      await seedAccount(acct);
      const events = Array.from({ length: 50 }, (_, i) => ({ account_id: acct, metric: 'api_calls', value: 2, idempotency_key: `k${i}` }));
      const results = await Promise.all([usage(events), usage(events), usage(events)]);
      expect(results.map((r) => r.status)).toEqual([TAKEN, TAKEN, TAKEN]);
      // Stored at once, the three answers split the 150 events into 50 new and 100 seen; queued, each is 50 queued.
      if (QUEUED) expect(results.map((r) => r.json)).toEqual([taken(50), taken(50), taken(50)]);
      else {
        expect(results.reduce((s, r) => s + r.json.accepted, 0)).toBe(50);
        expect(results.reduce((s, r) => s + r.json.duplicates, 0)).toBe(100);
      }
      expect((await used(acct)).used).toBe(100);
    });

    it('100 concurrent increments of 1 end with exactly 100', async () => {
      const acct = uid();
      await seedAccount(acct);
      await Promise.all(Array.from({ length: 100 }, (_, i) => usage([{ account_id: acct, metric: 'api_calls', value: 1, idempotency_key: `c${i}` }])));
      expect((await used(acct)).used).toBe(100);
    });

    it('a duplicate key inside one batch counts once', async () => {
      const acct = uid();
      await seedAccount(acct);
      const res = await usage([
        { account_id: acct, metric: 'api_calls', value: 5, idempotency_key: 'same' },
        { account_id: acct, metric: 'api_calls', value: 7, idempotency_key: 'same' },
      ]);
      expect(res.json).toEqual(taken(1, 1));
      expect((await used(acct)).used).toBe(5);
    });

    it('a batch naming an unknown account or metric is refused whole, with the paths', async () => {
      const acct = uid();
      await seedAccount(acct);
      const res = await usage([
        { account_id: acct, metric: 'api_calls', value: 5, idempotency_key: 'ok' },
        { account_id: 'nobody', metric: 'api_calls', value: 5, idempotency_key: 'x' },
        { account_id: acct, metric: 'nothing', value: 5, idempotency_key: 'y' },
      ]);
      expect(res.status).toBe(404);
      expect(res.json.error.details.map((d: { path: string }) => d.path)).toEqual(['events.1.account_id', 'events.2.metric']);
      expect((await used(acct)).used).toBe(0);
    });

    it('bad inputs get a 4xx naming the field and write nothing', async () => {
      const acct = uid();
      await seedAccount(acct);
      const ok = { account_id: acct, metric: 'api_calls', value: 1, idempotency_key: 'k' };
      const cases: [unknown, number, string][] = [
        [{ events: [{ ...ok, value: -1 }] }, 400, 'events.0.value'],
        [{ events: [{ ...ok, value: '1' }] }, 400, 'events.0.value'],
        [{ events: [{ ...ok, value: 1.5 }] }, 400, 'events.0.value'],
        [{ events: [{ ...ok, valu: 1 }] }, 400, 'events.0.valu'],
        [{ events: [{ ...ok, mode: 'add' }] }, 400, 'events.0.mode'],
        [{ events: [{ ...ok, idempotency_key: '' }] }, 400, 'events.0.idempotency_key'],
        [{ events: [{ ...ok, timestamp: 'yesterday' }] }, 400, 'events.0.timestamp'],
        [{ events: [] }, 400, 'events'],
        [{ events: Array.from({ length: 1001 }, (_, i) => ({ ...ok, idempotency_key: `k${i}` })) }, 400, 'events'],
        [{ events: [{ ...ok, mode: 'set' }] }, 422, 'events.0.mode'],
        [[ok], 400, ''],
      ];
      for (const [body, status, path] of cases) {
        const r = await api('POST', '/v1/usage', { body });
        expect(r.status, JSON.stringify(body).slice(0, 80)).toBe(status);
        expect(r.json.error.details.map((d: { path: string }) => d.path), path).toContain(path);
      }
      expect((await used(acct)).used).toBe(0);
    });

    it('malformed JSON is 400 and a body over 1 MiB is 413', async () => {
      const bad = await api('POST', '/v1/usage', { raw: '{"events": [', headers: { 'content-type': 'application/json' } });
      expect(bad.status).toBe(400);
      expect(bad.json.error.code).toBe('invalid_json');
      const huge = await api('POST', '/v1/usage', { raw: JSON.stringify({ events: [], pad: 'x'.repeat(1024 * 1024) }) });
      expect(huge.status).toBe(413);
      expect(huge.json.error.code).toBe('body_too_large');
    });

    it('a counter resets at the account period boundary; a gauge does not', async () => {
      vi.useFakeTimers({ toFake: ['Date'] });
      const start = Date.UTC(2026, 10, 1);
      vi.setSystemTime(start + 10 * DAY);
      const acct = uid();
      await seedAccount(acct, { period_start: start, period_end: Date.UTC(2026, 11, 1) });
      await usage([
        { account_id: acct, metric: 'api_calls', value: 9000, idempotency_key: 'nov' },
        { account_id: acct, metric: 'projects', value: 2, mode: 'set', idempotency_key: 'p' },
      ]);
      expect((await used(acct)).used).toBe(9000);
      vi.setSystemTime(Date.UTC(2026, 11, 1)); // the first instant of the next period
      expect((await used(acct)).used).toBe(0);
      expect((await used(acct, 'projects')).used).toBe(2);
      await usage([{ account_id: acct, metric: 'api_calls', value: 10, idempotency_key: 'dec' }]);
      expect((await used(acct)).used).toBe(10);
      // A late event stamped in the old period does not touch the new period's counter.
      await usage([{ account_id: acct, metric: 'api_calls', value: 500, idempotency_key: 'late', timestamp: start + 20 * DAY }]);
      expect((await used(acct)).used).toBe(10);
    });

    it('an older gauge value arriving late never overwrites a newer one', async () => {
      const acct = uid();
      await seedAccount(acct);
      const now = Date.now();
      await usage([{ account_id: acct, metric: 'seats', value: 5, mode: 'set', idempotency_key: 'new', timestamp: now }]);
      await usage([{ account_id: acct, metric: 'seats', value: 2, mode: 'set', idempotency_key: 'old', timestamp: now - 60_000 }]);
      expect((await used(acct, 'seats')).used).toBe(5);
    });

    it('reaching 100% records the limit_hit behaviour once per period', async () => {
      const acct = uid();
      await seedAccount(acct);
      await usage([{ account_id: acct, metric: 'api_calls', value: 10000, idempotency_key: 'a' }]);
      await usage([{ account_id: acct, metric: 'api_calls', value: 5, idempotency_key: 'b' }]);
      const { env } = await import('../test/api');
      const rows = await env.DB.prepare("SELECT count(*) AS n FROM track_events WHERE account_id = ? AND event = 'limit_hit'").bind(acct).first<{ n: number }>();
      expect(rows?.n).toBe(1);
    });
  });

  describe('check-and-record', () => {
    it('50 parallel checks of 1 against 10 remaining allow exactly 10', async () => {
      const acct = uid();
      await seedAccount(acct);
      await usage([{ account_id: acct, metric: 'api_calls', value: 9990, idempotency_key: 'base' }]);
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) => api('POST', '/v1/check', { body: { account_id: acct, metric: 'api_calls', amount: 1, idempotency_key: `chk${i}` } })),
      );
      expect(results.filter((r) => r.json.allowed).length).toBe(10);
      expect((await used(acct)).used).toBe(10000);
      const denied = results.find((r) => !r.json.allowed)!;
      expect(denied.json).toMatchObject({ allowed: false, used: 10000, limit: 10000, remaining: 0, required_plan: 'pro' });
    });

    it('a retried check with the same key records once and answers allowed', async () => {
      const acct = uid();
      await seedAccount(acct);
      const body = { account_id: acct, metric: 'projects', amount: 1, idempotency_key: 'proj-1' };
      const first = await api('POST', '/v1/check', { body });
      const again = await api('POST', '/v1/check', { body });
      expect(first.json).toEqual({ allowed: true, used: 1, limit: 3, remaining: 2 });
      expect(again.json).toEqual({ allowed: true, used: 1, limit: 3, remaining: 2 });
    });

    it('checks a feature by plan and trial, and names the plan that has it', async () => {
      const acct = uid();
      await seedAccount(acct);
      expect((await api('POST', '/v1/check', { body: { account_id: acct, feature: 'sso' } })).json).toEqual({ allowed: false, required_plan: 'business' });
      expect((await api('GET', `/v1/entitlements/${acct}/audit_log`)).json).toEqual({ allowed: false, required_plan: 'pro' });
      expect((await api('GET', `/v1/entitlements/${acct}/api_calls`)).json).toEqual({ allowed: true, used: 0, limit: 10000, remaining: 10000 });
      expect((await api('GET', `/v1/entitlements/${acct}/nope`)).status).toBe(404);
      expect((await api('POST', '/v1/check', { body: { account_id: acct, feature: 'sso', extra: 1 } })).status).toBe(400);
      expect((await api('POST', '/v1/check', { body: { account_id: 'ghost', feature: 'sso' } })).status).toBe(404);
    });
  });
});
