/**
 * The straightforward replay of the rule simulator, kept as the specification the fast one
 * (`simulate` in shared/simulator.ts) is tested against: at every moment it rebuilds the
 * engine's whole input from the user's replayed history — the window the worker would load,
 * its gate hits, every cap's events — and asks `eligiblePrompts` up to three times, as the
 * worker does once. `simulate` must give exactly the same result (simulator.test.ts, on
 * generated history); it carries each user's cap history forward instead. Pure.
 */
import { eligiblePrompts, type PromptHistoryEvent, type RenderedPrompt } from './promptEngine';
import { metricLimit } from './entitlements';
import { engineInputFor, HISTORY_DAYS, HISTORY_LIMIT } from './promptInput';
import type { PromptDefinition } from './prompts';
import {
  activatedAt,
  baseInput,
  DAY,
  seatsAt,
  thresholdCrossings,
  UsageBook,
  type DayTotals,
  type DefinitionCounts,
  type PromptCounts,
  type SimulationHistory,
  type SimulationResult,
  type SimulationRules,
} from './simulator';

const dayOf = (t: number) => Math.floor(t / DAY) * DAY;

/** Counters keyed by a string, each counting distinct members (accounts, users, sessions). */
class Tally {
  private sets = new Map<string, Set<string>>();
  add(key: string, member: string) {
    const s = this.sets.get(key);
    if (s) s.add(member);
    else this.sets.set(key, new Set([member]));
  }
  count(key: string): number {
    return this.sets.get(key)?.size ?? 0;
  }
}

type PromptMeta = Pick<PromptCounts, 'prompt_id' | 'definition_id' | 'kind' | 'metric' | 'threshold' | 'feature_id'>;

const NO_BUDGET = { max_soft_per_session: Number.POSITIVE_INFINITY, max_feature_per_session: Number.POSITIVE_INFINITY };

/**
 * Replay the history under the rules: what they would have shown, held back and suppressed,
 * per prompt and per day, and which accounts crossed each limit threshold. A session is one
 * account's user's `session_id`.
 * @example simulateByReplay(history, { definitions: defaultPrompts, activation: { events: ['core_feature_activated'], min_events: 1, min_age_days: 0 } }).totals.impressions // 412
 */
export function simulateByReplay(history: SimulationHistory, rules: SimulationRules): SimulationResult {
  const { from, to, catalog } = history;
  const byRank = [...catalog.plans].sort((a, b) => a.rank - b.rank);
  // The replay counts prompts and never reads their copy: plain copy skips formatting numbers.
  const plainCopy = Object.fromEntries(rules.definitions.map((d) => [d.id, { title: d.id, body: d.id, cta_label: '', secondary_label: '' }]));
  const meta = new Map<string, PromptMeta>();
  const impressions = new Map<string, number>();
  const shownAccounts = new Tally(); // `${prompt}|${day}` and `${prompt}` → accounts
  const shownUsers = new Tally(); // the same → users
  const held = new Tally(); // `${prompt}|${day}` → sessions
  const suppressed = new Tally();
  const sessions = new Tally(); // `${day}` → sessions; 'cap|day' → sessions at cap
  const dayAccounts = new Tally(); // `${day}` and 'all' → accounts shown anything
  const dayUsers = new Tally();
  let users = 0;
  let accounts = 0;

  const note = (p: RenderedPrompt) => {
    if (meta.has(p.id)) return;
    meta.set(p.id, {
      prompt_id: p.id,
      definition_id: p.definition_id,
      kind: p.kind,
      metric: p.metric ?? null,
      threshold: p.threshold ?? null,
      feature_id: p.feature_id ?? null,
    });
  };

  for (const account of history.accounts) {
    const plan = catalog.plans.find((p) => p.id === account.plan_id);
    if (!plan) continue;
    accounts += 1;
    const book = new UsageBook(account.usage, catalog, account);
    const activeFrom = activatedAt(rules.activation, account);
    const base = baseInput(catalog, byRank, plan);
    const byUser = new Map<string, PromptHistoryEvent[]>();
    for (const e of account.events) {
      const list = byUser.get(e.user_id);
      if (list) list.push(e);
      else byUser.set(e.user_id, [e]);
    }

    for (const [userId, stored] of byUser) {
      stored.sort((a, b) => a.timestamp - b.timestamp);
      if (stored.some((e) => e.timestamp >= from && e.timestamp < to)) users += 1;
      // What the caps see, oldest first: stored events before the window as they happened, then
      // the user's own gate hits and the replay's impressions and reactions.
      const replayed: PromptHistoryEvent[] = [];
      let oldest = 0; // the first replayed event within HISTORY_DAYS of the moment
      const lifetime: Record<string, number> = { ...account.lifetime_before?.[userId] };
      const record = (h: PromptHistoryEvent) => {
        replayed.push(h);
        if (h.type === 'impression' && h.prompt_id) lifetime[h.prompt_id] = (lifetime[h.prompt_id] ?? 0) + 1;
      };
      const shownIn = new Set<string>(); // `${session}|${prompt}`
      // Reactions stored before the replay showed their prompt in that session: they happen when it does.
      const pending = new Map<string, PromptHistoryEvent[]>();
      const countedIn = new Set<string>(); // `${kind}|${session}|${prompt}`: each hold-back once per session
      const seenSessions = new Set<string>();
      let evaluatedAt = '';

      for (const e of stored) {
        if (e.timestamp < from) {
          // Before the window the history is what happened.
          record(e);
          continue;
        }
        if (e.timestamp >= to) break;
        const day = dayOf(e.timestamp);
        const firstInSession = !seenSessions.has(e.session_id);
        if (firstInSession) {
          seenSessions.add(e.session_id);
          sessions.add(String(day), `${account.id}|${userId}|${e.session_id}`);
        }
        if (e.type === 'gate_hit') record(e);
        if (e.type === 'click' || e.type === 'dismiss' || e.type === 'snooze' || e.type === 'invite_sent') {
          const key = `${e.session_id}|${e.prompt_id}`;
          if (shownIn.has(key)) record(e);
          else pending.set(key, [...(pending.get(key) ?? []), e]);
          continue;
        }
        const moment = `${e.session_id}|${e.timestamp}`;
        if (!(firstInSession || e.type === 'impression' || e.type === 'gate_hit') || moment === evaluatedAt) continue;
        evaluatedAt = moment;

        // The events the worker would load now (historyWindow, on a list already in time order).
        const since = e.timestamp - HISTORY_DAYS * DAY;
        while (oldest < replayed.length && replayed[oldest]!.timestamp < since) oldest += 1;
        const seen = replayed.slice(Math.max(oldest, replayed.length - HISTORY_LIMIT));
        const input = engineInputFor({
          ...base,
          now: e.timestamp,
          session_id: e.session_id,
          user_id: userId,
          locale: 'en-US',
          activated: activeFrom !== null && activeFrom <= e.timestamp,
          definitions: rules.definitions,
          copy_overrides: plainCopy,
          meters: catalog.metrics.map((m) => ({
            metric: m.id,
            name: m.name,
            used: book.used(m.id, e.timestamp),
            limit: metricLimit(plan, m.id, account),
            cap_period_start: book.capPeriodStartAt(m, e.timestamp),
          })),
          seats: seatsAt(book, plan, account, e.timestamp, catalog),
          history: seen,
          lifetime,
        });
        const budgeted = eligiblePrompts(input);
        const result = budgeted.prompts;
        // Nothing can be held back while soft budget is left and no feature prompt competes for its own.
        const maybeCapped = budgeted.session_prompts_left === 0 || input.gate_hits_this_session.length > 0;
        const unbudgeted = maybeCapped ? eligiblePrompts({ ...input, global: NO_BUDGET }).prompts : result;
        const dismissed = seen.some((h) => h.type === 'dismiss');
        const undismissed = dismissed
          ? eligiblePrompts({ ...input, global: NO_BUDGET, history: input.history.filter((h) => h.type !== 'dismiss') }).prompts
          : unbudgeted;

        const ids = new Set(result.map((p) => p.id));
        const unbudgetedIds = new Set(unbudgeted.map((p) => p.id));
        let capped = false;
        for (const p of unbudgeted) {
          if (ids.has(p.id)) continue;
          capped = true;
          note(p);
          const once = `cap|${e.session_id}|${p.id}`;
          if (!countedIn.has(once)) {
            countedIn.add(once);
            held.add(`${p.id}|${day}`, `${account.id}|${userId}|${e.session_id}`);
          }
        }
        if (capped) sessions.add(`cap|${day}`, `${account.id}|${userId}|${e.session_id}`);
        for (const p of undismissed) {
          if (unbudgetedIds.has(p.id)) continue;
          note(p);
          const once = `dismiss|${e.session_id}|${p.id}`;
          if (!countedIn.has(once)) {
            countedIn.add(once);
            suppressed.add(`${p.id}|${day}`, `${account.id}|${userId}|${e.session_id}`);
          }
        }
        for (const p of result) {
          const key = `${e.session_id}|${p.id}`;
          if (shownIn.has(key)) continue;
          shownIn.add(key);
          note(p);
          record({ prompt_id: p.id, type: 'impression', session_id: e.session_id, user_id: userId, timestamp: e.timestamp });
          for (const r of pending.get(key) ?? []) record({ ...r, timestamp: e.timestamp });
          pending.delete(key);
          impressions.set(`${p.id}|${day}`, (impressions.get(`${p.id}|${day}`) ?? 0) + 1);
          for (const k of [`${p.id}|${day}`, p.id, `definition|${p.definition_id}`]) {
            shownAccounts.add(k, account.id);
            shownUsers.add(k, `${account.id}|${userId}`);
          }
          for (const k of [String(day), 'all']) {
            dayAccounts.add(k, account.id);
            dayUsers.add(k, `${account.id}|${userId}`);
          }
        }
      }
    }
  }

  const allDays: number[] = [];
  for (let d = from; d < to; d += DAY) allDays.push(d);

  const promptDays: SimulationResult['prompt_days'] = [];
  const totalsByPrompt = new Map<string, PromptCounts>();
  for (const [id, m] of [...meta].sort(([a], [b]) => a.localeCompare(b))) {
    const total: PromptCounts = { ...m, impressions: 0, accounts_shown: 0, users_shown: 0, held_by_session_cap: 0, suppressed_by_dismissals: 0 };
    for (const day of allDays) {
      const k = `${id}|${day}`;
      const row = {
        day,
        ...m,
        impressions: impressions.get(k) ?? 0,
        accounts_shown: shownAccounts.count(k),
        users_shown: shownUsers.count(k),
        held_by_session_cap: held.count(k),
        suppressed_by_dismissals: suppressed.count(k),
      };
      total.impressions += row.impressions;
      total.held_by_session_cap += row.held_by_session_cap;
      total.suppressed_by_dismissals += row.suppressed_by_dismissals;
      if (row.impressions + row.held_by_session_cap + row.suppressed_by_dismissals > 0) promptDays.push(row);
    }
    total.accounts_shown = shownAccounts.count(id);
    total.users_shown = shownUsers.count(id);
    totalsByPrompt.set(id, total);
  }
  promptDays.sort((a, b) => a.day - b.day || a.prompt_id.localeCompare(b.prompt_id));

  const days: DayTotals[] = allDays.map((day) => {
    const rows = promptDays.filter((r) => r.day === day);
    return {
      day,
      sessions: sessions.count(String(day)),
      sessions_at_cap: sessions.count(`cap|${day}`),
      impressions: rows.reduce((s, r) => s + r.impressions, 0),
      accounts_shown: dayAccounts.count(String(day)),
      users_shown: dayUsers.count(String(day)),
      suppressed_by_dismissals: rows.reduce((s, r) => s + r.suppressed_by_dismissals, 0),
    };
  });

  return {
    from,
    to,
    accounts,
    users,
    totals: {
      sessions: days.reduce((s, d) => s + d.sessions, 0),
      sessions_at_cap: days.reduce((s, d) => s + d.sessions_at_cap, 0),
      impressions: days.reduce((s, d) => s + d.impressions, 0),
      accounts_shown: dayAccounts.count('all'),
      users_shown: dayUsers.count('all'),
      suppressed_by_dismissals: days.reduce((s, d) => s + d.suppressed_by_dismissals, 0),
    },
    definitions: definitionCounts(rules.definitions, [...totalsByPrompt.values()], shownAccounts, shownUsers),
    prompts: [...totalsByPrompt.values()].sort((a, b) => b.impressions - a.impressions || a.prompt_id.localeCompare(b.prompt_id)),
    days,
    prompt_days: promptDays,
    thresholds: thresholdCrossings(history, rules),
  };
}

function definitionCounts(definitions: readonly PromptDefinition[], prompts: readonly PromptCounts[], accounts: Tally, users: Tally): DefinitionCounts[] {
  return definitions
    .map((d) => ({
      definition_id: d.id,
      kind: d.kind,
      impressions: prompts.filter((p) => p.definition_id === d.id).reduce((s, p) => s + p.impressions, 0),
      accounts_shown: accounts.count(`definition|${d.id}`),
      users_shown: users.count(`definition|${d.id}`),
    }))
    .sort((a, b) => b.impressions - a.impressions || a.definition_id.localeCompare(b.definition_id));
}
