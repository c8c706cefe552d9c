/// <reference types="node" />
/**
 * `wrangler dev` reloads its runtime on any change under the assets directory, answering 503
 * "Your worker restarted mid-request" to what is in flight. A build in the same checkout (the
 * widget tests', `npm run build`) rewrites dist/public while system tests run, so each system
 * worker serves a snapshot of it (test/system/devWorker.mjs): a write to dist/public must not
 * reach a running worker, while its own snapshot stays watched as wrangler watches it.
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { root, startWorker, type DevWorker } from '../system/devWorker.mjs';
import { call, eventually } from '../system/fixtures';

let dir: string;
let worker: DevWorker;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ladder-assets-'));
  cpSync(inject('systemTemplate'), dir, { recursive: true });
  // debug: wrangler names each file event of its assets watcher ("File … was added")
  worker = await startWorker({ persistDir: dir, logLevel: 'debug' });
});

afterAll(async () => {
  await worker?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('a build during the system tests', () => {
  it('a file written to dist/public does not reload a running system worker; its own snapshot is what wrangler watches', async () => {
    expect(worker.assets).toBeTruthy();
    expect((await call(worker.base, 'GET', '/ladder.js', { token: null })).status).toBe(200);
    const name = `probe-${process.pid}-${Date.now()}.txt`;
    const built = join(root, 'dist/public', name);
    const snapshot = join(worker.assets!, `snapshot-${name}`);
    try {
      writeFileSync(built, 'a build in the same checkout');
      writeFileSync(snapshot, 'the worker’s own assets');
      // the watcher is live and logs what it sees: the snapshot's file shows up…
      await eventually(() => worker.output().includes(`snapshot-${name}`), 60_000);
      expect(worker.output()).toContain(`snapshot-${name}`);
      // …and the build's never did
      expect(worker.output()).not.toContain(built);
      expect((await call(worker.base, 'GET', `/${name}`, { token: null })).status).not.toBe(200);
    } finally {
      rmSync(built, { force: true });
    }
  });
});
