/**
 * Every answer a route test gets is checked against what its route declares: the status must be
 * one of the operation's responses and the JSON body must parse with that response's schema (for
 * an error, the error body with one of the operation's codes). `api()` in ./api.ts calls this.
 */
import type { z } from 'zod';
import { app } from '../index';

type Declared = { method: string; path: string; responses: Record<string, { content?: Record<string, { schema: z.ZodType }> }> };

const operations = app.registry.definitions.flatMap((d) => (d.type === 'route' ? [d.route as unknown as Declared] : []));
const matchers = operations.map((op) => ({
  op,
  re: new RegExp(`^${op.path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{(\w+)\}/g, '[^/]+')}$`),
}));

/** The declared operation serving `method path`, if any (undeclared routes are not checked). */
function declaredOperation(method: string, path: string): Declared | undefined {
  const bare = path.split('?')[0]!;
  return matchers.find((m) => m.op.method.toUpperCase() === method.toUpperCase() && m.re.test(bare))?.op;
}

/**
 * Throws unless `status` and `body` are what the operation declares.
 * @example expectDeclared('GET', '/v1/catalog', 200, 'application/json', json)
 */
export function expectDeclared(method: string, path: string, status: number, contentType: string, body: unknown): void {
  const op = declaredOperation(method, path);
  if (!op) return;
  const response = op.responses[String(status)];
  if (!response) throw new Error(`${method} ${path} answered ${status}, which its route does not declare (declared: ${Object.keys(op.responses).join(', ')}): ${JSON.stringify(body)}`);
  if (!contentType.includes('json')) {
    const type = contentType.split(';')[0]!.trim();
    if (response.content && !response.content[type]) throw new Error(`${method} ${path} answered ${status} as ${type}, not declared`);
    return;
  }
  const schema = response.content?.['application/json']?.schema;
  if (!schema) throw new Error(`${method} ${path} answered ${status} with JSON, but declares no JSON body`);
  const parsed = schema.safeParse(body);
  if (!parsed.success)
    throw new Error(`${method} ${path} answered ${status} with a body its declared schema refuses: ${JSON.stringify(parsed.error.issues.slice(0, 5))}\n${JSON.stringify(body).slice(0, 600)}`);
}
