/**
 * The dashboard in Debian's Chromium against the real dev worker (wrangler dev, local D1,
 * seeded demo history): every number on screen is checked against the admin API's JSON.
 * Screenshots of each view go to test-output/dashboard/ for review.
 */
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { d1 } from '../../test/e2e/browser';
import { DAY, money, num, pct } from '../src/format';

// The real dev worker, started by the shared globalSetup test/e2e/devWorker.global.ts.
const { base, adminKey: ADMIN } = inject('e2e');
const shots = fileURLToPath(new URL('../../test-output/dashboard/', import.meta.url));
const axeSource = readFile(fileURLToPath(new URL('../../node_modules/axe-core/axe.min.js', import.meta.url)), 'utf8');

let ctx: BrowserContext;
let page: Page;
let profile: string;

/** The admin API with the bearer key, as JSON (or text for CSV). */
async function admin(path: string, accept = 'application/json'): Promise<any> {
  const res = await fetch(base + path, { headers: { authorization: `Bearer ${ADMIN}`, accept } });
  if (!res.ok) throw new Error(`${path} → ${res.status} ${await res.text()}`);
  return accept === 'text/csv' ? res.text() : res.json();
}

/** The dashboard's default period: the 28 UTC days up to today, as the API's [from, to). */
function defaultRange() {
  const now = new Date();
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return { from: new Date(today - 27 * DAY).toISOString(), to: new Date(today + DAY).toISOString() };
}
const query = (params: Record<string, string>) => '?' + new URLSearchParams(params).toString();

const poll = <T>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: 15_000, interval: 100 });

async function view(name: string) {
  await page.evaluate((v) => (location.hash = `#/${v}`), name);
  await page.locator(`main[data-view="${name.split('/')[0]}"]`).waitFor();
}

async function screenshot(name: string) {
  await page.waitForTimeout(300);
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

/** axe-core over the whole page, shadow roots included: serious and critical violations only. */
async function seriousViolations(): Promise<string[]> {
  const loaded = await page.evaluate(() => 'axe' in window);
  if (!loaded) await page.evaluate(await axeSource);
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(ctx: Document, o: object): Promise<{ violations: { id: string; impact: string; nodes: { target: unknown }[] }[] }> } }).axe;
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, targets: v.nodes.map((n) => JSON.stringify(n.target)).slice(0, 3) }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} (${v.impact}) at ${v.targets.join(', ')}`);
}

const rowsOf = (tableId: string) => page.locator(`#${tableId} tbody tr`);
const cellText = (tableId: string, row: number, col: number) => rowsOf(tableId).nth(row).locator('td').nth(col).innerText();

/** Clicks a table's Export CSV button and returns the downloaded file's text. */
async function downloadCsv(tableId: string): Promise<{ name: string; text: string }> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.locator(`#${tableId} button`, { hasText: 'Export CSV' }).click()]);
  return { name: download.suggestedFilename(), text: await readFile((await download.path())!, 'utf8') };
}

beforeAll(async () => {
  await mkdir(shots, { recursive: true });
  profile = await mkdtemp(join(tmpdir(), 'ladder-dashboard-'));
  ctx = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1366, height: 900 },
    acceptDownloads: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  page = ctx.pages()[0] ?? (await ctx.newPage());
});

afterAll(async () => {
  await ctx?.close();
  if (profile) await rm(profile, { recursive: true, force: true });
});

describe('dashboard in Chromium against the dev worker', () => {
  test('a wrong admin key is refused and sets no session', async () => {
    await page.goto(`${base}/dashboard`);
    await page.locator('#admin-key').fill('not-the-admin-key');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').innerText()).toContain('That admin key is not valid.');
    expect((await ctx.cookies()).map((c) => c.name)).not.toContain('ladder_session');
    expect(await page.evaluate(async () => (await fetch('/v1/admin/session')).status)).toBe(401);
    await screenshot('login-refused');
    expect(await seriousViolations()).toEqual([]);
  });

  test('the right key signs in with an HttpOnly, SameSite=Strict cookie; the overview shows the API’s numbers', async () => {
    await page.locator('#admin-key').fill(ADMIN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('main[data-view="overview"]').waitFor();
    const cookie = (await ctx.cookies()).find((c) => c.name === 'ladder_session');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/v1/admin' });

    const r = defaultRange();
    const up = await admin(`/v1/admin/analytics/upgrades${query({ ...r, interval: 'day' })}`);
    const rev = await admin(`/v1/admin/analytics/revenue${query(r)}`);
    expect(up.total.eligible_accounts).toBeGreaterThan(100); // the seeded history is there
    const stat = (name: string) => page.locator(`[data-stat="${name}"] [data-value]`).innerText();
    await poll(() => stat('upgrade-rate')).toBe(pct(up.total.rate));
    expect(await stat('expansion')).toBe(money(rev.expansion_cents));
    expect(await stat('nrr')).toBe(pct(rev.nrr));
    expect(await stat('grr')).toBe(pct(rev.grr));
    await expect.poll(() => rowsOf('upgrade-series').count()).toBe(up.series.length);
    const last = up.series.at(-1);
    expect(await cellText('upgrade-series', up.series.length - 1, 1)).toBe(String(last.eligible_accounts));
    expect(await cellText('upgrade-series', up.series.length - 1, 3)).toBe(pct(last.rate));
    expect(await page.locator('.chart canvas').count()).toBeGreaterThanOrEqual(2);

    // weekly buckets
    await page.locator('select[name="interval"]').selectOption('week');
    const weekly = await admin(`/v1/admin/analytics/upgrades${query({ ...r, interval: 'week' })}`);
    await poll(() => rowsOf('upgrade-series').count()).toBe(weekly.series.length);
    expect(await cellText('upgrade-series', 0, 2)).toBe(String(weekly.series[0].upgraded_accounts));
    expect(await page.getByTestId('benchmark').innerText()).toBe("The playbooks' healthy range is 3%–7% a month: choose Month to compare.");

    // monthly buckets, with the playbooks' 3–7% band shaded on the chart
    await page.locator('select[name="interval"]').selectOption('month');
    const monthly = await admin(`/v1/admin/analytics/upgrades${query({ ...r, interval: 'month' })}`);
    await poll(() => rowsOf('upgrade-series').count()).toBe(monthly.series.length);
    expect(await cellText('upgrade-series', 0, 0)).toBe(monthly.series[0].start.slice(0, 7));
    expect(await cellText('upgrade-series', 0, 3)).toBe(pct(monthly.series[0].rate));
    expect(await page.getByTestId('benchmark').innerText()).toBe("Shaded: the playbooks' healthy range, 3%–7% a month.");

    // the rate per prompt kind, as the API computes it, and its CSV
    await poll(() => rowsOf('by-kind').count()).toBe(monthly.by_kind.length);
    const top = monthly.by_kind[0];
    expect(await cellText('by-kind', 0, 1)).toBe(top.accounts_shown === null ? '—' : num(top.accounts_shown));
    expect(await cellText('by-kind', 0, 3)).toBe(pct(top.rate));
    const byKind = await downloadCsv('by-kind');
    expect(byKind.name).toBe('upgrades-by-kind.csv');
    expect(byKind.text).toBe(await admin(`/v1/admin/analytics/upgrades${query({ ...r, interval: 'month', by: 'kind' })}`, 'text/csv'));
    expect(byKind.text.split('\r\n')[0]).toBe('kind,accounts_shown,upgraded_accounts,rate,upgrades,expansion_mrr_cents');
    await screenshot('overview');
    expect(await seriousViolations()).toEqual([]);
  });

  test('funnels list each prompt and variant as the API counts them, and export the API’s CSV', async () => {
    await view('funnels');
    const f = await admin(`/v1/admin/analytics/funnel${query(defaultRange())}`);
    await poll(() => rowsOf('funnel').count()).toBe(f.rows.length);
    for (const [i, row] of f.rows.slice(0, 3).entries()) {
      expect(await cellText('funnel', i, 0)).toBe(row.prompt_id);
      expect(await cellText('funnel', i, 2)).toBe(num(row.impressions));
      expect(await cellText('funnel', i, 7)).toBe(num(row.upgrades));
    }
    const csv = await downloadCsv('funnel');
    expect(csv.name).toBe('funnel.csv');
    expect(csv.text).toBe(await admin(`/v1/admin/analytics/funnel${query(defaultRange())}`, 'text/csv'));
    expect(csv.text.split('\r\n')[0]).toBe('prompt_id,kind,experiment_id,variant_id,impressions,clicks,previews,upgrades,expansion_mrr_cents,click_rate,preview_rate,upgrades_per_preview');

    // sorting by a column reorders the rows
    await page.locator('#funnel th button', { hasText: /^Upgrades\b(?! per)/ }).click();
    const most = [...f.rows].sort((a, b) => a.upgrades - b.upgrades).at(-1);
    await page.locator('#funnel th button', { hasText: /^Upgrades\b(?! per)/ }).click(); // descending
    expect(await cellText('funnel', 0, 7)).toBe(num(most.upgrades));
    await screenshot('funnels');
    expect(await seriousViolations()).toEqual([]);
  });

  test('editing a prompt’s copy changes the widget’s own preview, and saving stores it', async () => {
    await view('prompts');
    await page.getByRole('button', { name: 'Edit copy of limit-75' }).click();
    const previewTitle = page.locator('[data-testid="prompt-preview"] h3');
    await poll(() => previewTitle.innerText()).toBe('Approaching your API calls limit');
    await page.locator('#copy-title').fill('Only {pct} used on {plan}: plan ahead');
    await poll(() => previewTitle.innerText()).toBe('Only 78% used on Starter: plan ahead');
    await page.locator('#copy-cta_label').fill('See {next_plan}');
    await poll(() => page.locator('[data-testid="prompt-preview"] button.pri').innerText()).toBe('See Pro');
    // copy is text, never HTML
    await page.locator('#copy-body').fill('<img src=x onerror=alert(1)> {used} of {limit}');
    await poll(() => page.locator('[data-testid="prompt-preview"] p').first().innerText()).toBe('<img src=x onerror=alert(1)> 7,800 of 10,000');
    expect(await page.locator('[data-testid="prompt-preview"] img').count()).toBe(0);
    await screenshot('prompts-editor');
    expect(await seriousViolations()).toEqual([]);
    await page.getByRole('button', { name: 'Save copy' }).click();
    await poll(() => page.locator('p.status').innerText()).toBe('Saved the copy of limit-75.');
    const saved = (await admin('/v1/admin/prompts')).prompts.find((p: { id: string }) => p.id === 'limit-75');
    expect(saved.copy).toMatchObject({ title: 'Only {pct} used on {plan}: plan ahead', cta_label: 'See {next_plan}' });

    // on/off
    await page.getByRole('switch', { name: 'invite on' }).click();
    await poll(async () => (await admin('/v1/admin/prompts')).prompts.find((p: { id: string }) => p.id === 'invite').enabled).toBe(false);
    await poll(() => page.getByRole('switch', { name: 'invite on' }).isChecked()).toBe(false);
    await page.getByRole('switch', { name: 'invite on' }).click();
    await poll(async () => (await admin('/v1/admin/prompts')).prompts.find((p: { id: string }) => p.id === 'invite').enabled).toBe(true);
  });

  test('previewing a looser milestone cap shows more impressions than the rules in force, with projected upgrades as ranges, before saving', async () => {
    await view('prompts');
    const before = (await admin('/v1/admin/prompts')).prompts.find((p: { id: string }) => p.id === 'milestone');
    await page.getByRole('button', { name: 'Simulate a change to milestone' }).click();
    await page.locator('#sim-total').fill('5');
    await page.locator('#sim-window_days').fill('42');
    await page.getByRole('button', { name: 'Simulate', exact: true }).click();
    const stat = (name: string) => page.locator(`[data-stat="${name}"] [data-value]`).innerText();
    await page.locator('[data-stat="proposed-impressions"]').waitFor({ timeout: 60_000 });
    // The same proposal through the API: the screen shows its numbers.
    const { copy, trigger, caps, kind } = before;
    const res = await fetch(base + '/v1/admin/simulations', {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ definitions: { milestone: { kind, trigger, copy, enabled: true, caps: { ...caps, total: 5 } } }, window_days: 42 }),
    });
    const sim = await res.json();
    expect(sim.proposed.totals.impressions).toBeGreaterThan(sim.current.totals.impressions);
    expect(await stat('current-impressions')).toBe(num(sim.current.totals.impressions));
    expect(await stat('proposed-impressions')).toBe(num(sim.proposed.totals.impressions));
    const { low, high } = sim.proposed.projection.upgrades;
    expect(low).toBeLessThan(high);
    expect(await stat('proposed-upgrades')).toMatch(/ – /);
    expect(await page.locator('[data-sampling]').innerText()).toContain(String(sim.sampling.accounts_with_history));
    expect(await rowsOf('simulation-prompts').count()).toBeGreaterThan(0);
    await screenshot('prompts-simulate');
    expect(await seriousViolations()).toEqual([]);
    // Nothing was saved.
    expect((await admin('/v1/admin/prompts')).prompts.find((p: { id: string }) => p.id === 'milestone')).toEqual(before);
    await page.getByRole('button', { name: 'Close', exact: true }).last().click();
  });

  test('Preview impact in the rules editor: the 90% notice moved to 80% shows more impressions of it than the current ladder, with upgrade ranges, before saving', async () => {
    await view('prompts');
    const before = (await admin('/v1/admin/prompts')).prompts.find((p: { id: string }) => p.id === 'limit-90');
    await page.getByRole('button', { name: 'Edit copy of limit-90' }).click();
    await page.locator('#rules-thresholds').fill('80');
    await page.getByRole('button', { name: 'Preview impact' }).click();
    await page.locator('[data-stat="proposed-accounts"]').waitFor({ timeout: 60_000 });
    // The draft, not the rule in force: the preview form carries 80.
    expect(await page.locator('#sim-thresholds').inputValue()).toBe('80');
    // "Accounts shown limit-90 — …, N impressions": the notice reaches accounts between 80% and 90% too.
    const shown = async (rule: string) => {
      const text = await page.locator(`[data-stat="${rule}-accounts"]`).innerText();
      const accounts = Number((await page.locator(`[data-stat="${rule}-accounts"] [data-value]`).innerText()).replace(/[^\d]/g, ''));
      return { accounts, impressions: Number(/([\d,]+) impressions/.exec(text)![1]!.replace(/,/g, '')) };
    };
    const current = await shown('current');
    const proposed = await shown('proposed');
    expect(proposed.impressions).toBeGreaterThan(current.impressions);
    expect(proposed.accounts).toBeGreaterThan(current.accounts);
    expect(await page.locator('[data-stat="proposed-upgrades"] [data-value]').innerText()).toMatch(/ – /);
    expect(await seriousViolations()).toEqual([]);
    // Nothing was saved.
    expect((await admin('/v1/admin/prompts')).prompts.find((p: { id: string }) => p.id === 'limit-90')).toEqual(before);
    await page.getByRole('button', { name: 'Close', exact: true }).last().click();
  });

  test('a PM edits a prompt’s thresholds and caps and the activation rule; the API’s messages name bad fields', async () => {
    const put = (path: string, body: unknown) =>
      fetch(base + path, { method: 'PUT', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const before = (await admin('/v1/admin/prompts')).prompts.find((p: { id: string }) => p.id === 'limit-75');
    const rule = await admin('/v1/admin/activation');
    try {
      await view('prompts');
      await page.getByRole('button', { name: 'Edit copy of limit-75' }).click();
      await page.locator('#rules-thresholds').fill('75, 101');
      await page.getByRole('button', { name: 'Save rules' }).click();
      await poll(() => page.locator('p.status').first().innerText()).toContain('trigger.thresholds.1');
      await page.locator('#rules-thresholds').fill('75, 80');
      await page.locator('#rules-total').fill('2');
      await page.locator('#rules-snooze_days').fill('3');
      await page.getByRole('button', { name: 'Save rules' }).click();
      await poll(() => page.locator('p.status').first().innerText()).toBe('Saved the rules of limit-75.');
      const saved = (await admin('/v1/admin/prompts')).prompts.find((p: { id: string }) => p.id === 'limit-75');
      expect(saved.trigger.thresholds).toEqual([75, 80]);
      expect(saved.caps).toMatchObject({ total: 2, snooze_days: 3 });

      await page.locator('#activation-events').fill('core_feature_activated, project_created');
      await page.locator('#activation-min_events').fill('0');
      await page.getByRole('button', { name: 'Save activation rule' }).click();
      await poll(() => page.locator('#activation-status').innerText()).toContain('min_events');
      await page.locator('#activation-min_events').fill('3');
      await page.locator('#activation-min_age_days').fill('7');
      await page.getByRole('button', { name: 'Save activation rule' }).click();
      await poll(() => page.locator('#activation-status').innerText()).toBe('Saved the activation rule.');
      expect(await admin('/v1/admin/activation')).toEqual({ events: ['core_feature_activated', 'project_created'], min_events: 3, min_age_days: 7 });
      expect(await seriousViolations()).toEqual([]);
    } finally {
      await put('/v1/admin/prompts/limit-75', { kind: before.kind, trigger: before.trigger, caps: before.caps, copy: before.copy, enabled: before.enabled });
      await put('/v1/admin/activation', rule);
    }
  });

  test('the forecast prompt is listed and edited like any prompt: days before the limit, and {date} in the preview', async () => {
    const put = (path: string, body: unknown) =>
      fetch(base + path, { method: 'PUT', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const before = (await admin('/v1/admin/prompts')).prompts.find((p: { id: string }) => p.id === 'forecast');
    try {
      await view('prompts');
      const row = page.locator('#prompts tbody tr[data-key="forecast"]');
      await poll(() => row.innerText()).toContain('any metric limit forecast within 7 days');
      await page.getByRole('button', { name: 'Edit copy of forecast' }).click();
      // the preview renders the widget's own notice with the sample forecast date
      await poll(() => page.getByTestId('prompt-preview').locator('section[data-kind=forecast]').innerText()).toContain("At this pace you'll reach your API calls limit on Dec 12.");
      await page.locator('#rules-days_before').fill('0');
      await page.getByRole('button', { name: 'Save rules' }).click();
      await poll(() => page.locator('p.status').first().innerText()).toContain('trigger.days_before');
      await page.locator('#rules-days_before').fill('10');
      await page.getByRole('button', { name: 'Save rules' }).click();
      await poll(() => page.locator('p.status').first().innerText()).toBe('Saved the rules of forecast.');
      const saved = (await admin('/v1/admin/prompts')).prompts.find((p: { id: string }) => p.id === 'forecast');
      expect(saved.trigger).toEqual({ metric: '*', days_before: 10 });
      await poll(() => row.innerText()).toContain('within 10 days');
      expect(await seriousViolations()).toEqual([]);
    } finally {
      await put('/v1/admin/prompts/forecast', { kind: before.kind, trigger: before.trigger, caps: before.caps, copy: before.copy, enabled: before.enabled });
    }
  });

  test("Preview impact from an experiment's variant: shipping it projects upgrades from its own arm, next to the rules in force", async () => {
    await view('experiments');
    const { experiments } = await admin('/v1/admin/experiments');
    const seeded = experiments.find((e: { key: string }) => e.key === 'limit90-urgency');
    const results = await admin(`/v1/admin/experiments/${seeded.id}/results`);
    const urgent = results.variants.find((v: { id: string }) => v.id === 'urgent');
    await page.getByRole('button', { name: 'limit90-urgency', exact: true }).click();
    await page.getByRole('button', { name: 'Preview impact of shipping urgent' }).click();
    const panel = page.locator('[data-variant-impact="urgent"]');
    await panel.locator('[data-stat="proposed-upgrades"]').waitFor({ timeout: 60_000 });
    expect(await panel.innerText()).toContain(`${num(urgent.conversions)} conversions of ${num(urgent.exposed)} exposed accounts`);
    expect(await panel.locator('[data-stat="proposed-upgrades"] [data-value]').innerText()).toMatch(/ – /);
    // Copy changes no impression: the same totals on both sides.
    expect(await panel.locator('[data-stat="proposed-impressions"] [data-value]').innerText()).toBe(await panel.locator('[data-stat="current-impressions"] [data-value]').innerText());
    expect(await seriousViolations()).toEqual([]);
    // Nothing shipped.
    expect((await admin(`/v1/admin/experiments/${seeded.id}`)).status).toBe(seeded.status);
    await panel.getByRole('button', { name: 'Close' }).click();
  });

  test('the seeded experiment shows its winner; a new one is created, started and read', async () => {
    await view('experiments');
    const { experiments } = await admin('/v1/admin/experiments');
    const seeded = experiments.find((e: { key: string }) => e.key === 'limit90-urgency');
    const results = await admin(`/v1/admin/experiments/${seeded.id}/results`);
    expect(results.verdict.status).toBe('winner');
    await page.getByRole('button', { name: 'limit90-urgency', exact: true }).click();
    await poll(() => page.locator('[data-verdict]').innerText()).toContain(results.verdict.message);
    expect(await page.locator('[data-srm]').getAttribute('data-srm')).toBe(results.srm.flagged ? 'flagged' : 'ok');
    const urgent = results.variants.find((v: { id: string }) => v.id === 'urgent');
    const row = page.locator('#results tbody tr[data-key="urgent"] td');
    expect(await row.nth(1).innerText()).toBe(num(urgent.exposed));
    expect(await row.nth(2).innerText()).toBe(num(urgent.conversions));
    expect(await row.nth(3).innerText()).toBe(`${pct(urgent.rate)} (${pct(urgent.rate_ci[0])} to ${pct(urgent.rate_ci[1])})`);
    expect(await row.nth(6).innerText()).toBe(pct(urgent.chance_to_beat_control));
    await screenshot('experiments-results');

    await page.getByRole('button', { name: 'New experiment' }).click();
    await page.locator('#exp-key').fill('e2e-gate-copy');
    await page.locator('#exp-prompt').selectOption('gate');
    await page.locator('#v1-id').fill('benefit');
    await page.locator('#v1-title').fill('Turn on {feature} for your team');
    await page.getByRole('button', { name: 'Preview this variant' }).nth(1).click();
    await poll(() => page.locator('[data-testid="prompt-preview"] h3').innerText()).toBe('Turn on Single sign-on for your team');
    await page.locator('#exp-holdout').fill('10');
    await screenshot('experiments-create');
    expect(await seriousViolations()).toEqual([]);
    await page.getByRole('button', { name: 'Create draft' }).click();
    await poll(() => page.locator('p.status').innerText()).toContain('Created e2e-gate-copy as a draft');
    const created = (await admin('/v1/admin/experiments')).experiments.find((e: { key: string }) => e.key === 'e2e-gate-copy');
    expect(created).toMatchObject({ status: 'draft', prompt_id: 'gate', holdout_pct: 10, variants: [{ id: 'control' }, { id: 'benefit', copy: { title: 'Turn on {feature} for your team' } }] });

    await page.getByRole('button', { name: 'Start e2e-gate-copy' }).click();
    await poll(async () => (await admin(`/v1/admin/experiments/${created.id}`)).status).toBe('running');
    await poll(() => page.locator(`#experiments tr[data-key="${created.id}"] .badge`).innerText()).toBe('running');
    await poll(() => page.locator(`[data-experiment="${created.id}"] #results tbody tr`).count()).toBeGreaterThanOrEqual(2);
    const fresh = await admin(`/v1/admin/experiments/${created.id}/results`);
    expect(await page.locator(`[data-experiment="${created.id}"] [data-verdict]`).innerText()).toContain(fresh.verdict.message);
    await screenshot('experiments');
  });

  test('prompt history shows what each user of an account saw, and exports it', async () => {
    await view('accounts/initech');
    const path = `/v1/admin/accounts/initech/prompt-history${query({ ...defaultRange(), limit: '500' })}`;
    const h = await admin(path);
    expect(h.prompts.length).toBeGreaterThan(0);
    await poll(() => rowsOf('history').count()).toBe(h.prompts.length);
    expect(await cellText('history', 0, 0)).toBe(h.prompts[0].user_id);
    expect(await cellText('history', 0, 1)).toBe(h.prompts[0].prompt_id);
    expect(await cellText('history', 0, 2)).toBe(String(h.prompts[0].impressions));
    expect(await rowsOf('events').count()).toBe(h.events.length);
    const csv = await downloadCsv('history');
    expect(csv.name).toBe('prompt-history-initech.csv');
    expect(csv.text).toBe(await admin(path, 'text/csv'));
    await screenshot('prompt-history');
    expect(await seriousViolations()).toEqual([]);
  });

  describe('PQA and webhooks', () => {
    let receiver: Server;
    const received: { headers: IncomingHttpHeaders; body: string }[] = [];
    beforeAll(async () => {
      receiver = createServer((req, res) => {
        let body = '';
        req.on('data', (c) => (body += c));
        req.on('end', () => {
          received.push({ headers: req.headers, body });
          res.writeHead(200).end('ok');
        });
      });
      await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    });
    afterAll(() => new Promise<void>((r) => receiver.close(() => r())));

    test('accounts by band match the API, filter by band, and a webhook test-send arrives signed', async () => {
      await view('pqa');
      const { accounts } = await admin('/v1/admin/accounts?limit=1000');
      for (const band of ['nurture', 'warm', 'sales_assist', 'sales_ready']) {
        const n = accounts.filter((a: { band: string }) => a.band === band).length;
        expect(n, band).toBeGreaterThan(0);
        await poll(() => page.locator(`[data-stat="band-${band}"] [data-value]`).innerText()).toBe(num(n));
      }
      // Band labels come from the configured edges; editing points or edges previews how accounts would band.
      const config = await admin('/v1/admin/pqa/config');
      expect(await page.locator('[data-stat="band-sales_ready"]').innerText()).toContain(`Sales-ready (${config.bands.sales_ready}–100)`);
      const dryRun = async (body: unknown) => {
        const res = await fetch(`${base}/v1/admin/pqa/config?dry_run=true`, { method: 'PUT', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
        const json = await res.json();
        expect(res.status, JSON.stringify(json)).toBe(200);
        return json;
      };
      const previewCell = (band: string, col: number) => page.locator(`#pqa-preview tr[data-band="${band}"] td`).nth(col).innerText();
      const lower = config.bands.sales_assist + Math.floor((config.bands.sales_ready - config.bands.sales_assist) / 2);
      await page.locator('#pqa-bands-sales_ready').fill(String(lower));
      await page.locator('#pqa-limit_hit-points').fill('40');
      const proposed = { ...config, bands: { ...config.bands, sales_ready: lower }, limit_hit: { points: 40 } };
      const expected = await dryRun(proposed);
      expect(expected.bands.sales_ready).toBeGreaterThan(expected.current_bands.sales_ready);
      for (const band of ['nurture', 'warm', 'sales_assist', 'sales_ready']) {
        await poll(() => previewCell(band, 1)).toBe(num(expected.bands[band]));
        expect(await previewCell(band, 0)).toBe(num(expected.current_bands[band]));
      }
      expect(await page.locator('#pqa-preview tr[data-band="sales_ready"] th').innerText()).toBe(`Sales-ready (${lower}–100)`);
      await page.locator('#pqa-bands-warm').fill(String(config.bands.sales_ready + 1));
      await poll(() => page.locator('#scoring-status').innerText()).toContain('band edges must rise: warm < sales_assist < sales_ready');
      await page.locator('#pqa-bands-warm').fill(String(config.bands.warm));
      await page.getByRole('button', { name: 'Save scoring' }).click();
      await poll(() => page.locator('#scoring-status').innerText()).toBe('Saved the PQA points and band edges; every account is rescored by the next cron run.');
      expect(await admin('/v1/admin/pqa/config')).toEqual(proposed);
      await poll(() => page.locator('[data-stat="band-sales_ready"]').innerText()).toContain(`Sales-ready (${lower}–100)`);
      // back to the table as it was
      await page.locator('#pqa-bands-sales_ready').fill(String(config.bands.sales_ready));
      await page.locator('#pqa-limit_hit-points').fill(String(config.limit_hit.points));
      await page.getByRole('button', { name: 'Save scoring' }).click();
      await poll(async () => JSON.stringify(await admin('/v1/admin/pqa/config'))).toBe(JSON.stringify(config));

      await page.locator('select[name="band"]').selectOption('sales_ready');
      const ready = (await admin('/v1/admin/accounts?band=sales_ready&limit=1000')).accounts;
      await poll(() => rowsOf('pqa').count()).toBe(ready.length);
      expect(await rowsOf('pqa').first().innerText()).toContain(ready[0].top_signals[0]);

      const port = (receiver.address() as { port: number }).port;
      await page.locator('#wh-id').fill('e2e-hook');
      await page.locator('#wh-url').fill(`http://127.0.0.1:${port}/hook`);
      await page.locator('#wh-format').selectOption('json');
      await page.locator('#wh-secret').fill('e2e-secret-0123456789');
      await page.getByRole('button', { name: 'Save webhook' }).click();
      await poll(() => rowsOf('webhooks').filter({ hasText: 'e2e-hook' }).count()).toBe(1);
      await page.getByRole('button', { name: 'Send a test event to e2e-hook' }).click();
      await poll(() => page.locator('section[aria-labelledby="webhooks-title"] p.status').innerText()).toBe('Test sent to e2e-hook: answered 200.');
      expect(received).toHaveLength(1);
      expect(JSON.parse(received[0]!.body)).toMatchObject({ type: 'pqa.sales_ready', test: true });
      expect(Object.keys(received[0]!.headers).some((h) => h.includes('signature'))).toBe(true);
      await screenshot('pqa');
      expect(await seriousViolations()).toEqual([]);
    });

    test('a growth team edits the routing rules; the PQA list shows each account’s route as the API does', async () => {
      const put = (body: unknown) =>
        fetch(base + '/v1/admin/routing', { method: 'PUT', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const before = await admin('/v1/admin/routing');
      try {
        await view('pqa');
        await page.locator('select[name="band"]').selectOption('');
        await poll(() => rowsOf('routing').first().innerText()).toContain('large-expansion');
        await page.locator('#routing-json').fill(JSON.stringify({ rules: [{ id: 'hot', when: { bands: ['hot'] }, route: 'sales' }] }));
        await page.getByRole('button', { name: 'Save routing rules' }).click();
        await poll(() => page.locator('#routing-status').innerText()).toContain('rules.0.when.bands.0');
        expect(await admin('/v1/admin/routing')).toEqual(before);
        const rules = [
          { id: 'hot', when: { bands: ['sales_ready', 'sales_assist'] }, route: 'sales', webhook_ids: [] },
          { id: 'warm-csm', when: { bands: ['warm'] }, route: 'csm', webhook_ids: [] },
        ];
        await page.locator('#routing-json').fill(JSON.stringify({ rules }));
        await page.getByRole('button', { name: 'Save routing rules' }).click();
        await poll(() => page.locator('#routing-status').innerText()).toBe('Saved the routing rules.');
        expect(await admin('/v1/admin/routing')).toEqual({ rules });
        await poll(() => rowsOf('routing').count()).toBe(2);
        expect(await rowsOf('routing').nth(1).innerText()).toContain('band warm');
        // the list's Route column follows the rules, as the API computes them
        const { accounts } = await admin('/v1/admin/accounts?limit=1000');
        const labels: Record<string, string> = { self_serve: 'Self-serve', csm: 'CSM', sales: 'Sales' };
        for (const a of accounts.slice(0, 5)) {
          expect(a.route).toBe(a.band === 'warm' ? 'csm' : a.band === 'sales_ready' || a.band === 'sales_assist' ? 'sales' : 'self_serve');
          await poll(() => page.locator(`#pqa tbody tr[data-key="${a.account_id}"]`).innerText()).toContain(labels[a.route]!);
        }
        expect(await seriousViolations()).toEqual([]);
      } finally {
        await put(before);
      }
    });
  });

  test('the catalog shows plans × metrics × features and its history as the API has them, read-only', async () => {
    await view('catalog');
    const catalog = await admin('/v1/admin/catalog');
    const versions = await admin('/v1/admin/catalog/versions?limit=100');
    const plans = [...catalog.plans].sort((a: { rank: number }, b: { rank: number }) => a.rank - b.rank);
    await poll(() => rowsOf('catalog-plans').count()).toBe(plans.length);
    const headers = await page.locator('#catalog-plans thead th').allInnerTexts();
    const col = (label: string) => headers.findIndex((h) => h.trim().startsWith(label));
    for (const [i, p] of plans.entries()) {
      expect(await cellText('catalog-plans', i, 0)).toContain(p.name);
      expect(await cellText('catalog-plans', i, col('Offered'))).toBe(p.hidden ? 'Hidden' : 'Yes');
      for (const m of catalog.metrics) {
        const limit = p.limits[m.id];
        expect(await cellText('catalog-plans', i, col(m.name)), `${p.id} ${m.id}`).toBe(limit === null ? 'Unlimited' : num(limit));
      }
      for (const f of catalog.features) expect(await cellText('catalog-plans', i, col(f.name))).toBe(p.features.includes(f.id) ? 'Included' : '—');
    }
    expect(versions.length).toBeGreaterThan(0); // the demo seed applied a catalog
    await poll(() => rowsOf('catalog-history').count()).toBe(versions.length);
    expect(await cellText('catalog-history', 0, 0)).toBe(String(versions[0].version));
    expect(await rowsOf('catalog-history').first().locator('li').count()).toBe(versions[0].changes.length);
    expect(await page.locator('main form, main input, main [contenteditable]').count()).toBe(0);
    await screenshot('catalog');
    expect(await seriousViolations()).toEqual([]);
  });

  test('queued batches that could not be applied show on the overview, as the API lists them, and only while any exist', async () => {
    await view('overview');
    expect(await page.getByTestId('dead-letters').count()).toBe(0);
    // What the queue consumer stores (worker/ingest.ts): one refused on arrival, one the dead-letter queue gave up on.
    const t = Date.now();
    const body = (acct: string, n: number) => JSON.stringify({ kind: 'usage', received_at: t - 60_000, events: Array.from({ length: n }, (_, i) => ({ account_id: acct, metric: 'api_calls', value: 1, idempotency_key: `dl-${i}` })) });
    await d1(
      `INSERT INTO ingest_dead_letters (message_id, queue, kind, event_count, body, reason, attempts, queued_at, created_at) VALUES
       ('dash-dl-1', 'ladder-ingest', 'usage', 3, '${body('deleted-since', 3)}', 'The batch names accounts or metrics that do not exist; nothing was recorded. events.0.account_id: no account "deleted-since"', 1, ${t - 60_000}, ${t - 30_000}),
       ('dash-dl-2', 'ladder-ingest-dlq', 'usage', 2, '${body('acme', 2)}', 'dead-lettered after 3 attempt(s) on the ingestion queue', 3, ${t - 50_000}, ${t - 10_000})`,
    );
    try {
      const listed = await admin('/v1/admin/ingest/dead-letters');
      expect(listed.total).toBe(2);
      await page.reload();
      await page.locator('main[data-view="overview"]').waitFor();
      await poll(() => page.getByTestId('dead-letters-summary').innerText()).toContain('2 queued batches could not be applied (5 events)');
      expect(await rowsOf('dead-letter-list').count()).toBe(2);
      // newest first, as the API lists them
      for (const [i, l] of listed.dead_letters.entries()) {
        expect(await cellText('dead-letter-list', i, 3)).toBe(String(l.event_count));
        expect(await cellText('dead-letter-list', i, 4)).toBe(String(l.attempts));
        expect(await cellText('dead-letter-list', i, 5)).toBe(l.queue);
        expect(await cellText('dead-letter-list', i, 6)).toBe(l.reason);
      }
      expect(await cellText('dead-letter-list', 0, 5)).toBe('ladder-ingest-dlq');
      await screenshot('overview-dead-letters');
      expect(await seriousViolations()).toEqual([]);
    } finally {
      await d1(`DELETE FROM ingest_dead_letters WHERE message_id IN ('dash-dl-1', 'dash-dl-2')`);
    }
    await page.reload();
    await page.locator('[data-stat="upgrade-rate"]').waitFor();
    expect(await page.getByTestId('dead-letters').count()).toBe(0);
  });

  test('dark theme passes axe too, and signing out ends the session', async () => {
    await view('overview');
    await page.getByRole('button', { name: 'Switch to dark theme' }).click();
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
    await page.locator('[data-stat="upgrade-rate"]').waitFor();
    await screenshot('overview-dark');
    expect(await seriousViolations()).toEqual([]);
    await view('prompts');
    await page.getByRole('button', { name: 'Edit copy of gate' }).click();
    await poll(() => page.locator('[data-testid="prompt-preview"] h3').innerText()).toBe('Unlock Single sign-on');
    await screenshot('prompts-dark');
    expect(await seriousViolations()).toEqual([]);
    await page.getByRole('button', { name: 'Switch to light theme' }).click();

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.locator('#admin-key').waitFor();
    expect(await page.evaluate(async () => (await fetch('/v1/admin/session')).status)).toBe(401);
    expect((await ctx.cookies()).map((c) => c.name)).not.toContain('ladder_session');
  });
});
