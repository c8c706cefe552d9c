import { readdirSync, readFileSync } from 'node:fs';
import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-pool-workers';
import { defineConfig, type Plugin, type TestProjectInlineConfiguration } from 'vitest/config';

/** stripe's ESM build points its sourcemaps at files it does not ship; vite warns ~200 times. */
const quietMissingSourcemaps = (): Plugin => ({
  name: 'quiet-missing-sourcemaps',
  configResolved(config) {
    const warnOnce = config.logger.warnOnce.bind(config.logger);
    config.logger.warnOnce = (msg, options) => {
      if (msg.includes('points to missing source files')) return;
      warnOnce(msg, options);
    };
  },
});

type ScaleOptions = { LADDER_COUNTERS: 'd1' | 'durable_object'; LADDER_INGEST: 'direct' | 'queue' };

/**
 * The worker test files the scale options can change, by a rule rather than a list: those whose
 * source calls what the options change — ingestion (POST /v1/usage, /v1/track, or the server
 * client's usage/track), check-and-record (/v1/check, entitlements), or what reads the live
 * counters (the widget state, PQA) — or that reads the counters' tables in D1 or tests grace.
 */
const SCALE_SENSITIVE = /'(GET|POST)', ['`]\/v1\/(usage|track|check|entitlements|widget\/state|pqa)\b|\b(usage_counters|usage_events|track_events)\b|\bgrace\b|ladder\.(usage|track|check)\(/;
function scaleSensitiveFiles(): string[] {
  return (readdirSync('worker', { recursive: true }) as string[])
    .map((f) => `worker/${f}`)
    .filter((f) => f.endsWith('.test.ts') && SCALE_SENSITIVE.test(readFileSync(f, 'utf8')))
    .sort();
}

/** The worker suite in workerd (vitest-pool-workers) with the scale options passed as the bindings the worker reads. */
function workerProject(name: string, options: ScaleOptions, include: string[]): TestProjectInlineConfiguration {
  return {
    plugins: [
      quietMissingSourcemaps(),
      cloudflareTest(async ({ inject }) => ({
        main: './worker/withCounters.ts',
        wrangler: { configPath: './wrangler.toml' },
        miniflare: {
          bindings: {
            LADDER_ENV: 'test',
            LADDER_SECRET_KEY: 'sk_test_secret',
            LADDER_ADMIN_KEY: 'ak_test_admin',
            LADDER_USER_TOKEN_SECRET: 'ut_test_token_secret',
            LADDER_ALLOWED_ORIGINS: 'https://app.example.com,http://127.0.0.1:5173',
            TEST_MIGRATIONS: await readD1Migrations('./worker/db/migrations'),
            TEST_WEBHOOK_RECEIVER: inject('webhookReceiverUrl'),
            // Billing is local unless a test passes STRIPE_SECRET_KEY; the Stripe API is the wire-format mock.
            STRIPE_API_PROTOCOL: 'http',
            STRIPE_API_HOST: '127.0.0.1',
            STRIPE_API_PORT: inject('stripeApiPort'),
            STRIPE_WEBHOOK_SECRET: 'whsec_test_ladder',
            // Account objects flush to D1 only when a test runs their alarm (runDurableObjectAlarm). The
            // objects run in the tests' isolate, so they schedule from a test's faked Date while workerd fires
            // alarms by the real clock: an hour after a faked date months back is already due, the alarm ran
            // on its own and a test's flush found none to run. A century keeps it ahead of any faked date.
            LADDER_COUNTERS_FLUSH_MS: String(100 * 365 * 86_400_000),
            // The scale options this project runs the suite under (worker/test/api.ts reads them as OPTIONS).
            ...options,
          },
          // The account objects of LADDER_COUNTERS=durable_object and the queues of LADDER_INGEST=queue
          // (both commented out in wrangler.toml until a deployment opts in; worker/scripts/scaleConfig.mjs).
          durableObjects: { ACCOUNT_COUNTERS: { className: 'AccountCounters', useSQLite: true } },
          queueProducers: { LADDER_INGEST_QUEUE: { queueName: 'ladder-ingest' } },
          queueConsumers: {
            'ladder-ingest': { maxBatchSize: 100, maxBatchTimeout: 1, maxRetries: 2, deadLetterQueue: 'ladder-ingest-dlq' },
            'ladder-ingest-dlq': { maxBatchSize: 100, maxBatchTimeout: 1 },
          },
        },
      })),
    ],
    test: {
      name,
      include,
      // Generous: a test may take seconds of real D1 work, and must hold while other processes load the cores.
      testTimeout: 60_000,
      hookTimeout: 60_000,
      setupFiles: ['./worker/test/setup.ts'],
      globalSetup: ['./worker/test/receiver.global.ts', './worker/test/stripe.global.ts'],
    },
  };
}

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          environment: 'node',
          include: ['shared/**/*.test.ts'],
        },
      },
      {
        // Load, fault and bad-input tests against real `wrangler dev` workers over loopback
        // (test/system/global.ts starts the shared one); one file at a time, bounded in count and time.
        test: {
          name: 'system',
          environment: 'node',
          include: ['test/{load,fault,badinput,production,stripe}/**/*.test.ts'],
          globalSetup: ['./test/system/global.ts'],
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
      {
        test: {
          name: 'widget',
          environment: 'node',
          include: ['widget/**/*.test.{ts,tsx}'],
          // Chromium on a machine whose cores are busy: the keyboard-only test alone presses ~25 keys.
          testTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'dashboard',
          environment: 'node',
          include: ['dashboard/**/*.test.ts'],
          // The real dev worker (wrangler dev, local D1, demo history) on a free port.
          globalSetup: ['./test/e2e/devWorker.global.ts'],
          testTimeout: 60_000,
          hookTimeout: 180_000,
        },
      },
      {
        test: {
          name: 'e2e',
          environment: 'node',
          include: ['test/e2e/**/*.test.ts'],
          // The real dev worker (`node worker/scripts/dev.mjs`, fresh local D1, demo seed) on a free port.
          globalSetup: ['./test/e2e/devWorker.global.ts'],
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 180_000,
        },
      },
      // The worker suite: every file under the default options (d1 counters, direct ingestion)…
      workerProject('worker', { LADDER_COUNTERS: 'd1', LADDER_INGEST: 'direct' }, ['worker/**/*.test.ts']),
      // …and, under each of the three other combinations of the scale options (docs/scale.md), every
      // file the options can change (SCALE_SENSITIVE below). `npm test` runs them after `worker`.
      workerProject('worker-d1-queue', { LADDER_COUNTERS: 'd1', LADDER_INGEST: 'queue' }, scaleSensitiveFiles()),
      workerProject('worker-do-direct', { LADDER_COUNTERS: 'durable_object', LADDER_INGEST: 'direct' }, scaleSensitiveFiles()),
      workerProject('worker-do-queue', { LADDER_COUNTERS: 'durable_object', LADDER_INGEST: 'queue' }, scaleSensitiveFiles()),
    ],
  },
});
