import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { accountQuery } from '../accounts';
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
      historyQuery(db, acct, 'u1', now),
      historyQuery(db, acct, 'u1', now + 400 * 86_400_000),
      historyQuery(db, acct, 'u2', now),
    ]);
    expect(recent.map((r) => r.idempotencyKey)).toEqual(['new']);
    expect(later).toEqual([]);
    expect(other.map((r) => r.idempotencyKey)).toEqual(['other']);
  });
});
