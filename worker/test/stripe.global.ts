/**
 * vitest `globalSetup` for the worker tests: starts the Stripe wire-format mock
 * (./stripe.mock.ts) and hands its port to the worker as the `STRIPE_API_PORT` binding
 * (see vitest.config.ts).
 */
import type { TestProject } from 'vitest/node';
import { startStripeMock } from './stripe.mock';

declare module 'vitest' {
  export interface ProvidedContext {
    stripeApiPort: string;
  }
}

export default async function stripeMock(project: TestProject) {
  const mock = await startStripeMock();
  project.provide('stripeApiPort', String(mock.port));
  return mock.close;
}
