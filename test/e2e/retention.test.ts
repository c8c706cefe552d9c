/**
 * Keeping customers end to end in Debian's Chromium: the demo app's "Manage plan" on the real
 * dev worker (local billing provider), checked against the worker's own API. Each test uses
 * an account of its own, created here on Pro with a period around now.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { api, demoUrl, launch, open, poll, type Opened } from './browser';
import { DAY_MS } from '../../shared/time';

let ctx: Awaited<ReturnType<typeof launch>>;
const opened: Opened[] = [];

beforeAll(async () => {
  ctx = await launch();
});
afterAll(() => ctx?.dispose());
afterEach(async () => {
  for (const o of opened.splice(0)) {
    expect(o.errors, 'no uncaught errors on the host page').toEqual([]);
    await o.page.close();
  }
});

/** A fresh account on Pro, 15 days into a 30-day period, and the demo app as its admin. */
async function proAccount(name: string) {
  const id = `${name}-${Date.now().toString(36)}`;
  const now = Date.now();
  await api(`/v1/accounts/${id}`, { method: 'PUT', body: { name, plan_id: 'pro', seats: 0, created_at: now - 60 * DAY_MS, period_start: now - 15 * DAY_MS, period_end: now + 15 * DAY_MS } });
  const o = await open(ctx, demoUrl(id, 'admin', `&user=${id}-admin`));
  opened.push(o);
  await o.page.locator('ladder-plan').getByRole('button', { name: 'Manage plan' }).click();
  return { id, o, dialog: o.page.locator('ladder-root').getByRole('dialog') };
}

describe('Manage plan on the demo app', () => {
  test('an admin switches Pro to yearly, charged what the preview said', async () => {
    const { id, dialog } = await proAccount('yearly');
    await dialog.getByRole('button', { name: 'Switch to yearly · Save $480.00 a year' }).click();
    const message = dialog.getByText(/^You will be charged \$\d[\d,]*\.\d\d now for a year of Pro/);
    await message.waitFor();
    const charged = /charged (\$[\d,.]+) now/.exec((await message.textContent())!)![1]!;
    await dialog.getByRole('button', { name: 'Switch to yearly' }).click();
    await dialog.getByText(`You are now on Pro, billed yearly. ${charged} was charged (local billing, no real payment).`).waitFor();
    await poll(async () => (await api(`/v1/accounts/${id}`)).period_end).toMatch(new RegExp(`^${new Date(Date.now() + 365 * DAY_MS).getUTCFullYear()}`));
  });

  test('an admin schedules a downgrade and undoes it', async () => {
    const { dialog } = await proAccount('downgrade');
    await dialog.getByRole('button', { name: 'Downgrade' }).click();
    await dialog.getByRole('radio', { name: /Starter/ }).check();
    await dialog.getByText(/^Your plan changes to Starter on .*You lose Audit log, Advanced analytics\./).waitFor();
    await dialog.getByRole('button', { name: 'Schedule downgrade' }).click();
    await dialog.getByText(/^Your plan changes to Starter on/).first().waitFor();
    await dialog.getByRole('button', { name: 'Undo' }).click();
    await dialog.getByText('Undone: your plan stays as it is.').waitFor();
    expect(await dialog.getByRole('button', { name: 'Undo' }).count()).toBe(0);
  });

  test('cancel → offer → accept keeps the account; cancel → decline schedules the cancellation', async () => {
    const saved = await proAccount('save');
    await saved.dialog.getByRole('button', { name: 'Cancel plan' }).click();
    await saved.dialog.getByRole('radio', { name: 'It costs too much' }).check();
    await saved.dialog.getByRole('button', { name: 'Continue' }).click();
    await saved.dialog.getByText('Keep Pro at 25% off for the next 3 months.').waitFor();
    await saved.dialog.getByRole('button', { name: 'Accept offer' }).click();
    await saved.dialog.getByText('Done: 25% off for the next 3 months.').waitFor();
    expect((await api(`/v1/accounts/${saved.id}`)).status).toBe('active');

    const lost = await proAccount('decline');
    await lost.dialog.getByRole('button', { name: 'Cancel plan' }).click();
    await lost.dialog.getByRole('radio', { name: 'Something else' }).check();
    await lost.dialog.getByRole('button', { name: 'Continue' }).click();
    await lost.dialog.getByRole('button', { name: 'Cancel at the end of the period' }).click();
    await lost.dialog.getByText(/^Your plan ends on/).first().waitFor();
    const saves = await api('/v1/admin/analytics/saves', { admin: true });
    expect(saves.reasons.find((r: { reason: string }) => r.reason === 'too_expensive').offers_accepted).toBeGreaterThanOrEqual(1);
    expect(saves.reasons.find((r: { reason: string }) => r.reason === 'other').canceled).toBeGreaterThanOrEqual(1);
  });
});
