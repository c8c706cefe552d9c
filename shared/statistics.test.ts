import { describe, it, expect } from 'vitest';
import {
  chanceToBeatControl,
  chiSquarePValue,
  experimentResults,
  holm,
  normalCdf,
  relativeLift,
  sampleRatioMismatch,
  twoProportionZTest,
  wilsonInterval,
} from './statistics';
import type { ExperimentArmCounts } from './statistics';

/*
 * Reference numbers below were computed independently with python3 3.11, standard library
 * only (math.erfc, math.lgamma), by this throwaway script:
 *
 *   import math
 *   Z = 1.959963984540054
 *   def wilson(c, n):
 *       p = c / n; d = 1 + Z*Z/n
 *       mid = (p + Z*Z/(2*n)) / d
 *       half = Z/d * math.sqrt(p*(1-p)/n + Z*Z/(4*n*n))
 *       return mid - half, mid + half
 *   def ztest(c1, n1, c2, n2):
 *       p = (c1 + c2) / (n1 + n2)
 *       z = (c2/n2 - c1/n1) / math.sqrt(p*(1-p)*(1/n1 + 1/n2))
 *       return z, math.erfc(abs(z) / math.sqrt(2))
 *   def katz(cc, nc, cv, nv):
 *       rr = (cv/nv) / (cc/nc)
 *       se = math.sqrt(1/cv - 1/nv + 1/cc - 1/nc)
 *       return rr - 1, rr*math.exp(-Z*se) - 1, rr*math.exp(Z*se) - 1
 *   def chance(cc, nc, cv, nv, steps=2_000_000):
 *       # P(pV > pC) = ∫ f_V(x) F_C(x) dx, midpoint rule on [0, 1], F_C accumulated along
 *       # the same grid; Beta(1,1) prior -> posterior Beta(c+1, n-c+1). (Not Evan Miller's sum.)
 *       def pdf(a, b):
 *           k = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
 *           return lambda x: math.exp(k + (a-1)*math.log(x) + (b-1)*math.log1p(-x))
 *       fc, fv = pdf(cc+1, nc-cc+1), pdf(cv+1, nv-cv+1)
 *       h, cdf, total = 1/steps, 0.0, 0.0
 *       for i in range(steps):
 *           x = (i + 0.5) * h
 *           c = fc(x) * h
 *           total += fv(x) * h * (cdf + c/2)
 *           cdf += c
 *       return total
 *   normal_cdf = lambda x: 0.5 * math.erfc(-x / math.sqrt(2))
 *   chi2_sf_df1 = lambda x: math.erfc(math.sqrt(x / 2))
 *   chi2_sf_even = lambda df, x: math.exp(-x/2) * sum((x/2)**j / math.factorial(j) for j in range(df // 2))
 */

/** Counts used throughout: [control conversions, control exposed, variant conversions, variant exposed]. */
type Counts = [number, number, number, number];
const clearWinner: Counts = [200, 2000, 260, 2000];
const noDifference: Counts = [200, 2000, 202, 2000];
const tinySample: Counts = [3, 20, 5, 20];
const largeCounts: Counts = [5000, 50000, 5200, 50000];
const clearLoser: Counts = [50, 1000, 35, 1000];

function expectPair(actual: [number, number] | null, expected: [number, number], digits = 12): void {
  expect(actual).not.toBeNull();
  expect(actual?.[0]).toBeCloseTo(expected[0], digits);
  expect(actual?.[1]).toBeCloseTo(expected[1], digits);
}

function expectRelativelyClose(actual: number, expected: number, tolerance: number): void {
  expect(Math.abs(actual - expected) / Math.abs(expected)).toBeLessThan(tolerance);
}

describe('normalCdf', () => {
  // python3: normal_cdf(x)
  it.each([
    [-8, 6.220960574271819e-16],
    [-5, 2.866515718791946e-7],
    [-3, 0.0013498980316300957],
    [-1.5, 0.06680720126885809],
    [-0.3, 0.3820885778110474],
    [0, 0.5],
    [0.2, 0.579259709439103],
    [0.46875, 0.6803758284828824],
    [1, 0.8413447460685429],
    [2.5, 0.9937903346742238],
    [4.2, 0.9999866542509841],
  ])('Φ(%d) matches the reference to far better than 1e-7', (x, expected) => {
    expectRelativelyClose(normalCdf(x), expected, 1e-12);
  });

  it('puts 97.5% below the 95% two-sided critical value', () => {
    expect(normalCdf(1.959963984540054)).toBeCloseTo(0.975, 14);
  });
});

describe('wilsonInterval: a conversion rate with its 95% interval', () => {
  it('brackets 200 conversions out of 2,000', () => {
    // python3: wilson(200, 2000)
    expectPair(wilsonInterval(200, 2000), [0.08760922541834984, 0.11392441240665252]);
    expectPair(wilsonInterval(260, 2000), [0.1159674906239881, 0.14545112436413904]);
  });

  it('stays honest and inside [0, 1] for a tiny sample', () => {
    // python3: wilson(3, 20), wilson(5, 20)
    expectPair(wilsonInterval(3, 20), [0.052368745896216595, 0.36041886474075696]);
    expectPair(wilsonInterval(5, 20), [0.11186170140766569, 0.468700877618744]);
  });

  it('does not collapse to a point at 0% or 100%', () => {
    // python3: wilson(0, 20) = (0.0, 0.16112515805281938); 20/20 is its mirror image.
    expectPair(wilsonInterval(0, 20), [0, 0.16112515805281938]);
    expectPair(wilsonInterval(20, 20), [1 - 0.16112515805281938, 1]);
  });

  it('says "anything from 0 to 1" before anyone is exposed', () => {
    expect(wilsonInterval(0, 0)).toEqual([0, 1]);
  });

  it('widens for a higher confidence level', () => {
    const [lo95, hi95] = wilsonInterval(200, 2000);
    const [lo99, hi99] = wilsonInterval(200, 2000, 2.5758293035489004);
    expect(lo99).toBeLessThan(lo95);
    expect(hi99).toBeGreaterThan(hi95);
  });

  it('refuses impossible counts', () => {
    expect(() => wilsonInterval(21, 20)).toThrow(RangeError);
    expect(() => wilsonInterval(-1, 20)).toThrow(RangeError);
    expect(() => wilsonInterval(1.5, 20)).toThrow(RangeError);
  });
});

describe('twoProportionZTest: two-sided, pooled standard error', () => {
  // python3: ztest(*counts)
  it.each([
    ['a clear winner', clearWinner, 2.973724282623409, 0.0029420930704592827],
    ['no difference', noDifference, 0.10517593590934575, 0.9162362051617894],
    ['a tiny sample', tinySample, 0.7905694150420948, 0.42919530044034926],
    ['large counts', largeCounts, 2.0897375255978767, 0.03664138412735521],
    ['a clear loser', clearLoser, -1.6626942882304816, 0.09637364613607265],
  ] as [string, Counts, number, number][])('matches the reference for %s', (_, counts, z, pValue) => {
    const result = twoProportionZTest(...counts);
    expect(result.z).toBeCloseTo(z, 12);
    expectRelativelyClose(result.pValue, pValue, 1e-10);
  });

  it('gives the same p-value whichever group comes first, with z flipped', () => {
    const forward = twoProportionZTest(200, 2000, 260, 2000);
    const backward = twoProportionZTest(260, 2000, 200, 2000);
    expect(backward.z).toBeCloseTo(-forward.z, 14);
    expect(backward.pValue).toBeCloseTo(forward.pValue, 14);
  });

  it('agrees with a chi-square test on one degree of freedom, computed by a different route', () => {
    for (const counts of [clearWinner, noDifference, tinySample, largeCounts]) {
      const { z, pValue } = twoProportionZTest(...counts);
      expectRelativelyClose(chiSquarePValue(z * z, 1), pValue, 1e-9);
    }
  });

  it('reports no evidence when there is nothing to compare', () => {
    expect(twoProportionZTest(0, 20, 0, 20)).toEqual({ z: 0, pValue: 1 });
    expect(twoProportionZTest(20, 20, 20, 20)).toEqual({ z: 0, pValue: 1 });
    expect(twoProportionZTest(0, 0, 5, 20)).toEqual({ z: 0, pValue: 1 });
  });
});

describe('relativeLift: variant vs control with a Katz 95% interval', () => {
  // python3: katz(*counts)
  it.each([
    ['a clear winner', clearWinner, 0.3, [0.09281131010537336, 0.546470085340756]],
    ['no difference', noDifference, 0.01, [-0.16094254257606555, 0.21576894523040235]],
    ['a tiny sample', tinySample, 2 / 3, [-0.5413099739750997, 5.055893130815502]],
    ['large counts', largeCounts, 0.04, [0.0024354218917825854, 0.07897224736813335]],
    ['a clear loser', clearLoser, -0.3, [-0.5414304433121064, 0.06854018731448086]],
  ] as [string, Counts, number, [number, number]][])('matches the reference for %s', (_, counts, lift, ci) => {
    const result = relativeLift(...counts);
    expect(result.lift).toBeCloseTo(lift, 12);
    expectPair(result.ci, ci);
  });

  it('has no lift, rather than an infinite one, when control has not converted anyone', () => {
    expect(relativeLift(0, 500, 30, 500)).toEqual({ lift: null, ci: null });
    expect(relativeLift(0, 0, 30, 500)).toEqual({ lift: null, ci: null });
  });

  it('reports a −100% lift without a log-scale interval when the variant has not converted anyone', () => {
    expect(relativeLift(30, 500, 0, 500)).toEqual({ lift: -1, ci: null });
  });

  it('has no lift before the variant is exposed', () => {
    expect(relativeLift(30, 500, 0, 0)).toEqual({ lift: null, ci: null });
  });
});

describe('chanceToBeatControl: P(variant rate > control rate), Beta(1, 1) priors', () => {
  // python3: chance(*counts) — an independent midpoint-rule integral, not the closed form.
  // The contract is 0.001; both the closed form and the large-count integration agree with
  // the reference to better than 1e-6, so that is what is asserted.
  it.each([
    ['a clear winner', clearWinner, 0.9985309319264319],
    ['no difference', noDifference, 0.541827787674338],
    ['a tiny sample', tinySample, 0.7731352365490993],
    ['a clear loser', clearLoser, 0.04886644255907761],
    ['large counts (numerical integration)', largeCounts, 0.9816772062222582],
    ['the last count set summed exactly', [1999, 20000, 2050, 20000], 0.8010332375750225],
    ['the first count set integrated', [2000, 20000, 2051, 20000], 0.8009815634580568],
    ['high rates (summed over non-conversions)', [45000, 50000, 45300, 50000], 0.9993259208436637],
    ['arms of very different size', [5000, 50000, 600, 5000], 0.9999940773823672],
    ['very large counts', [20000, 200000, 20400, 200000], 0.9820861370481616],
  ] as [string, Counts, number][])('matches the integral for %s', (_, counts, expected) => {
    expect(Math.abs(chanceToBeatControl(...counts) - expected)).toBeLessThan(1e-6);
  });

  it('matches closed forms worked by hand', () => {
    // No data: two independent uniforms, 1/2.
    expect(chanceToBeatControl(0, 0, 0, 0)).toBeCloseTo(0.5, 12);
    // pC ~ Beta(1, 2), pV ~ Beta(2, 1): ∫ 2(1−x)(1 − x²) dx = 2(1 − 1/2 − 1/3 + 1/4) = 5/6.
    expect(chanceToBeatControl(0, 1, 1, 1)).toBeCloseTo(5 / 6, 12);
    // pC ~ Beta(11, 1), pV ~ Beta(10, 2): ∫ 11x¹⁰(1 − 11x¹⁰ + 10x¹¹) dx = 1 − 121/21 + 5 = 5/21.
    expect(chanceToBeatControl(10, 10, 9, 10)).toBeCloseTo(5 / 21, 12);
  });

  it('is a coin flip for identical results and complementary when the arms swap', () => {
    for (const [c, n] of [[0, 20], [3, 20], [200, 2000], [5000, 50000]] as [number, number][]) {
      expect(chanceToBeatControl(c, n, c, n)).toBeCloseTo(0.5, 9);
    }
    for (const counts of [clearWinner, tinySample, largeCounts, [1, 3000, 4, 3000] as Counts]) {
      const [cC, nC, cV, nV] = counts;
      expect(chanceToBeatControl(cC, nC, cV, nV) + chanceToBeatControl(cV, nV, cC, nC)).toBeCloseTo(1, 9);
    }
  });

  it('is deterministic', () => {
    expect(chanceToBeatControl(...largeCounts)).toBe(chanceToBeatControl(...largeCounts));
  });
});

describe('chiSquarePValue: upper tail through the regularized incomplete gamma function', () => {
  it.each([
    // 1.959963984540054² is the 5% point of χ²(1).
    [3.841458820694124, 1, 0.05],
    // df = 2: P = exp(−x/2) = exp(−2.5)
    [5, 2, 0.0820849986238988],
    // df = 3: P = erfc(√(x/2)) + 2·√(x/(2π))·exp(−x/2) at x = 0.5
    [0.5, 3, 0.9188914116546758],
    // df = 4: P = exp(−x/2)(1 + x/2) = 6·exp(−5)
    [10, 4, 0.0404276819945128],
    // python3: chi2_sf_even(100, 100)
    [100, 100, 0.4811916845279567],
    // python3: chi2_sf_even(2, 500) = exp(−250)
    [500, 2, 2.6691902155412764e-109],
  ])('P(χ² > %d | df = %d) = %d', (statistic, df, expected) => {
    expectRelativelyClose(chiSquarePValue(statistic, df), expected, 1e-10);
  });

  it('puts the tabled 0.1% point of χ²(9), 27.877, at p ≈ 0.001', () => {
    expect(chiSquarePValue(27.877, 9)).toBeCloseTo(0.001, 6);
  });

  it('is 1 at zero and 0 at infinity', () => {
    expect(chiSquarePValue(0, 3)).toBe(1);
    expect(chiSquarePValue(Infinity, 3)).toBe(0);
  });

  it('refuses a distribution without degrees of freedom', () => {
    expect(() => chiSquarePValue(1, 0)).toThrow(RangeError);
    expect(() => chiSquarePValue(Number.NaN, 1)).toThrow(RangeError);
  });
});

describe('sampleRatioMismatch: exposures against configured weights, flagged at p < 0.001', () => {
  it('flags a 50/50 experiment observed at 5,000 vs 4,500', () => {
    // By hand: expected 4,750 each, χ² = 2 · 250² / 4,750 = 26.3158; python3: chi2_sf_df1 = 2.899088282877566e-07.
    const result = sampleRatioMismatch([5000, 4500], [50, 50]);
    expect(result.statistic).toBeCloseTo(26.31578947368421, 10);
    expectRelativelyClose(result.pValue, 2.899088282877566e-7, 1e-9);
    expect(result.flagged).toBe(true);
  });

  it('does not flag a 50/50 experiment observed at 5,000 vs 4,950', () => {
    // By hand: expected 4,975 each, χ² = 2 · 25² / 4,975 = 0.25126; python3: chi2_sf_df1 = 0.6161918770098425.
    const result = sampleRatioMismatch([5000, 4950], [50, 50]);
    expect(result.statistic).toBeCloseTo(0.25125628140703515, 12);
    expect(result.pValue).toBeCloseTo(0.6161918770098425, 12);
    expect(result.flagged).toBe(false);
  });

  it('checks unequal weights across three arms', () => {
    expect(sampleRatioMismatch([2000, 3000, 5000], [20, 30, 50])).toEqual({ statistic: 0, pValue: 1, flagged: false });
    // 20/30/50 config observed as an even split: χ² = 1333.3²/2000 + 333.3²/3000 + 1666.7²/5000, df = 2.
    expect(sampleRatioMismatch([3333, 3333, 3334], [2, 3, 5]).flagged).toBe(true);
  });

  it('has nothing to say before anyone is exposed', () => {
    expect(sampleRatioMismatch([0, 0], [1, 1])).toEqual({ statistic: 0, pValue: 1, flagged: false });
  });

  it('refuses mismatched or meaningless input', () => {
    expect(() => sampleRatioMismatch([10, 10], [1])).toThrow(RangeError);
    expect(() => sampleRatioMismatch([10, 10], [1, 0])).toThrow(RangeError);
    expect(() => sampleRatioMismatch([10, -1], [1, 1])).toThrow(RangeError);
  });
});

describe('holm: Holm–Bonferroni adjusted p-values', () => {
  it('adjusts a known vector', () => {
    // By hand, sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1 = 0.02, 0.03, 0.06, 0.04 → running max
    // 0.02, 0.03, 0.06, 0.06; R's p.adjust(c(0.01, 0.04, 0.03, 0.005), "holm") gives the same.
    const adjusted = holm([0.01, 0.04, 0.03, 0.005]);
    [0.03, 0.06, 0.06, 0.02].forEach((expected, i) => expect(adjusted[i]).toBeCloseTo(expected, 14));
  });

  it('caps adjusted p-values at 1 and keeps them monotone', () => {
    expect(holm([0.5, 0.6])).toEqual([1, 1]);
    const adjusted = holm([0.3, 0.2, 0.9]);
    [0.6, 0.6, 0.9].forEach((expected, i) => expect(adjusted[i]).toBeCloseTo(expected, 14));
  });

  it('leaves a single comparison alone', () => {
    expect(holm([0.0029])).toEqual([0.0029]);
    expect(holm([])).toEqual([]);
  });

  it('refuses something that is not a p-value', () => {
    expect(() => holm([0.5, 1.2])).toThrow(RangeError);
    expect(() => holm([Number.NaN])).toThrow(RangeError);
  });
});

describe('experimentResults: what the admin results endpoint reports', () => {
  const arms = (control: [number, number], ...variants: [number, number][]): ExperimentArmCounts[] => [
    { id: 'control', weight: 50, exposed: control[1], conversions: control[0] },
    ...variants.map(([conversions, exposed], i) => ({ id: `variant_${i + 1}`, weight: 50, exposed, conversions })),
  ];

  it('uses the API field names, with nulls for the control row', () => {
    const { variants, srm } = experimentResults({ controlId: 'control', variants: arms([200, 2000], [260, 2000]) });
    const fields = ['chance_to_beat_control', 'conversions', 'exposed', 'id', 'lift', 'lift_ci', 'p_value', 'p_value_adjusted', 'rate', 'rate_ci'];
    for (const row of variants) expect(Object.keys(row).sort()).toEqual(fields);
    expect(Object.keys(srm).sort()).toEqual(['flagged', 'p_value']);
    expect(variants[0]).toMatchObject({
      id: 'control',
      rate: 0.1,
      lift: null,
      lift_ci: null,
      p_value: null,
      p_value_adjusted: null,
      chance_to_beat_control: null,
    });
  });

  it('calls a clear winner: control 200/2,000 vs variant 260/2,000', () => {
    const { variants, srm, verdict } = experimentResults({ controlId: 'control', variants: arms([200, 2000], [260, 2000]) });
    const variant = variants[1];
    // python3 references as in the sections above.
    expect(variant?.rate).toBeCloseTo(0.13, 14);
    expectPair(variant?.rate_ci ?? null, [0.1159674906239881, 0.14545112436413904]);
    expect(variant?.lift).toBeCloseTo(0.3, 12);
    expectPair(variant?.lift_ci ?? null, [0.09281131010537336, 0.546470085340756]);
    expect(variant?.p_value).toBeCloseTo(0.0029420930704592827, 12);
    expect(variant?.p_value_adjusted).toBe(variant?.p_value);
    expect(variant?.chance_to_beat_control).toBeCloseTo(0.9985309319264319, 6);
    expect(srm).toEqual({ p_value: 1, flagged: false });
    expect(verdict.status).toBe('winner');
    expect(verdict.winner_id).toBe('variant_1');
    expect(verdict.message).toBe(
      'Variant "variant_1" wins: 13.0% vs 10.0% for control, +30.0% lift, 95% CI +9.3% to +54.6%, adjusted p = 0.0029.',
    );
  });

  it('finds no difference between 200/2,000 and 202/2,000', () => {
    const { verdict } = experimentResults({ controlId: 'control', variants: arms([200, 2000], [202, 2000]) });
    expect(verdict.status).toBe('no_difference');
    expect(verdict.winner_id).toBeNull();
    expect(verdict.message).toContain('No variant differs from control');
    expect(verdict.message).toContain('402 conversions so far');
  });

  it('will not call a winner on a tiny sample (3/20 vs 5/20) and warns against peeking', () => {
    const { variants, verdict } = experimentResults({ controlId: 'control', variants: arms([3, 20], [5, 20]) });
    expect(variants[1]?.p_value).toBeCloseTo(0.42919530044034926, 12);
    expect(verdict.status).toBe('insufficient_data');
    expect(verdict.winner_id).toBeNull();
    expect(verdict.message).toContain('8 of the 100 conversions');
    expect(verdict.message).toContain('92 more');
    expect(verdict.message).toMatch(/peeking/i);
    expect(verdict.message).toContain('false positives');
  });

  it('will not call a winner below a custom minimum, even when the difference is large', () => {
    const { verdict } = experimentResults({ controlId: 'control', minConversions: 1000, variants: arms([200, 2000], [260, 2000]) });
    expect(verdict.status).toBe('insufficient_data');
    expect(verdict.message).toContain('540 more');
  });

  it('reads a tiny sample once the caller lowers the minimum, and still finds nothing', () => {
    const { verdict } = experimentResults({ controlId: 'control', minConversions: 0, variants: arms([3, 20], [5, 20]) });
    expect(verdict.status).toBe('no_difference');
  });

  it('says the assignment is broken when the split does not match the weights, whatever the rates', () => {
    // 5,000 vs 4,500 exposures on a 50/50 split; the variant would otherwise be a clear winner
    // (python3: ztest(500, 5000, 650, 4500) → p = 3.3e-11).
    const { srm, verdict } = experimentResults({ controlId: 'control', variants: arms([500, 5000], [650, 4500]) });
    expect(srm.flagged).toBe(true);
    expectRelativelyClose(srm.p_value, 2.899088282877566e-7, 1e-9);
    expect(verdict.status).toBe('srm');
    expect(verdict.winner_id).toBeNull();
    expect(verdict.message).toContain('assignment or exposure tracking is broken');
    expect(verdict.message).toContain('Do not trust these results');
  });

  it('does not flag a split of 5,000 vs 4,950', () => {
    const { srm } = experimentResults({ controlId: 'control', variants: arms([500, 5000], [500, 4950]) });
    expect(srm.flagged).toBe(false);
    expect(srm.p_value).toBeCloseTo(0.6161918770098425, 12);
  });

  it('calls a loser, not a winner, when the variant does significantly worse', () => {
    const { variants, verdict } = experimentResults({ controlId: 'control', variants: arms([260, 2000], [200, 2000]) });
    // python3: ztest(260, 2000, 200, 2000) p = 0.0029420930704592827; katz lift −0.23077.
    expect(variants[1]?.lift).toBeCloseTo(-0.23076923076923073, 12);
    expect(variants[1]?.chance_to_beat_control).toBeCloseTo(1 - 0.9985309319264319, 6);
    expect(verdict.status).toBe('loser');
    expect(verdict.winner_id).toBeNull();
    expect(verdict.message).toContain('Keep the control copy');
  });

  it('adjusts for several variants: a raw p of 0.043 is not a win among three comparisons', () => {
    // python3 ztest vs control 200/2000: 240/2000 → 0.04324492804302179, 195/2000 → 0.7910080780871236,
    // 202/2000 → 0.9162362051617894. Holm by hand: 3 × 0.0432 = 0.1297; 2 × 0.791 → capped at 1; 1.
    const { variants, verdict } = experimentResults({
      controlId: 'control',
      variants: arms([200, 2000], [240, 2000], [195, 2000], [202, 2000]),
    });
    expect(variants[1]?.p_value).toBeCloseTo(0.04324492804302179, 12);
    expect(variants[1]?.p_value_adjusted).toBeCloseTo(3 * 0.04324492804302179, 12);
    expect(variants[2]?.p_value_adjusted).toBe(1);
    expect(variants[3]?.p_value_adjusted).toBe(1);
    expect(verdict.status).toBe('no_difference');
    expect(verdict.message).toContain('3 comparisons');

    const alone = experimentResults({ controlId: 'control', variants: arms([200, 2000], [240, 2000]) });
    expect(alone.verdict.status).toBe('winner');
  });

  it('names the best of several significant variants', () => {
    const { verdict } = experimentResults({
      controlId: 'control',
      variants: arms([200, 2000], [260, 2000], [300, 2000], [202, 2000]),
    });
    expect(verdict).toMatchObject({ status: 'winner', winner_id: 'variant_2' });
  });

  it('calls a winner over a control that has not converted anyone, without an infinite lift', () => {
    // python3: ztest(0, 500, 30, 500) p = 2.678e-08; lift undefined.
    const { variants, verdict } = experimentResults({ controlId: 'control', minConversions: 10, variants: arms([0, 500], [30, 500]) });
    expect(variants[1]).toMatchObject({ lift: null, lift_ci: null });
    expect(verdict).toMatchObject({ status: 'winner', winner_id: 'variant_1' });
    expect(verdict.message).toBe('Variant "variant_1" wins: 6.0% vs 0.0% for control, adjusted p < 0.0001.');
  });

  it('reports an arm nobody has seen yet without inventing a rate', () => {
    const { variants } = experimentResults({
      controlId: 'control',
      variants: [
        { id: 'control', weight: 1, exposed: 0, conversions: 0 },
        { id: 'b', weight: 1, exposed: 0, conversions: 0 },
      ],
    });
    expect(variants[1]).toMatchObject({ rate: null, rate_ci: [0, 1], lift: null, lift_ci: null, p_value: 1 });
    expect(variants[1]?.chance_to_beat_control).toBeCloseTo(0.5, 12);
  });

  it('compares against whichever arm is named control, e.g. the holdout', () => {
    const { variants } = experimentResults({
      controlId: 'holdout',
      variants: [
        { id: 'copy_a', weight: 45, exposed: 2000, conversions: 260 },
        { id: 'holdout', weight: 10, exposed: 2000 / 4.5, conversions: 40 },
        { id: 'copy_b', weight: 45, exposed: 2000, conversions: 220 },
      ].map((arm) => ({ ...arm, exposed: Math.round(arm.exposed) })),
    });
    expect(variants.map((row) => row.id)).toEqual(['copy_a', 'holdout', 'copy_b']);
    expect(variants[1]?.lift).toBeNull();
    expect(variants[0]?.lift).not.toBeNull();
  });

  it('refuses input it cannot make sense of', () => {
    expect(() => experimentResults({ controlId: 'missing', variants: arms([1, 10], [1, 10]) })).toThrow(RangeError);
    expect(() => experimentResults({ controlId: 'control', variants: arms([1, 10]) })).toThrow(RangeError);
    expect(() =>
      experimentResults({ controlId: 'control', variants: [...arms([1, 10], [1, 10]), { id: 'control', weight: 1, exposed: 1, conversions: 0 }] }),
    ).toThrow(RangeError);
    expect(() => experimentResults({ controlId: 'control', variants: arms([11, 10], [1, 10]) })).toThrow(RangeError);
  });
});
