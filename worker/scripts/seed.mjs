/**
 * Demo data, loaded through the public API with the secret key (so seeding exercises the
 * same paths a host backend uses). Idempotent: fixed idempotency keys, PUTs.
 */
const DAY = 86_400_000;

export const demoCatalog = {
  metrics: [
    { id: 'api_calls', name: 'API calls', unit: 'call', kind: 'counter', reset: 'billing_period' },
    { id: 'seats', name: 'Seats', unit: 'seat', kind: 'gauge' },
    { id: 'projects', name: 'Projects', unit: 'project', kind: 'gauge' },
  ],
  features: [
    { id: 'sso', name: 'Single sign-on', description: 'SAML and OIDC sign-in with your identity provider, enforced for every teammate.', trial_days: 14 },
    { id: 'audit_log', name: 'Audit log', description: 'A searchable record of who changed what, kept for a year.', trial_days: 0 },
    { id: 'advanced_analytics', name: 'Advanced analytics', description: 'Cohorts, funnels and retention charts over all your data.', trial_days: 7 },
  ],
  plans: [
    { id: 'starter', name: 'Starter', rank: 1, currency: 'usd', price_cents: 5000, interval: 'month', seat_price_cents: 1000, annual_price_cents: 48000,
      limits: { api_calls: 10000, seats: 5, projects: 3 }, features: [] },
    { id: 'pro', name: 'Pro', rank: 2, currency: 'usd', price_cents: 20000, interval: 'month', seat_price_cents: 1000, annual_price_cents: 192000,
      limits: { api_calls: 50000, seats: 20, projects: 20 }, features: ['audit_log', 'advanced_analytics'] },
    { id: 'business', name: 'Business', rank: 3, currency: 'usd', price_cents: 80000, interval: 'month', seat_price_cents: 1000, annual_price_cents: 768000,
      limits: { api_calls: 250000, seats: 100, projects: null }, features: ['audit_log', 'advanced_analytics', 'sso'] },
    // Sold by sales on contract: accounts may be on it, the widget never offers it.
    { id: 'enterprise', name: 'Enterprise', rank: 4, currency: 'usd', price_cents: 300000, interval: 'month', seat_price_cents: 0,
      limits: { api_calls: null, seats: null, projects: null }, features: ['audit_log', 'advanced_analytics', 'sso'], hidden: true },
  ],
};

/** Demo accounts at different usage levels (percent of Starter's 10,000 API calls). */
export const demoAccounts = [
  { id: 'acme', name: 'Acme Corp', pct: 55, seatsUsed: 2, projects: 1, activated: true },
  { id: 'globex', name: 'Globex', pct: 80, seatsUsed: 4, projects: 2, activated: true },
  { id: 'initech', name: 'Initech', pct: 93, seatsUsed: 5, projects: 3, activated: true },
  { id: 'umbrella', name: 'Umbrella', pct: 100, seatsUsed: 3, projects: 2, activated: true },
  { id: 'hooli', name: 'Hooli (new)', pct: 20, seatsUsed: 1, projects: 0, activated: false },
];

const monthOf = (now) => {
  const d = new Date(now);
  return { start: Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1), end: Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) };
};

/** Load the demo catalog and accounts into a running worker. @example await seed('http://127.0.0.1:8787', key) */
export async function seed(baseUrl, secretKey, now = Date.now(), adminKey = undefined) {
  const call = async (method, path, body) => {
    const res = await fetch(baseUrl + path, {
      method,
      headers: { authorization: `Bearer ${secretKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${await res.text()}`);
    return res.json();
  };
  await call('PUT', '/v1/catalog', demoCatalog);
  const period = monthOf(now);
  const usage = [];
  const track = [];
  for (const a of demoAccounts) {
    await call('PUT', `/v1/accounts/${a.id}`, {
      name: a.name, plan_id: 'starter', seats: 5, created_at: now - 40 * DAY,
      period_start: period.start, period_end: period.end,
    });
    const periodKey = new Date(period.start).toISOString().slice(0, 7);
    usage.push(
      { account_id: a.id, metric: 'api_calls', value: a.pct * 100, idempotency_key: `seed-api-${periodKey}`, timestamp: Math.max(period.start, now - 3600_000) },
      { account_id: a.id, metric: 'seats', value: a.seatsUsed, mode: 'set', idempotency_key: `seed-seats-${a.seatsUsed}`, timestamp: period.start },
      { account_id: a.id, metric: 'projects', value: a.projects, mode: 'set', idempotency_key: `seed-projects-${a.projects}`, timestamp: period.start },
    );
    if (a.activated)
      track.push({ account_id: a.id, user_id: `${a.id}-admin`, event: 'core_feature_activated', idempotency_key: 'seed-activated', timestamp: now - 30 * DAY });
  }
  await call('POST', '/v1/usage', { events: usage });
  if (track.length) await call('POST', '/v1/track', { events: track });
  const history = adminKey ? await seedHistory(baseUrl, secretKey, adminKey, now) : null;
  return { accounts: demoAccounts.map((a) => a.id), history };
}

/** PQA behaviour per demo account, so every band has accounts: points per DESIGN.md. */
export const demoBehaviour = {
  acme: ['teammate_invited'], // 20 + 15 = 35: warm
  globex: ['api_integration_built', 'teammate_invited'], // 65: sales-assist
  initech: ['api_integration_built', 'limit_hit', 'teammate_invited'], // 90: sales-ready
  umbrella: ['limit_hit', 'data_imported'], // 65: sales-assist
  'demo-0002': ['core_feature_activated', 'api_integration_built', 'limit_hit', 'admin_settings_configured'], // 90
  'demo-0003': ['core_feature_activated', 'api_integration_built', 'data_imported'], // 70
  'demo-0004': ['core_feature_activated', 'teammate_invited'], // 35
  'demo-0005': ['core_feature_activated'], // 20: nurture
};

/** The experiment the demo history gives a clear winner: urgency copy on the 90% limit notice. */
export const demoExperiment = {
  key: 'limit90-urgency',
  prompt_id: 'limit-90',
  unit: 'account',
  holdout_pct: 0,
  attribution_days: 7,
  min_conversions: 30,
  variants: [
    { id: 'control', weight: 50, copy: { title: 'Almost at your {metric} limit', body: '{used} of {limit} {metric} used ({pct}). Upgrade in one click to keep going.', cta_label: 'Upgrade', secondary_label: 'Remind me later' } },
    { id: 'urgent', weight: 50, copy: { title: '{pct} of your {metric} used: upgrade before you are cut off', body: '{used} of {limit} {metric} on {plan}. {next_plan} keeps every request flowing.', cta_label: 'Upgrade to {next_plan}', secondary_label: 'Remind me later' } },
  ],
};

/**
 * Weeks of dashboard history (development only): PQA behaviour through /v1/track, the demo
 * experiment through the admin API, and the back-dated prompt events, MRR changes and
 * exposures through the dev-only POST /v1/admin/dev/seed-history.
 */
export async function seedHistory(baseUrl, secretKey, adminKey, now = Date.now()) {
  const call = async (key, method, path, body, ok = []) => {
    const res = await fetch(baseUrl + path, {
      method,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok && !ok.includes(res.status)) throw new Error(`${method} ${path} → ${res.status} ${await res.text()}`);
    return { status: res.status, json: await res.json() };
  };
  const list = (await call(adminKey, 'GET', '/v1/admin/experiments')).json.experiments;
  let experiment = list.find((e) => e.key === demoExperiment.key);
  if (!experiment) experiment = (await call(adminKey, 'POST', '/v1/admin/experiments', demoExperiment)).json;
  if (experiment.status === 'draft') await call(adminKey, 'POST', `/v1/admin/experiments/${experiment.id}/start`, undefined, [409]);
  const history = (await call(adminKey, 'POST', '/v1/admin/dev/seed-history', { experiment_id: experiment.id, now })).json;
  const track = Object.entries(demoBehaviour).flatMap(([account_id, events]) =>
    events.map((event, i) => ({ account_id, user_id: `${account_id}-u1`, event, idempotency_key: `seed-pqa-${event}`, timestamp: now - (i + 1) * 3600_000 })),
  );
  await call(secretKey, 'POST', '/v1/track', { events: track });
  return { ...history, experiment_id: experiment.id };
}
