// The part of the `cloudflare:workers` runtime module the worker uses (workers-types' globals are not in this tsconfig).
declare module 'cloudflare:workers' {
  export abstract class DurableObject<Env = unknown> {
    protected readonly ctx: import('@cloudflare/workers-types/latest').DurableObjectState;
    protected readonly env: Env;
    constructor(ctx: import('@cloudflare/workers-types/latest').DurableObjectState, env: Env);
  }
}
