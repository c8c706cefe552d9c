/**
 * "Manage plan" (admins): the plan, the switch to yearly billing, a downgrade to a lower plan
 * or fewer seats at the period end and cancel with a save offer; a scheduled change shows with Undo. Part of the
 * on-demand upgrade chunk, so none of it is in the default bundle.
 */
import { signal } from '@preact/signals';
import { day, money } from '../format';
import { state, uid } from '../store';
import { loadState, request } from '../transport';
import type { UpgradeChoice } from '../types';

type View = 'home' | 'down' | 'seats' | 'cancel' | 'offer';
type Offer = { id: string; kind: string; title: string; message: string };
type Down = { plan_id: string } | { seats: number };

const REASONS: [string, string][] = [
  ['too_expensive', 'It costs too much'],
  ['not_using', 'We are not using it enough'],
  ['missing_feature', 'A feature we need is missing'],
  ['switching', 'We are switching to another product'],
  ['temporary', 'We only need it part of the year'],
  ['other', 'Something else'],
];

const view = signal<View>('home');
const busy = signal(false);
const message = signal('');
/** The downgrade previewed, sent as is to schedule it. */
const down = signal<Down | null>(null);
/** The lower plan (or seat count) picked, checked at once while its preview loads. */
const picked = signal('');
const reason = signal('');
const offer = signal<Offer | null>(null);
/** One idempotency key per intent: the same click retried never applies twice. */
let key = '';

/** Resets the view each time the dialog opens. */
export function resetManage() {
  view.value = 'home';
  busy.value = false;
  message.value = reason.value = picked.value = '';
  down.value = offer.value = null;
}

async function run(path: string, body?: object, method?: string) {
  busy.value = true;
  try {
    const r = await request<{ message?: string; status?: string; effective_at?: string }>(path, body, false, method);
    await loadState();
    return r;
  } catch (e) {
    message.value = (e as Error).message;
    return null;
  } finally {
    busy.value = false;
  }
}

async function previewDown(body: Down) {
  const id = JSON.stringify(body);
  picked.value = id;
  down.value = null;
  key = uid();
  busy.value = true;
  try {
    const p = await request<{ message: string }>('/v1/widget/downgrade/preview', body);
    if (picked.value !== id) return;
    down.value = body;
    message.value = p.message;
  } catch (e) {
    message.value = (e as Error).message;
  } finally {
    busy.value = false;
  }
}

async function scheduleDown() {
  const r = down.value && (await run('/v1/widget/downgrade', { ...down.value, idempotency_key: key }));
  if (r) (message.value = `Scheduled for ${day(r.effective_at!)}. You can undo it until then.`), (view.value = 'home');
}

async function askOffer() {
  key = uid();
  busy.value = true;
  try {
    offer.value = (await request<{ offer: Offer }>('/v1/widget/cancel/offer', { reason: reason.value })).offer;
    message.value = '';
    view.value = 'offer';
  } catch (e) {
    message.value = (e as Error).message;
  } finally {
    busy.value = false;
  }
}

async function accept() {
  const r = await run('/v1/widget/cancel/accept', { offer_id: offer.value!.id, idempotency_key: key });
  if (r) (message.value = r.message ?? ''), (view.value = 'home');
}

async function cancel() {
  const r = await run('/v1/widget/cancel', { reason: reason.value, idempotency_key: key });
  if (r) (message.value = `Your plan ends on ${day(r.effective_at!)}. You can undo this until then.`), (view.value = 'home');
}

async function undo() {
  if (await run('/v1/widget/scheduled-change', undefined, 'DELETE')) message.value = 'Undone: your plan stays as it is.';
}

/** The "Manage plan" view inside the upgrade dialog. */
export function Manage({ choose, shut }: { choose: (c: Partial<UpgradeChoice>) => void; shut: () => void }) {
  const s = state.value!;
  const plan = s.account.plan;
  const sc = s.scheduled_change;
  const v = view.value;
  const saving = plan.annual_saving_cents ?? 0;
  const lower = s.downgrade_options ?? [];
  const bought = s.seats_bought ?? 0;
  const dis = busy.value;
  const go = (to: View) => ((view.value = to), (message.value = picked.value = ''), (down.value = null));
  return (
    <>
      <p class="mu">
        Current plan: {plan.name} · {money(plan.price_cents, plan.currency)}/{plan.interval ?? 'month'}
      </p>
      {sc && (
        <p role="status">
          {sc.kind === 'cancel'
            ? `Your plan ends on ${day(sc.effective_at)}.`
            : sc.plan_id === plan.id
              ? `Your seats drop to ${sc.seats} on ${day(sc.effective_at)}.`
              : `Your plan changes to ${lower.find((o) => o.plan_id === sc.plan_id)?.name ?? sc.plan_id} on ${day(sc.effective_at)}.`}{' '}
          <button disabled={dis} onClick={undo}>
            Undo
          </button>
        </p>
      )}
      {v === 'home' && (
        <div class="row">
          {saving > 0 && plan.interval !== 'year' && (
            <button class="pri" onClick={() => choose({ interval: 'year' })}>
              Switch to yearly · Save {money(saving, plan.currency)} a year
            </button>
          )}
          {!sc && lower.length > 0 && <button onClick={() => go('down')}>Downgrade</button>}
          {!sc && bought > 0 && <button onClick={() => go('seats')}>Remove seats</button>}
          {!sc && <button onClick={() => go('cancel')}>Cancel plan</button>}
        </div>
      )}
      {v === 'down' && (
        <fieldset>
          <legend>Downgrade at the end of this billing period to</legend>
          {lower.map((o) => (
            <label class="p" key={o.plan_id}>
              <input type="radio" name="down" checked={picked.value === JSON.stringify({ plan_id: o.plan_id })} onChange={() => previewDown({ plan_id: o.plan_id })} />
              <span>
                <b>{o.name}</b> {money(o.price_cents, o.currency)}/{o.interval ?? 'month'}
              </span>
            </label>
          ))}
        </fieldset>
      )}
      {v === 'seats' && (
        <label>
          Seats bought from the end of this billing period (now {bought})
          <input
            type="number"
            min={0}
            max={bought - 1}
            onChange={(e) => {
              const n = Math.floor(+e.currentTarget.value);
              if (n >= 0 && n < bought) previewDown({ seats: n });
              else (down.value = null), (message.value = `Choose 0 to ${bought - 1} seats.`);
            }}
          />
        </label>
      )}
      {v === 'cancel' && (
        <fieldset>
          <legend>Why do you want to cancel?</legend>
          {REASONS.map(([id, text]) => (
            <label class="p" key={id}>
              <input type="radio" name="reason" checked={reason.value === id} onChange={() => (reason.value = id)} />
              <span>{text}</span>
            </label>
          ))}
        </fieldset>
      )}
      {v === 'offer' && offer.value && offer.value.kind !== 'none' && (
        <div>
          <h3>{offer.value.title}</h3>
          <p>{offer.value.message}</p>
        </div>
      )}
      {v === 'offer' && offer.value?.kind === 'none' && <p>{offer.value.message}</p>}
      <p class="msg" aria-live="polite">
        {dis ? 'Working…' : message.value}
      </p>
      <div class="row">
        {(v === 'down' || v === 'seats') && (
          <button class="pri" disabled={!down.value || dis} onClick={scheduleDown}>
            {v === 'seats' ? 'Schedule seat change' : 'Schedule downgrade'}
          </button>
        )}
        {v === 'cancel' && (
          <button class="pri" disabled={!reason.value || dis} onClick={askOffer}>
            Continue
          </button>
        )}
        {v === 'offer' && offer.value?.kind !== 'none' && (
          <button class="pri" disabled={dis} onClick={accept}>
            Accept offer
          </button>
        )}
        {v === 'offer' && (
          <button disabled={dis} onClick={cancel}>
            Cancel at the end of the period
          </button>
        )}
        {v !== 'home' && <button onClick={() => go('home')}>Back</button>}
        <button onClick={shut}>Close</button>
      </div>
    </>
  );
}
