/**
 * The runtime's own ceiling for `npm run bench`: bare Hono routes on the same workerd,
 * started by the bench with `wrangler dev -c test/bench/wrangler.bare.toml` on another port.
 * No database, no auth, no validation. `POST /bare` reads the JSON body as the product does
 * and answers the same shape as `POST /v1/usage`. Never part of the product worker.
 */
import { Hono } from 'hono';

const app = new Hono();
app.get('/bare', (c) => c.json({ ok: true }));
app.post('/bare', async (c) => {
  const body = (await c.req.json()) as { events?: unknown[] };
  return c.json({ accepted: body.events?.length ?? 0, duplicates: 0 });
});

export default app;
