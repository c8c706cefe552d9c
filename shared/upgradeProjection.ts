/**
 * Projected upgrades of a simulated rule: the observed upgrade and click rates per prompt
 * kind and threshold, each with its 95% Wilson interval, applied to how many accounts the
 * rule would have shown each group. Always a range: the low and high ends come from the
 * interval, the expected value from the observed rate. Pure: counts in, ranges out.
 *
 * Assumptions, said where the numbers are shown: an account shown a group converts at the
 * rate observed for that group (no cannibalisation between prompts); a group never shown
 * borrows the pooled rate of its kind, then of all prompts (`basis` says which); the total's
 * range is the sum of the groups' ends, so it covers at least 95%.
 */
import { parsePromptId } from './promptEngine';
import { wilsonInterval } from './statistics';

/** Stored outcomes of one prompt id over the window. */
export interface ObservedPrompt {
  prompt_id: string;
  impressions: number;
  clicks: number;
  /** Distinct accounts shown it. */
  accounts_shown: number;
  /** Self-serve upgrades attributed to it. */
  upgrades: number;
  expansion_mrr_cents: number;
}

/** A prompt id's group: its kind, and the threshold for a limit notice (`limit_notice:90`). */
export function promptGroup(promptId: string, kind?: string | null, threshold?: number | null): string {
  const parsed = parsePromptId(promptId);
  if (parsed?.kind === 'limit_notice') return `limit_notice:${parsed.threshold}`;
  if (parsed?.kind === 'invite') return parsed.blocking ? 'invite:blocked' : 'invite';
  if (parsed) return parsed.kind;
  if (kind === 'limit_notice' && threshold !== null && threshold !== undefined) return `limit_notice:${threshold}`;
  return kind ?? 'other';
}

const kindOf = (group: string) => group.split(':')[0] ?? group;

export interface Range {
  low: number;
  expected: number;
  high: number;
}

interface GroupRate {
  group: string;
  /** Where the rate comes from: the group itself, its kind pooled, every prompt pooled, or nothing observed. */
  basis: 'group' | 'kind' | 'all' | 'none';
  exposures: number;
  upgrades: number;
  rate: number | null;
  interval: [number, number];
  click_rate: number | null;
  click_interval: [number, number];
  mrr_per_upgrade_cents: number | null;
}

interface GroupProjection extends GroupRate {
  /** Accounts the simulated rule shows this group (summed over its prompts). */
  projected_exposures: number;
  projected_impressions: number;
  projected_upgrades: Range;
  projected_clicks: Range;
  projected_expansion_mrr_cents: Range | null;
}

export interface UpgradeProjection {
  upgrades: Range;
  clicks: Range;
  /** Null when no upgrade was ever observed, so the value of one is unknown. */
  expansion_mrr_cents: Range | null;
  groups: GroupProjection[];
}

type Pool = { exposures: number; upgrades: number; impressions: number; clicks: number; cents: number };
const empty = (): Pool => ({ exposures: 0, upgrades: 0, impressions: 0, clicks: 0, cents: 0 });

function pool(rows: readonly ObservedPrompt[], keyOf: (r: ObservedPrompt) => string): Map<string, Pool> {
  const out = new Map<string, Pool>();
  for (const r of rows) {
    const p = out.get(keyOf(r)) ?? empty();
    p.exposures += r.accounts_shown;
    p.upgrades += r.upgrades;
    p.impressions += r.impressions;
    p.clicks += r.clicks;
    p.cents += r.expansion_mrr_cents;
    out.set(keyOf(r), p);
  }
  return out;
}

/**
 * The observed rates of each group, falling back to its kind, then to all prompts, when the
 * group itself was never shown.
 * @example observedRate(rows, 'limit_notice:80') // { basis: 'kind', rate: 0.05, interval: [0.03, 0.08], … }
 */
function observedRate(observed: readonly ObservedPrompt[], group: string): GroupRate {
  const byGroup = pool(observed, (r) => promptGroup(r.prompt_id));
  const byKind = pool(observed, (r) => kindOf(promptGroup(r.prompt_id)));
  const all = pool(observed, () => 'all').get('all') ?? empty();
  const candidates: [GroupRate['basis'], Pool | undefined][] = [
    ['group', byGroup.get(group)],
    ['kind', byKind.get(kindOf(group))],
    ['all', all],
  ];
  const [basis, p] = candidates.find(([, p]) => p !== undefined && p.exposures > 0) ?? ['none', empty()];
  const upgrades = Math.min(p!.upgrades, p!.exposures);
  const clicks = Math.min(p!.clicks, p!.impressions);
  const mrrPool = [byGroup.get(group), byKind.get(kindOf(group)), all].find((q) => q !== undefined && q.upgrades > 0);
  return {
    group,
    basis,
    exposures: p!.exposures,
    upgrades,
    rate: p!.exposures > 0 ? upgrades / p!.exposures : null,
    interval: wilsonInterval(upgrades, p!.exposures),
    click_rate: p!.impressions > 0 ? clicks / p!.impressions : null,
    click_interval: wilsonInterval(clicks, p!.impressions),
    mrr_per_upgrade_cents: mrrPool ? Math.round(mrrPool.cents / mrrPool.upgrades) : null,
  };
}

const scale = (n: number, rate: number | null, [lo, hi]: [number, number]): Range => ({
  low: n * lo,
  expected: rate === null ? n * ((lo + hi) / 2) : n * rate,
  high: n * hi,
});
const add = (a: Range, b: Range): Range => ({ low: a.low + b.low, expected: a.expected + b.expected, high: a.high + b.high });
const round = (r: Range, digits = 1): Range => {
  const f = 10 ** digits;
  return { low: Math.round(r.low * f) / f, expected: Math.round(r.expected * f) / f, high: Math.round(r.high * f) / f };
};

/**
 * Projected upgrades, clicks and expansion MRR of a simulated rule's prompts, as ranges.
 * @example projectUpgrades(observed, simulate(history, proposed).prompts).upgrades // { low: 3.1, expected: 6.4, high: 11.8 }
 */
export function projectUpgrades(
  observed: readonly ObservedPrompt[],
  simulated: readonly { prompt_id: string; kind: string; threshold: number | null; impressions: number; accounts_shown: number }[],
): UpgradeProjection {
  const groups = new Map<string, { exposures: number; impressions: number }>();
  for (const p of simulated) {
    const g = promptGroup(p.prompt_id, p.kind, p.threshold);
    const e = groups.get(g) ?? { exposures: 0, impressions: 0 };
    e.exposures += p.accounts_shown;
    e.impressions += p.impressions;
    groups.set(g, e);
  }
  const zero: Range = { low: 0, expected: 0, high: 0 };
  let upgrades = zero;
  let clicks = zero;
  let mrr: Range | null = zero;
  const rows: GroupProjection[] = [];
  for (const [group, shown] of [...groups].sort(([a], [b]) => a.localeCompare(b))) {
    const rate = observedRate(observed, group);
    const projectedUpgrades = scale(shown.exposures, rate.rate, rate.interval);
    const projectedClicks = scale(shown.impressions, rate.click_rate, rate.click_interval);
    const cents = rate.mrr_per_upgrade_cents;
    const projectedMrr =
      cents === null ? null : { low: projectedUpgrades.low * cents, expected: projectedUpgrades.expected * cents, high: projectedUpgrades.high * cents };
    upgrades = add(upgrades, projectedUpgrades);
    clicks = add(clicks, projectedClicks);
    // A group with upgrades possible but no known value leaves the total's value unknown.
    mrr = mrr === null || (projectedMrr === null && projectedUpgrades.high > 0) ? null : add(mrr, projectedMrr ?? zero);
    rows.push({
      ...rate,
      projected_exposures: shown.exposures,
      projected_impressions: shown.impressions,
      projected_upgrades: round(projectedUpgrades),
      projected_clicks: round(projectedClicks),
      projected_expansion_mrr_cents: projectedMrr && round(projectedMrr, 0),
    });
  }
  return { upgrades: round(upgrades), clicks: round(clicks), expansion_mrr_cents: mrr && round(mrr, 0), groups: rows };
}
