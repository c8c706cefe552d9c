/**
 * Overview: self-serve upgrade rate over time, upgrades by prompt kind, expansion MRR, NRR and GRR, against a comparison period;
 * queued batches that could not be applied, while any exist.
 */
import { signal } from '@preact/signals';
import { api, qs } from '../api';
import { BarChart, DataTable, LineChart, Loaded, Stat } from '../components';
import { DAY, day, delta, money, num, pct } from '../format';
import { useRequest } from '../state';
import type { RevenueResponse, UpgradesResponse } from '../types';
import { DeadLetters } from './deadLetters';
import { apiRange, period, PeriodPicker } from './period';

type Compare = 'previous' | 'year' | 'none';
const interval = signal<'day' | 'week' | 'month'>('day');
const compare = signal<Compare>('previous');

/** The comparison period: the same length just before, or the same dates 52 weeks earlier. */
function comparisonRange(fromMs: number, toMs: number, c: Compare) {
  if (c === 'none') return null;
  const shift = c === 'previous' ? toMs - fromMs : 364 * DAY;
  return { from: new Date(fromMs - shift).toISOString(), to: new Date(toMs - shift).toISOString() };
}

const KIND_LABELS: Record<string, string> = {
  limit_notice: 'Limit notice',
  feature_gate: 'Feature gate',
  invite: 'Invite',
  milestone: 'Milestone',
  no_prompt: 'No prompt',
  other: 'Other',
};

export function OverviewView() {
  const r = apiRange(period.value);
  const cmp = comparisonRange(r.fromMs, r.toMs, compare.value);
  const iv = interval.value;
  const upgradesPath = `/v1/admin/analytics/upgrades${qs({ from: r.from, to: r.to, interval: iv })}`;
  const byKindPath = `/v1/admin/analytics/upgrades${qs({ from: r.from, to: r.to, interval: iv, by: 'kind' })}`;
  const revenuePath = `/v1/admin/analytics/revenue${qs({ from: r.from, to: r.to })}`;
  const data = useRequest(async () => {
    const [up, rev, upC, revC] = await Promise.all([
      api<UpgradesResponse>(upgradesPath),
      api<RevenueResponse>(revenuePath),
      cmp ? api<UpgradesResponse>(`/v1/admin/analytics/upgrades${qs({ ...cmp, interval: iv })}`) : null,
      cmp ? api<RevenueResponse>(`/v1/admin/analytics/revenue${qs(cmp)}`) : null,
    ]);
    return { up, rev, upC, revC };
  }, [upgradesPath, revenuePath, cmp?.from, cmp?.to]);

  return (
    <>
      <DeadLetters />
      <PeriodPicker>
        <label>
          Interval
          <select name="interval" value={iv} onChange={(e) => (interval.value = e.currentTarget.value as 'day' | 'week' | 'month')}>
            <option value="day">Day</option>
            <option value="week">Week</option>
            <option value="month">Month</option>
          </select>
        </label>
        <label>
          Compare with
          <select name="compare" value={compare.value} onChange={(e) => (compare.value = e.currentTarget.value as Compare)}>
            <option value="previous">Previous period</option>
            <option value="year">Same period, 52 weeks earlier</option>
            <option value="none">No comparison</option>
          </select>
        </label>
      </PeriodPicker>
      <Loaded state={data}>
        {({ up, rev, upC, revC }) => {
          const vs = (s: string | null) => (s && cmp ? `${s} vs ${day(cmp.from)} – ${day(new Date(Date.parse(cmp.to) - DAY).toISOString())}` : null);
          const x = up.series.map((b) => Date.parse(b.start) / 1000);
          const rated = up.by_kind.filter((k) => k.rate !== null);
          const series = [{ label: 'Self-serve upgrade rate', values: up.series.map((b) => b.rate), color: '--c1' }];
          if (upC) series.push({ label: 'Comparison period', values: up.series.map((_, i) => upC.series[i]?.rate ?? null), color: '--c2', dash: true } as never);
          return (
            <>
              <section class="stats" aria-label="Headline numbers">
                <Stat
                  testId="upgrade-rate"
                  label="Self-serve upgrade rate"
                  value={pct(up.total.rate)}
                  hint={`${num(up.total.upgraded_accounts)} of ${num(up.total.eligible_accounts)} accounts shown a prompt upgraded`}
                  compare={vs(delta(up.total.rate, upC?.total.rate))}
                />
                <Stat testId="expansion" label="Expansion MRR" value={money(rev.expansion_cents)} hint={`${money(rev.expansion_by_source.self_serve)} self-serve`} compare={vs(delta(rev.expansion_cents, revC?.expansion_cents, 'rel'))} />
                <Stat testId="nrr" label="Net revenue retention" value={pct(rev.nrr)} compare={vs(delta(rev.nrr, revC?.nrr))} />
                <Stat testId="grr" label="Gross revenue retention" value={pct(rev.grr)} compare={vs(delta(rev.grr, revC?.grr))} />
              </section>
              <section class="grid2">
                <div class="card">
                  <h2>Self-serve upgrade rate by {iv}</h2>
                  <LineChart
                    label={`Self-serve upgrade rate per ${iv}${upC ? ', with the comparison period dashed' : ''}`}
                    summary={`Overall ${pct(up.total.rate)} from ${day(up.from)} to ${day(up.to)}.`}
                    x={x}
                    series={series}
                    y={(v) => pct(v, 0)}
                    {...(iv === 'month' && { band: up.benchmark })}
                  />
                  <p class="muted small" data-testid="benchmark">
                    {iv === 'month'
                      ? `Shaded: the playbooks' healthy range, ${pct(up.benchmark.low, 0)}–${pct(up.benchmark.high, 0)} a month.`
                      : `The playbooks' healthy range is ${pct(up.benchmark.low, 0)}–${pct(up.benchmark.high, 0)} a month: choose Month to compare.`}
                  </p>
                </div>
                <div class="card">
                  <h2>Self-serve upgrade rate by prompt kind</h2>
                  <BarChart
                    label="Accounts that upgraded after a prompt of each kind ÷ accounts shown that kind"
                    summary={rated.map((k) => `${KIND_LABELS[k.kind] ?? k.kind}: ${pct(k.rate)}`).join(', ') || 'No prompts shown.'}
                    categories={rated.map((k) => KIND_LABELS[k.kind] ?? k.kind)}
                    values={rated.map((k) => k.rate ?? 0)}
                    y={(v) => pct(v, 0)}
                  />
                </div>
              </section>
              <section class="card">
                <DataTable
                  id="upgrade-series"
                  caption={`Upgrade rate per ${iv}`}
                  rowKey={(b) => b.start}
                  rows={up.series}
                  csv={{ path: upgradesPath, filename: `upgrades-${iv}.csv` }}
                  columns={[
                    { key: 'start', label: iv === 'day' ? 'Day' : iv === 'week' ? 'Week of' : 'Month', value: (b) => b.start, render: (b) => (iv === 'month' ? b.start.slice(0, 7) : day(b.start)) },
                    { key: 'eligible', label: 'Accounts shown a prompt', value: (b) => b.eligible_accounts, numeric: true },
                    { key: 'upgraded', label: 'Upgraded self-serve', value: (b) => b.upgraded_accounts, numeric: true },
                    { key: 'rate', label: 'Rate', value: (b) => b.rate, render: (b) => pct(b.rate), numeric: true },
                  ]}
                />
              </section>
              <section class="card">
                <DataTable
                  id="revenue"
                  caption="Revenue movements"
                  rowKey={(m) => m.key}
                  rows={revenueRows(rev, revC)}
                  csv={{ path: revenuePath, filename: 'revenue.csv' }}
                  columns={[
                    { key: 'label', label: 'Measure', value: (m) => m.label },
                    { key: 'now', label: `${day(rev.from)} – ${day(new Date(Date.parse(rev.to) - 1).toISOString())}`, value: (m) => m.now, render: (m) => m.fmt(m.now), numeric: true },
                    ...(revC ? [{ key: 'before', label: 'Comparison', value: (m: RevRow) => m.before, render: (m: RevRow) => m.fmt(m.before), numeric: true }] : []),
                  ]}
                />
              </section>
              <section class="card">
                <DataTable
                  id="by-kind"
                  caption="Self-serve upgrade rate by prompt kind"
                  rowKey={(k) => k.kind}
                  rows={up.by_kind}
                  csv={{ path: byKindPath, filename: 'upgrades-by-kind.csv' }}
                  columns={[
                    { key: 'kind', label: 'Prompt kind', value: (k) => KIND_LABELS[k.kind] ?? k.kind },
                    { key: 'shown', label: 'Accounts shown', value: (k) => k.accounts_shown, render: (k) => (k.accounts_shown === null ? '—' : num(k.accounts_shown)), numeric: true },
                    { key: 'upgraded', label: 'Upgraded after it', value: (k) => k.upgraded_accounts, numeric: true },
                    { key: 'rate', label: 'Rate', value: (k) => k.rate, render: (k) => pct(k.rate), numeric: true },
                    { key: 'upgrades', label: 'Upgrades', value: (k) => k.upgrades, numeric: true },
                    { key: 'mrr', label: 'Expansion MRR', value: (k) => k.expansion_mrr_cents, render: (k) => money(k.expansion_mrr_cents), numeric: true },
                  ]}
                />
                <p class="muted small">{up.by_kind_rule}</p>
              </section>
            </>
          );
        }}
      </Loaded>
    </>
  );
}

type RevRow = { key: string; label: string; now: number | null; before: number | null; fmt: (v: number | null) => string };

function revenueRows(now: RevenueResponse, before: RevenueResponse | null): RevRow[] {
  const m = (key: keyof RevenueResponse, label: string, fmt: (v: number | null) => string = money): RevRow => ({
    key,
    label,
    now: now[key] as number | null,
    before: before ? (before[key] as number | null) : null,
    fmt,
  });
  return [
    m('starting_mrr_cents', 'Starting MRR'),
    m('expansion_cents', 'Expansion'),
    m('contraction_cents', 'Contraction'),
    m('churn_cents', 'Churn'),
    m('new_cents', 'New'),
    m('reactivation_cents', 'Reactivation'),
    m('ending_mrr_cents', 'Ending MRR'),
    m('nrr', 'NRR', (v) => pct(v)),
    m('grr', 'GRR', (v) => pct(v)),
  ];
}
