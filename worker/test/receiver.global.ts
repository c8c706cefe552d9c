/**
 * A real HTTP server (node:http) that receives outgoing webhook deliveries during the
 * worker tests. vitest runs it as a `globalSetup` and hands its base URL to the worker as
 * the `TEST_WEBHOOK_RECEIVER` binding (see vitest.config.ts).
 *
 * - `POST /hooks/<key>?fail=N&status=S` records the request; the first N requests to that
 *   key answer S (default 500), later ones 200.
 * - `GET /received/<key>` → the recorded requests to that key, oldest first.
 * Keys keep tests (and test files running in parallel) apart.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    webhookReceiverUrl: string;
  }
}

type Received = { method: string; headers: IncomingHttpHeaders; body: string; answered: number };

export default async function receiver(project: TestProject) {
  const received = new Map<string, Received[]>();
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://receiver');
    const [, kind, key = ''] = url.pathname.split('/');
    if (req.method === 'GET' && kind === 'received') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(received.get(key) ?? []));
      return;
    }
    if (kind !== 'hooks') {
      res.writeHead(404).end();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const list = received.get(key) ?? [];
      const failures = Number(url.searchParams.get('fail') ?? 0);
      const answered = list.length < failures ? Number(url.searchParams.get('status') ?? 500) : 200;
      list.push({ method: req.method ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), answered });
      received.set(key, list);
      res.writeHead(answered, { 'content-type': 'text/plain' }).end(answered < 300 ? 'ok' : 'receiver failed on purpose');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  project.provide('webhookReceiverUrl', `http://127.0.0.1:${port}`);
  return () => new Promise<void>((resolve) => server.close(() => resolve()));
}
