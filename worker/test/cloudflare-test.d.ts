// The few runtime modules tests import, typed against our Env (workers-types' globals are not in this tsconfig).
declare module 'cloudflare:test' {
  type D1Migration = { name: string; queries: string[] };
  type Stub = ReturnType<import('@cloudflare/workers-types/latest').DurableObjectNamespace['get']>;
  export function runDurableObjectAlarm(stub: Stub): Promise<boolean>;
  export function runInDurableObject<R>(stub: Stub, callback: (instance: unknown, state: import('@cloudflare/workers-types/latest').DurableObjectState) => R | Promise<R>): Promise<R>;
  export function abortAllDurableObjects(): Promise<void>;
  export function createExecutionContext(): import('@cloudflare/workers-types/latest').ExecutionContext;
  export function createMessageBatch<Body = unknown>(
    queueName: string,
    messages: { id: string; timestamp: Date; attempts: number; body: Body }[],
  ): import('@cloudflare/workers-types/latest').MessageBatch<Body>;
  export function getQueueResult(
    batch: import('@cloudflare/workers-types/latest').MessageBatch,
    ctx: import('@cloudflare/workers-types/latest').ExecutionContext,
  ): Promise<{ outcome: string; ackAll: boolean; retryBatch: { retry: boolean }; explicitAcks: string[]; retryMessages: { msgId: string }[] }>;
  export function applyD1Migrations(db: import('../env').Env['DB'], migrations: D1Migration[], table?: string): Promise<void>;
}
declare module 'cloudflare:workers' {
  export const env: import('../env').Env & { TEST_MIGRATIONS: { name: string; queries: string[] }[] };
}
