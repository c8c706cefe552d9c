/// <reference types="node" />
/**
 * vitest `globalSetup` of the `system` project (load, fault and bad-input tests): migrates a
 * template D1 once, starts one `wrangler dev` worker on a free loopback port with known keys
 * on a copy of it, and stops it with SIGTERM afterwards. Tests that crash or reconfigure a
 * worker start their own on another copy of the template.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { migrate, startWorker } from './devWorker.mjs';

declare module 'vitest' {
  export interface ProvidedContext {
    systemBase: string;
    systemPersistDir: string;
    systemTemplate: string;
  }
}

/** Variables of the shared system worker (local billing; Stripe webhooks verifiable). */
export const SYSTEM_VARS = { STRIPE_WEBHOOK_SECRET: 'whsec_system_tests' };

export default async function systemWorker(project: TestProject) {
  const dir = mkdtempSync(join(tmpdir(), 'ladder-system-'));
  const template = join(dir, 'template');
  migrate(template);
  const persistDir = join(dir, 'shared');
  cpSync(template, persistDir, { recursive: true });
  const worker = await startWorker({ persistDir, testScheduled: true, vars: SYSTEM_VARS });
  project.provide('systemBase', worker.base);
  project.provide('systemPersistDir', persistDir);
  project.provide('systemTemplate', template);
  return async () => {
    await worker.stop();
    rmSync(dir, { recursive: true, force: true });
  };
}
