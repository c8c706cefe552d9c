import { accountInputSchema, accountParams, accountViewSchema, readinessSchema } from '../../shared/schemas';
import type { PqaBand } from '../../shared/pqaScore';
import { loadAccountState, snapshotOf, upsertAccount } from '../accounts';
import { loadCatalog } from '../catalog';
import { database } from '../db';
import type { AppEnv } from '../env';
import { accountsNamed, readAggregates, scoreAccount } from '../pqa';
import { liveCounters, meterOf } from '../usage';
import { graceCeiling } from '../../shared/entitlements';
import { graceState } from '../../shared/grace';
import { DAY_MS, isoOrNull } from '../../shared/time';
import { body, hostRouter, json, route } from './groups';

const putAccount = route({
  method: 'put',
  path: '/{accountId}',
  summary: 'Create or update an account',
  request: { params: accountParams, body: body(accountInputSchema) },
  responses: { 200: json(accountViewSchema, 'The account as stored') },
  errors: ['unknown_plan'],
});

const getAccount = route({
  method: 'get',
  path: '/{accountId}',
  summary: 'An account with usage, entitlements and PQA',
  request: { params: accountParams },
  responses: { 200: json(accountViewSchema, 'The account') },
  errors: ['account_not_found'],
});

const getReadiness = route({
  method: 'get',
  path: '/{accountId}/readiness',
  summary: 'Expansion readiness: PQA signals, seat and usage utilisation, activation',
  request: { params: accountParams },
  responses: { 200: json(readinessSchema, 'The readiness view') },
  errors: ['account_not_found'],
});

/**
 * `PUT/GET /v1/accounts/:accountId` and `GET /v1/accounts/:accountId/readiness` (secret key).
 * Mounted at `/v1/accounts`.
 */
export const accountRoutes = hostRouter()
  .openapi(putAccount, async (c) => {
    const { accountId } = c.req.valid('param');
    const input = c.req.valid('json');
    const db = database(c.env.DB);
    await upsertAccount(db, accountId, input, await loadCatalog(db), c.get('now'));
    return c.json(await accountView(c.env, accountId, c.get('now')), 200);
  })
  .openapi(getAccount, async (c) => c.json(await accountView(c.env, c.req.valid('param').accountId, c.get('now')), 200))
  .openapi(getReadiness, async (c) => c.json(await readiness(c.env.DB, c.req.valid('param').accountId, c.get('now')), 200));

async function accountView(env: AppEnv['Bindings'], accountId: string, now: number) {
  const meter = meterOf(env);
  const state = await loadAccountState(meter.db, accountId, liveCounters(meter, accountId));
  const snap = snapshotOf(state, now);
  const a = state.account;
  return {
    id: a.id,
    name: a.name,
    plan_id: a.planId,
    seats: a.seats,
    status: a.status,
    created_at: isoOrNull(a.createdAt),
    activated_at: isoOrNull(a.activatedAt),
    stripe_customer_id: a.stripeCustomerId,
    stripe_subscription_id: a.stripeSubscriptionId,
    period_start: isoOrNull(a.periodStart),
    period_end: isoOrNull(a.periodEnd),
    usage: Object.fromEntries(snap.meters.map((m) => [m.metric, { used: m.used, limit: m.limit, pct: m.pct }])),
    entitlements: snap.entitlements,
    pqa: state.pqa ? { score: state.pqa.score, band: state.pqa.band as PqaBand } : { score: 0, band: 'nurture' as const },
  };
}

/**
 * The expansion-readiness view a CSM reads before a call: the PQA score as of now with every
 * signal behind it, seat and usage utilisation, activation and the next plan up.
 */
async function readiness(d1: AppEnv['Bindings']['DB'], accountId: string, now: number) {
  const db = database(d1);
  const [state, { config, aggregates: [aggregate] }] = await Promise.all([loadAccountState(db, accountId), readAggregates(db, accountsNamed([accountId]), now)]);
  const live = aggregate ? scoreAccount(aggregate, now, config) : null;
  const snap = snapshotOf(state, now);
  const a = state.account;
  const seatMeter = snap.meters.find((m) => m.metric === 'seats');
  const next = snap.upgradeOptions[0] ?? null;
  return {
    account_id: a.id,
    name: a.name,
    status: a.status,
    plan: { id: snap.plan.id, name: snap.plan.name, price_cents: snap.plan.price_cents, currency: snap.plan.currency, interval: snap.plan.interval },
    next_plan: next && { id: next.id, name: next.name, price_cents: next.price_cents, currency: next.currency, interval: next.interval },
    pqa: {
      score: live?.score ?? 0,
      band: live?.band ?? 'nurture',
      // When the account entered its band, as last stored (null if the stored band is behind).
      entered_band_at: state.pqa && live && state.pqa.band === live.band ? isoOrNull(state.pqa.enteredBandAt) : null,
      top_signals: live?.top_signals ?? [],
      signals: live?.details ?? [],
      last_active_at: isoOrNull(aggregate?.last_active_at ?? null),
      computed_at: isoOrNull(now),
    },
    seats: { used: snap.seats.used, limit: snap.seats.limit, pct: seatMeter?.pct ?? null },
    usage: snap.meters
      .filter((m) => m.metric !== 'seats')
      .map((m) => {
        // Grace use shows here: `grace` (ceiling, left, in_grace) where the plan allows going past the limit.
        const grace = graceState(m, graceCeiling(snap.plan, m.metric, a));
        return { metric: m.metric, name: m.name, used: m.used, limit: m.limit, pct: m.pct, threshold: m.threshold, projected_at_period_end: m.projected_at_period_end, ...(grace && { grace }) };
      }),
    created_at: isoOrNull(a.createdAt),
    days_since_created: Math.max(0, Math.floor((now - a.createdAt) / DAY_MS)),
    activated_at: isoOrNull(a.activatedAt),
    days_since_activation: a.activatedAt === null ? null : Math.max(0, Math.floor((now - a.activatedAt) / DAY_MS)),
  } as const;
}
