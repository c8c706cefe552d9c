// The few runtime modules tests import, typed against our Env (workers-types' globals are not in this tsconfig).
declare module 'cloudflare:test' {
  type D1Migration = { name: string; queries: string[] };
  type Stub = ReturnType<import('@cloudflare/workers-types/latest').DurableObjectNamespace['get']>;
  export function runDurableObjectAlarm(stub: Stub): Promise<boolean>;
  export function runInDurableObject<R>(stub: Stub, callback: (instance: unknown, state: import('@cloudflare/workers-types/latest').DurableObjectState) => R | Promise<R>): Promise<R>;
  export function abortAllDurableObjects(): Promise<void>;
  export function applyD1Migrations(db: import('../env').Env['DB'], migrations: D1Migration[], table?: string): Promise<void>;
}
declare module 'cloudflare:workers' {
  export const env: import('../env').Env & { TEST_MIGRATIONS: { name: string; queries: string[] }[] };
}
