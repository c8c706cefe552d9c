export const root: string;
export const KEYS: { LADDER_SECRET_KEY: string; LADDER_ADMIN_KEY: string; LADDER_USER_TOKEN_SECRET: string };
export const toolEnv: Record<string, string | undefined>;
export function freePort(): Promise<number>;
export function wranglerSync(args: string[], opts?: { timeoutMs?: number }): string;
export function migrate(persistDir: string): void;
export type DevWorker = {
  base: string;
  port: number;
  pid: number;
  output(): string;
  /** The snapshot of dist/public the product worker serves (taken at its start); undefined for another config. */
  assets?: string;
  exited: Promise<{ code: number | null; signal: string | null }>;
  stop(): Promise<void>;
  kill(): Promise<{ code: number | null; signal: string | null }>;
};
export function startWorker(o?: {
  port?: number;
  config?: string;
  persistDir?: string;
  vars?: Record<string, string>;
  testScheduled?: boolean;
  healthPath?: string;
  logLevel?: string;
  startTimeoutMs?: number;
}): Promise<DevWorker>;
