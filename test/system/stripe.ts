/// <reference types="node" />
/**
 * Stripe in the system tests: the wire-format mock's control calls (worker/test/stripe.mock.ts)
 * and one seed of it — the prices of the catalog the worker runs on, a customer and its
 * subscription in the middle of a 30-day period — so every test file's Stripe agrees with its
 * catalog and no file keeps its own list of prices.
 */
type Plan = {
  price_cents: number;
  interval?: string;
  stripe_price_id?: string | null;
  seat_price_cents?: number;
  stripe_seat_price_id?: string | null;
  annual_price_cents?: number | null;
  stripe_annual_price_id?: string | null;
  annual_seat_price_cents?: number | null;
  stripe_annual_seat_price_id?: string | null;
};

/** Calls the mock's control routes (`/__mock/...`) on `port`, answering the parsed JSON. */
export const stripeMockClient =
  (port: number) =>
  async (method: string, path: string, body?: unknown): Promise<any> => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    return res.json();
  };
export type StripeMockClient = ReturnType<typeof stripeMockClient>;

/** Every Stripe price a catalog names, at the catalog's amount: plans and seats, monthly and yearly. */
function stripePrices(catalog: { plans: Plan[] }) {
  const prices = new Map<string, { id: string; unit_amount: number; interval: string }>();
  const add = (id: string | null | undefined, amount: number | null | undefined, interval: string) => {
    if (id && amount != null) prices.set(id, { id, unit_amount: amount, interval });
  };
  for (const p of catalog.plans) {
    const interval = p.interval ?? 'month';
    add(p.stripe_price_id, p.price_cents, interval);
    add(p.stripe_seat_price_id, p.seat_price_cents, interval);
    add(p.stripe_annual_price_id, p.annual_price_cents, 'year');
    add(p.stripe_annual_seat_price_id, p.annual_seat_price_cents ?? (p.seat_price_cents ?? 0) * 12, 'year');
  }
  return [...prices.values()];
}

/**
 * Seeds the mock with `catalog`'s prices and, for account `acct`, a customer (`cus_<acct>`, failing
 * as `fail` says) with a subscription (`sub_<acct>`) of `items`, 15 days into a 30-day period.
 * Answers the ids and the period in epoch ms, as the account's PUT takes them.
 * @example const { ids, period } = await seedStripeSubscription(mock, catalog, acct, [{ price: 'price_sys_starter', quantity: 1 }])
 */
export async function seedStripeSubscription(
  mock: StripeMockClient,
  catalog: { plans: Plan[] },
  acct: string,
  items: { price: string; quantity: number }[],
  fail?: Record<string, unknown>,
) {
  const now = Math.floor(Date.now() / 1000);
  const ids = { customer: `cus_${acct}`, subscription: `sub_${acct}` };
  const start = now - 15 * 86_400;
  const end = now + 15 * 86_400;
  await mock('POST', '/__mock/seed', {
    prices: stripePrices(catalog),
    customers: [{ id: ids.customer, ...(fail && { fail }) }],
    subscriptions: [{ id: ids.subscription, customer: ids.customer, current_period_start: start, current_period_end: end, items: items.map((item, i) => ({ id: `si_${i}_${acct}`, ...item })) }],
  });
  return { ids, period: { period_start: start * 1000, period_end: end * 1000 } };
}
