import { describe, expect, it } from 'vitest';
import { classifyMrrChange, revenueMetrics, selfServeUpgradeRate, type MrrChange } from './revenue';

const at = (iso: string) => Date.parse(iso);
const from = at('2026-11-01T00:00:00Z');
const to = at('2026-12-01T00:00:00Z');

/** One ledger row; `kind` comes from the same rule the ledger writer uses. */
const change = (
  account_id: string,
  when: string,
  before: number,
  after: number,
  source: MrrChange['source'] = 'webhook',
  wasChurned = false,
  prompt_id: string | null = null,
): MrrChange => {
  const kind = classifyMrrChange(before, after, wasChurned);
  if (kind === null) throw new Error('a ledger row always changes MRR');
  return { account_id, at: at(when), kind, mrr_before_cents: before, mrr_after_cents: after, source, prompt_id };
};

// November 2026. Six accounts hold 1,000,000 cents of MRR on 1 November.
const ledger: MrrChange[] = [
  // history before the period
  change('acme', '2026-03-04T10:00:00Z', 0, 150_000),
  change('acme', '2026-07-19T10:00:00Z', 150_000, 200_000, 'self_serve'),
  change('globex', '2026-05-01T12:00:00Z', 0, 150_000, 'sales'),
  change('initech', '2026-02-11T09:00:00Z', 0, 100_000),
  change('umbrella', '2026-06-30T15:00:00Z', 0, 50_000),
  change('stark', '2026-01-05T08:00:00Z', 0, 300_000, 'sales'),
  change('wayne', '2026-04-22T08:00:00Z', 0, 200_000),
  change('hooli', '2026-04-01T00:00:00Z', 0, 40_000),
  change('hooli', '2026-09-30T00:00:00Z', 40_000, 0),
  // November
  change('acme', '2026-11-03T14:20:00Z', 200_000, 300_000, 'self_serve', false, 'limit-api_calls-90'),
  change('globex', '2026-11-10T11:00:00Z', 150_000, 180_000, 'self_serve', false, 'invite-seats'),
  change('globex', '2026-11-24T16:45:00Z', 180_000, 200_000, 'sales'),
  change('initech', '2026-11-15T09:00:00Z', 100_000, 70_000),
  change('umbrella', '2026-11-20T00:00:00Z', 50_000, 0),
  change('hooli', '2026-11-12T13:00:00Z', 0, 40_000, 'self_serve', true),
  change('piedpiper', '2026-11-05T10:00:00Z', 0, 25_000, 'self_serve'),
  change('piedpiper', '2026-11-26T10:00:00Z', 25_000, 50_000, 'self_serve'),
  // December, after the period
  change('wayne', '2026-12-02T10:00:00Z', 200_000, 400_000, 'sales'),
];

describe('revenueMetrics', () => {
  it('reproduces the DESIGN.md example: NRR 1.07 and GRR 0.92', () => {
    // start 1,000,000 = acme 200,000 + globex 150,000 + initech 100,000 + umbrella 50,000
    //                   + stark 300,000 + wayne 200,000
    // expansion 150,000 = acme +100,000 + globex +30,000 +20,000; contraction 30,000 = initech;
    // churn 50,000 = umbrella. NRR = (1,000,000 + 150,000 − 30,000 − 50,000) ÷ 1,000,000 = 1.07;
    // GRR = (1,000,000 − 30,000 − 50,000) ÷ 1,000,000 = 0.92.
    expect(revenueMetrics(ledger, from, to)).toEqual({
      starting_mrr_cents: 1_000_000,
      expansion_cents: 150_000,
      contraction_cents: 30_000,
      churn_cents: 50_000,
      new_cents: 50_000,
      reactivation_cents: 40_000,
      ending_mrr_cents: 1_160_000,
      nrr: 1.07,
      grr: 0.92,
      expansion_by_source: { self_serve: 130_000, sales: 20_000, webhook: 0 },
    });
  });

  it('accounts with no change in the period may be passed as the sum of their MRR: the same answer', () => {
    const changed = new Set(ledger.filter((c) => c.at >= from && c.at < to).map((c) => c.account_id));
    // stark and wayne (500,000) and hooli (churned before: 0) did not change in November
    expect(revenueMetrics(ledger.filter((c) => changed.has(c.account_id)), from, to, 500_000)).toEqual(revenueMetrics(ledger, from, to));
    expect(() => revenueMetrics([], from, to, -1)).toThrow(RangeError);
  });

  it('a new account in the period counts as new, never as expansion or in NRR', () => {
    const withoutPiedPiper = ledger.filter((c) => c.account_id !== 'piedpiper');
    const a = revenueMetrics(ledger, from, to);
    const b = revenueMetrics(withoutPiedPiper, from, to);
    expect(a.new_cents - b.new_cents).toBe(50_000);
    expect(a.expansion_cents).toBe(b.expansion_cents);
    expect(a.nrr).toBe(b.nrr);
    expect(a.grr).toBe(b.grr);
  });

  it('an account that expands twice counts both expansions, each to its source', () => {
    const twice = [
      change('globex', '2026-05-01T00:00:00Z', 0, 10_000, 'sales'),
      change('globex', '2026-11-02T00:00:00Z', 10_000, 15_000, 'self_serve'),
      change('globex', '2026-11-20T00:00:00Z', 15_000, 25_000, 'self_serve'),
    ];
    expect(revenueMetrics(twice, from, to)).toMatchObject({
      starting_mrr_cents: 10_000,
      expansion_cents: 15_000,
      ending_mrr_cents: 25_000,
      nrr: 2.5,
      grr: 1,
      expansion_by_source: { self_serve: 15_000, sales: 0, webhook: 0 },
    });
  });

  it('nets an expansion later partly undone: the cohort account expanded, GRR untouched', () => {
    const upAndDown = [
      change('acme', '2026-10-01T00:00:00Z', 0, 10_000),
      change('acme', '2026-11-05T00:00:00Z', 10_000, 20_000, 'self_serve'),
      change('acme', '2026-11-25T00:00:00Z', 20_000, 15_000),
    ];
    expect(revenueMetrics(upAndDown, from, to)).toMatchObject({
      expansion_cents: 5_000,
      contraction_cents: 0,
      nrr: 1.5,
      grr: 1,
      expansion_by_source: { self_serve: 5_000, sales: 0, webhook: 0 },
    });
  });

  it('splits net expansion across sources in proportion, to the cent', () => {
    // increases: self-serve 100, sales 200; net 100 → 33.33 and 66.67 → 33 and 67
    const mixed = [
      change('acme', '2026-10-01T00:00:00Z', 0, 1_000),
      change('acme', '2026-11-02T00:00:00Z', 1_000, 1_100, 'self_serve'),
      change('acme', '2026-11-03T00:00:00Z', 1_100, 1_300, 'sales'),
      change('acme', '2026-11-04T00:00:00Z', 1_300, 1_100),
    ];
    const m = revenueMetrics(mixed, from, to);
    expect(m.expansion_cents).toBe(100);
    expect(m.expansion_by_source).toEqual({ self_serve: 33, sales: 67, webhook: 0 });
  });

  it('a cohort account that churns and comes back within the period moves nothing', () => {
    const back = [
      change('acme', '2026-10-01T00:00:00Z', 0, 10_000),
      change('acme', '2026-11-05T00:00:00Z', 10_000, 0),
      change('acme', '2026-11-09T00:00:00Z', 0, 10_000, 'self_serve', true),
    ];
    expect(revenueMetrics(back, from, to)).toMatchObject({
      churn_cents: 0,
      reactivation_cents: 0,
      ending_mrr_cents: 10_000,
      nrr: 1,
      grr: 1,
    });
  });

  it('a cohort account that returns at a lower price is contraction, not churn', () => {
    const lower = [
      change('acme', '2026-10-01T00:00:00Z', 0, 10_000),
      change('acme', '2026-11-05T00:00:00Z', 10_000, 0),
      change('acme', '2026-11-09T00:00:00Z', 0, 6_000, 'self_serve', true),
    ];
    expect(revenueMetrics(lower, from, to)).toMatchObject({ churn_cents: 0, contraction_cents: 4_000, grr: 0.6 });
  });

  it('a new account that churns within the period leaves no trace', () => {
    const brief = [
      change('flash', '2026-11-02T00:00:00Z', 0, 5_000, 'self_serve'),
      change('flash', '2026-11-20T00:00:00Z', 5_000, 0),
    ];
    expect(revenueMetrics(brief, from, to)).toMatchObject({ new_cents: 0, churn_cents: 0, ending_mrr_cents: 0 });
  });

  it('counts a returning account without history in the list by its reactivation kind', () => {
    const returning = [change('hooli', '2026-11-12T00:00:00Z', 0, 40_000, 'self_serve', true)];
    expect(revenueMetrics(returning, from, to)).toMatchObject({ new_cents: 0, reactivation_cents: 40_000 });
  });

  it('is null for NRR and GRR when nothing was paying at the start', () => {
    const onlyNew = [change('piedpiper', '2026-11-05T00:00:00Z', 0, 25_000, 'self_serve')];
    expect(revenueMetrics(onlyNew, from, to)).toMatchObject({ starting_mrr_cents: 0, nrr: null, grr: null });
    expect(revenueMetrics([], from, to)).toMatchObject({ starting_mrr_cents: 0, ending_mrr_cents: 0, nrr: null });
  });

  it('puts a change at `from` inside the period and one at `to` outside it', () => {
    const edges = [
      change('acme', '2026-10-01T00:00:00Z', 0, 10_000),
      change('acme', '2026-11-01T00:00:00Z', 10_000, 12_000, 'self_serve'),
      change('acme', '2026-12-01T00:00:00Z', 12_000, 0),
    ];
    expect(revenueMetrics(edges, from, to)).toMatchObject({
      starting_mrr_cents: 10_000,
      expansion_cents: 2_000,
      churn_cents: 0,
      ending_mrr_cents: 12_000,
    });
    expect(revenueMetrics(edges, from, to + 1)).toMatchObject({ churn_cents: 10_000, ending_mrr_cents: 0 });
  });

  it('does not depend on the order of the ledger rows', () => {
    expect(revenueMetrics([...ledger].reverse(), from, to)).toEqual(revenueMetrics(ledger, from, to));
  });

  it('ending MRR always equals start plus the movements', () => {
    const m = revenueMetrics(ledger, at('2026-06-01T00:00:00Z'), at('2026-11-15T00:00:00Z'));
    expect(m.ending_mrr_cents).toBe(
      m.starting_mrr_cents +
        m.expansion_cents -
        m.contraction_cents -
        m.churn_cents +
        m.new_cents +
        m.reactivation_cents,
    );
  });

  it('refuses a period that ends before it starts', () => {
    expect(() => revenueMetrics(ledger, to, from)).toThrow(RangeError);
  });
});

describe('classifyMrrChange', () => {
  it.each([
    [0, 5_000, false, 'new'],
    [0, 5_000, true, 'reactivation'],
    [5_000, 0, false, 'churn'],
    [5_000, 10_000, false, 'expansion'],
    [10_000, 5_000, false, 'contraction'],
    [5_000, 5_000, false, null],
    [0, 0, true, null],
  ] as const)('%i → %i (had churned: %s) is %s', (before, after, wasChurned, kind) => {
    expect(classifyMrrChange(before, after, wasChurned)).toBe(kind);
  });

  it('refuses negative or fractional amounts', () => {
    expect(() => classifyMrrChange(-1, 100, false)).toThrow(RangeError);
    expect(() => classifyMrrChange(100, 10.5, false)).toThrow(RangeError);
  });
});

describe('selfServeUpgradeRate', () => {
  it('is upgraded ÷ eligible', () => {
    expect(selfServeUpgradeRate(12, 400)).toBe(0.03);
    expect(selfServeUpgradeRate(0, 50)).toBe(0);
  });

  it('is null when no account was eligible', () => {
    expect(selfServeUpgradeRate(0, 0)).toBeNull();
  });

  it('refuses negative or fractional counts', () => {
    expect(() => selfServeUpgradeRate(-1, 10)).toThrow(RangeError);
    expect(() => selfServeUpgradeRate(1, 2.5)).toThrow(RangeError);
  });
});
