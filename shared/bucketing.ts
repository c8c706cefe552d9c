/**
 * Deterministic assignment of units (accounts by default) to experiment variants.
 *
 * A unit's position in [0, 1) is the MurmurHash3 (x86, 32-bit, seed 0) of the UTF-8
 * bytes of `${experimentKey}:${unitId}`, divided by 2^32. The same unit always lands
 * in the same place, on every device, with nothing stored. Changing an experiment's
 * weights or holdout moves units between arms, so a running test keeps its config;
 * a new config gets a new experiment key.
 */

export interface BucketedExperiment {
  key: string;
  /** Share of units that see no prompt at all, 0..100. */
  holdoutPct: number;
  /** Relative weights, any positive numbers, in a fixed order. */
  variants: { id: string; weight: number }[];
}

export interface Assignment {
  variantId: string | null;
  holdout: boolean;
}

const utf8 = new TextEncoder();

const rotl32 = (x: number, r: number): number => (x << r) | (x >>> (32 - r));

function mixBlock(k: number): number {
  return Math.imul(rotl32(Math.imul(k, 0xcc9e2d51), 15), 0x1b873593);
}

/**
 * MurmurHash3 x86 32-bit of the UTF-8 bytes of `text`, as an unsigned 32-bit integer.
 *
 * @example
 * murmurHash3('hello'); // 0x248bfa47
 */
export function murmurHash3(text: string, seed = 0): number {
  const bytes = utf8.encode(text);
  const length = bytes.length;
  const blocksEnd = length - (length & 3);
  let h = seed | 0;

  for (let i = 0; i < blocksEnd; i += 4) {
    const k =
      (bytes[i] ?? 0) |
      ((bytes[i + 1] ?? 0) << 8) |
      ((bytes[i + 2] ?? 0) << 16) |
      ((bytes[i + 3] ?? 0) << 24);
    h ^= mixBlock(k);
    h = rotl32(h, 13);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }

  const tailLength = length & 3;
  if (tailLength > 0) {
    let k = 0;
    if (tailLength === 3) k ^= (bytes[blocksEnd + 2] ?? 0) << 16;
    if (tailLength >= 2) k ^= (bytes[blocksEnd + 1] ?? 0) << 8;
    k ^= bytes[blocksEnd] ?? 0;
    h ^= mixBlock(k);
  }

  h ^= length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * A unit's stable position in [0, 1) for one experiment.
 *
 * @example
 * unitHash('exp_pricing_copy', 'acct_42'); // 0.4283478166908026
 */
export function unitHash(experimentKey: string, unitId: string): number {
  return murmurHash3(`${experimentKey}:${unitId}`) / 2 ** 32;
}

/**
 * Which variant a unit sees: the first `holdoutPct`% of [0, 1) is the holdout (no
 * prompt); the rest is split by the variants' relative weights, in their order.
 * Throws a RangeError for a configuration that cannot assign anyone.
 *
 * @example
 * assignVariant({ key: 'exp_1', holdoutPct: 10, variants: [{ id: 'a', weight: 1 }, { id: 'b', weight: 1 }] }, 'acct_42');
 * // { variantId: null, holdout: true } — acct_42 hashes to 0.0139, inside the 10% holdout
 */
export function assignVariant(experiment: BucketedExperiment, unitId: string): Assignment {
  const { key, holdoutPct, variants } = experiment;
  if (!Number.isFinite(holdoutPct) || holdoutPct < 0 || holdoutPct > 100) {
    throw new RangeError(`holdoutPct must be between 0 and 100, got ${holdoutPct}`);
  }
  for (const variant of variants) {
    if (!Number.isFinite(variant.weight) || variant.weight <= 0) {
      throw new RangeError(`variant "${variant.id}" needs a positive weight, got ${variant.weight}`);
    }
  }

  const position = unitHash(key, unitId);
  const holdoutShare = holdoutPct / 100;
  if (position < holdoutShare) return { variantId: null, holdout: true };

  const last = variants[variants.length - 1];
  if (last === undefined) {
    throw new RangeError(`experiment "${key}" has no variants to assign outside its holdout`);
  }

  const totalWeight = variants.reduce((sum, variant) => sum + variant.weight, 0);
  const target = ((position - holdoutShare) / (1 - holdoutShare)) * totalWeight;
  let cumulative = 0;
  for (const variant of variants) {
    cumulative += variant.weight;
    if (target < cumulative) return { variantId: variant.id, holdout: false };
  }
  // Only reachable through floating-point rounding at the very top of the range.
  return { variantId: last.id, holdout: false };
}
