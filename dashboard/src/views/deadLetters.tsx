/**
 * Queued batches Ladder could not apply (`LADDER_INGEST=queue`): shown on the overview while any
 * exist, so nothing a client was told was queued (202) disappears without a trace.
 */
import { api } from '../api';
import { DataTable } from '../components';
import { num } from '../format';
import { useRequest } from '../state';

type DeadLetter = {
  message_id: string;
  queue: string;
  kind: string;
  event_count: number;
  reason: string;
  attempts: number;
  queued_at: string;
  dead_lettered_at: string;
  body: unknown;
};
export type DeadLettersResponse = { ingest: 'direct' | 'queue'; total: number; dead_letters: DeadLetter[] };

const when = (iso: string) => iso.slice(0, 16).replace('T', ' ') + ' UTC';

/** Nothing while there are none (or the list cannot be read: the overview's own numbers still show). */
export function DeadLetters() {
  const data = useRequest(() => api<DeadLettersResponse>('/v1/admin/ingest/dead-letters'), []);
  const d = data.data;
  if (!d || d.total === 0) return null;
  const events = d.dead_letters.reduce((n, l) => n + l.event_count, 0);
  return (
    <section class="card" data-testid="dead-letters" aria-labelledby="dead-letters-title">
      <h2 id="dead-letters-title">Queued batches not applied</h2>
      <p role="status" data-testid="dead-letters-summary">
        {d.total === 1 ? '1 queued batch' : `${num(d.total)} queued batches`} could not be applied
        {d.total > d.dead_letters.length ? ` (the newest ${num(d.dead_letters.length)} listed, ${num(events)} events)` : ` (${num(events)} events)`}. Their usage
        and events are not counted; each is kept here with why. Fix the cause (an account or metric deleted since, a database outage) and send the
        events again: their idempotency keys make that safe.
      </p>
      <DataTable
        id="dead-letter-list"
        caption="Dead-lettered ingestion messages, newest first"
        rowKey={(l) => l.message_id}
        rows={d.dead_letters}
        columns={[
          { key: 'at', label: 'Dead-lettered', value: (l) => l.dead_lettered_at, render: (l) => when(l.dead_lettered_at) },
          { key: 'queued', label: 'Queued', value: (l) => l.queued_at, render: (l) => when(l.queued_at) },
          { key: 'kind', label: 'Kind', value: (l) => l.kind },
          { key: 'events', label: 'Events', value: (l) => l.event_count, numeric: true },
          { key: 'attempts', label: 'Attempts', value: (l) => l.attempts, numeric: true },
          { key: 'queue', label: 'Queue', value: (l) => l.queue },
          { key: 'reason', label: 'Why', value: (l) => l.reason },
        ]}
      />
    </section>
  );
}
