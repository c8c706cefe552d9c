export function signUserToken(
  claims: { acct: string; sub?: string; role?: 'admin' | 'member'; exp?: number; [k: string]: unknown },
  secret?: string,
  header?: Record<string, unknown>,
): string;
export function call(
  base: string,
  method: string,
  path: string,
  init?: { token?: string | null; body?: unknown; raw?: BodyInit; headers?: Record<string, string>; timeoutMs?: number },
): Promise<{ status: number; headers: Headers; json: any; text: string }>;
