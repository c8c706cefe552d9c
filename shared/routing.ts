/**
 * Routing by segment: which motion an account or an expansion goes to — self-serve, a CSM or
 * sales — from rules over PQA band, plan, seats and the size of the expansion (added MRR, and
 * added MRR as a share of current MRR). First matching rule wins; no match is self-serve.
 * Pure: plain data in, plain data out.
 */
import { z } from 'zod';
import { id } from './schemas';
import { PQA_BANDS } from './webhookSchemas';

const ROUTES = ['self_serve', 'csm', 'sales'] as const;
type Route = (typeof ROUTES)[number];

const unique = (values: readonly unknown[]) => new Set(values).size === values.length;

const routingRuleSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9][\w.-]{0,63}$/, 'letters, digits, _ . - and at most 64 characters'),
  /** Every condition given must hold; an empty `when` matches every account. */
  when: z
    .strictObject({
      bands: z.array(z.enum(PQA_BANDS)).min(1).max(PQA_BANDS.length).refine(unique, 'bands must not repeat').optional(),
      plan_ids: z.array(id).min(1).max(100).refine(unique, 'plan_ids must not repeat').optional(),
      min_seats: z.int().min(0).max(1_000_000).optional(),
      max_seats: z.int().min(0).max(1_000_000).optional(),
      /** Added MRR of the expansion, in the plan's minor units (cents) a month. */
      min_added_mrr_cents: z.int().min(0).max(1e12).optional(),
      /** Added MRR as a percent of current MRR (from nothing counts as any percent). */
      min_added_pct: z.number().min(0).max(100_000).optional(),
    })
    .refine((w) => w.min_seats === undefined || w.max_seats === undefined || w.min_seats <= w.max_seats, {
      message: 'min_seats must not be above max_seats',
      path: ['max_seats'],
    }),
  route: z.enum(ROUTES),
  /** Webhooks that get this route's sales-ready pushes; empty: every webhook subscribed to the event. */
  webhook_ids: z.array(id).max(20).refine(unique, 'webhook_ids must not repeat').default([]),
});
export type RoutingRule = z.output<typeof routingRuleSchema>;

/** Body of `PUT /v1/admin/routing`. */
export const routingSchema = z.strictObject({
  rules: z
    .array(routingRuleSchema)
    .max(50)
    .refine((rules) => unique(rules.map((r) => r.id)), 'rule ids must not repeat'),
});
export type Routing = z.output<typeof routingSchema>;

/**
 * The playbooks' default: an expansion adding $1,000 of MRR or more that is also 30% or more of
 * current MRR goes to sales; everything smaller stays self-serve.
 */
export const defaultRouting: Readonly<Routing> = {
  rules: [{ id: 'large-expansion', when: { min_added_mrr_cents: 100_000, min_added_pct: 30 }, route: 'sales', webhook_ids: [] }],
};

/** What a rule is matched against: an account, and the expansion in question (its next plan, or an upgrade asked for). */
export type RoutingSubject = {
  band: (typeof PQA_BANDS)[number];
  plan_id: string;
  seats: number;
  current_mrr_cents: number;
  /** MRR after the expansion; null when there is none (top plan). */
  expanded_mrr_cents: number | null;
};

export type RouteChoice = { route: Route; rule_id: string | null; webhook_ids: string[] };

/**
 * Added MRR and its share of current MRR (percent, one decimal; `null` from nothing).
 * @example expansionSize({ current_mrr_cents: 50_000, expanded_mrr_cents: 200_000 }) // { added_mrr_cents: 150_000, added_pct: 300 }
 */
export function expansionSize(s: Pick<RoutingSubject, 'current_mrr_cents' | 'expanded_mrr_cents'>): { added_mrr_cents: number; added_pct: number | null } {
  const added = Math.max(0, (s.expanded_mrr_cents ?? s.current_mrr_cents) - s.current_mrr_cents);
  return { added_mrr_cents: added, added_pct: s.current_mrr_cents > 0 ? Math.round((added * 1000) / s.current_mrr_cents) / 10 : null };
}

/**
 * The first rule matching the subject, else self-serve.
 * @example routeFor(defaultRouting.rules, { band: 'warm', plan_id: 'pro', seats: 40, current_mrr_cents: 200_000, expanded_mrr_cents: 800_000 }).route // 'sales'
 */
export function routeFor(rules: readonly RoutingRule[], s: RoutingSubject): RouteChoice {
  const { added_mrr_cents, added_pct } = expansionSize(s);
  const matches = ({ when: w }: RoutingRule) =>
    (w.bands === undefined || w.bands.includes(s.band)) &&
    (w.plan_ids === undefined || w.plan_ids.includes(s.plan_id)) &&
    (w.min_seats === undefined || s.seats >= w.min_seats) &&
    (w.max_seats === undefined || s.seats <= w.max_seats) &&
    (w.min_added_mrr_cents === undefined || added_mrr_cents >= w.min_added_mrr_cents) &&
    // from nothing, any added MRR is any share of it
    (w.min_added_pct === undefined || (added_pct === null ? added_mrr_cents > 0 : added_pct >= w.min_added_pct));
  const rule = rules.find(matches);
  return rule ? { route: rule.route, rule_id: rule.id, webhook_ids: rule.webhook_ids } : { route: 'self_serve', rule_id: null, webhook_ids: [] };
}
