import { describe, it, expect } from 'vitest';
import { assignVariant, murmurHash3, unitHash } from './bucketing';
import type { BucketedExperiment } from './bucketing';

/*
 * Reference hashes: the published MurmurHash3_x86_32 vectors ("", "hello", "The quick
 * brown fox…", "test", "Hello, world!") and the rest from an independent implementation,
 * python3 stdlib only:
 *
 *   def murmur3_32(data: bytes, seed=0):
 *       c1, c2, M = 0xcc9e2d51, 0x1b873593, 0xffffffff
 *       rotl = lambda x, r: ((x << r) | (x >> (32 - r))) & M
 *       h, n = seed, len(data) // 4 * 4
 *       for i in range(0, n, 4):
 *           k = int.from_bytes(data[i:i+4], 'little')
 *           k = rotl((k * c1) & M, 15) * c2 & M
 *           h = (rotl(h ^ k, 13) * 5 + 0xe6546b64) & M
 *       tail = data[n:]
 *       if tail:
 *           k = int.from_bytes(tail, 'little')
 *           h ^= rotl((k * c1) & M, 15) * c2 & M
 *       h ^= len(data)
 *       h ^= h >> 16; h = (h * 0x85ebca6b) & M
 *       h ^= h >> 13; h = (h * 0xc2b2ae35) & M
 *       return h ^ (h >> 16)
 *
 *   murmur3_32('naïve 日本 🚀'.encode('utf-8')) == 0x4b41e427
 */
const referenceVectors: [string, number][] = [
  ['', 0x00000000],
  ['hello', 0x248bfa47],
  ['The quick brown fox jumps over the lazy dog', 0x2e4ff723],
  ['test', 0xba6bd213],
  ['Hello, world!', 0xc0363e43],
  ['abc', 0xb3dd93fa], // 3-byte tail only
  ['abcd', 0x43ed676a], // one block, no tail
  ['abcde', 0xe89b9af6], // one block + 1-byte tail
  ['naïve 日本 🚀', 0x4b41e427], // 2-, 3- and 4-byte UTF-8 sequences
];

/*
 * Upper 0.1% points of the chi-square distribution (any statistics table, e.g. NIST/SEMATECH
 * e-Handbook 1.3.6.7.4). df = 1: erfc(sqrt(x/2)) = 0.001 → 10.828; df = 2: exp(-x/2) = 0.001
 * → x = -2·ln(0.001) = 13.816; df = 9: 27.877.
 */
const chiSquareCritical001: Record<number, number> = { 1: 10.828, 2: 13.816, 9: 27.877 };

function chiSquareStatistic(observed: number[], expectedShares: number[]): number {
  const total = observed.reduce((sum, count) => sum + count, 0);
  return observed.reduce((sum, count, i) => {
    const expected = total * (expectedShares[i] ?? 0);
    return sum + (count - expected) ** 2 / expected;
  }, 0);
}

const accounts = Array.from({ length: 100_000 }, (_, i) => `acct_${i}`);

function countAssignments(experiment: BucketedExperiment, arms: (string | null)[]): number[] {
  const counts = arms.map(() => 0);
  for (const account of accounts) {
    const { variantId } = assignVariant(experiment, account);
    const arm = arms.indexOf(variantId);
    counts[arm] = (counts[arm] ?? 0) + 1;
  }
  return counts;
}

describe('murmurHash3 (x86, 32-bit, seed 0)', () => {
  it.each(referenceVectors)('hashes %j to the reference value', (text, expected) => {
    expect(murmurHash3(text)).toBe(expected);
  });

  it('is an unsigned 32-bit integer', () => {
    const hashes = accounts.slice(0, 1000).map((account) => murmurHash3(account));
    expect(hashes.every((hash) => Number.isInteger(hash) && hash >= 0 && hash < 2 ** 32)).toBe(true);
  });
});

describe('unitHash', () => {
  it('places a unit at murmur3("<experiment>:<unit>") / 2^32', () => {
    // python3: murmur3_32(b'exp_pricing_copy:acct_42') == 0x6da833d8; / 2**32 == 0.4283478166908026
    expect(unitHash('exp_pricing_copy', 'acct_42')).toBe(0x6da833d8 / 2 ** 32);
    expect(unitHash('exp_pricing_copy', 'acct_42')).toBeCloseTo(0.4283478166908026, 15);
  });

  it('stays inside [0, 1)', () => {
    const positions = accounts.map((account) => unitHash('exp_range', account));
    expect(positions.every((position) => position >= 0 && position < 1)).toBe(true);
  });

  it('spreads 100,000 accounts evenly over ten equal bins (chi-square below the 0.001 critical value)', () => {
    const bins = Array.from({ length: 10 }, () => 0);
    for (const account of accounts) {
      const bin = Math.floor(unitHash('exp_uniform', account) * 10);
      bins[bin] = (bins[bin] ?? 0) + 1;
    }
    const statistic = chiSquareStatistic(bins, Array.from({ length: 10 }, () => 0.1));
    // python3 with the reference murmur3_32 above gives 6.7916 for these ids.
    expect(statistic).toBeCloseTo(6.7916, 4);
    expect(statistic).toBeLessThan(chiSquareCritical001[9] ?? 0);
  });
});

describe('assignVariant', () => {
  const headlineTest: BucketedExperiment = {
    key: 'exp_headline',
    holdoutPct: 0,
    variants: [
      { id: 'control', weight: 20 },
      { id: 'urgent', weight: 30 },
      { id: 'friendly', weight: 50 },
    ],
  };

  it('gives a unit the same variant every time, with nothing stored', () => {
    const first = accounts.slice(0, 500).map((account) => assignVariant(headlineTest, account));
    const again = accounts
      .slice(0, 500)
      .map((account) => assignVariant({ ...headlineTest, variants: headlineTest.variants.map((v) => ({ ...v })) }, account));
    expect(again).toEqual(first);
  });

  it('splits traffic 20/30/50 by weight (chi-square below the 0.001 critical value)', () => {
    const counts = countAssignments(headlineTest, ['control', 'urgent', 'friendly']);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(100_000);
    const statistic = chiSquareStatistic(counts, [0.2, 0.3, 0.5]);
    expect(statistic).toBeLessThan(chiSquareCritical001[2] ?? 0);
  });

  it('treats weights as relative: 2/3/5 assigns every unit exactly as 20/30/50', () => {
    const scaledDown = { ...headlineTest, variants: headlineTest.variants.map((v) => ({ ...v, weight: v.weight / 10 })) };
    const original = accounts.map((account) => assignVariant(headlineTest, account).variantId);
    const scaled = accounts.map((account) => assignVariant(scaledDown, account).variantId);
    expect(scaled).toEqual(original);
  });

  it('keeps a 10% holdout out of the prompt and splits the rest by weight', () => {
    const withHoldout: BucketedExperiment = {
      key: 'exp_holdout',
      holdoutPct: 10,
      variants: [
        { id: 'a', weight: 1 },
        { id: 'b', weight: 1 },
      ],
    };
    const counts = countAssignments(withHoldout, [null, 'a', 'b']);
    const statistic = chiSquareStatistic(counts, [0.1, 0.45, 0.45]);
    expect(statistic).toBeLessThan(chiSquareCritical001[2] ?? 0);

    for (const account of accounts.slice(0, 2000)) {
      const assignment = assignVariant(withHoldout, account);
      const inHoldout = unitHash('exp_holdout', account) < 0.1;
      expect(assignment.holdout).toBe(inHoldout);
      expect(assignment.variantId === null).toBe(inHoldout);
    }
  });

  it('places acct_42 of exp_1 in the holdout, as the doc example says', () => {
    // unitHash('exp_1', 'acct_42') = 0.01387… < 0.10
    const experiment = { key: 'exp_1', holdoutPct: 10, variants: [{ id: 'a', weight: 1 }, { id: 'b', weight: 1 }] };
    expect(assignVariant(experiment, 'acct_42')).toEqual({ variantId: null, holdout: true });
  });

  it('never holds anyone out at 0% and holds everyone out at 100%', () => {
    const everyoneIn = { key: 'exp_edges', holdoutPct: 0, variants: [{ id: 'only', weight: 1 }] };
    const everyoneOut = { key: 'exp_edges', holdoutPct: 100, variants: [] };
    for (const account of accounts.slice(0, 2000)) {
      expect(assignVariant(everyoneIn, account)).toEqual({ variantId: 'only', holdout: false });
      expect(assignVariant(everyoneOut, account)).toEqual({ variantId: null, holdout: true });
    }
  });

  it('assigns a unit independently in different experiments', () => {
    // 2x2 table of (arm in experiment A) x (arm in experiment B), both 50/50:
    // under independence each cell expects 25%; chi-square with 1 degree of freedom.
    const halves = [
      { id: 'a', weight: 1 },
      { id: 'b', weight: 1 },
    ];
    const cells = [0, 0, 0, 0];
    for (const account of accounts) {
      const inA = assignVariant({ key: 'exp_first', holdoutPct: 0, variants: halves }, account).variantId === 'a';
      const inB = assignVariant({ key: 'exp_second', holdoutPct: 0, variants: halves }, account).variantId === 'a';
      const cell = (inA ? 2 : 0) + (inB ? 1 : 0);
      cells[cell] = (cells[cell] ?? 0) + 1;
    }
    const total = 100_000;
    const rowA = (cells[2] ?? 0) + (cells[3] ?? 0);
    const colB = (cells[1] ?? 0) + (cells[3] ?? 0);
    const expected = [
      (total - rowA) * (total - colB),
      (total - rowA) * colB,
      rowA * (total - colB),
      rowA * colB,
    ].map((product) => product / total);
    const statistic = cells.reduce((sum, count, i) => sum + (count - (expected[i] ?? 0)) ** 2 / (expected[i] ?? 1), 0);
    expect(statistic).toBeLessThan(chiSquareCritical001[1] ?? 0);
  });

  it('refuses a configuration that cannot assign anyone', () => {
    const variants = [{ id: 'a', weight: 1 }];
    expect(() => assignVariant({ key: 'x', holdoutPct: -1, variants }, 'u')).toThrow(RangeError);
    expect(() => assignVariant({ key: 'x', holdoutPct: 101, variants }, 'u')).toThrow(RangeError);
    expect(() => assignVariant({ key: 'x', holdoutPct: Number.NaN, variants }, 'u')).toThrow(RangeError);
    expect(() => assignVariant({ key: 'x', holdoutPct: 0, variants: [] }, 'u')).toThrow(RangeError);
    expect(() => assignVariant({ key: 'x', holdoutPct: 0, variants: [{ id: 'a', weight: 0 }] }, 'u')).toThrow(RangeError);
    expect(() => assignVariant({ key: 'x', holdoutPct: 0, variants: [{ id: 'a', weight: -2 }] }, 'u')).toThrow(RangeError);
    expect(() => assignVariant({ key: 'x', holdoutPct: 0, variants: [{ id: 'a', weight: Infinity }] }, 'u')).toThrow(RangeError);
  });
});
