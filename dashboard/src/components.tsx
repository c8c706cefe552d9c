/** The dashboard's building blocks: sortable tables with CSV export, uPlot charts, stats, notices. */
import { useSignal } from '@preact/signals';
import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import { downloadCsv } from './api';
import { theme } from './state';

export interface Column<T> {
  key: string;
  label: string;
  /** The sort value (and the text, unless `render` is given). */
  value: (row: T) => string | number | null;
  render?: (row: T) => ComponentChildren;
  numeric?: boolean;
}

/**
 * A table sortable by every column (click or Enter/Space on a header), exportable as CSV
 * through the API's `text/csv` answer for the same query.
 */
export function DataTable<T>(props: {
  caption: string;
  columns: Column<T>[];
  rows: T[];
  rowKey: (row: T) => string;
  csv?: { path: string; filename: string };
  empty?: string;
  onRowSelect?: (row: T) => void;
  selected?: string | null;
  id?: string;
}) {
  const sort = useSignal<{ key: string; dir: 1 | -1 } | null>(null);
  const status = useSignal('');
  const s = sort.value;
  const col = s && props.columns.find((c) => c.key === s.key);
  const rows = col
    ? [...props.rows].sort((a, b) => {
        const x = col.value(a);
        const y = col.value(b);
        if (x === y) return 0;
        if (x === null) return 1;
        if (y === null) return -1;
        return (typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y))) * s!.dir;
      })
    : props.rows;
  const exportCsv = async () => {
    status.value = 'Preparing CSV…';
    try {
      await downloadCsv(props.csv!.path, props.csv!.filename);
      status.value = `Downloaded ${props.csv!.filename}.`;
    } catch (e) {
      status.value = (e as Error).message;
    }
  };
  return (
    <div class="table-block" id={props.id}>
      <div class="table-head">
        <h3>{props.caption}</h3>
        {props.csv && (
          <button type="button" class="secondary" onClick={exportCsv}>
            Export CSV
          </button>
        )}
        <span class="muted small" role="status">
          {status.value}
        </span>
      </div>
      <div class="scroll" tabIndex={0} role="region" aria-label={props.caption}>
        <table>
          <thead>
            <tr>
              {props.columns.map((c) => {
                const dir = s?.key === c.key ? s.dir : 0;
                return (
                  <th key={c.key} scope="col" class={c.numeric ? 'num' : ''} aria-sort={dir === 1 ? 'ascending' : dir === -1 ? 'descending' : 'none'}>
                    <button type="button" class="sort" onClick={() => (sort.value = { key: c.key, dir: dir === 1 ? -1 : 1 })}>
                      {c.label}
                      <span aria-hidden="true">{dir === 1 ? ' ▲' : dir === -1 ? ' ▼' : ''}</span>
                    </button>
                  </th>
                );
              })}
            </tr>
          </thead>
          <tbody>
            {rows.length === 0 && (
              <tr>
                <td colSpan={props.columns.length} class="muted">
                  {props.empty ?? 'No data for this selection.'}
                </td>
              </tr>
            )}
            {rows.map((r) => {
              const key = props.rowKey(r);
              return (
                <tr key={key} class={props.selected === key ? 'selected' : ''} data-key={key}>
                  {props.columns.map((c, i) => (
                    <td key={c.key} class={c.numeric ? 'num' : ''}>
                      {i === 0 && props.onRowSelect ? (
                        <button type="button" class="link" aria-pressed={props.selected === key} onClick={() => props.onRowSelect!(r)}>
                          {c.render ? c.render(r) : c.value(r)}
                        </button>
                      ) : c.render ? (
                        c.render(r)
                      ) : (
                        c.value(r)
                      )}
                    </td>
                  ))}
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </div>
  );
}

const cssVar = (name: string) => getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';

export interface Series {
  label: string;
  values: (number | null)[];
  /** A CSS custom property holding the colour, e.g. `--c1`. */
  color: string;
  dash?: boolean;
}

/** uPlot in a resizable box; re-created when the data or the theme changes. */
function UPlotBox({ label, make }: { label: string; make: (width: number) => { opts: Omit<uPlot.Options, 'width' | 'height'>; data: uPlot.AlignedData } }) {
  const ref = useRef<HTMLDivElement>(null);
  const t = theme.value;
  useEffect(() => {
    const el = ref.current!;
    let plot: uPlot | null = null;
    const draw = () => {
      const width = Math.max(280, el.clientWidth);
      const { opts, data } = make(width);
      plot?.destroy();
      plot = new uPlot({ ...opts, width, height: 240 } as uPlot.Options, data, el);
    };
    draw();
    let last = el.clientWidth;
    const ro = new ResizeObserver(() => {
      if (Math.abs(el.clientWidth - last) > 8) {
        last = el.clientWidth;
        plot?.setSize({ width: Math.max(280, el.clientWidth), height: 240 });
      }
    });
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot?.destroy();
    };
  }, [make, t]);
  return <div class="chart" ref={ref} role="img" aria-label={label} />;
}

const axis = (values?: uPlot.Axis['values']): uPlot.Axis => ({
  stroke: cssVar('--muted'),
  grid: { stroke: cssVar('--grid'), width: 1 },
  ticks: { stroke: cssVar('--grid'), width: 1 },
  ...(values && { values }),
});

/**
 * A time series line chart. `x` holds epoch seconds.
 * @example <LineChart label="…" x={[…]} series={[{ label: 'Rate', values: […], color: '--c1' }]} y={(v) => pct(v)} />
 */
export function LineChart(props: { label: string; x: number[]; series: Series[]; y: (v: number) => string; summary: string; band?: { low: number; high: number } }) {
  const band = props.band;
  const make = () => ({
    data: [props.x, ...props.series.map((s) => s.values)] as uPlot.AlignedData,
    opts: {
      scales: { x: { time: true }, y: { range: (_u: uPlot, _min: number, max: number) => [0, Math.max(max * 1.15, (band?.high ?? 0) * 1.15, 0.01)] as uPlot.Range.MinMax } },
      // A reference band (e.g. the playbooks' healthy 3–7%), shaded behind the lines.
      hooks: band
        ? {
            drawClear: [
              (u: uPlot) => {
                const top = u.valToPos(band.high, 'y', true);
                const bottom = u.valToPos(band.low, 'y', true);
                u.ctx.save();
                u.ctx.fillStyle = 'rgba(46, 160, 67, 0.14)';
                u.ctx.fillRect(u.bbox.left, top, u.bbox.width, bottom - top);
                u.ctx.restore();
              },
            ],
          }
        : {},
      axes: [axis(), { ...axis((_u, ticks) => ticks.map(props.y)), size: 64 }],
      series: [
        { value: (_u: uPlot, v: number | null) => (v === null ? '—' : new Date(v * 1000).toISOString().slice(0, 10)) },
        ...props.series.map((s) => ({
          label: s.label,
          stroke: cssVar(s.color),
          width: 2,
          dash: s.dash ? [6, 4] : undefined,
          points: { show: props.x.length < 40 },
          spanGaps: false,
          value: (_u: uPlot, v: number | null) => (v === null ? '—' : props.y(v)),
        })),
      ],
    },
  });
  return (
    <figure>
      <UPlotBox label={`${props.label}. ${props.summary}`} make={useStable(make, [props.x, props.series, band?.low, band?.high])} />
      <figcaption class="muted small">{props.label}</figcaption>
    </figure>
  );
}

/** A bar chart over named categories. */
export function BarChart(props: { label: string; categories: string[]; values: number[]; y: (v: number) => string; color?: string; summary: string }) {
  const make = () => ({
    data: [props.categories.map((_, i) => i), props.values] as uPlot.AlignedData,
    opts: {
      scales: { x: { time: false, range: [-0.6, props.categories.length - 0.4] as uPlot.Range.MinMax }, y: { range: (_u: uPlot, _min: number, max: number) => [0, Math.max(max * 1.15, 1)] as uPlot.Range.MinMax } },
      axes: [
        { ...axis((_u, ticks) => ticks.map((t) => (Number.isInteger(t) ? props.categories[t] ?? '' : ''))), splits: () => props.categories.map((_, i) => i) },
        { ...axis((_u, ticks) => ticks.map(props.y)), size: 64 },
      ],
      legend: { show: false },
      cursor: { show: false },
      series: [
        {},
        {
          label: props.label,
          stroke: cssVar(props.color ?? '--c1'),
          fill: cssVar(props.color ?? '--c1'),
          paths: uPlot.paths.bars!({ size: [0.6, 80] }),
          points: { show: false },
        },
      ],
    },
  });
  return (
    <figure>
      <UPlotBox label={`${props.label}. ${props.summary}`} make={useStable(make, [props.categories, props.values])} />
      <figcaption class="muted small">{props.label}</figcaption>
    </figure>
  );
}

/** The same function object while `deps` are the same, so charts redraw only on new data. */
function useStable<F>(fn: F, deps: unknown[]): F {
  const ref = useRef<{ fn: F; deps: unknown[] } | null>(null);
  if (!ref.current || ref.current.deps.length !== deps.length || ref.current.deps.some((d, i) => d !== deps[i])) ref.current = { fn, deps };
  return ref.current.fn;
}

/** A headline number with an optional comparison line. */
export function Stat(props: { label: string; value: string; compare?: string | null; testId?: string; hint?: string }) {
  return (
    <div class="stat" data-stat={props.testId}>
      <div class="muted small">{props.label}</div>
      <div class="stat-value" data-value>
        {props.value}
      </div>
      {props.compare && <div class="small">{props.compare}</div>}
      {props.hint && <div class="muted small">{props.hint}</div>}
    </div>
  );
}

/** Loading, error and content of one request. */
export function Loaded<T>({ state, children }: { state: { loading: boolean; error: string | null; data: T | null }; children: (data: T) => ComponentChildren }) {
  if (state.error)
    return (
      <p class="error" role="alert">
        {state.error}
      </p>
    );
  if (!state.data)
    return (
      <p class="muted" role="status">
        Loading…
      </p>
    );
  return <>{children(state.data)}</>;
}
