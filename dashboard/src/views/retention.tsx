/**
 * Retention: what cancellations were saved and by which offer, the contraction and churn
 * that remained, and GRR week by week; the save offer configured per cancellation reason.
 */
import { api, qs } from '../api';
import { DataTable, LineChart, Loaded, Stat } from '../components';
import { DAY, money, num, pct } from '../format';
import { useRequest } from '../state';
import type { RevenueResponse } from '../types';
import { apiRange, period, PeriodPicker } from './period';
import type { SaveOfferConfig, SavesRow } from '../../../shared/retention';

type SavesResponse = { from: string; to: string; reasons: SavesRow[] };
type Revenue = RevenueResponse & { saved_mrr_cents: number };

const REASON: Record<string, string> = {
  too_expensive: 'Too expensive',
  not_using: 'Not using it',
  missing_feature: 'Missing a feature',
  switching: 'Switching product',
  temporary: 'Temporary need',
  other: 'Other',
};

/** Week starts from `from` to `to` (at most 26 weeks), each with its own GRR. */
const weeks = (fromMs: number, toMs: number) => {
  const out: [number, number][] = [];
  for (let t = fromMs; t < toMs && out.length < 26; t += 7 * DAY) out.push([t, Math.min(t + 7 * DAY, toMs)]);
  return out;
};

const offerText = (o: SaveOfferConfig) =>
  o.kind === 'discount' ? `${o.percent_off}% off for ${o.months} months` : o.kind === 'pause' ? `Pause for ${o.pause_months} months` : o.kind === 'downgrade' ? `Downgrade${o.plan_id ? ` to ${o.plan_id}` : ' one plan'}` : o.kind === 'annual' ? 'Yearly billing' : 'No offer';

export function RetentionView() {
  const r = apiRange(period.value);
  const savesPath = `/v1/admin/analytics/saves${qs({ from: r.from, to: r.to })}`;
  const data = useRequest(async () => {
    const [saves, revenue, offers, weekly] = await Promise.all([
      api<SavesResponse>(savesPath),
      api<Revenue>(`/v1/admin/analytics/revenue${qs({ from: r.from, to: r.to })}`),
      api<Record<string, SaveOfferConfig>>('/v1/admin/save-offers'),
      Promise.all(weeks(r.fromMs, r.toMs).map(([f, t]) => api<Revenue>(`/v1/admin/analytics/revenue${qs({ from: new Date(f).toISOString(), to: new Date(t).toISOString() })}`).then((m) => [f, m] as const))),
    ]);
    return { saves, revenue, offers, weekly };
  }, [savesPath]);
  return (
    <>
      <PeriodPicker />
      <Loaded state={data}>
        {({ saves, revenue, offers, weekly }) => {
          const total = saves.reasons.reduce((a, x) => ({ started: a.started + x.cancel_started, accepted: a.accepted + x.offers_accepted, canceled: a.canceled + x.canceled }), { started: 0, accepted: 0, canceled: 0 });
          return (
            <>
              <section class="stats" aria-label="Retention numbers">
                <Stat testId="saved-mrr" label="MRR saved by offers" value={money(revenue.saved_mrr_cents)} hint={`${num(total.accepted)} of ${num(total.started)} cancellations started were saved`} />
                <Stat testId="save-rate" label="Save rate" value={pct(total.started ? total.accepted / total.started : null)} />
                <Stat testId="contraction" label="Contraction" value={money(revenue.contraction_cents)} />
                <Stat testId="churn" label="Churn" value={money(revenue.churn_cents)} hint={`${num(total.canceled)} cancellations confirmed`} />
                <Stat testId="retention-grr" label="Gross revenue retention" value={pct(revenue.grr)} />
              </section>
              <section class="card">
                <h2>GRR week by week</h2>
                <LineChart
                  label="Gross revenue retention per week"
                  summary={weekly.map(([f, m]) => `${new Date(f).toISOString().slice(0, 10)}: ${pct(m.grr)}`).join(', ')}
                  x={weekly.map(([f]) => f / 1000)}
                  series={[{ label: 'GRR', values: weekly.map(([, m]) => m.grr), color: '--c1' }]}
                  y={(v) => pct(v, 0)}
                />
              </section>
              <section class="card">
                <DataTable
                  id="saves"
                  caption="Cancellations and saves per reason"
                  rows={saves.reasons}
                  rowKey={(x) => x.reason}
                  csv={{ path: savesPath, filename: 'saves.csv' }}
                  columns={[
                    { key: 'reason', label: 'Reason', value: (x) => REASON[x.reason] ?? x.reason },
                    { key: 'offer', label: 'Offer', value: (x) => (offers[x.reason] ? offerText(offers[x.reason]!) : '—') },
                    { key: 'started', label: 'Cancels started', value: (x) => x.cancel_started, render: (x) => num(x.cancel_started), numeric: true },
                    { key: 'shown', label: 'Offers shown', value: (x) => x.offers_shown, render: (x) => num(x.offers_shown), numeric: true },
                    { key: 'accepted', label: 'Accepted', value: (x) => x.offers_accepted, render: (x) => num(x.offers_accepted), numeric: true },
                    { key: 'canceled', label: 'Canceled', value: (x) => x.canceled, render: (x) => num(x.canceled), numeric: true },
                    { key: 'rate', label: 'Save rate', value: (x) => x.save_rate ?? -1, render: (x) => pct(x.save_rate), numeric: true },
                    { key: 'mrr', label: 'MRR saved', value: (x) => x.saved_mrr_cents, render: (x) => money(x.saved_mrr_cents), numeric: true },
                  ]}
                />
                <p class="muted small">Save offers are set per reason with PUT /v1/admin/save-offers; an account sees at most one offer per 90 days.</p>
              </section>
            </>
          );
        }}
      </Loaded>
    </>
  );
}
