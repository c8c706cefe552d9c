/**
 * Revenue metrics from the ledger of MRR changes: movements, NRR, GRR and the self-serve
 * upgrade rate. Pure: plain data in, plain data out, time passed in as epoch milliseconds.
 */

export type MrrKind = 'new' | 'expansion' | 'contraction' | 'churn' | 'reactivation';
export type MrrSource = 'self_serve' | 'sales' | 'webhook';

export type MrrChange = {
  account_id: string;
  at: number;
  kind: MrrKind;
  mrr_before_cents: number;
  mrr_after_cents: number;
  source: MrrSource;
  prompt_id?: string | null;
  variant_id?: string | null;
};

export type RevenueMetrics = {
  starting_mrr_cents: number;
  expansion_cents: number;
  contraction_cents: number;
  churn_cents: number;
  new_cents: number;
  reactivation_cents: number;
  ending_mrr_cents: number;
  nrr: number | null;
  grr: number | null;
  expansion_by_source: Record<MrrSource, number>;
};

/**
 * The kind of a change in an account's MRR, or `null` when it did not change. Starting
 * from 0 is `reactivation` for an account that had churned before, otherwise `new`.
 * @example classifyMrrChange(5000, 10000, false) // 'expansion'
 */
export function classifyMrrChange(before: number, after: number, wasChurned: boolean): MrrKind | null {
  requireCents('before', before);
  requireCents('after', after);
  if (before === after) return null;
  if (before === 0) return wasChurned ? 'reactivation' : 'new';
  if (after === 0) return 'churn';
  return after > before ? 'expansion' : 'contraction';
}

/**
 * MRR movements over the half-open period [from, to): a change at `from` is inside, one
 * at `to` is not. An account's MRR at a moment is the `mrr_after_cents` of its last change
 * before that moment.
 *
 * The starting cohort is every account with MRR just before `from`. Each cohort account's
 * movement is netted over the period: ending at 0 is churn of its starting MRR, ending
 * higher is expansion, ending lower is contraction (so an account that drops and
 * recovers within the period moves nothing, and NRR = cohort MRR at `to` ÷ at `from`).
 * Accounts outside the cohort add their MRR at `to` to `new_cents`, or to
 * `reactivation_cents` when they had MRR before (a change before `from`, or a change in
 * the period marked `reactivation`); they count toward neither NRR nor GRR.
 * `ending_mrr_cents` = start + expansion − contraction − churn + new + reactivation.
 *
 * `expansion_by_source` splits each account's net expansion across the sources of its
 * increases in the period, in proportion to their size, to the cent; it sums to
 * `expansion_cents`.
 *
 * An account with no change inside the period adds its MRR before `from` to the starting and
 * the ending MRR, and nothing else. So a caller may leave such accounts out of `changes` and
 * pass the sum of their MRR as `unchangedMrrCents` instead (the worker sums it in SQL): the
 * answer is the same.
 * @example
 * revenueMetrics(ledger, Date.UTC(2026, 10, 1), Date.UTC(2026, 11, 1))
 * // { starting_mrr_cents: 1000000, expansion_cents: 150000, contraction_cents: 30000,
 * //   churn_cents: 50000, nrr: 1.07, grr: 0.92, … }
 */
export function revenueMetrics(changes: readonly MrrChange[], from: number, to: number, unchangedMrrCents = 0): RevenueMetrics {
  if (!Number.isFinite(from) || !Number.isFinite(to) || from > to) {
    throw new RangeError('from and to must be finite epoch-millisecond times with from ≤ to');
  }
  requireCents('unchangedMrrCents', unchangedMrrCents);
  const byAccount = new Map<string, MrrChange[]>();
  for (const c of [...changes].sort((a, b) => a.at - b.at)) {
    const list = byAccount.get(c.account_id) ?? [];
    list.push(c);
    byAccount.set(c.account_id, list);
  }

  const m: RevenueMetrics = {
    starting_mrr_cents: 0,
    expansion_cents: 0,
    contraction_cents: 0,
    churn_cents: 0,
    new_cents: 0,
    reactivation_cents: 0,
    ending_mrr_cents: 0,
    nrr: null,
    grr: null,
    expansion_by_source: { self_serve: 0, sales: 0, webhook: 0 },
  };
  m.starting_mrr_cents = m.ending_mrr_cents = unchangedMrrCents;

  for (const history of byAccount.values()) {
    const before = history.filter((c) => c.at < from);
    const during = history.filter((c) => c.at >= from && c.at < to);
    const start = before.at(-1)?.mrr_after_cents ?? 0;
    const end = during.at(-1)?.mrr_after_cents ?? start;
    m.starting_mrr_cents += start;
    m.ending_mrr_cents += end;

    if (start > 0) {
      if (end === 0) m.churn_cents += start;
      else if (end < start) m.contraction_cents += start - end;
      else if (end > start) {
        m.expansion_cents += end - start;
        for (const [source, cents] of splitBySource(end - start, during)) m.expansion_by_source[source] += cents;
      }
    } else if (end > 0) {
      const returning = before.length > 0 || during.some((c) => c.kind === 'reactivation');
      if (returning) m.reactivation_cents += end;
      else m.new_cents += end;
    }
  }

  const start = m.starting_mrr_cents;
  if (start > 0) {
    m.nrr = (start + m.expansion_cents - m.contraction_cents - m.churn_cents) / start;
    m.grr = (start - m.contraction_cents - m.churn_cents) / start;
  }
  return m;
}

/**
 * Accounts that upgraded without sales ÷ accounts eligible (shown a prompt) in the same
 * period; `null` when none were eligible.
 * @example selfServeUpgradeRate(12, 400) // 0.03
 */
export function selfServeUpgradeRate(upgradedAccounts: number, eligibleAccounts: number): number | null {
  for (const [name, n] of [
    ['upgradedAccounts', upgradedAccounts],
    ['eligibleAccounts', eligibleAccounts],
  ] as const) {
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${name} must be a whole number ≥ 0`);
  }
  return eligibleAccounts === 0 ? null : upgradedAccounts / eligibleAccounts;
}

function requireCents(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${name} must be whole cents ≥ 0`);
}

/** Largest-remainder split of `total` across the sources of the increases in `changes`. */
function splitBySource(total: number, changes: readonly MrrChange[]): Map<MrrSource, number> {
  const weights = new Map<MrrSource, bigint>();
  for (const c of changes) {
    const up = c.mrr_after_cents - c.mrr_before_cents;
    if (up > 0) weights.set(c.source, (weights.get(c.source) ?? 0n) + BigInt(up));
  }
  const last = changes.at(-1);
  if (weights.size === 0) return new Map(last ? [[last.source, total]] : []);

  const sum = [...weights.values()].reduce((a, b) => a + b, 0n);
  const shares = [...weights].map(([source, w]) => {
    const exact = BigInt(total) * w;
    return { source, cents: exact / sum, remainder: exact % sum };
  });
  let left = BigInt(total) - shares.reduce((a, s) => a + s.cents, 0n);
  for (const s of [...shares].sort((a, b) => (b.remainder > a.remainder ? 1 : b.remainder < a.remainder ? -1 : 0))) {
    if (left === 0n) break;
    s.cents += 1n;
    left -= 1n;
  }
  return new Map(shares.map((s) => [s.source, Number(s.cents)]));
}
