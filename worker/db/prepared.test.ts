import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { accountQuery } from '../accounts';
import { HISTORY_LIMIT } from '../../shared/promptInput';
import { historyQuery } from '../prompts';
import { env, seedAccount, uid } from '../test/api';
import { database, mixedBatch } from '.';
import { accounts, promptEvents } from './schema';

describe('preparedOnce: statements rendered once per isolate, bound per call', () => {
  it('each call binds its own values and maps rows exactly as drizzle maps the builder', async () => {
    const [a, b] = [uid(), uid()];
    await seedAccount(a, { seats: 3 });
    await seedAccount(b, { seats: 7 });
    const db = database(env.DB);
    const [rowsA, rowsB, missing] = await mixedBatch(db, [accountQuery(db, { id: a }), accountQuery(db, { id: b }), accountQuery(db, { id: uid() })]);
    expect(rowsA).toEqual(await db.select().from(accounts).where(eq(accounts.id, a)));
    expect(rowsB).toEqual(await db.select().from(accounts).where(eq(accounts.id, b)));
    expect(rowsA.map((r) => r.seats)).toEqual([3]);
    expect(rowsB.map((r) => r.seats)).toEqual([7]);
    expect(missing).toEqual([]);
  });

  it('a value computed per call (the history window) is bound per call', async () => {
    const acct = uid();
    await seedAccount(acct);
    const db = database(env.DB);
    const now = Date.now();
    await db.insert(promptEvents).values([
      { accountId: acct, idempotencyKey: 'old', userId: 'u1', sessionId: 's', type: 'impression', promptId: 'p', timestamp: now - 200 * 86_400_000 },
      { accountId: acct, idempotencyKey: 'new', userId: 'u1', sessionId: 's', type: 'dismiss', promptId: 'p', timestamp: now - 1000 },
      { accountId: acct, idempotencyKey: 'other', userId: 'u2', sessionId: 's', type: 'dismiss', promptId: 'p', timestamp: now - 1000 },
    ]);
    const [recent, later, other] = await mixedBatch(db, [
      historyQuery(db, acct, 'u1', now, 's'),
      historyQuery(db, acct, 'u1', now + 400 * 86_400_000, 's'),
      historyQuery(db, acct, 'u2', now, 's'),
    ]);
    expect(recent).toEqual([{ promptId: 'p', type: 'dismiss', sessionId: 's', featureId: null, timestamp: now - 1000 }]);
    expect(later).toEqual([]);
    expect(other.map((r) => r.type)).toEqual(['dismiss']);
  });

  it('the history carries only what the caps read: no clicks, invites or other sessions\' gate hits; the window still counts every event', async () => {
    const acct = uid();
    await seedAccount(acct);
    const db = database(env.DB);
    const now = Date.now();
    const event = (key: string, type: string, at: number, extra: Partial<typeof promptEvents.$inferInsert> = {}) =>
      ({ accountId: acct, idempotencyKey: key, userId: 'u1', sessionId: 's', type, promptId: 'p', timestamp: now - at, ...extra }) as const;
    await db.insert(promptEvents).values([
      event('imp', 'impression', 9000),
      event('dis', 'dismiss', 8000),
      event('snz', 'snooze', 7000),
      event('clk', 'click', 6000),
      event('inv', 'invite_sent', 5000, { promptId: null }),
      event('gate-here', 'gate_hit', 4000, { promptId: null, featureId: 'sso' }),
      event('gate-there', 'gate_hit', 3000, { promptId: null, featureId: 'sso', sessionId: 'other' }),
    ]);
    const [here, there] = await mixedBatch(db, [historyQuery(db, acct, 'u1', now, 's'), historyQuery(db, acct, 'u1', now, 'other')]);
    const kinds = (rows: typeof here) => rows.map((r) => `${r.type}@${r.sessionId}`).sort();
    expect(kinds(here)).toEqual(['dismiss@s', 'gate_hit@s', 'impression@s', 'snooze@s']);
    expect(kinds(there)).toEqual(['dismiss@s', 'gate_hit@other', 'impression@s', 'snooze@s']);
    // HISTORY_LIMIT clicks newer than all of those push them out of the window, as the rule simulator replays it
    await env.DB.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
       INSERT INTO prompt_events (account_id, idempotency_key, user_id, session_id, type, prompt_id, timestamp)
       SELECT ?, 'click-' || i, 'u1', 's', 'click', 'p', ? + i % 2000 FROM n`,
    )
      .bind(HISTORY_LIMIT, acct, now - 2999)
      .run();
    const [pushed] = await mixedBatch(db, [historyQuery(db, acct, 'u1', now, 's')]);
    expect(pushed).toEqual([]);
  });
});
