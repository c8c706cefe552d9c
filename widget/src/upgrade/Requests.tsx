import { signal } from '@preact/signals';
import { state } from '../store';
import { loadState, request } from '../transport';
import type { UpgradeRequest } from '../types';
import { openUpgrade } from './Upgrade';

/** Requests declined here, gone at once before the state reloads; a failed decline's message. */
const declined = signal<string[]>([]);
const failure = signal('');

async function decline(r: UpgradeRequest) {
  try {
    await request(`/v1/widget/upgrade-requests/${r.id}/decline`, {});
    declined.value = [...declined.value, r.id];
    failure.value = '';
    loadState();
  } catch (e) {
    failure.value = (e as Error).message;
  }
}

/**
 * Members' open upgrade requests, for admins: Approve opens the upgrade dialog on the plan
 * or seats asked for (the upgrade approves the request); Decline closes it.
 */
export function Requests() {
  const s = state.value;
  if (s?.account.role !== 'admin') return null;
  const open = (s.upgrade_requests ?? []).filter((r) => !declined.value.includes(r.id));
  return (
    <>
      {open.map((r) => {
        const plan = r.plan_id && (s.upgrade_options.find((o) => o.plan_id === r.plan_id)?.name ?? r.plan_id);
        return (
          <section key={r.id} class="card" data-kind="upgrade_request" aria-labelledby={'q-' + r.id}>
            <h3 id={'q-' + r.id}>
              {r.user_name || r.user_id} asks for {plan || `${r.seats} seats`}
            </h3>
            {r.note && <p>{r.note}</p>}
            <div class="row">
              <button
                class="pri"
                onClick={(e) => openUpgrade(r.plan_id ? { plan_id: r.plan_id } : { seats: r.seats! }, e.currentTarget)}
              >
                Approve
              </button>
              <button onClick={() => decline(r)}>Decline</button>
            </div>
          </section>
        );
      })}
      {failure.value && <p role="alert">{failure.value}</p>}
    </>
  );
}
