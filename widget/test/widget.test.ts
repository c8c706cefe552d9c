/**
 * The widget in Debian's Chromium against the fixture API (component level; the
 * end-to-end tests against the real worker live in test/).
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import {
  gatePrompt,
  hostPage,
  invitePrompt,
  limitPrompt,
  makeToken,
  startFixtureApi,
  widgetState,
  type FixtureApi,
} from './fixtureApi';
import type { Preview } from '../src/types';
import { build, KEEP_BUILDS } from '../build.mjs';

let fx: FixtureApi;
let ctx: BrowserContext;
let profile: string;

beforeAll(async () => {
  execFileSync(process.execPath, [fileURLToPath(new URL('../build.mjs', import.meta.url))]);
  fx = await startFixtureApi();
  profile = await mkdtemp(join(tmpdir(), 'ladder-widget-'));
  ctx = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}, 60_000);

afterAll(async () => {
  await ctx?.close();
  await fx?.close();
  if (profile) await rm(profile, { recursive: true, force: true });
});

/** Retries an assertion until it holds (a loaded CI machine can be slow, so generously). */
/** The fixture's preview as a charge (not routed to sales). */
const charged = (p: Preview) => {
  if (p.route) throw new Error('expected a preview with a charge, not one routed to sales');
  return p;
};
const poll = <T>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: 10_000, interval: 50 });

const pages: Page[] = [];
beforeEach(() => fx.reset());
afterEach(async () => {
  await Promise.all(pages.splice(0).map((p) => p.close()));
});

/** Text rendered inside an element's shadow root. */
const shadowText = (page: Page, selector: string) =>
  page.locator(selector).first().evaluate((el) => el.shadowRoot?.textContent ?? '');

interface Opened {
  page: Page;
  warnings: string[];
  logs: string[];
  errors: Error[];
}

/** Opens a host page in a new tab (a new widget session), collecting console output and page errors. */
async function open(html: string, csp?: string): Promise<Opened> {
  const page = await ctx.newPage();
  pages.push(page);
  const o: Opened = { page, warnings: [], logs: [], errors: [] };
  page.on('console', (m) => {
    o.logs.push(m.text());
    if (m.type() === 'warning') o.warnings.push(m.text());
  });
  page.on('pageerror', (e) => o.errors.push(e));
  await page.goto(fx.page(html, csp));
  return o;
}

/** Waits until the fixture has seen `count` event batches and returns every event sent. */
async function sentEvents(count = 1) {
  await poll(() => fx.calls('POST', '/v1/widget/events').length).toBeGreaterThanOrEqual(count);
  return fx.calls('POST', '/v1/widget/events').flatMap((r) => r.body.events as Record<string, unknown>[]);
}

/** Description of the focused element, looking inside shadow roots and the dialog. */
const focused = (page: Page) =>
  page.evaluate(() => {
    let a = document.activeElement;
    while (a?.shadowRoot?.activeElement) a = a.shadowRoot.activeElement;
    return `${a?.closest('dialog') ? 'dialog:' : ''}${a?.getAttribute('aria-label') ?? a?.textContent ?? a?.tagName}`;
  });

describe('meters', () => {
  test('a meter says when the limit will be reached at this pace', async () => {
    fx.state = widgetState(fx.state.account.id, 'admin', 91);
    fx.state.meters[0]!.forecast = { limit_at: '2026-11-24T10:00:00Z', days_to_limit: 6 };
    const { page } = await open(hostPage('<ladder-meter metric="api_calls"></ladder-meter>'));
    await poll(() => shadowText(page, 'ladder-meter')).toContain("At this pace you'll reach your limit on Nov 24");
  });

  test('a meter shows used, limit, projection and period end, with an accessible bar', async () => {
    fx.state = widgetState(fx.state.account.id, 'admin', 91);
    const { page, warnings } = await open(hostPage('<ladder-meter metric="api_calls"></ladder-meter>'));
    const meter = page.locator('ladder-meter');
    await poll(() => shadowText(page, 'ladder-meter')).toContain('9,100 of 10,000');
    expect(await shadowText(page, 'ladder-meter')).toContain('On pace for 14,560 by Dec 1');
    const bar = meter.getByRole('progressbar', { name: 'API calls' });
    expect(await bar.getAttribute('aria-valuenow')).toBe('9100');
    expect(await bar.getAttribute('aria-valuemax')).toBe('10000');
    expect(fx.calls('GET', '/v1/widget/state')).toHaveLength(1);
    const q = fx.calls('GET', '/v1/widget/state')[0]!.query;
    expect(q.get('path')).toMatch(/^\/host\//);
    expect(q.get('session')).toMatch(/^[0-9a-f]{32}$/);
    expect(warnings).toEqual([]);
    await page.close();
  });

  test('the only global is Ladder', async () => {
    const { page: blank } = await open('<!doctype html><title>blank</title>');
    const before = await blank.evaluate(() => Object.keys(window));
    const { page } = await open(hostPage('<ladder-meter></ladder-meter>'));
    await page.locator('ladder-meter').getByText('API calls').first().waitFor();
    const after = await page.evaluate(() => Object.keys(window));
    expect(after.filter((k) => !before.includes(k))).toEqual(['Ladder']);
    await blank.close();
    await page.close();
  });

  test('a synchronous script tag: Ladder is there at once and its calls wait for the widget; a second tag adds nothing', async () => {
    const { page, warnings, errors } = await open(
      '<!doctype html><html lang="en"><title>npm host</title><script src="/ladder.js"></script><script src="/ladder.js"></script>' +
        '<script>window.seen = []; window.off = Ladder.on("ready", function (s) { window.seen.push(s.account.id); });' +
        'window.offType = typeof window.off; Ladder.init({ tokenUrl: "/ladder-token" });</script>' +
        '<ladder-meter metric="api_calls"></ladder-meter></html>',
    );
    type Host = { seen: string[]; off: () => void; offType: string };
    await poll(() => shadowText(page, 'ladder-meter')).toContain('4,000 of 10,000');
    expect(await page.evaluate(() => [(window as unknown as Host).seen, (window as unknown as Host).offType])).toEqual([[fx.state.account.id], 'function']);
    expect(fx.calls('GET', '/v1/widget/state')).toHaveLength(1); // one widget, though two tags
    // the unsubscribe the stand-in returned reaches the real listener
    await page.evaluate(() => (window as unknown as Host).off());
    await page.evaluate(() => window.Ladder!.init({ tokenUrl: '/ladder-token' }));
    expect(fx.calls('GET', '/v1/widget/state')).toHaveLength(2);
    expect(await page.evaluate(() => (window as unknown as Host).seen)).toHaveLength(1);
    expect(warnings).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  });

  test('the widget modules carry CORS for pages on other origins', async () => {
    const { page } = await open(hostPage('<ladder-meter metric="api_calls"></ladder-meter>'));
    await poll(() => shadowText(page, 'ladder-meter')).toContain('4,000 of 10,000');
    const modules = fx.requests.filter((r) => r.path.startsWith('/widget/'));
    expect(modules.map((r) => r.path)).toEqual([expect.stringMatching(/^\/widget\/chunk-\w+\.js$/)]);
    const res = await fetch(fx.origin + modules[0]!.path, { headers: { origin: 'https://app.example.com' } });
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    await page.close();
  });
});

describe('limit notices', () => {
  const cases = [
    { pct: 55, intent: 'halfway', cta: 'View usage', live: 'polite' },
    { pct: 80, intent: 'approaching', cta: 'Compare plans', live: 'polite' },
    { pct: 93, intent: 'almost', cta: 'Upgrade', live: 'polite' },
    { pct: 100, intent: 'reached', cta: 'Upgrade', live: 'assertive' },
  ];
  for (const c of cases)
    test(`at ${c.pct}% the notice says "${c.intent}" with "${c.cta}"`, async () => {
      fx.state = widgetState(fx.state.account.id, 'admin', c.pct, [limitPrompt(c.pct)]);
      const { page } = await open(hostPage('<ladder-notices></ladder-notices>'));
      const notice = page.locator(`ladder-notices [aria-live=${c.live}] section[data-kind=limit_notice]`);
      await notice.waitFor();
      expect(await notice.getAttribute('data-intent')).toBe(c.intent);
      expect(await notice.getByRole('button', { name: c.cta }).count()).toBe(1);
      expect(await page.locator('ladder-notices section').count()).toBe(1);
      if (c.pct === 80) expect(await shadowText(page, 'ladder-notices')).toContain('Business: $100.00/month');
      if (c.pct === 100) expect(await notice.getByRole('button', { name: 'Remind me later' }).count()).toBe(0);
      await page.close();
    });

  test('with no <ladder-notices> placed, notices float in one container of their own', async () => {
    fx.state = widgetState(fx.state.account.id, 'admin', 93, [limitPrompt(93)]);
    const { page } = await open(hostPage('<p>No widget elements here.</p>'));
    await page.locator('ladder-root section[data-intent=almost]').waitFor();
    expect(await page.locator('ladder-root').count()).toBe(1);
    await page.close();
  });

  test('dismiss and snooze hide at once, are sent batched with idempotency keys, and hold for the session', async () => {
    fx.state = widgetState(fx.state.account.id, 'admin', 93, [limitPrompt(93), invitePrompt(false)]);
    const { page } = await open(hostPage('<ladder-notices></ladder-notices>'));
    const notices = page.locator('ladder-notices section');
    await poll(() => notices.count()).toBe(2);
    await page.locator('section[data-kind=limit_notice]').getByRole('button', { name: 'Dismiss' }).click();
    await page.locator('section[data-kind=invite]').getByRole('button', { name: 'Remind me later' }).click();
    expect(await notices.count()).toBe(0);

    // the page hiding sends what is queued at once (the batch timer would wait ~1 s)
    await page.evaluate(() => {
      Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true });
      document.dispatchEvent(new Event('visibilitychange'));
    });
    await poll(() => fx.calls('POST', '/v1/widget/events').flatMap((r) => r.body.events).length).toBe(4);
    const events = await sentEvents();
    expect(fx.calls('POST', '/v1/widget/events').length).toBeLessThanOrEqual(2); // batched, not one request per event
    expect(events.map((e) => `${e.type}:${e.prompt_id}`).sort()).toEqual(
      ['dismiss:limit-api_calls-90', 'impression:invite', 'impression:limit-api_calls-90', 'snooze:invite'].sort(),
    );
    const keys = events.map((e) => e.idempotency_key);
    expect(new Set(keys).size).toBe(events.length);
    expect(events.every((e) => e.session_id === events[0]!.session_id && typeof e.timestamp === 'number')).toBe(true);
    expect(events.find((e) => e.type === 'dismiss')).toMatchObject({ variant_id: 'b', experiment_id: 'exp_1' });
    const auth = fx.calls('POST', '/v1/widget/events')[0]!.headers.authorization;
    expect(auth).toBe(`Bearer ${fx.token}`);

    // same tab, same session: the state still lists both, but the widget keeps them away
    await page.reload();
    await poll(() => fx.calls('GET', '/v1/widget/state').length).toBe(2);
    await page.waitForTimeout(300);
    expect(await notices.count()).toBe(0);
    await page.close();
  });

  test('one impression per prompt per session; the prompts listed show though no allowance is left after them', async () => {
    // the worker lists soft prompts within the session allowance and says what is left after them
    fx.state = widgetState(fx.state.account.id, 'admin', 93, [limitPrompt(93), invitePrompt(false)]);
    fx.state.caps.session_prompts_left = 0;
    const { page } = await open(hostPage('<ladder-notices></ladder-notices>'));
    await poll(() => page.locator('ladder-notices section').count()).toBe(2);
    const impressions = () => fx.calls('POST', '/v1/widget/events').flatMap((r) => r.body.events).filter((e) => e.type === 'impression');
    await poll(() => impressions().length).toBe(2);
    await page.reload();
    await poll(() => fx.calls('GET', '/v1/widget/state').length).toBe(2);
    await poll(() => page.locator('ladder-notices section').count()).toBe(2);
    await page.waitForTimeout(1200); // past the batch timer: no second impression was queued
    expect(impressions().map((e) => e.prompt_id).sort()).toEqual(['invite', 'limit-api_calls-90']);
    await page.close();
  });
});

describe('feature gates', () => {
  test('the gate previews a locked feature, starts a trial, then shows the host content', async () => {
    fx.state.prompts = [gatePrompt('sso')];
    const { page } = await open(
      hostPage('<ladder-gate feature="sso"><p id="sso-settings">SSO settings</p></ladder-gate>'),
    );
    const gate = page.locator('ladder-gate');
    await gate.getByRole('heading', { name: 'Unlock Single sign-on' }).waitFor();
    expect(await shadowText(page, 'ladder-gate')).toContain('identity provider');
    expect(await page.locator('#sso-settings').isVisible()).toBe(false);
    expect(await gate.getByRole('button', { name: 'Upgrade to Business' }).count()).toBe(1);

    await gate.getByRole('button', { name: 'Start 14-day trial' }).click();
    await page.locator('#sso-settings').waitFor({ state: 'visible' });
    expect(fx.calls('POST', '/v1/widget/trials').map((r) => r.body)).toEqual([{ feature_id: 'sso' }]);
    // The click may go in a later batch than the impression: wait for it rather than for the first batch.
    await poll(async () => (await sentEvents()).filter((e) => e.type === 'click').map((e) => e.feature_id)).toEqual(['sso']);
    await page.close();
  });

  test('a trial that cannot start says why beside the buttons; once started, until when in their place', async () => {
    fx.state.prompts = [gatePrompt('sso')];
    const { page, errors } = await open(hostPage(''));
    await poll(() => fx.calls('GET', '/v1/widget/state').length).toBe(1);
    expect(await page.evaluate(() => window.Ladder!.gate('sso'))).toBe(false);
    const preview = page.locator('ladder-root');
    const start = preview.getByRole('button', { name: 'Start 14-day trial' });
    await start.waitFor();
    const sso = fx.state.features.sso!;
    delete fx.state.features.sso; // the fixture now answers 404 for its trial
    await start.click();
    await preview.getByRole('alert').getByText('No such feature.').waitFor();
    expect(await start.count()).toBe(1);
    fx.state.features.sso = sso;
    await start.click();
    await preview.getByRole('status').getByText(/^Your trial runs until Dec 15\.$/).waitFor();
    expect(await start.count()).toBe(0);
    expect(await preview.getByRole('alert').count()).toBe(0);
    expect(errors).toEqual([]);
    await page.close();
  });

  test('Ladder.gate() answers entitlement; when locked it records gate_hit and previews with the PM copy, recording the impression', async () => {
    const { page } = await open(hostPage('<button id="open-sso">SSO</button>'));
    await page.waitForFunction(() => window.Ladder);
    expect(await page.evaluate(() => window.Ladder!.gate('exports'))).toBe(true);
    fx.state.prompts = [gatePrompt('sso')]; // the worker lists the preview once it has heard the gate hit
    expect(await page.evaluate(() => window.Ladder!.gate('sso'))).toBe(false);
    const preview = page.locator('ladder-root section[data-kind=feature_gate]');
    await preview.getByRole('heading', { name: 'Unlock Single sign-on' }).waitFor();
    await poll(async () => (await sentEvents()).map((e) => [e.type, e.feature_id])).toEqual([
      ['gate_hit', 'sso'],
      ['impression', 'sso'],
    ]);
    await preview.getByRole('button', { name: 'Close' }).click();
    expect(await preview.count()).toBe(0);
    await page.close();
  });

  test('Ladder.gate() opens no preview when the caps hold it back: the plain locked answer', async () => {
    const { page } = await open(hostPage('<button id="open-sso">SSO</button>'));
    await page.waitForFunction(() => window.Ladder);
    fx.state.prompts = []; // this user has had the sso preview already
    expect(await page.evaluate(() => window.Ladder!.gate('sso'))).toBe(false);
    await poll(async () => (await sentEvents()).map((e) => e.type)).toEqual(['gate_hit']);
    expect(await page.locator('ladder-root section[data-kind=feature_gate]').count()).toBe(0);
    await page.close();
  });
});

describe('invite prompts', () => {
  test('below the seat limit the CTA opens the host invite flow and records invite_sent', async () => {
    fx.state.account.seats = { used: 4, limit: 5 };
    fx.state.prompts = [invitePrompt(false)];
    const { page } = await open(hostPage('<ladder-notices></ladder-notices>'));
    await page.waitForFunction(() => window.Ladder);
    await page.evaluate(() => window.Ladder!.on('invite', () => document.body.setAttribute('data-invited', '1')));
    await page.getByRole('button', { name: 'Invite teammates' }).click();
    expect(await page.locator('body').getAttribute('data-invited')).toBe('1');
    await poll(async () => (await sentEvents()).map((e) => e.type)).toContain('invite_sent');
    await page.close();
  });

  test('at the seat limit it becomes "Add seats", a prorated seat upgrade', async () => {
    fx.state.account.seats = { used: 5, limit: 5 };
    fx.state.prompts = [invitePrompt(true)];
    const { page } = await open(hostPage('<ladder-notices></ladder-notices>'));
    await page.locator('[aria-live=assertive]').getByRole('button', { name: 'Add seats' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add seats' });
    await dialog.waitFor();
    expect(await dialog.getByLabel('Seats').inputValue()).toBe('6');
    await dialog.getByText(fx.preview.message).waitFor();
    expect(fx.calls('POST', '/v1/widget/upgrade/preview').map((r) => r.body)).toEqual([{ seats: 6 }]);
    await page.close();
  });

  test("Ladder.gate('seats') lets a teammate join below the limit; at the limit it records gate_hit and offers seats", async () => {
    fx.state.account.seats = { used: 4, limit: 5 };
    const { page } = await open(hostPage('<p>host</p>'));
    await page.waitForFunction(() => window.Ladder);
    expect(await page.evaluate(() => window.Ladder!.gate('seats'))).toBe(true);
    fx.state.account.seats = { used: 5, limit: 5 };
    await page.evaluate(() => window.Ladder!.refresh());
    expect(await page.evaluate(() => window.Ladder!.gate('seats'))).toBe(false);
    await page.getByRole('dialog', { name: 'Add seats' }).getByText(fx.preview.message).waitFor();
    expect(fx.calls('POST', '/v1/widget/upgrade/preview').map((r) => r.body)).toEqual([{ seats: 6 }]);
    // (polled: a batch from the previous test's closing page may arrive first)
    const gateHits = async () => (await sentEvents()).filter((e) => e.type === 'gate_hit').map((e) => e.feature_id);
    await poll(gateHits).toEqual(['seats']);
    await page.close();
  });
});

describe('session lists per user', () => {
  test('a prompt dismissed by one user is not hidden for the next user in the same tab', async () => {
    fx.state.prompts = [limitPrompt(93)];
    const { page } = await open(hostPage('<ladder-notices></ladder-notices>'));
    const notice = page.locator('ladder-notices section[data-kind=limit_notice]');
    await notice.getByRole('button', { name: 'Dismiss' }).click();
    expect(await notice.count()).toBe(0);
    const other = makeToken({ sub: 'user_other', acct: fx.state.account.id, role: 'admin', exp: Math.floor(Date.now() / 1000) + 3600 });
    const first = fx.token;
    await page.evaluate((token) => window.Ladder!.init({ token }), other);
    await notice.waitFor(); // the other user still sees it
    await page.evaluate((token) => window.Ladder!.init({ token }), first);
    await poll(() => fx.calls('GET', '/v1/widget/state').length).toBe(3);
    await page.waitForTimeout(300);
    expect(await notice.count()).toBe(0); // and the first user's dismissal holds for the session
    await page.close();
  });
});

describe("members' upgrade requests, for admins", () => {
  test('an admin sees each open request; Decline closes it, Approve opens the upgrade on the plan asked for', async () => {
    fx.state.upgrade_requests = [
      { id: 'upr_1', user_id: 'm1', user_name: 'Ana Member', plan_id: 'business', seats: null, note: 'We need SSO', created_at: '2026-11-20T10:00:00Z' },
      { id: 'upr_2', user_id: 'm2', user_name: null, plan_id: null, seats: 8, note: '', created_at: '2026-11-21T10:00:00Z' },
    ];
    const { page } = await open(hostPage('<p>host</p>'));
    const requests = page.locator('ladder-root section[data-kind=upgrade_request]');
    await page.getByRole('heading', { name: 'Ana Member asks for Business' }).waitFor();
    expect(await requests.allInnerTexts()).toHaveLength(2);
    expect(await requests.nth(0).innerText()).toContain('We need SSO');
    await requests.filter({ hasText: 'm2 asks for 8 seats' }).getByRole('button', { name: 'Decline' }).click();
    await poll(() => requests.count()).toBe(1);
    expect(fx.calls('POST', '/v1/widget/upgrade-requests/upr_2/decline')).toHaveLength(1);
    await requests.getByRole('button', { name: 'Approve' }).click();
    await page.getByRole('dialog', { name: 'Upgrade your plan' }).getByText(fx.preview.message, { exact: true }).waitFor();
    expect(fx.calls('POST', '/v1/widget/upgrade/preview').map((r) => r.body)).toEqual([{ plan_id: 'business' }]);
    await page.close();
  });

  test('a member is never shown requests', async () => {
    fx.reset('member');
    fx.state.upgrade_requests = [{ id: 'upr_1', user_id: 'm1', user_name: 'Ana', plan_id: 'business', seats: null, note: '', created_at: '2026-11-20T10:00:00Z' }];
    const { page } = await open(hostPage('<p>host</p>'));
    await poll(() => fx.calls('GET', '/v1/widget/state').length).toBe(1);
    await page.waitForTimeout(300);
    expect(await page.locator('ladder-root section[data-kind=upgrade_request]').count()).toBe(0);
    await page.close();
  });
});

describe('milestones', () => {
  test("a milestone's button opens the plan comparison", async () => {
    fx.state.prompts = [
      { id: 'milestone-api_calls-1000', kind: 'milestone', metric: 'api_calls', blocking: false, variant_id: null, experiment_id: null, title: 'Milestone reached', body: 'Your team has reached 1,000 API calls.', cta_label: 'See plans', secondary_label: '', serve_token: 'st-milestone' },
    ];
    const { page } = await open(hostPage('<ladder-notices></ladder-notices>'));
    await page.getByRole('button', { name: 'See plans' }).click();
    await page.getByRole('dialog', { name: 'Upgrade your plan' }).getByRole('radio', { name: /Business/ }).waitFor();
    await poll(async () => (await sentEvents()).map((e) => [e.type, e.prompt_id])).toContainEqual(['click', 'milestone-api_calls-1000']);
    await page.close();
  });
});

describe('forecast prompts', () => {
  test('a forecast prompt shows with the meter, its button opens the plan comparison and "Remind me later" is recorded', async () => {
    fx.state = widgetState(fx.state.account.id, 'admin', 70, [
      {
        id: 'forecast-api_calls',
        kind: 'forecast',
        metric: 'api_calls',
        blocking: false,
        variant_id: null,
        experiment_id: null,
        title: 'Heading for your API calls limit',
        body: "At this pace you'll reach your API calls limit on Nov 24. Business includes 50,000 API calls.",
        cta_label: 'Compare plans',
        secondary_label: 'Remind me later',
        serve_token: 'st-forecast',
      },
    ]);
    fx.state.meters[0]!.forecast = { limit_at: '2026-11-24T10:00:00Z', days_to_limit: 6 };
    const { page } = await open(hostPage('<ladder-meter metric="api_calls"></ladder-meter><ladder-notices></ladder-notices>'));
    const card = page.locator('ladder-notices section[data-kind=forecast]');
    await card.getByText("At this pace you'll reach your API calls limit on Nov 24.", { exact: false }).waitFor();
    // a polite (non-blocking) notice, with the same date on the meter
    expect(await page.locator('ladder-notices [aria-live=polite] section[data-kind=forecast]').count()).toBe(1);
    await poll(() => shadowText(page, 'ladder-meter')).toContain("At this pace you'll reach your limit on Nov 24");
    await poll(async () => (await sentEvents()).map((e) => [e.type, e.prompt_id])).toContainEqual(['impression', 'forecast-api_calls']);
    await card.getByRole('button', { name: 'Compare plans' }).click();
    await page.getByRole('dialog', { name: 'Upgrade your plan' }).getByRole('radio', { name: /Business/ }).waitFor();
    await poll(async () => (await sentEvents()).map((e) => [e.type, e.prompt_id])).toContainEqual(['click', 'forecast-api_calls']);
    await page.keyboard.press('Escape');
    await card.getByRole('button', { name: 'Remind me later' }).click();
    await poll(async () => (await sentEvents()).map((e) => [e.type, e.prompt_id])).toContainEqual(['snooze', 'forecast-api_calls']);
    expect(await card.count()).toBe(0);
    await page.close();
  });
});

describe('upgrade', () => {
  test('an admin upgrades through the modal: preview sentence, one idempotency key on a double click, new limits', async () => {
    fx.state = widgetState(fx.state.account.id, 'admin', 93, [limitPrompt(93)]);
    const { page } = await open(hostPage('<ladder-meter metric="api_calls"></ladder-meter><ladder-notices></ladder-notices>'));
    await page.evaluate(() => window.Ladder!.on('upgrade', () => document.body.setAttribute('data-upgraded', '1')));
    await page.getByRole('button', { name: 'Upgrade', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: 'Upgrade your plan' });
    await dialog.getByText(fx.preview.message, { exact: true }).waitFor();
    expect(await dialog.getByText('Demo billing — no real charge').count()).toBe(1);
    expect(await dialog.getByRole('radio', { name: /Business/ }).isChecked()).toBe(true);
    expect(fx.calls('POST', '/v1/widget/upgrade/preview').map((r) => r.body)).toEqual([{ plan_id: 'business' }]);

    await dialog.getByRole('button', { name: 'Confirm upgrade' }).dblclick();
    await dialog.getByText("You're now on Business.").waitFor();
    const upgrades = fx.calls('POST', '/v1/widget/upgrade');
    expect(upgrades.length).toBeGreaterThanOrEqual(1);
    expect(new Set(upgrades.map((r) => r.body.idempotency_key)).size).toBe(1);
    expect(upgrades[0]!.body).toMatchObject({ plan_id: 'business', proration_date: charged(fx.preview).proration_date });
    expect(upgrades[0]!.body.idempotency_key).toMatch(/^[0-9a-f]{32}$/);

    await poll(() => shadowText(page, 'ladder-meter')).toContain('9,300 of 50,000');
    expect(await page.locator('body').getAttribute('data-upgraded')).toBe('1');
    await dialog.getByRole('button', { name: 'Done' }).click();
    expect(await dialog.count()).toBe(0);
    await page.close();
  });

  test('the dialog lists what each plan adds to the current one: its limits and the features the current plan lacks', async () => {
    fx.state = widgetState(fx.state.account.id, 'admin', 93, [limitPrompt(93)]);
    fx.state.features = {
      exports: { name: 'Exports', description: '', trial_days: 0, entitled: true, trial_available: false, trial_ends_at: null, required_plan: null },
      sso: { name: 'Single sign-on', description: '', trial_days: 14, entitled: false, trial_available: true, trial_ends_at: null, required_plan: 'business' },
      audit_log: { name: 'Audit log', description: '', trial_days: 0, entitled: false, trial_available: false, trial_ends_at: null, required_plan: 'enterprise' },
    };
    fx.state.upgrade_options = [
      { plan_id: 'business', name: 'Business', rank: 2, price_cents: 10000, currency: 'usd', interval: 'month', limits: { api_calls: 50000 }, features: ['exports', 'sso'] },
      { plan_id: 'enterprise', name: 'Enterprise', rank: 3, price_cents: 50000, currency: 'usd', interval: 'month', limits: { api_calls: null }, features: ['exports', 'sso', 'audit_log'] },
    ];
    const { page } = await open(hostPage('<ladder-notices></ladder-notices>'));
    await page.getByRole('button', { name: 'Upgrade', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: 'Upgrade your plan' });
    const business = dialog.locator('label', { has: page.getByRole('radio', { name: /Business/ }) });
    await business.waitFor();
    expect(await business.textContent()).toBe('Business $100.00/month · 50,000 API calls · Adds Single sign-on');
    expect(await dialog.locator('label', { has: page.getByRole('radio', { name: /Enterprise/ }) }).textContent()).toBe(
      'Enterprise $500.00/month · Unlimited API calls · Adds Single sign-on, Audit log',
    );
  });

  test('a declined payment shows the failure and a new attempt gets a new preview and key', async () => {
    fx.state = widgetState(fx.state.account.id, 'admin', 93, [limitPrompt(93)]);
    fx.upgradeStatus = 'failed';
    const { page } = await open(hostPage('<ladder-notices></ladder-notices>'));
    await page.getByRole('button', { name: 'Upgrade', exact: true }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('button', { name: 'Confirm upgrade' }).click();
    await dialog.getByText('Your card was declined.').waitFor();
    fx.upgradeStatus = 'succeeded';
    await dialog.getByRole('button', { name: 'Try again' }).click();
    await poll(() => fx.calls('POST', '/v1/widget/upgrade/preview').length).toBe(2);
    await dialog.getByRole('button', { name: 'Confirm upgrade' }).click();
    await dialog.getByText("You're now on Business.").waitFor();
    const keys = fx.calls('POST', '/v1/widget/upgrade').map((r) => r.body.idempotency_key);
    expect(keys).toHaveLength(2);
    expect(keys[0]).not.toBe(keys[1]);
    await page.close();
  });

  test('a member asks an admin instead of buying', async () => {
    fx.reset('member');
    fx.state = widgetState(fx.state.account.id, 'member', 93, [limitPrompt(93)]);
    const { page } = await open(hostPage('<ladder-notices></ladder-notices>'));
    await page.getByRole('button', { name: 'Upgrade', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: 'Ask your admin' });
    await dialog.waitFor();
    expect(await dialog.getByRole('button', { name: 'Confirm upgrade' }).count()).toBe(0);
    await dialog.getByLabel('Note (optional)').fill('We keep hitting the API limit.');
    await dialog.getByRole('button', { name: 'Send request' }).click();
    await dialog.getByText('Request sent').waitFor();
    expect(fx.calls('POST', '/v1/widget/upgrade-requests').map((r) => r.body)).toEqual([
      { plan_id: 'business', note: 'We keep hitting the API limit.' },
    ]);
    expect(fx.calls('POST', '/v1/widget/upgrade/preview')).toHaveLength(0);
    expect(fx.calls('POST', '/v1/widget/upgrade')).toHaveLength(0);
    await page.close();
  });

  test('an upgrade routed to sales offers "Talk to us" instead of a charge, and sends it as an upgrade request', async () => {
    fx.state = widgetState(fx.state.account.id, 'admin', 93, [limitPrompt(93)]);
    const talk = 'Moving to Business adds $1,500.00 a month, so our team sets it up with you: talk to us and we will be in touch. Nothing is charged now.';
    fx.preview = { route: 'sales', message: talk, plan_id: 'business', seats: 1, added_mrr_cents: 150_000, currency: 'usd' };
    const { page } = await open(hostPage('<ladder-notices></ladder-notices>'));
    await page.getByRole('button', { name: 'Upgrade', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: 'Upgrade your plan' });
    await dialog.getByText(talk, { exact: true }).waitFor();
    expect(await dialog.getByRole('button', { name: 'Confirm upgrade' }).count()).toBe(0);
    await dialog.getByRole('button', { name: 'Talk to us' }).click();
    await dialog.getByText('Thanks, our team will be in touch.').waitFor();
    expect(fx.calls('POST', '/v1/widget/upgrade-requests').map((r) => r.body)).toEqual([{ plan_id: 'business', note: 'Talk to us' }]);
    expect(fx.calls('POST', '/v1/widget/upgrade')).toHaveLength(0);
    await page.close();
  });

  test('keyboard only: Tab to the CTA, Enter opens, focus stays in the dialog, Escape closes and restores focus, Enter confirms', async () => {
    fx.state = widgetState(fx.state.account.id, 'admin', 93, [limitPrompt(93)]);
    const { page } = await open(hostPage('<a href="#top">Home</a><ladder-notices></ladder-notices>'));
    await page.locator('ladder-notices section').waitFor();
    for (let i = 0; i < 6 && (await focused(page)) !== 'Upgrade'; i++) await page.keyboard.press('Tab');
    expect(await focused(page)).toBe('Upgrade');

    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog');
    await dialog.getByText(fx.preview.message).waitFor();
    const seen = new Set<string>();
    for (let i = 0; i < 8; i++) {
      await page.keyboard.press('Tab');
      seen.add(await focused(page));
    }
    for (let i = 0; i < 3; i++) {
      await page.keyboard.press('Shift+Tab');
      seen.add(await focused(page));
    }
    expect([...seen].every((f) => f.startsWith('dialog:'))).toBe(true);
    expect(seen).toContain('dialog:Confirm upgrade');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    // Focus is restored from the dialog's close event (a task after Escape): wait for it rather than read it once.
    await expect.poll(() => focused(page), { timeout: 10_000 }).toBe('Upgrade');

    await page.keyboard.press('Enter');
    await dialog.getByText(fx.preview.message).waitFor();
    for (let i = 0; i < 8 && (await focused(page)) !== 'dialog:Confirm upgrade'; i++) await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await dialog.getByText("You're now on Business.").waitFor();
    await expect.poll(() => focused(page), { timeout: 10_000 }).toBe('dialog:Done');
    await page.keyboard.press('Enter');
    await dialog.waitFor({ state: 'detached' });
    expect(fx.calls('POST', '/v1/widget/upgrade')).toHaveLength(1);
    await page.close();
  });
});

describe('a deploy while a page is open', () => {
  /** The chunks a build listed in its widget/builds.json (newest build first). */
  const builtFiles = async (dir: string) =>
    (JSON.parse(await readFile(join(dir, 'widget/builds.json'), 'utf8')) as { builds: { files: string[] }[] }).builds;

  test.each([
    ['live deployment lists its builds (widget/builds.json)', true],
    ['live deployment predates widget/builds.json: its ladder.js and what that imports', false],
  ])("the first upgrade click after a deploy opens the dialog: a clean checkout's build ships the old build's chunks — %s", async (_, manifest) => {
    const old = await mkdtemp(join(tmpdir(), 'ladder-old-build-'));
    const next = await mkdtemp(join(tmpdir(), 'ladder-new-build-'));
    const live = await startFixtureApi({ dist: old });
    const page = await ctx.newPage();
    try {
      await build({ out: old, banner: 'the build before the deploy', previous: '' });
      const [oldBuild] = await builtFiles(old);
      if (!manifest) await rm(join(old, 'widget/builds.json'));
      live.state = widgetState(live.state.account.id, 'admin', 93, [limitPrompt(93)]);
      await page.goto(live.page(hostPage('<ladder-notices></ladder-notices>')));
      const upgrade = page.getByRole('button', { name: 'Upgrade', exact: true });
      await upgrade.waitFor();
      const before = live.requests.filter((r) => r.path.startsWith('/widget/')).map((r) => r.path);
      expect(before).toHaveLength(1); // the default chunk only: the dialog loads on the first click

      // The deploy: a build on a machine without dist/ (a CI checkout), then the live files replaced.
      await build({ out: next, previous: live.origin });
      live.dist = next;
      const deployed = live.requests.length;

      await upgrade.click();
      const dialog = page.getByRole('dialog', { name: 'Upgrade your plan' });
      await dialog.getByText(live.preview.message, { exact: true }).waitFor({ timeout: 30_000 });
      expect(live.calls('POST', '/v1/widget/upgrade/preview').map((r) => r.body)).toEqual([{ plan_id: 'business' }]);
      // the old page's dialog chunk, served by the new deployment
      const dialogChunk = live.requests.slice(deployed).filter((r) => r.path.startsWith('/widget/')).map((r) => r.path);
      expect(dialogChunk).toHaveLength(1);
      expect(oldBuild!.files).toContain(dialogChunk[0]!.slice('/widget/'.length));
      const [newBuild, kept] = await builtFiles(next);
      expect(await readFile(join(next, 'ladder.js'), 'utf8')).not.toBe(await readFile(join(old, 'ladder.js'), 'utf8'));
      expect(newBuild!.files.filter((f) => oldBuild!.files.includes(f))).toEqual([]); // every chunk name changed
      expect([...kept!.files].sort()).toEqual([...oldBuild!.files].sort());
    } finally {
      await page.close(); // its keep-alive connections would hold the server open
      await live.close();
      await rm(old, { recursive: true, force: true });
      await rm(next, { recursive: true, force: true });
    }
  }, 180_000); // two builds and a page on a busy machine

  test('a build keeps the chunks of the builds before it in the same directory, up to KEEP_BUILDS, and rebuilding the same sources adds none', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ladder-builds-'));
    try {
      const first = async () => (await builtFiles(dir))[0]!.files;
      await build({ out: dir, banner: 'build 0', previous: '' });
      const oldest = await first();
      for (let i = 1; i <= KEEP_BUILDS; i++) await build({ out: dir, banner: `build ${i}`, previous: '' });
      expect(await builtFiles(dir)).toHaveLength(KEEP_BUILDS + 1);
      const served = async () => (await readdir(join(dir, 'widget'))).filter((f) => f.endsWith('.js')).sort();
      expect(await served()).toEqual(expect.arrayContaining(oldest));
      await build({ out: dir, banner: `build ${KEEP_BUILDS}`, previous: '' }); // the same sources again
      expect(await builtFiles(dir)).toHaveLength(KEEP_BUILDS + 1);
      await build({ out: dir, banner: 'one more', previous: '' });
      expect(await builtFiles(dir)).toHaveLength(KEEP_BUILDS + 1);
      const all = (await builtFiles(dir)).flatMap((b) => b.files);
      expect(await served()).toEqual([...new Set(all)].sort()); // what builds.json lists, and nothing else
      for (const f of oldest) expect(all).not.toContain(f);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 300_000); // thirteen builds on a busy machine

  test("a deployment's answers cannot write outside widget/: a listed name that is not a chunk fails the build, and so does a plain-http deployment elsewhere", async () => {
    const out = await mkdtemp(join(tmpdir(), 'ladder-hostile-'));
    const live = await startFixtureApi({ dist: out });
    try {
      await mkdir(join(out, 'widget'), { recursive: true });
      await writeFile(join(out, 'widget/builds.json'), JSON.stringify({ builds: [{ built_at: null, files: ['../../../worker/index.ts'] }] }));
      const next = await mkdtemp(join(tmpdir(), 'ladder-hostile-next-'));
      try {
        await expect(build({ out: next, previous: live.origin })).rejects.toThrow(/not a chunk name/);
        await expect(build({ out: next, previous: 'http://deploy.example.com' })).rejects.toThrow(/must be an https URL/);
        expect(await readdir(next)).toEqual([]); // nothing written
      } finally {
        await rm(next, { recursive: true, force: true });
      }
    } finally {
      await live.close();
      await rm(out, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('copy and locale', () => {
  test('prompt copy renders as text, never as HTML', async () => {
    const title = '<img src=x onerror="document.body.dataset.pwned=1">Almost there';
    fx.state = widgetState(fx.state.account.id, 'admin', 93, [limitPrompt(93, { title })]);
    const { page } = await open(hostPage('<ladder-notices></ladder-notices>'));
    const h = page.locator('ladder-notices h3');
    await h.waitFor();
    expect(await h.textContent()).toBe(title);
    expect(await page.locator('ladder-notices img').count()).toBe(0);
    expect(await page.locator('body').getAttribute('data-pwned')).toBe(null);
  });

  test("numbers, money and dates follow the token's locale", async () => {
    const acct = fx.state.account.id;
    fx.token = makeToken({ sub: 'user_de', acct, role: 'admin', locale: 'de-DE', exp: Math.floor(Date.now() / 1000) + 3600 });
    fx.state = widgetState(acct, 'admin', 80, [limitPrompt(80)]);
    const { page } = await open(hostPage('<ladder-meter metric="api_calls"></ladder-meter><ladder-notices></ladder-notices>'));
    await poll(() => shadowText(page, 'ladder-meter')).toContain('8.000 of 10.000');
    expect(await shadowText(page, 'ladder-meter')).toContain('On pace for 12.800 by 1. Dez.');
    expect(await shadowText(page, 'ladder-notices')).toContain('Business: 100,00\u00a0$/month');
  });
});

describe('accessibility, isolation and robustness', () => {
  test('axe-core finds no serious or critical violation in any shadow root, dialog open or not', async () => {
    fx.state = widgetState(fx.state.account.id, 'admin', 93, [limitPrompt(93), invitePrompt(false), gatePrompt('sso')]);
    const { page } = await open(
      hostPage('<ladder-meter></ladder-meter><ladder-notices></ladder-notices><ladder-gate feature="sso"></ladder-gate>'),
    );
    await page.locator('ladder-gate section').waitFor();
    await page.evaluate(await readFile(fileURLToPath(new URL('../../node_modules/axe-core/axe.min.js', import.meta.url)), 'utf8'));
    const audit = () =>
      page.evaluate(async () => {
        const axe = (window as unknown as { axe: { run(ctx: object, o: object): Promise<{ violations: { id: string; impact: string; nodes: unknown[] }[] }> } }).axe;
        const include = [...document.querySelectorAll('ladder-meter, ladder-notices, ladder-gate, ladder-root')].map((el) => [el.tagName.toLowerCase()]);
        const r = await axe.run({ include }, {});
        const passes = (r as unknown as { passes: unknown[] }).passes.length;
        return { passes, bad: r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} (${v.nodes.length})`) };
      });
    expect(await audit()).toMatchObject({ bad: [], passes: expect.any(Number) });
    expect((await audit()).passes).toBeGreaterThan(10); // it did look inside the shadow roots
    await page.locator('ladder-notices').getByRole('button', { name: 'Upgrade', exact: true }).click();
    await page.getByRole('dialog').getByText(fx.preview.message).waitFor();
    expect((await audit()).bad).toEqual([]);
    await page.close();
  });

  test('dark theme and reduced motion follow the host and the user', async () => {
    fx.state = widgetState(fx.state.account.id, 'admin', 93, [limitPrompt(93)]);
    const { page } = await open(hostPage('<ladder-notices></ladder-notices>', 'data-token-url="/ladder-token" data-theme="dark"'));
    await page.emulateMedia({ reducedMotion: 'reduce' });
    const card = page.locator('ladder-notices section');
    await card.waitFor();
    const look = await card.evaluate((el) => {
      const s = getComputedStyle(el);
      return { bg: s.backgroundColor, animation: s.animationName };
    });
    expect(look).toEqual({ bg: 'rgb(28, 31, 38)', animation: 'none' });
    await page.close();
  });

  test("the host page's CSS does not leak in, and ours does not leak out", async () => {
    fx.state = widgetState(fx.state.account.id, 'admin', 93, [limitPrompt(93)]);
    const head = '<style>* { color: rgb(255, 0, 0) !important; font-size: 40px !important } .card { padding: 1px }</style>';
    const { page } = await open(
      hostPage('<button class="pri" id="host-btn">Host</button><div class="card" id="host-card">x</div><ladder-notices></ladder-notices>', undefined, head),
    );
    const title = page.locator('ladder-notices h3');
    await title.waitFor();
    const ours = await title.evaluate((el) => [getComputedStyle(el).color, getComputedStyle(el).fontSize]);
    expect(ours).toEqual(['rgb(31, 35, 48)', '14px']);
    const theirs = await page.evaluate(() => {
      const b = getComputedStyle(document.getElementById('host-btn')!);
      const c = getComputedStyle(document.getElementById('host-card')!);
      return [b.backgroundColor, c.borderLeftWidth, c.paddingTop];
    });
    expect(theirs[0]).not.toBe('rgb(67, 56, 202)');
    expect(theirs.slice(1)).toEqual(['0px', '1px']);
    await page.close();
  });

  test('an unreachable API leaves the page usable with one clear warning', async () => {
    const { page, warnings, errors } = await open(
      hostPage(
        '<ladder-meter metric="api_calls"></ladder-meter><button id="host-btn">Save</button>',
        'data-token-url="/ladder-token" data-api-base="http://127.0.0.1:9"',
      ),
    );
    await poll(() => warnings.length).toBe(1);
    expect(warnings[0]).toMatch(/^\[ladder\] state: could not load \/v1\/widget\/state from http:\/\/127\.0\.0\.1:9/);
    expect(await page.evaluate(() => window.Ladder!.gate('sso'))).toBe(false);
    await page.evaluate(() => window.Ladder!.refresh());
    await page.locator('#host-btn').click();
    await page.waitForTimeout(1200);
    expect(warnings).toHaveLength(1);
    expect(errors).toEqual([]);
    await page.close();
  });

  test('a bad token warns once and renders nothing', async () => {
    fx.token = 'not-a-jwt';
    const { page, warnings, errors } = await open(hostPage('<ladder-meter metric="api_calls"></ladder-meter>'));
    await poll(() => warnings).toEqual(['[ladder] token: the user token is not a JWT']);
    expect(await page.locator('ladder-meter .m').count()).toBe(0);
    expect(fx.calls('GET', '/v1/widget/state')).toHaveLength(0);
    expect(errors).toEqual([]);
    await page.close();
  });

  test('works under a strict Content-Security-Policy, including the on-demand dialog', async () => {
    fx.state = widgetState(fx.state.account.id, 'admin', 93, [limitPrompt(93)]);
    const csp = "default-src 'self'; script-src 'self'; style-src 'self'";
    const { page, errors, logs } = await open(hostPage('<ladder-meter metric="api_calls"></ladder-meter><ladder-notices></ladder-notices>'), csp);
    await page.locator('ladder-notices').getByRole('button', { name: 'Upgrade', exact: true }).click();
    await page.getByRole('dialog').getByText(fx.preview.message).waitFor();
    const width = await page.locator('ladder-meter .fill').evaluate((el) => getComputedStyle(el).width);
    const styled = await page.locator('ladder-notices section').evaluate((el) => getComputedStyle(el).borderLeftWidth);
    expect(parseFloat(width)).toBeGreaterThan(0);
    expect(styled).toBe('4px');
    expect(logs.filter((l) => /Content Security Policy/i.test(l))).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  });
});

describe('transport', () => {
  test('a repeat visit renders the cached state at once, then refreshes', async () => {
    fx.state = widgetState(fx.state.account.id, 'admin', 91);
    const first = await open(hostPage('<ladder-meter metric="api_calls"></ladder-meter>'));
    await poll(() => shadowText(first.page, 'ladder-meter')).toContain('9,100 of 10,000');
    await first.page.close();

    let release!: () => void;
    fx.hold = new Promise((r) => (release = r));
    fx.state = widgetState(fx.state.account.id, 'admin', 95);
    const { page } = await open(hostPage('<ladder-meter metric="api_calls"></ladder-meter>'));
    await poll(() => shadowText(page, 'ladder-meter')).toContain('9,100 of 10,000');
    release();
    await poll(() => shadowText(page, 'ladder-meter')).toContain('9,500 of 10,000');
    await page.close();
  });

  test('refresh revalidates with If-None-Match: an unchanged state is a 304 that keeps the page as it is (prompts too); a changed one renders', async () => {
    fx.state = widgetState(fx.state.account.id, 'admin', 93, [limitPrompt(93)]);
    const { page, warnings } = await open(hostPage('<ladder-meter metric="api_calls"></ladder-meter><ladder-notices></ladder-notices>'));
    await poll(() => shadowText(page, 'ladder-meter')).toContain('9,300 of 10,000');
    const notice = page.locator('ladder-notices section[data-kind=limit_notice]');
    await notice.waitFor();
    // Count every change to the widget's DOM from here on.
    await page.evaluate(() => {
      const w = window as unknown as { mutations: number };
      w.mutations = 0;
      for (const el of document.querySelectorAll('ladder-meter, ladder-notices'))
        new MutationObserver((m) => (w.mutations += m.length)).observe(el.shadowRoot!, { subtree: true, childList: true, characterData: true, attributes: true });
    });
    await page.evaluate(() => window.Ladder!.refresh());
    const states = fx.calls('GET', '/v1/widget/state');
    expect(states[0]!.headers['if-none-match'] ?? '').toBe(''); // a new page has nothing to revalidate (the header goes empty)
    expect(states[1]!.headers['if-none-match']).toMatch(/^"[0-9a-f]{40}"$/);
    expect(fx.answers).toEqual([200, 304]);
    expect(await notice.count()).toBe(1);
    expect(await page.evaluate(() => (window as unknown as { mutations: number }).mutations)).toBe(0);
    fx.state = widgetState(fx.state.account.id, 'admin', 95, [limitPrompt(95)]);
    await page.evaluate(() => window.Ladder!.refresh());
    expect(fx.answers).toEqual([200, 304, 200]);
    await poll(() => shadowText(page, 'ladder-meter')).toContain('9,500 of 10,000');
    expect(warnings).toEqual([]);
    await page.close();
  });

  test('Ladder.init with getToken fetches a new token on a 401 and retries once', async () => {
    const revoked = fx.token.replace(/\.[^.]+$/, '.cmV2b2tlZA');
    fx.revoked.add(revoked);
    fx.tokenQueue = [revoked];
    const { page, warnings } = await open(
      '<!doctype html><html lang="en"><title>npm host</title><script src="/ladder.js"></script><ladder-meter metric="api_calls"></ladder-meter></html>',
    );
    await page.evaluate(() =>
      window.Ladder!.init({ getToken: () => fetch('/ladder-token').then((r) => r.json()).then((j) => j.token) }),
    );
    await poll(() => shadowText(page, 'ladder-meter')).toContain('4,000 of 10,000');
    const states = fx.calls('GET', '/v1/widget/state').map((r) => r.headers.authorization);
    expect(states).toEqual([`Bearer ${revoked}`, `Bearer ${fx.token}`]);
    expect(warnings).toEqual([]);
    await page.close();
  });
});

describe('manage plan', () => {
  const onBusiness = () => {
    fx.state.account.plan = { id: 'business', name: 'Business', price_cents: 10000, currency: 'usd', interval: 'month', annual_amount_cents: 96000, annual_saving_cents: 24000 };
    fx.state.downgrade_options = [{ plan_id: 'starter', name: 'Starter', price_cents: 5000, currency: 'usd', interval: 'month' }];
  };

  test('an admin switches to yearly, schedules and undoes a downgrade, and goes cancel → offer → accept, keyboard reachable', async () => {
    onBusiness();
    const { page, errors } = await open(hostPage('<ladder-plan></ladder-plan>'));
    await page.locator('ladder-plan').getByRole('button', { name: 'Manage plan' }).click();
    const dialog = page.getByRole('dialog', { name: 'Manage plan' });
    await dialog.getByText('Current plan: Business · $100.00/month').waitFor();

    // Downgrade at the period end, then undo it.
    await dialog.getByRole('button', { name: 'Downgrade' }).click();
    await dialog.getByRole('radio', { name: /Starter/ }).check();
    await dialog.getByText(/Your plan changes to Starter on December 1, 2026/).waitFor();
    await dialog.getByRole('button', { name: 'Schedule downgrade' }).dblclick();
    await dialog.getByText('Your plan changes to Starter on Dec 1.').waitFor();
    const downs = fx.calls('POST', '/v1/widget/downgrade');
    expect(new Set(downs.map((r) => r.body.idempotency_key)).size).toBe(1);
    expect(downs[0]!.body).toMatchObject({ plan_id: 'starter' });
    await dialog.getByRole('button', { name: 'Undo' }).click();
    await dialog.getByText('Undone: your plan stays as it is.').waitFor();
    expect(fx.calls('DELETE', '/v1/widget/scheduled-change')).toHaveLength(1);

    // Cancel → reason → offer → accept.
    await dialog.getByRole('button', { name: 'Cancel plan' }).click();
    await dialog.getByRole('radio', { name: 'It costs too much' }).check();
    await dialog.getByRole('button', { name: 'Continue' }).click();
    await dialog.getByText('Keep Business at 25% off for the next 3 months.').waitFor();
    await dialog.getByRole('button', { name: 'Accept offer' }).click();
    await dialog.getByText('Done: 25% off for the next 3 months.').waitFor();
    expect(fx.calls('POST', '/v1/widget/cancel/accept')[0]!.body).toMatchObject({ offer_id: 'sof_1', idempotency_key: expect.stringMatching(/^[0-9a-f]{32}$/) });

    // The yearly switch goes through the upgrade preview with interval "year".
    await dialog.getByRole('button', { name: 'Switch to yearly · Save $240.00 a year' }).click();
    const yearly = page.getByRole('dialog', { name: 'Switch to yearly billing' });
    await yearly.getByText(fx.preview.message).waitFor();
    expect(fx.calls('POST', '/v1/widget/upgrade/preview').at(-1)!.body).toEqual({ interval: 'year' });
    await yearly.getByRole('button', { name: 'Switch to yearly' }).click();
    await poll(() => fx.calls('POST', '/v1/widget/upgrade').length).toBe(1);
    expect(fx.calls('POST', '/v1/widget/upgrade')[0]!.body).toMatchObject({ interval: 'year', proration_date: charged(fx.preview).proration_date });
    expect(errors).toEqual([]);
  });

  test('an admin with 8 bought seats schedules 5 for the period end, sees it pending, and undoes it', async () => {
    onBusiness();
    fx.state.seats_bought = 8;
    const { page, errors } = await open(hostPage('<ladder-plan></ladder-plan>'));
    await page.locator('ladder-plan').getByRole('button', { name: 'Manage plan' }).click();
    const dialog = page.getByRole('dialog', { name: 'Manage plan' });
    await dialog.getByRole('button', { name: 'Remove seats' }).click();
    const input = dialog.getByRole('spinbutton', { name: /Seats bought from the end of this billing period \(now 8\)/ });
    await input.fill('9');
    await input.press('Enter');
    await dialog.getByText('Choose 0 to 7 seats.').waitFor();
    expect(await dialog.getByRole('button', { name: 'Schedule seat change' }).isDisabled()).toBe(true);
    await input.fill('5');
    await input.press('Tab');
    await dialog.getByText('Your seats drop to 5 on December 1, 2026; nothing is refused until then.').waitFor();
    expect(fx.calls('POST', '/v1/widget/downgrade/preview').at(-1)!.body).toEqual({ seats: 5 });
    await dialog.getByRole('button', { name: 'Schedule seat change' }).dblclick();
    await dialog.getByText('Your seats drop to 5 on Dec 1.').waitFor();
    const downs = fx.calls('POST', '/v1/widget/downgrade');
    expect(downs[0]!.body).toEqual({ seats: 5, idempotency_key: expect.stringMatching(/^[0-9a-f]{32}$/) });
    expect(new Set(downs.map((r) => r.body.idempotency_key)).size).toBe(1);
    await dialog.getByRole('button', { name: 'Undo' }).click();
    await dialog.getByText('Undone: your plan stays as it is.').waitFor();
    expect(await dialog.getByRole('button', { name: 'Remove seats' }).count()).toBe(1);
    expect(errors).toEqual([]);
  });

  test('declining the offer cancels at the period end; a member only sees "Ask your admin"', async () => {
    onBusiness();
    const { page } = await open(hostPage(''));
    await page.evaluate(() => window.Ladder!.managePlan());
    const dialog = page.getByRole('dialog', { name: 'Manage plan' });
    await dialog.getByRole('button', { name: 'Cancel plan' }).click();
    await dialog.getByRole('radio', { name: 'Something else' }).check();
    await dialog.getByRole('button', { name: 'Continue' }).click();
    await dialog.getByText('We are sorry to see you go.').waitFor();
    await dialog.getByRole('button', { name: 'Cancel at the end of the period' }).click();
    await dialog.getByText('Your plan ends on Dec 1.').first().waitFor();
    expect(fx.calls('POST', '/v1/widget/cancel')[0]!.body).toMatchObject({ reason: 'other' });

    fx.reset('member');
    onBusiness();
    const member = (await open(hostPage(''))).page;
    await member.evaluate(() => window.Ladder!.managePlan());
    await member.getByRole('dialog', { name: 'Ask your admin' }).waitFor();
    expect(await member.getByRole('button', { name: 'Cancel plan' }).count()).toBe(0);
  });
});
