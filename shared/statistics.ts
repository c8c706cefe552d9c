/**
 * Statistics for A/B tests of prompt copy: intervals, tests, Bayesian chance to beat
 * control, sample-ratio-mismatch check and a plain-language verdict. Counts in, numbers
 * out; deterministic (no sampling), no I/O.
 */

/** The two-sided 95% normal quantile, Φ⁻¹(0.975). */
const Z_95 = 1.959963984540054;

/** Conversions needed across all arms before the verdict may name a winner. */
const DEFAULT_MIN_CONVERSIONS = 100;
const SIGNIFICANCE = 0.05;
const SRM_THRESHOLD = 0.001;

/**
 * Above this many terms in Evan Miller's closed form, chanceToBeatControl integrates
 * numerically instead; both are far inside the 0.001 accuracy the product needs.
 */
const EXACT_TERMS_LIMIT = 2000;

// ---------------------------------------------------------------------------
// Special functions
// ---------------------------------------------------------------------------

/** Lanczos approximation, g = 7, n = 9: about 15 significant digits for x > 0. */
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
  -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
  1.5056327351493116e-7,
] as const;

function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  const shifted = x - 1;
  let series: number = LANCZOS[0];
  for (let i = 1; i < LANCZOS.length; i++) series += (LANCZOS[i] ?? 0) / (shifted + i);
  const t = shifted + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (shifted + 0.5) * Math.log(t) - t + Math.log(series);
}

function logBeta(a: number, b: number): number {
  return logGamma(a) + logGamma(b) - logGamma(a + b);
}

/** Evaluates c[0] + c[1]·x + … by Horner's rule. */
function polynomial(coefficients: readonly number[], x: number): number {
  let result = 0;
  for (let i = coefficients.length - 1; i >= 0; i--) result = result * x + (coefficients[i] ?? 0);
  return result;
}

/*
 * W. J. Cody, "Rational Chebyshev approximations for the error function",
 * Math. Comp. 23 (1969) 631–637; coefficients as in his CALERF (SPECFUN, netlib).
 * Listed lowest degree first for `polynomial`.
 */
const ERF_NUM = [3.209377589138469472e3, 3.774852376853020208e2, 1.138641541510501556e2, 3.16112374387056560, 1.857777061846031527e-1];
const ERF_DEN = [2.844236833439170622e3, 1.282616526077372276e3, 2.440246379344441733e2, 2.360129095234412093e1, 1];
const ERFC_NUM = [
  1.23033935479799725e3, 2.05107837782607147e3, 1.71204761263407058e3, 8.81952221241769090e2,
  2.98635138197400131e2, 6.61191906371416295e1, 8.88314979438837594, 5.64188496988670089e-1,
  2.15311535474403846e-8,
];
const ERFC_DEN = [
  1.23033935480374942e3, 3.43936767414372164e3, 4.36261909014324716e3, 3.29079923573345963e3,
  1.62138957456669019e3, 5.37181101862009858e2, 1.17693950891312499e2, 1.57449261107098347e1, 1,
];
const ERFC_ASYMPTOTIC_NUM = [
  6.58749161529837803e-4, 1.60837851487422766e-2, 1.25781726111229246e-1, 3.60344899949804439e-1,
  3.05326634961232344e-1, 1.63153871373020978e-2,
];
const ERFC_ASYMPTOTIC_DEN = [
  2.33520497626869185e-3, 6.05183413124413191e-2, 5.27905102951428412e-1, 1.87295284992346725,
  2.56852019228982242, 1,
];
const ONE_OVER_SQRT_PI = 0.56418958354775628695;

/** exp(-y²) without the rounding loss of squaring y directly (Cody's split). */
function expMinusSquare(y: number): number {
  const rounded = Math.trunc(y * 16) / 16;
  return Math.exp(-rounded * rounded) * Math.exp(-(y - rounded) * (y + rounded));
}

/** Complementary error function, relative error near machine precision (Cody). */
function erfc(x: number): number {
  const y = Math.abs(x);
  if (y <= 0.46875) {
    const ySquared = y * y;
    return 1 - (x * polynomial(ERF_NUM, ySquared)) / polynomial(ERF_DEN, ySquared);
  }
  let tail: number;
  if (y <= 4) {
    tail = (expMinusSquare(y) * polynomial(ERFC_NUM, y)) / polynomial(ERFC_DEN, y);
  } else if (y >= 26.543) {
    tail = 0;
  } else {
    const inverseSquare = 1 / (y * y);
    const correction =
      (inverseSquare * polynomial(ERFC_ASYMPTOTIC_NUM, inverseSquare)) /
      polynomial(ERFC_ASYMPTOTIC_DEN, inverseSquare);
    tail = (expMinusSquare(y) * (ONE_OVER_SQRT_PI - correction)) / y;
  }
  return x < 0 ? 2 - tail : tail;
}

/**
 * Standard normal cumulative distribution Φ(x), through Cody's complementary error
 * function (relative error around 1e-15, far inside the 1e-7 the tests need).
 *
 * @example
 * normalCdf(1.959963984540054); // 0.975
 */
export function normalCdf(x: number): number {
  return 0.5 * erfc(-x / Math.SQRT2);
}

const TINY = 1e-300;
const EPSILON = 1e-15;
const MAX_ITERATIONS = 100_000;

/** Regularized upper incomplete gamma Q(a, x), by series or continued fraction (Numerical Recipes §6.2). */
function regularizedGammaQ(a: number, x: number): number {
  if (x <= 0) return 1;
  const logPrefix = -x + a * Math.log(x) - logGamma(a);
  if (x < a + 1) {
    let term = 1 / a;
    let sum = term;
    for (let n = 1; n < MAX_ITERATIONS; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * EPSILON) break;
    }
    return Math.max(0, 1 - sum * Math.exp(logPrefix));
  }
  // Modified Lentz's method for the continued fraction.
  let b = x + 1 - a;
  let c = 1 / TINY;
  let d = 1 / b;
  let fraction = d;
  for (let i = 1; i < MAX_ITERATIONS; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < TINY) d = TINY;
    c = b + an / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const delta = d * c;
    fraction *= delta;
    if (Math.abs(delta - 1) < EPSILON) break;
  }
  return Math.exp(logPrefix) * fraction;
}

/** Continued fraction for the incomplete beta function (Numerical Recipes §6.4). */
function betaContinuedFraction(a: number, b: number, x: number): number {
  const qab = a + b;
  const qap = a + 1;
  const qam = a - 1;
  let c = 1;
  let d = 1 - (qab * x) / qap;
  if (Math.abs(d) < TINY) d = TINY;
  d = 1 / d;
  let fraction = d;
  for (let m = 1; m < MAX_ITERATIONS; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    fraction *= d * c;
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const delta = d * c;
    fraction *= delta;
    if (Math.abs(delta - 1) < EPSILON) break;
  }
  return fraction;
}

/** Regularized incomplete beta I_x(a, b): the CDF of Beta(a, b) at x. */
function regularizedBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const logPrefix = a * Math.log(x) + b * Math.log1p(-x) - logBeta(a, b);
  if (x < (a + 1) / (a + b + 2)) return (Math.exp(logPrefix) * betaContinuedFraction(a, b, x)) / a;
  return 1 - (Math.exp(logPrefix) * betaContinuedFraction(b, a, 1 - x)) / b;
}

// ---------------------------------------------------------------------------
// Input checks
// ---------------------------------------------------------------------------

function assertCounts(conversions: number, exposed: number, label = 'counts'): void {
  if (!Number.isInteger(exposed) || exposed < 0) {
    throw new RangeError(`${label}: exposed must be a non-negative integer, got ${exposed}`);
  }
  if (!Number.isInteger(conversions) || conversions < 0 || conversions > exposed) {
    throw new RangeError(`${label}: conversions must be an integer between 0 and ${exposed}, got ${conversions}`);
  }
}

// ---------------------------------------------------------------------------
// Intervals and tests
// ---------------------------------------------------------------------------

/**
 * Wilson score interval for a conversion rate (95% by default). With no exposures
 * the rate could be anything: [0, 1].
 *
 * @example
 * wilsonInterval(200, 2000); // [0.08761, 0.11392]
 */
export function wilsonInterval(conversions: number, n: number, z = Z_95): [number, number] {
  assertCounts(conversions, n);
  if (n === 0) return [0, 1];
  const rate = conversions / n;
  const zSquared = z * z;
  const denominator = 1 + zSquared / n;
  const centre = (rate + zSquared / (2 * n)) / denominator;
  const halfWidth = (z / denominator) * Math.sqrt((rate * (1 - rate)) / n + zSquared / (4 * n * n));
  return [Math.max(0, centre - halfWidth), Math.min(1, centre + halfWidth)];
}

/**
 * Two-sided two-proportion z-test with the pooled standard error. `z` is positive when
 * the second group converts more. When there is nothing to compare (an empty group, or
 * every unit converted the same way) it reports no evidence: z = 0, p = 1.
 *
 * @example
 * twoProportionZTest(200, 2000, 260, 2000); // { z: 2.9737, pValue: 0.0029421 }
 */
export function twoProportionZTest(c1: number, n1: number, c2: number, n2: number): { z: number; pValue: number } {
  assertCounts(c1, n1, 'first group');
  assertCounts(c2, n2, 'second group');
  if (n1 === 0 || n2 === 0) return { z: 0, pValue: 1 };
  const pooled = (c1 + c2) / (n1 + n2);
  const standardError = Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  if (standardError === 0) return { z: 0, pValue: 1 };
  const z = (c2 / n2 - c1 / n1) / standardError;
  return { z, pValue: Math.min(1, erfc(Math.abs(z) / Math.SQRT2)) };
}

/**
 * Relative lift of the variant over control, pV / pC − 1, with a 95% interval from the
 * delta method on log(pV / pC) (Katz). A control rate of 0 has no lift (null); a variant
 * rate of 0 has lift −1 but no log-scale interval (null).
 *
 * @example
 * relativeLift(200, 2000, 260, 2000); // { lift: 0.3, ci: [0.0928, 0.5465] }
 */
export function relativeLift(
  cControl: number,
  nControl: number,
  cVariant: number,
  nVariant: number,
): { lift: number | null; ci: [number, number] | null } {
  assertCounts(cControl, nControl, 'control');
  assertCounts(cVariant, nVariant, 'variant');
  if (cControl === 0 || nVariant === 0) return { lift: null, ci: null };
  const ratio = cVariant / nVariant / (cControl / nControl);
  if (cVariant === 0) return { lift: -1, ci: null };
  const logStandardError = Math.sqrt(1 / cVariant - 1 / nVariant + 1 / cControl - 1 / nControl);
  return {
    lift: ratio - 1,
    ci: [ratio * Math.exp(-Z_95 * logStandardError) - 1, ratio * Math.exp(Z_95 * logStandardError) - 1],
  };
}

/**
 * P(pB > pA) for pA ~ Beta(aA, bA), pB ~ Beta(aB, bB) with integer aB, by Evan Miller's
 * closed form: Σ_{i<aB} B(aA+i, bA+bB) / ((bB+i) B(1+i, bB) B(aA, bA)). Term 0 is
 * B(aA, bA+bB) / B(aA, bA); each next term follows by a ratio, all in log space.
 */
function evanMillerSum(aA: number, bA: number, aB: number, bB: number): number {
  let logTerm = logBeta(aA, bA + bB) - logBeta(aA, bA);
  let sum = 0;
  for (let i = 0; i < aB; i++) {
    sum += Math.exp(logTerm);
    logTerm += Math.log(((aA + i) * (bB + i)) / ((aA + bA + bB + i) * (i + 1)));
  }
  return sum;
}

/**
 * P(pV > pC) by Simpson's rule over ±12 standard deviations of the narrower posterior,
 * weighting it by the other posterior's exact CDF (regularized incomplete beta).
 */
function integratedChance(aC: number, bC: number, aV: number, bV: number): number {
  const varianceOf = (a: number, b: number) => (a * b) / ((a + b) ** 2 * (a + b + 1));
  const controlIsNarrower = varianceOf(aC, bC) <= varianceOf(aV, bV);
  const [a, b] = controlIsNarrower ? [aC, bC] : [aV, bV];
  const [otherA, otherB] = controlIsNarrower ? [aV, bV] : [aC, bC];
  const mean = a / (a + b);
  const sd = Math.sqrt(varianceOf(a, b));
  const lo = Math.max(mean - 12 * sd, Number.MIN_VALUE);
  const hi = Math.min(mean + 12 * sd, 1 - Number.EPSILON);
  const intervals = 1000;
  const step = (hi - lo) / intervals;
  const logNormaliser = logBeta(a, b);

  let mass = 0;
  let weighted = 0;
  for (let i = 0; i <= intervals; i++) {
    const x = lo + i * step;
    const simpsonWeight = i === 0 || i === intervals ? 1 : i % 2 === 1 ? 4 : 2;
    const density = Math.exp((a - 1) * Math.log(x) + (b - 1) * Math.log1p(-x) - logNormaliser);
    const otherCdf = regularizedBeta(x, otherA, otherB);
    // Control narrower: P(pV > x) weighted by pC's density; otherwise P(pC < x) by pV's.
    const probability = controlIsNarrower ? 1 - otherCdf : otherCdf;
    mass += simpsonWeight * density;
    weighted += simpsonWeight * density * probability;
  }
  return weighted / mass;
}

/**
 * Bayesian chance that the variant's true rate beats control's, with Beta(1, 1) priors.
 * Exact (Evan Miller's closed form) when the smallest posterior parameter is at most
 * 2,000; otherwise deterministic numerical integration, accurate well below 0.001.
 *
 * @example
 * chanceToBeatControl(200, 2000, 260, 2000); // 0.99853
 */
export function chanceToBeatControl(cC: number, nC: number, cV: number, nV: number): number {
  assertCounts(cC, nC, 'control');
  assertCounts(cV, nV, 'variant');
  const aC = cC + 1;
  const bC = nC - cC + 1;
  const aV = cV + 1;
  const bV = nV - cV + 1;
  const fewestTerms = Math.min(aC, bC, aV, bV);
  let chance: number;
  if (fewestTerms > EXACT_TERMS_LIMIT) {
    chance = integratedChance(aC, bC, aV, bV);
  } else if (fewestTerms === aV) {
    chance = evanMillerSum(aC, bC, aV, bV);
  } else if (fewestTerms === aC) {
    chance = 1 - evanMillerSum(aV, bV, aC, bC);
  } else if (fewestTerms === bC) {
    // pV > pC ⇔ 1 − pC > 1 − pV, and 1 − p ~ Beta(b, a).
    chance = evanMillerSum(bV, aV, bC, aC);
  } else {
    chance = 1 - evanMillerSum(bC, aC, bV, aV);
  }
  return Math.min(1, Math.max(0, chance));
}

// ---------------------------------------------------------------------------
// Sample ratio mismatch and multiple comparisons
// ---------------------------------------------------------------------------

/**
 * Upper-tail p-value of the chi-square distribution, Q(df/2, statistic/2).
 *
 * @example
 * chiSquarePValue(3.841458820694124, 1); // 0.05
 */
export function chiSquarePValue(statistic: number, degreesOfFreedom: number): number {
  if (!(degreesOfFreedom > 0) || !Number.isFinite(degreesOfFreedom)) {
    throw new RangeError(`degreesOfFreedom must be positive, got ${degreesOfFreedom}`);
  }
  if (Number.isNaN(statistic)) throw new RangeError('statistic must be a number');
  if (statistic === Infinity) return 0;
  return Math.min(1, Math.max(0, regularizedGammaQ(degreesOfFreedom / 2, statistic / 2)));
}

/**
 * Chi-square goodness-of-fit of observed exposures against the configured weights;
 * flagged at p < 0.001, which means assignment or exposure logging is broken.
 *
 * @example
 * sampleRatioMismatch([5000, 4500], [50, 50]); // { statistic: 26.3158, pValue: 2.9e-7, flagged: true }
 */
export function sampleRatioMismatch(
  observed: number[],
  weights: number[],
): { statistic: number; pValue: number; flagged: boolean } {
  if (observed.length !== weights.length) {
    throw new RangeError(`observed has ${observed.length} arms but weights has ${weights.length}`);
  }
  for (const count of observed) {
    if (!Number.isInteger(count) || count < 0) throw new RangeError(`observed counts must be non-negative integers, got ${count}`);
  }
  for (const weight of weights) {
    if (!Number.isFinite(weight) || weight <= 0) throw new RangeError(`weights must be positive, got ${weight}`);
  }
  const total = observed.reduce((sum, count) => sum + count, 0);
  if (observed.length < 2 || total === 0) return { statistic: 0, pValue: 1, flagged: false };
  const totalWeight = weights.reduce((sum, weight) => sum + weight, 0);
  let statistic = 0;
  observed.forEach((count, i) => {
    const expected = (total * (weights[i] ?? 0)) / totalWeight;
    statistic += (count - expected) ** 2 / expected;
  });
  const pValue = chiSquarePValue(statistic, observed.length - 1);
  return { statistic, pValue, flagged: pValue < SRM_THRESHOLD };
}

/**
 * Holm–Bonferroni adjusted p-values, in the input order: monotone in the sorted order
 * and capped at 1. Reject where adjusted p < α to control the family-wise error rate.
 *
 * @example
 * holm([0.01, 0.04, 0.03, 0.005]); // [0.03, 0.06, 0.06, 0.02]
 */
export function holm(pValues: number[]): number[] {
  for (const p of pValues) {
    if (!(p >= 0 && p <= 1)) throw new RangeError(`p-values must be between 0 and 1, got ${p}`);
  }
  const m = pValues.length;
  const order = pValues.map((p, index) => ({ p, index })).sort((x, y) => x.p - y.p);
  const adjusted = new Array<number>(m);
  let running = 0;
  order.forEach(({ p, index }, rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * p));
    adjusted[index] = running;
  });
  return adjusted;
}

// ---------------------------------------------------------------------------
// Experiment results
// ---------------------------------------------------------------------------

export interface ExperimentArmCounts {
  id: string;
  /** Configured relative weight, on the same scale for every arm (used by the SRM check). */
  weight: number;
  exposed: number;
  conversions: number;
}

export interface ExperimentResultsInput {
  controlId: string;
  /** Total conversions across arms before a winner may be called. Default 100. */
  minConversions?: number;
  variants: ExperimentArmCounts[];
}

export interface VariantResult {
  id: string;
  exposed: number;
  conversions: number;
  /** null when the arm has no exposures yet. */
  rate: number | null;
  rate_ci: [number, number];
  /** The remaining fields are null on the control row. */
  lift: number | null;
  lift_ci: [number, number] | null;
  p_value: number | null;
  p_value_adjusted: number | null;
  chance_to_beat_control: number | null;
}

type VerdictStatus = 'insufficient_data' | 'no_difference' | 'winner' | 'loser' | 'srm';

export interface ExperimentResults {
  variants: VariantResult[];
  srm: { p_value: number; flagged: boolean };
  verdict: { status: VerdictStatus; winner_id: string | null; message: string };
}

const percent = (x: number) => `${(x * 100).toFixed(1)}%`;
const signedPercent = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x * 100).toFixed(1)}%`;
const formatP = (p: number) => (p < 0.0001 ? 'p < 0.0001' : `p = ${p.toPrecision(2)}`);

function comparisonDetail(row: VariantResult, control: VariantResult): string {
  const rates = `${percent(row.rate ?? 0)} vs ${percent(control.rate ?? 0)} for control`;
  const lift =
    row.lift === null
      ? ''
      : row.lift_ci === null
        ? `, ${signedPercent(row.lift)} lift`
        : `, ${signedPercent(row.lift)} lift, 95% CI ${signedPercent(row.lift_ci[0])} to ${signedPercent(row.lift_ci[1])}`;
  return `${rates}${lift}, adjusted ${formatP(row.p_value_adjusted ?? 1)}`;
}

/**
 * Per-arm results for the admin results endpoint (field names as in API.md), the SRM
 * check, and a plain-language verdict. Holm adjusts p-values across the variants'
 * comparisons with control. A sample ratio mismatch outranks every other verdict; a
 * winner is named only with at least `minConversions` conversions in total and an
 * adjusted p < 0.05 with a higher rate than control. Weights share one scale across
 * arms (a holdout arm, if passed, weighted by its share).
 *
 * @example
 * experimentResults({ controlId: 'a', variants: [
 *   { id: 'a', weight: 50, exposed: 2000, conversions: 200 },
 *   { id: 'b', weight: 50, exposed: 2000, conversions: 260 },
 * ] }).verdict; // { status: 'winner', winner_id: 'b', message: 'Variant "b" wins: …' }
 */
export function experimentResults(input: ExperimentResultsInput): ExperimentResults {
  const { controlId, variants } = input;
  const minConversions = input.minConversions ?? DEFAULT_MIN_CONVERSIONS;
  if (!Number.isFinite(minConversions) || minConversions < 0) {
    throw new RangeError(`minConversions must be a non-negative number, got ${minConversions}`);
  }
  const ids = new Set(variants.map((variant) => variant.id));
  if (ids.size !== variants.length) throw new RangeError('variant ids must be unique');
  const control = variants.find((variant) => variant.id === controlId);
  if (control === undefined) throw new RangeError(`control "${controlId}" is not among the variants`);
  if (variants.length < 2) throw new RangeError('an experiment needs at least one variant besides control');
  for (const variant of variants) assertCounts(variant.conversions, variant.exposed, `variant "${variant.id}"`);

  const armBasics = (arm: ExperimentArmCounts) => ({
    id: arm.id,
    exposed: arm.exposed,
    conversions: arm.conversions,
    rate: arm.exposed === 0 ? null : arm.conversions / arm.exposed,
    rate_ci: wilsonInterval(arm.conversions, arm.exposed),
  });
  const controlRow: VariantResult = {
    ...armBasics(control),
    lift: null,
    lift_ci: null,
    p_value: null,
    p_value_adjusted: null,
    chance_to_beat_control: null,
  };
  const rows: VariantResult[] = variants.map((variant) => {
    if (variant.id === controlId) return controlRow;
    const { lift, ci } = relativeLift(control.conversions, control.exposed, variant.conversions, variant.exposed);
    return {
      ...armBasics(variant),
      lift,
      lift_ci: ci,
      p_value: twoProportionZTest(control.conversions, control.exposed, variant.conversions, variant.exposed).pValue,
      p_value_adjusted: null,
      chance_to_beat_control: chanceToBeatControl(control.conversions, control.exposed, variant.conversions, variant.exposed),
    };
  });

  const challengers = rows.filter((row) => row.id !== controlId);
  const adjusted = holm(challengers.map((row) => row.p_value ?? 1));
  challengers.forEach((row, i) => {
    row.p_value_adjusted = adjusted[i] ?? 1;
  });

  const srmCheck = sampleRatioMismatch(
    variants.map((variant) => variant.exposed),
    variants.map((variant) => variant.weight),
  );
  const srm = { p_value: srmCheck.pValue, flagged: srmCheck.flagged };
  const totalConversions = variants.reduce((sum, variant) => sum + variant.conversions, 0);

  const verdict = ((): ExperimentResults['verdict'] => {
    if (srm.flagged) {
      return {
        status: 'srm',
        winner_id: null,
        message: `Traffic does not match the configured split (sample ratio mismatch, ${formatP(srm.p_value)}), so assignment or exposure tracking is broken. Do not trust these results; fix the cause and restart the test.`,
      };
    }
    if (totalConversions < minConversions) {
      const missing = Math.ceil(minConversions - totalConversions);
      return {
        status: 'insufficient_data',
        winner_id: null,
        message: `Not enough data yet: ${totalConversions} of the ${minConversions} conversions needed, so wait for ${missing} more before reading results. Peeking at a running test and stopping when it looks good inflates false positives.`,
      };
    }
    const significant = challengers.filter((row) => (row.p_value_adjusted ?? 1) < SIGNIFICANCE);
    const beatsControl = (row: VariantResult) => (row.rate ?? 0) > (controlRow.rate ?? 0);
    const winners = significant.filter(beatsControl).sort((x, y) => (y.rate ?? 0) - (x.rate ?? 0));
    const best = winners[0];
    if (best !== undefined) {
      return {
        status: 'winner',
        winner_id: best.id,
        message: `Variant "${best.id}" wins: ${comparisonDetail(best, controlRow)}.`,
      };
    }
    const losers = significant.filter((row) => !beatsControl(row)).sort((x, y) => (x.rate ?? 0) - (y.rate ?? 0));
    const worst = losers[0];
    if (worst !== undefined) {
      return {
        status: 'loser',
        winner_id: null,
        message: `No variant beats control, and "${worst.id}" does worse: ${comparisonDetail(worst, controlRow)}. Keep the control copy.`,
      };
    }
    const comparisons = challengers.length === 1 ? '1 comparison' : `${challengers.length} comparisons`;
    return {
      status: 'no_difference',
      winner_id: null,
      message: `No variant differs from control at the 5% level after adjusting for ${comparisons} (${totalConversions} conversions so far). Any real difference is too small for this sample to detect.`,
    };
  })();

  return { variants: rows, srm, verdict };
}
