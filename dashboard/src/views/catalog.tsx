/**
 * The catalog, read-only: plans × metrics × features as the worker enforces them, and the
 * history of applied catalogs with what each changed. Changes go through `PUT /v1/catalog`
 * (try `?dry_run=true` first); the dashboard never writes the catalog.
 */
import { describeChange, type CatalogChange } from '../../../shared/catalogDiff';
import type { Catalog, Plan } from '../../../shared/schemas';
import { api } from '../api';
import { DataTable, Loaded, type Column } from '../components';
import { money, num, when } from '../format';
import { useRequest } from '../state';

type CatalogVersion = { version: number; created_at: string; changes: CatalogChange[] };

const limitText = (limit: number | null | undefined) => (limit === null ? 'Unlimited' : limit === undefined ? 'not set' : num(limit));
/** Unlimited sorts above every number; a limit not set (read as 0) below. */
const limitSortValue = (limit: number | null | undefined) => (limit === null ? Number.MAX_SAFE_INTEGER : limit ?? -1);

export function CatalogView() {
  const catalog = useRequest(() => api<Catalog>('/v1/admin/catalog'), []);
  const versions = useRequest(() => api<CatalogVersion[]>('/v1/admin/catalog/versions?limit=100'), []);
  return (
    <>
      <Loaded state={catalog}>
        {(c) => {
          const plans = [...c.plans].sort((a, b) => a.rank - b.rank);
          const hidden = plans.filter((p) => p.hidden).length;
          const columns: Column<Plan>[] = [
            { key: 'plan', label: 'Plan', value: (p) => p.name, render: (p) => <>{p.name} <span class="muted small">({p.id})</span></> },
            { key: 'rank', label: 'Rank', value: (p) => p.rank, numeric: true },
            { key: 'offered', label: 'Offered', value: (p) => (p.hidden ? 'Hidden' : 'Yes') },
            { key: 'price', label: 'Price', value: (p) => p.price_cents, numeric: true, render: (p) => `${money(p.price_cents, p.currency)}/${p.interval}` },
            { key: 'seat', label: 'Extra seat', value: (p) => p.seat_price_cents, numeric: true, render: (p) => (p.seat_price_cents ? money(p.seat_price_cents, p.currency) : '—') },
            ...c.metrics.map((m): Column<Plan> => ({
              key: `metric:${m.id}`,
              label: m.unit ? `${m.name} (${m.unit})` : m.name,
              value: (p) => limitSortValue(p.limits[m.id]),
              numeric: true,
              render: (p) => limitText(p.limits[m.id]),
            })),
            ...c.features.map((f): Column<Plan> => ({
              key: `feature:${f.id}`,
              label: f.name,
              value: (p) => (p.features.includes(f.id) ? 'Included' : '—'),
            })),
          ];
          return (
            <>
              <p class="summary" data-summary>
                {num(plans.length)} plans ({num(hidden)} hidden, never offered), {num(c.metrics.length)} metrics and {num(c.features.length)} features. Every plan lists a limit for every
                metric; “Unlimited” is written in the catalog, never implied.
              </p>
              <section class="card">
                <DataTable id="catalog-plans" caption="Plans × metrics × features" rows={plans} rowKey={(p) => p.id} columns={columns} empty="No catalog yet: PUT /v1/catalog." />
              </section>
            </>
          );
        }}
      </Loaded>
      <Loaded state={versions}>
        {(list) => (
          <section class="card">
            <DataTable
              id="catalog-history"
              caption="History of applied catalogs"
              rows={list}
              rowKey={(v) => String(v.version)}
              empty="No catalog applied since versions began."
              columns={[
                { key: 'version', label: 'Version', value: (v) => v.version, numeric: true },
                { key: 'at', label: 'Applied', value: (v) => v.created_at, render: (v) => when(v.created_at) },
                {
                  key: 'changes',
                  label: 'Changes',
                  value: (v) => v.changes.length,
                  render: (v) => (
                    <ul class="changes">
                      {v.changes.map((ch, i) => (
                        <li key={i}>{describeChange(ch)}</li>
                      ))}
                    </ul>
                  ),
                },
              ]}
            />
          </section>
        )}
      </Loaded>
    </>
  );
}
