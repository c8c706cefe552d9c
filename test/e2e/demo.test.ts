/**
 * The widget end to end in Debian's Chromium: the demo host app (/demo) served by the real
 * dev worker (wrangler dev, local D1, demo seed, local billing provider), checked against
 * the worker's own API. Each test acts as its own demo user (`&user=`), since frequency caps
 * are per user; the accounts whose plan or seats change are each used by one test only.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { api, audit, d1, demoUrl, e2e, launch, open, poll, shadowText, type Opened } from './browser';
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

/** The demo app in a new tab (a new widget session) as `user` of `account`. */
async function demo(account: string, user: string, role: 'admin' | 'member' = 'admin') {
  const o = await open(ctx, demoUrl(account, role, `&user=${user}`));
  opened.push(o);
  return o;
}

const en = (n: number) => n.toLocaleString('en-US');
/** A notice card by its prompt id (locators pierce the widget's open shadow roots). */
const notice = (o: Opened, promptId: string) => o.page.locator(`ladder-notices section[aria-labelledby="t-${promptId}"]`);
const dialog = (o: Opened) => o.page.locator('ladder-root').getByRole('dialog');
/** Waits until the widget events of this page reached the worker (batched ~1 s, flushed on hide). */
const history = (account: string) => api(`/v1/admin/accounts/${account}/prompt-history`, { admin: true });

describe('meters and notices on the demo app', () => {
  test('meters show the seeded usage, as GET /v1/accounts/:id reports it', async () => {
    const seeded = { acme: 5500, globex: 8000, initech: 9300, umbrella: 10_000, hooli: 2000 };
    for (const [account, apiCalls] of Object.entries(seeded)) {
      const { usage } = await api(`/v1/accounts/${account}`);
      expect(usage.api_calls).toMatchObject({ used: apiCalls, limit: 10_000 });
      const o = await demo(account, `meters-${account}`, 'member');
      for (const metric of ['api_calls', 'seats', 'projects']) {
        const { used, limit, pct } = usage[metric];
        const bar = o.page.locator(`ladder-meter[metric=${metric}]`).getByRole('progressbar');
        await poll(() => bar.getAttribute('aria-valuetext')).toBe(`${en(used)} of ${en(limit)} (${pct}%)`);
        expect(await shadowText(o.page, `ladder-meter[metric=${metric}]`)).toContain(`${en(used)} of ${en(limit)}`);
      }
      expect(o.warnings).toEqual([]);
      await o.page.close();
    }
  });

  test('the right API-calls notice at 55, 80, 93 and 100%', async () => {
    const expected = [
      ['acme', 'limit-api_calls-50', 'halfway', "You're halfway through your API calls"],
      ['globex', 'limit-api_calls-75', 'approaching', 'Approaching your API calls limit'],
      ['initech', 'limit-api_calls-90', 'almost', /93%/],
      ['umbrella', 'limit-api_calls-100', 'reached', 'API calls limit reached'],
    ] as const;
    for (const [account, promptId, intent, title] of expected) {
      const o = await demo(account, `notices-${account}`);
      const card = notice(o, promptId);
      await card.waitFor();
      expect(await card.getAttribute('data-intent')).toBe(intent);
      await expect.poll(() => card.getByRole('heading').textContent()).toMatch(title);
      // one notice per metric: only the highest crossed threshold
      expect(await o.page.locator('ladder-notices section[aria-labelledby^="t-limit-api_calls-"]').count()).toBe(1);
      if (account === 'globex') {
        // 75%: compare with the next plan, from the worker's upgrade options
        await expect.poll(() => card.textContent()).toContain('Pro: $200.00/month · 50,000 API calls');
        expect(await card.getByRole('button', { name: 'Compare plans' }).count()).toBe(1);
      }
      if (account === 'initech') expect(await card.getByRole('button', { name: /^Upgrade/ }).count()).toBe(1);
      if (account === 'umbrella') {
        // 100% is a block: assertive, and no "remind me later"
        expect(await o.page.locator('ladder-notices [aria-live=assertive]').getByRole('heading', { name: title }).count()).toBe(1);
        expect(await card.getByRole('button', { name: 'Remind me later' }).count()).toBe(0);
      }
      await o.page.close();
    }
  });

  test('axe-core finds no serious or critical violation inside the shadow roots on /demo', async () => {
    const o = await demo('initech', 'axe');
    await notice(o, 'limit-api_calls-90').waitFor();
    await o.page.locator('ladder-gate section').waitFor();
    const r = await audit(o.page);
    expect(r.bad).toEqual([]);
    expect(r.passes).toBeGreaterThan(10); // it did look inside the shadow roots
  });

  test('dismissed three times across page loads, the notice stays away; the dismissals are stored', async () => {
    const user = 'dismisser';
    const prompt = 'limit-api_calls-50';
    const mine = async () => (await history('acme')).prompts.find((p: any) => p.user_id === user && p.prompt_id === prompt);
    for (let i = 1; i <= 3; i++) {
      const o = await demo('acme', user); // a new tab: a new session
      await notice(o, prompt).getByRole('button', { name: 'Dismiss' }).click();
      expect(await notice(o, prompt).count()).toBe(0);
      await poll(async () => (await mine())?.dismisses).toBe(i);
      await o.page.reload(); // the same session: it stays dismissed
      await o.page.locator('ladder-meter[metric=api_calls]').getByRole('progressbar').waitFor();
      await o.page.waitForTimeout(500);
      expect(await notice(o, prompt).count()).toBe(0);
      await o.page.close();
    }
    const o = await demo('acme', user);
    await poll(() => o.page.locator('ladder-meter[metric=api_calls]').getByRole('progressbar').getAttribute('aria-valuetext')).toContain('5,500');
    await o.page.waitForTimeout(1000);
    expect(await o.page.locator('ladder-notices section').count()).toBe(0);
    expect(await mine()).toMatchObject({ impressions: 3, dismisses: 3 });
    // a dismissal belongs to its user: another user in the same tab still sees the notice
    await o.page.evaluate(() => {
      const role = document.getElementById('role') as HTMLSelectElement;
      role.value = 'member';
      role.dispatchEvent(new Event('change', { bubbles: true }));
    });
    await notice(o, prompt).waitFor();
  });
});

describe('feature gates, invites and upgrades through the local billing provider', () => {
  test('gate preview → "Start 14-day trial" → the feature is entitled, with trial_ends_at', async () => {
    const o = await demo('globex', 'trialer');
    const gate = o.page.locator('ladder-gate[feature=sso]');
    await gate.getByRole('heading').waitFor();
    expect(await shadowText(o.page, 'ladder-gate')).toContain('identity provider'); // the catalog's description
    expect(await o.page.getByText('SSO is on').isVisible()).toBe(false);
    const before = Date.now();
    await gate.getByRole('button', { name: 'Start 14-day trial' }).click();
    await o.page.getByText('SSO is on').waitFor(); // the host's own content, now allowed
    const ent = await api('/v1/entitlements/globex/sso');
    expect(ent.allowed).toBe(true);
    const days = (Date.parse(ent.trial_ends_at) - before) / DAY_MS;
    expect(days).toBeGreaterThan(13.9);
    expect(days).toBeLessThan(14.1);
    expect((await api('/v1/accounts/globex')).entitlements.sso).toBe(true);
  });

  test('at the seat limit the invite prompt offers "Add seats": a prorated seat upgrade', async () => {
    expect((await api('/v1/accounts/initech')).usage.seats).toMatchObject({ used: 5, limit: 5 });
    const o = await demo('initech', 'inviter');
    const d = dialog(o);
    // the host's own "Invite a teammate" asks Ladder.gate('seats'): at the limit the worker hears it, seats are offered
    await o.page.getByRole('button', { name: 'Invite a teammate' }).click();
    await d.getByRole('heading', { name: 'Add seats' }).waitFor();
    await d.getByRole('button', { name: 'Cancel' }).click();
    await poll(async () =>
      (await history('initech')).events.some((e: any) => e.user_id === 'inviter' && e.type === 'gate_hit' && e.feature_id === 'seats'),
    ).toBe(true);
    const invite = notice(o, 'invite-seats');
    await invite.getByRole('button', { name: 'Add seats' }).click();
    await d.getByRole('heading', { name: 'Add seats' }).waitFor();
    expect(await d.getByRole('spinbutton', { name: 'Seats' }).inputValue()).toBe('6');
    // 6 seats at $10 on top of Starter's $50, prorated to the second for the rest of the month
    await poll(() => d.locator('.msg').textContent()).toMatch(
      /^You will be charged \$\d+\.\d\d now for the remainder of this billing period, then \$110\.00\/month starting \w+ 1, \d{4}\.$/,
    );
    expect(await d.textContent()).toContain('Demo billing — no real charge');
    await d.getByRole('button', { name: 'Confirm upgrade' }).click();
    await d.getByRole('status').waitFor();
    await poll(async () => (await api('/v1/accounts/initech')).seats).toBe(6);
    expect((await api('/v1/accounts/initech')).usage.seats).toMatchObject({ used: 5, limit: 6 });
    await poll(() => o.page.locator('ladder-meter[metric=seats]').getByRole('progressbar').getAttribute('aria-valuetext')).toBe('5 of 6 (83%)');
    await d.getByRole('button', { name: 'Done' }).click();
    // below the limit now: the host's invite flow opens instead
    await o.page.getByRole('button', { name: 'Invite a teammate' }).click();
    await poll(() => o.page.locator('#host-log').textContent()).toBe('The host would open its invite dialog now.');
  });

  test('an admin upgrades through the modal: the preview states real amounts, then the meter limits change', async () => {
    const o = await demo('umbrella', 'upgrader');
    await notice(o, 'limit-api_calls-100').getByRole('button', { name: 'Upgrade' }).click();
    const d = dialog(o);
    await d.getByRole('heading', { name: 'Upgrade your plan' }).waitFor();
    expect(await d.getByRole('radio', { name: /^Pro / }).isChecked()).toBe(true);
    await poll(() => d.locator('.msg').textContent()).toMatch(/^You will be charged \$\d+\.\d\d now .*then \$250\.00\/month starting/);
    // real amounts: (Pro − Starter, each with 5 seats) × the share of the billing period left
    const shown = (await d.locator('.msg').textContent())!;
    const cents = Math.round(Number(shown.match(/\$(\d+\.\d\d) now/)![1]) * 100);
    const { plans } = await api('/v1/catalog');
    const price = (id: string) => {
      const p = plans.find((q: { id: string }) => q.id === id);
      return p.price_cents + 5 * p.seat_price_cents;
    };
    const { period_start, period_end } = await api('/v1/accounts/umbrella');
    const left = (Date.parse(period_end) - Date.now()) / (Date.parse(period_end) - Date.parse(period_start));
    expect(Math.abs(cents - (price('pro') - price('starter')) * left)).toBeLessThan(5);
    expect(await d.textContent()).toContain('50,000 API calls'); // what Pro includes
    expect((await audit(o.page)).bad).toEqual([]); // the dialog too
    await d.getByRole('button', { name: 'Confirm upgrade' }).click();
    await d.getByRole('status').waitFor();
    const account = await api('/v1/accounts/umbrella');
    expect(account.plan_id).toBe('pro');
    expect(account.usage.api_calls).toMatchObject({ used: 10_000, limit: 50_000 });
    await poll(() => shadowText(o.page, 'ladder-meter[metric=api_calls]')).toContain('10,000 of 50,000');
    await d.getByRole('button', { name: 'Done' }).click();
    await poll(() => notice(o, 'limit-api_calls-100').count()).toBe(0);
  });

  test('a member sees the ask-your-admin flow; the request is stored and a member cannot buy', async () => {
    const o = await demo('globex', 'asker', 'member');
    await notice(o, 'limit-api_calls-75').getByRole('button', { name: 'Compare plans' }).click();
    const d = dialog(o);
    await d.getByRole('heading', { name: 'Ask your admin' }).waitFor();
    expect(await d.getByRole('button', { name: 'Confirm upgrade' }).count()).toBe(0);
    await d.getByRole('radio', { name: /^Business / }).check();
    await d.getByRole('textbox', { name: /Note/ }).fill('We keep hitting the API limit');
    const answered = o.page.waitForResponse((r) => r.url().endsWith('/v1/widget/upgrade-requests'));
    await d.getByRole('button', { name: 'Send request' }).click();
    const res = await answered;
    expect(res.status()).toBe(201);
    const body = await res.json();
    expect(body).toMatchObject({ account_id: 'globex', user_id: 'asker', plan_id: 'business', note: 'We keep hitting the API limit' });
    await d.getByText('Request sent').waitFor();
    const rows = await d1(`SELECT account_id, user_id, plan_id, note FROM upgrade_requests WHERE id = '${body.id}'`);
    expect(rows).toEqual([{ account_id: 'globex', user_id: 'asker', plan_id: 'business', note: 'We keep hitting the API limit' }]);
    // and the worker refuses a member's purchase outright
    const { token } = await (await fetch(`${e2e.base}/demo/token?account=globex&role=member&user=asker`)).json();
    const upgrade = await fetch(`${e2e.base}/v1/widget/upgrade`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ plan_id: 'business', proration_date: Math.floor(Date.now() / 1000), idempotency_key: 'e2e-member-upgrade' }),
    });
    expect(upgrade.status).toBe(403);
    expect((await upgrade.json()).error.code).toBe('admin_required');
    expect((await api('/v1/accounts/globex')).plan_id).toBe('starter');

    // the account's admins see the request in the product, and one declines it
    const boss = await demo('globex', 'boss-of-asker', 'admin');
    const card = boss.page.locator('ladder-root section[data-kind=upgrade_request]').filter({ hasText: 'We keep hitting the API limit' });
    await card.getByRole('heading', { name: /asks for Business/ }).waitFor();
    await card.getByRole('button', { name: 'Decline' }).click();
    await poll(() => card.count()).toBe(0);
    expect(await d1(`SELECT status FROM upgrade_requests WHERE id = '${body.id}'`)).toEqual([{ status: 'declined' }]);
  });

  test('keyboard only: Tab to the gate, upgrade, confirm, Done — focus stays in the dialog', async () => {
    const o = await demo('hooli', 'keyboard');
    const { page } = o;
    await page.locator('ladder-gate section').waitFor();
    /** The focused element's accessible text, looking inside shadow roots. */
    const focused = () =>
      page.evaluate(() => {
        let a = document.activeElement;
        while (a?.shadowRoot?.activeElement) a = a.shadowRoot.activeElement;
        return `${a?.closest('dialog') ? 'dialog:' : ''}${a?.getAttribute('aria-label') ?? a?.textContent?.trim() ?? a?.tagName}`;
      });
    const tabTo = async (label: string, max = 30) => {
      for (let i = 0; i < max && (await focused()) !== label; i++) await page.keyboard.press('Tab');
      expect(await focused()).toBe(label);
    };
    await tabTo('Upgrade to Business');
    await page.keyboard.press('Enter');
    const d = dialog(o);
    await poll(() => d.locator('.msg').textContent()).toMatch(/then \$850\.00\/month/);
    await poll(() => d.getByRole('button', { name: 'Confirm upgrade' }).isEnabled()).toBe(true);
    // Tab cycles inside the modal
    for (let i = 0; i < 8; i++) {
      await page.keyboard.press('Tab');
      expect(await focused()).toMatch(/^dialog:/);
    }
    await tabTo('dialog:Confirm upgrade', 10);
    await page.keyboard.press('Enter');
    await d.getByRole('status').waitFor();
    expect(await focused()).toBe('dialog:Done');
    await page.keyboard.press('Enter');
    await poll(() => d.count()).toBe(0);
    const account = await api('/v1/accounts/hooli');
    expect(account.plan_id).toBe('business');
    expect(account.entitlements.sso).toBe(true);
    await page.getByText('SSO is on').waitFor(); // the gate now shows the host's content
  });
});
