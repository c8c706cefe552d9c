import { day, num } from '../format';
import { state } from '../store';
import type { Meter as MeterData } from '../types';
import { Box } from './Box';

/** Usage meters: one metric, or every metric when `metric` is null. */
export function Meters({ metric }: { metric: string | null }) {
  const meters = state.value?.meters.filter((m) => !metric || m.metric === metric) ?? [];
  return <Box>{meters.map((m) => <Meter key={m.metric} m={m} />)}</Box>;
}

function Meter({ m }: { m: MeterData }) {
  const pct = Math.min(m.pct ?? 0, 100);
  const id = 'm-' + m.metric;
  return (
    <div class={(m.pct ?? 0) >= 100 ? 'm over' : 'm'}>
      <div>
        <b id={id}>{m.name}</b>{' '}
        {m.limit === null ? `${num(m.used)} · Unlimited` : `${num(m.used)} of ${num(m.limit)}`}
      </div>
      {m.limit !== null && (
        <div
          class="bar"
          role="progressbar"
          aria-labelledby={id}
          aria-valuemin={0}
          aria-valuemax={m.limit}
          aria-valuenow={Math.min(m.used, m.limit)}
          aria-valuetext={`${num(m.used)} of ${num(m.limit)} (${m.pct ?? 0}%)`}
        >
          <div class="fill" style={{ width: pct + '%' }} />
        </div>
      )}
      {m.period_end && (
        <div class="mu">
          {m.forecast?.limit_at && m.used < m.limit!
            ? `At this pace you'll reach your limit on ${day(m.forecast.limit_at)}`
            : m.projected_at_period_end != null
            ? `On pace for ${num(m.projected_at_period_end)} by ${day(m.period_end)}`
            : `Resets ${day(m.period_end)}`}
        </div>
      )}
    </div>
  );
}
