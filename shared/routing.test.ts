import { describe, expect, it } from 'vitest';
import { defaultRouting, expansionSize, routeFor, routingSchema, type RoutingRule, type RoutingSubject } from './routing';

const account = (over: Partial<RoutingSubject> = {}): RoutingSubject => ({
  band: 'warm',
  plan_id: 'pro',
  seats: 10,
  current_mrr_cents: 200_000,
  expanded_mrr_cents: 250_000,
  ...over,
});

const rule = (id: string, when: RoutingRule['when'], route: RoutingRule['route'], webhook_ids: string[] = []): RoutingRule => ({ id, when, route, webhook_ids });

describe('expansion size', () => {
  it('is the added MRR and its share of current MRR; from nothing the share is null', () => {
    expect(expansionSize({ current_mrr_cents: 5_000, expanded_mrr_cents: 20_000 })).toEqual({ added_mrr_cents: 15_000, added_pct: 300 });
    expect(expansionSize({ current_mrr_cents: 300_000, expanded_mrr_cents: 400_000 })).toEqual({ added_mrr_cents: 100_000, added_pct: 33.3 });
    expect(expansionSize({ current_mrr_cents: 0, expanded_mrr_cents: 5_000 })).toEqual({ added_mrr_cents: 5_000, added_pct: null });
    expect(expansionSize({ current_mrr_cents: 5_000, expanded_mrr_cents: null })).toEqual({ added_mrr_cents: 0, added_pct: 0 });
  });
});

describe('the playbooks’ default routing', () => {
  const route = (current: number, expanded: number | null) => routeFor(defaultRouting.rules, account({ current_mrr_cents: current, expanded_mrr_cents: expanded })).route;

  it('keeps small expansions self-serve: below $1,000 added, or below 30% of current MRR', () => {
    expect(route(5_000, 20_000)).toBe('self_serve'); // +$150, +300%
    expect(route(99_900, 199_800)).toBe('self_serve'); // +$999, +100%
    expect(route(1_000_000, 1_200_000)).toBe('self_serve'); // +$2,000, +20%
    expect(route(5_000, null)).toBe('self_serve'); // top plan: nothing to expand
  });

  it('sends expansions of $1,000 or more that are also 30% or more of current MRR to sales', () => {
    expect(route(300_000, 400_000)).toBe('sales'); // +$1,000, +33.3%
    expect(route(100_000, 500_000)).toBe('sales'); // +$4,000, +400%
    expect(route(0, 150_000)).toBe('sales'); // from a free plan
    expect(route(400_000, 520_000)).toBe('sales'); // exactly 30%
  });
});

describe('rules', () => {
  const rules = [
    rule('enterprise-csm', { plan_ids: ['enterprise'] }, 'csm', ['wh_csm']),
    rule('hot-and-big', { bands: ['sales_assist', 'sales_ready'], min_seats: 50 }, 'sales', ['wh_ae']),
    rule('mid-market', { min_seats: 20, max_seats: 199 }, 'csm'),
  ];

  it('first match wins; every condition of a rule must hold; no match is self-serve', () => {
    expect(routeFor(rules, account({ plan_id: 'enterprise', band: 'sales_ready', seats: 500 }))).toEqual({ route: 'csm', rule_id: 'enterprise-csm', webhook_ids: ['wh_csm'] });
    expect(routeFor(rules, account({ band: 'sales_ready', seats: 60 }))).toEqual({ route: 'sales', rule_id: 'hot-and-big', webhook_ids: ['wh_ae'] });
    expect(routeFor(rules, account({ band: 'warm', seats: 60 }))).toEqual({ route: 'csm', rule_id: 'mid-market', webhook_ids: [] });
    expect(routeFor(rules, account({ band: 'warm', seats: 200 }))).toEqual({ route: 'self_serve', rule_id: null, webhook_ids: [] });
    expect(routeFor(rules, account({ seats: 19 })).route).toBe('self_serve');
    expect(routeFor([rule('all', {}, 'csm')], account()).route).toBe('csm');
  });

  it('the routing body is checked, naming the field', () => {
    const paths = (body: unknown) => routingSchema.safeParse(body).error?.issues.map((i) => i.path.join('.')) ?? [];
    expect(routingSchema.parse({ rules: [{ id: 'r1', when: {}, route: 'csm' }] })).toEqual({ rules: [{ id: 'r1', when: {}, route: 'csm', webhook_ids: [] }] });
    expect(paths({ rules: [{ id: 'r1', when: { bands: ['hot'] }, route: 'csm' }] })).toContain('rules.0.when.bands.0');
    expect(paths({ rules: [{ id: 'r1', when: {}, route: 'ae' }] })).toContain('rules.0.route');
    expect(paths({ rules: [{ id: 'r1', when: { min_seats: 10, max_seats: 5 }, route: 'csm' }] })).toContain('rules.0.when.max_seats');
    expect(paths({ rules: [{ id: 'r1', when: { seats: 5 }, route: 'csm' }] })).toContain('rules.0.when');
    expect(paths({ rules: [{ id: 'r1', when: {}, route: 'csm' }, { id: 'r1', when: {}, route: 'sales' }] })).toContain('rules');
    expect(paths({ rules: [{ id: 'r1', when: { min_added_mrr_cents: -1 }, route: 'csm' }] })).toContain('rules.0.when.min_added_mrr_cents');
  });
});
