/**
 * Helpers shared by the end-to-end tests: Debian's Chromium through playwright-core, the
 * dev worker's API with the secret or admin key, and reading the widget's shadow roots.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { expect, inject } from 'vitest';

export const e2e = inject('e2e');
const root = fileURLToPath(new URL('../..', import.meta.url));

/** A fresh Chromium profile; `close()` also removes it. */
export async function launch(): Promise<BrowserContext & { dispose(): Promise<void> }> {
  const profile = await mkdtemp(join(tmpdir(), 'ladder-e2e-chromium-'));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  return Object.assign(ctx, {
    async dispose() {
      await ctx.close();
      await rm(profile, { recursive: true, force: true });
    },
  });
}

/** Retries an assertion until it holds (the machine is busy, so generously). */
export const poll = <T>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: 15_000, interval: 100 });

export interface Opened {
  page: Page;
  warnings: string[];
  errors: Error[];
}

/**
 * Opens `url` in a new tab — a new widget session, since the session id lives in
 * sessionStorage — collecting console warnings and page errors.
 */
export async function open(ctx: BrowserContext, url: string): Promise<Opened> {
  const page = await ctx.newPage();
  const o: Opened = { page, warnings: [], errors: [] };
  page.on('console', (m) => m.type() === 'warning' && o.warnings.push(m.text()));
  page.on('pageerror', (e) => o.errors.push(e));
  await page.goto(url);
  return o;
}

/** The demo host app as a user of a seeded account. */
export const demoUrl = (account: string, role: 'admin' | 'member' = 'admin', extra = '') =>
  `${e2e.base}/demo?account=${account}&role=${role}${extra}`;

/** Text rendered inside the shadow root of the first element matching `selector`. */
export const shadowText = (page: Page, selector: string) =>
  page.locator(selector).first().evaluate((el) => el.shadowRoot?.textContent ?? '');

/** A call to the worker's API with the host's secret key (or the admin key). */
export async function api<T = any>(path: string, init: { method?: string; body?: unknown; admin?: boolean } = {}): Promise<T> {
  const res = await fetch(e2e.base + path, {
    method: init.method ?? 'GET',
    headers: {
      authorization: `Bearer ${init.admin ? e2e.adminKey : e2e.secretKey}`,
      ...(init.body !== undefined && { 'content-type': 'application/json' }),
    },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${path} → ${res.status} ${JSON.stringify(json)}`);
  return json as T;
}

/** Rows from the dev worker's local D1, read with `wrangler d1 execute --local` (the real database). */
export function d1<T = Record<string, unknown>>(query: string): Promise<T[]> {
  return new Promise((resolve, reject) =>
    execFile(
      join(root, 'node_modules/.bin/wrangler'),
      ['d1', 'execute', 'ladder', '--local', '--persist-to', e2e.persistDir, '--json', '--command', query],
      {
        cwd: root,
        env: {
          ...process.env,
          CLOUDFLARE_CF_FETCH_ENABLED: 'false',
          WRANGLER_SEND_METRICS: 'false',
          WRANGLER_HIDE_BANNER: 'true',
          XDG_CONFIG_HOME: join(root, '.wrangler/home/config'),
          XDG_CACHE_HOME: join(root, '.wrangler/home/cache'),
          WRANGLER_LOG_PATH: join(root, '.wrangler/home/logs'),
        },
        timeout: 60_000,
      },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`${err.message}\n${stderr}`));
        resolve((JSON.parse(stdout) as { results: T[] }[])[0]!.results);
      },
    ),
  );
}

/**
 * axe-core over the widget's elements (it follows open shadow roots): the serious and
 * critical violations, and how many rules passed (proof it looked inside).
 */
export async function audit(page: Page) {
  if (!(await page.evaluate(() => 'axe' in window)))
    await page.evaluate(await readFile(join(root, 'node_modules/axe-core/axe.min.js'), 'utf8'));
  return page.evaluate(async () => {
    type Result = { violations: { id: string; impact: string; nodes: unknown[] }[]; passes: unknown[] };
    const axe = (window as unknown as { axe: { run(ctx: object, o: object): Promise<Result> } }).axe;
    const include = [...document.querySelectorAll('ladder-meter, ladder-notices, ladder-gate, ladder-root')].map((el) => [el.tagName.toLowerCase()]);
    const r = await axe.run({ include }, {});
    return {
      passes: r.passes.length,
      bad: r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} (${v.nodes.length})`),
    };
  });
}
