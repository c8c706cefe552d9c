import { useEffect } from 'preact/hooks';
import { money, num } from '../format';
import { emit, gateOpen, hide, options, placedNotices, prompts, state } from '../store';
import { flush, seen, track } from '../transport';
import type { Prompt } from '../types';
import { Box } from './Box';
import { GatePreview } from './Gate';
import { openUpgrade, upgradeChunk, withChunk } from './lazyUpgrade';

/** DESIGN.md: only the highest crossed threshold shows, with this intent (the worker always sends the title and labels). */
const INTENT: Record<number, string> = { 50: 'halfway', 75: 'approaching', 90: 'almost', 100: 'reached' };

/**
 * Limit notices and invite prompts, in polite (soft) and assertive (blocking) live
 * regions. The floating instance also holds `Ladder.gate()` previews and the upgrade dialog.
 */
export function Notices({ float }: { float?: boolean }) {
  const list = float && placedNotices.value ? [] : prompts.value.filter((p) => p.kind !== 'feature_gate');
  const gate = float && gateOpen.value;
  const chunk = float && upgradeChunk.value;
  // an admin with members' requests waiting gets them, from the on-demand chunk
  if (float && state.value?.upgrade_requests?.length) withChunk(() => 0);
  return (
    <Box float={float}>
      {gate && <GatePreview id={gate} onClose={() => (gateOpen.value = null)} />}
      <div aria-live="polite">{list.filter((p) => !p.blocking).map((p) => <Notice key={p.id} p={p} />)}</div>
      <div aria-live="assertive">{list.filter((p) => p.blocking).map((p) => <Notice key={p.id} p={p} />)}</div>
      {chunk && <chunk.Requests />}
      {chunk && <chunk.Upgrade />}
    </Box>
  );
}

function Notice({ p }: { p: Prompt }) {
  useEffect(() => seen(p), [p.id]);
  const { account, upgrade_options, meters } = state.value!;
  const intent = INTENT[p.threshold ?? 0];
  const next = upgrade_options[0];
  const nextLimit = p.metric && next?.limits?.[p.metric];
  const seats = account.seats;
  const addSeats = p.kind === 'invite' && (p.blocking || (seats.limit !== null && seats.used >= seats.limit));
  // copy may leave a label empty for "no such button"; at the seat limit the invite CTA buys seats
  const label = addSeats ? 'Add seats' : p.cta_label;
  const later = !p.blocking && p.secondary_label;
  const close = (type: 'dismiss' | 'snooze') => {
    track(type, p);
    hide(p.id);
  };
  const act = () => {
    track('click', p);
    if (addSeats) openUpgrade({ seats: (seats.limit ?? seats.used) + 1 });
    else if (p.kind === 'invite') invite(p);
    // a limit notice from 90% upgrades to the next plan; 75% and milestones open the plan comparison
    else openUpgrade(p.kind == 'limit_notice' && (p.threshold ?? 0) >= 90 && next ? { plan_id: next.plan_id } : {});
  };
  return (
    <section class="card" data-kind={p.kind} data-intent={intent} aria-labelledby={'t-' + p.id}>
      <h3 id={'t-' + p.id}>{p.title}</h3>
      {p.body && <p>{p.body}</p>}
      {p.threshold === 75 && next && (
        <p class="mu">
          {next.name}: {money(next.price_cents, next.currency)}/{next.interval ?? 'month'}
          {nextLimit ? ` · ${num(nextLimit)} ${meters.find((m) => m.metric === p.metric)?.name ?? ''}` : ''}
        </p>
      )}
      <div class="row">
        {label && (
          <button class="pri" onClick={act}>
            {label}
          </button>
        )}
        {later && <button onClick={() => close('snooze')}>{later}</button>}
      </div>
      <button class="x" aria-label="Dismiss" onClick={() => close('dismiss')}>
        ×
      </button>
    </section>
  );
}

/** Opens the host's invite flow: its `Ladder.on('invite')` listeners, else its invite URL. */
function invite(p: Prompt) {
  track('invite_sent', p);
  const url = options.value.inviteUrl;
  if (!emit('invite', { prompt_id: p.id }) && url) {
    flush();
    location.assign(url);
  }
}
