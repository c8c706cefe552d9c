import { signal } from '@preact/signals';
import { useEffect, useRef } from 'preact/hooks';
import { money, num } from '../format';
import { addCss } from '../style';
import { emit, role, state, uid, upgrade } from '../store';
import { loadState, request } from '../transport';
import type { Preview, UpgradeChoice, UpgradeResult } from '../types';
import { Manage, resetManage } from './ManagePlan';

addCss(`dialog{width:min(460px,calc(100vw - 32px));padding:20px;background:var(--bg);color:var(--fg);border:1px solid var(--border);border-radius:var(--rd)}
dialog::backdrop{background:#0007}h2{font-size:1.15em}fieldset{border:0;padding:0;margin:8px 0}legend{font-weight:600}
label.p{display:flex;gap:8px;padding:8px;border:1px solid var(--border);border-radius:var(--rd);margin:4px 0}
input[type=number],textarea{display:block;width:100%;margin-top:4px;padding:6px;background:var(--bg);border:1px solid var(--border);border-radius:4px}
.msg{min-height:1.4em}`);

type Phase = 'pick' | 'busy' | 'ready' | 'paying' | 'done' | 'failed' | 'sent';

const phase = signal<Phase>('pick');
const preview = signal<Preview | null>(null);
const outcome = signal<{ message: string; billing?: string; retry?: () => void } | null>(null);
const note = signal('');
/** One idempotency key per confirm intent (this choice at this proration date). */
let key = '';
let opener: HTMLElement | null = null;

/**
 * Opens the upgrade dialog (an admin buys; a member asks an admin), priced at once
 * when a plan or seat count is already chosen.
 * @example openUpgrade({ plan_id: 'business' }, button)
 */
export function openUpgrade(choice: Partial<UpgradeChoice>, from: HTMLElement | null) {
  opener = from;
  phase.value = 'pick';
  preview.value = outcome.value = null;
  note.value = '';
  resetManage();
  choose(choice);
}

function choose(choice: Partial<UpgradeChoice>) {
  upgrade.value = choice;
  preview.value = null;
  if (role.value === 'admin' && (choice.plan_id || choice.seats || choice.interval)) quote();
  else phase.value = 'pick';
}

function fail(e: { message: string; billing?: string }, retry: () => void) {
  outcome.value = { message: e.message, billing: e.billing, retry };
  phase.value = 'failed';
}

async function quote() {
  const c = upgrade.value!;
  phase.value = 'busy';
  try {
    const p = await request<Preview>('/v1/widget/upgrade/preview', c);
    if (upgrade.value !== c) return;
    key = uid();
    preview.value = p;
    phase.value = 'ready';
  } catch (e) {
    if (upgrade.value === c) fail(e as Error, quote);
  }
}

async function confirm() {
  const p = preview.value;
  if (phase.value !== 'ready' || !p || p.route) return; // routed to sales: nothing to charge
  phase.value = 'paying';
  try {
    const r = await request<UpgradeResult>('/v1/widget/upgrade', {
      ...upgrade.value,
      proration_date: p.proration_date,
      idempotency_key: key,
    });
    // declined: a new attempt is a new intent, so it gets a new preview and key
    if (r.status !== 'succeeded') return fail(r, quote);
    outcome.value = r;
    phase.value = 'done';
    emit('upgrade', r);
    loadState();
  } catch (e) {
    // outcome unknown: retry with the same key, so it can never charge twice
    fail(e as Error, () => {
      phase.value = 'ready';
      confirm();
    });
  }
}

async function ask() {
  if (phase.value === 'paying') return;
  phase.value = 'paying';
  try {
    const { plan_id, seats } = upgrade.value!;
    // an admin's "Talk to us" (an upgrade routed to sales) is recorded and sent as an upgrade request
    const n = note.value.trim() || (preview.value?.route ? 'Talk to us' : undefined);
    await request('/v1/widget/upgrade-requests', { plan_id, seats, note: n });
    phase.value = 'sent';
  } catch (e) {
    fail(e as Error, ask);
  }
}

function close() {
  upgrade.value = null;
  opener?.focus();
}

/** Keeps Tab and Shift+Tab inside the dialog. */
function trap(e: KeyboardEvent) {
  if (e.key !== 'Tab') return;
  const d = e.currentTarget as HTMLElement;
  const all = [...d.querySelectorAll<HTMLButtonElement>('button,input,textarea')].filter((x) => !x.disabled);
  const active = (d.getRootNode() as ShadowRoot).activeElement;
  const [first, last] = [all[0], all[all.length - 1]];
  if (active === (e.shiftKey ? first : last) || !d.contains(active)) {
    e.preventDefault();
    (e.shiftKey ? last : first)?.focus();
  }
}

/** The upgrade dialog, or nothing. */
export function Upgrade() {
  const choice = upgrade.value;
  return choice && state.value ? <Dialog choice={choice} /> : null;
}

function Dialog({ choice }: { choice: Partial<UpgradeChoice> }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => ref.current?.showModal(), []);
  const { account, upgrade_options, meters, features } = state.value!;
  const per = (interval?: string) => '/' + (interval ?? 'month');
  // what each plan includes, in the account's own meters: "50,000 API calls · 20 Seats"
  const includes = (limits: Record<string, number | null> = {}) =>
    meters
      .filter((m) => m.metric in limits)
      .map((m) => `${limits[m.metric] === null ? 'Unlimited' : num(limits[m.metric]!)} ${m.name}`)
      .join(' · ');
  // what each plan adds to the current one: the features it has that the current plan lacks
  const adds = (ids: string[] = []) =>
    ids
      .filter((id) => features[id]?.required_plan)
      .map((id) => features[id]!.name ?? id)
      .join(', ');
  const admin = role.value === 'admin';
  const ph = phase.value;
  const pv = preview.value;
  const out = outcome.value;
  const min = (account.seats.limit ?? account.seats.used) + 1;
  const shut = () => ref.current?.close();
  const billing = out?.billing ?? (pv?.route ? undefined : pv?.billing);
  const yearly = choice.interval === 'year';
  const saving = account.plan.annual_saving_cents ?? 0;
  // routed to sales: no charge here, the admin asks our team instead
  const talk = admin && pv?.route == 'sales';
  const title = !admin ? 'Ask your admin' : choice.manage ? 'Manage plan' : yearly ? 'Switch to yearly billing' : choice.seats ? 'Add seats' : 'Upgrade your plan';
  return (
    <dialog ref={ref} aria-labelledby="u-t" onClose={() => upgrade.value === choice && close()} onKeyDown={trap}>
      <h2 id="u-t">{title}</h2>
      {admin && choice.manage ? (
        <Manage choose={choose} shut={shut} />
      ) : ph === 'done' || ph === 'sent' ? (
        <>
          <p role="status">{ph === 'sent' ? (talk ? 'Thanks, our team will be in touch.' : 'Request sent. Your admins will be in touch.') : out?.message}</p>
          <div class="row">
            <button class="pri" ref={(b) => b?.focus()} onClick={shut}>
              Done
            </button>
          </div>
        </>
      ) : (
        <>
          {!admin && <p>Only an admin can change the plan or seats. Ask yours:</p>}
          <p class="mu">
            Current plan: {account.plan.name} · {money(account.plan.price_cents, account.plan.currency)}
            {per(account.plan.interval)}
          </p>
          {yearly && !choice.plan_id ? (
            <p>
              <b>{account.plan.name}, billed yearly</b>
              {saving > 0 && ` · Save ${money(saving, account.plan.currency)} a year`}
            </p>
          ) : choice.seats ? (
            <label>
              Seats
              <input
                type="number"
                min={min}
                value={choice.seats}
                onChange={(e) => choose({ seats: Math.max(min, Math.floor(+e.currentTarget.value)) })}
              />
            </label>
          ) : (
            <fieldset>
              <legend>Choose a plan</legend>
              {admin && saving > 0 && account.plan.interval !== 'year' && (
                <label class="p">
                  <input type="radio" name="plan" checked={false} onChange={() => choose({ interval: 'year' })} />
                  <span>
                    <b>{account.plan.name}, billed yearly</b> Save {money(saving, account.plan.currency)} a year
                  </span>
                </label>
              )}
              {upgrade_options.map((o) => (
                <label class="p" key={o.plan_id}>
                  <input
                    type="radio"
                    name="plan"
                    checked={choice.plan_id === o.plan_id}
                    onChange={() => choose({ plan_id: o.plan_id })}
                  />
                  <span>
                    <b>{o.name}</b> {money(o.price_cents, o.currency)}
                    {per(o.interval)}
                    {o.limits && <span class="mu"> · {includes(o.limits)}</span>}
                    {adds(o.features) && <span class="mu"> · Adds {adds(o.features)}</span>}
                  </span>
                </label>
              ))}
            </fieldset>
          )}
          {admin ? (
            <p class="msg" aria-live="polite">
              {ph === 'busy' ? 'Calculating…' : ph === 'failed' ? out?.message : pv?.message}
            </p>
          ) : (
            <label>
              Note (optional)
              <textarea value={note.value} onInput={(e) => (note.value = e.currentTarget.value)} />
            </label>
          )}
          {!admin && ph === 'failed' && <p role="alert">{out?.message}</p>}
          {billing === 'local' && <p class="mu">Demo billing — no real charge</p>}
          <div class="row">
            {ph === 'failed' && <button onClick={out?.retry}>Try again</button>}
            {talk ? (
              <button class="pri" onClick={ask}>
                Talk to us
              </button>
            ) : admin ? (
              <button class="pri" disabled={!pv || ph === 'busy'} aria-disabled={ph !== 'ready'} onClick={confirm}>
                {ph === 'paying' ? 'Upgrading…' : yearly ? 'Switch to yearly' : 'Confirm upgrade'}
              </button>
            ) : (
              <button class="pri" disabled={!choice.plan_id && !choice.seats} onClick={ask}>
                Send request
              </button>
            )}
            <button onClick={shut}>Cancel</button>
          </div>
        </>
      )}
    </dialog>
  );
}
