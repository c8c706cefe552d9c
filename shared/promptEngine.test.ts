import { describe, expect, it } from 'vitest';
import {
  eligiblePrompts,
  mirrorSessionCaps,
  parsePromptId,
  promptIdFor,
  type MeterInput,
  type PromptEngineInput,
  type PromptEventType,
  type PromptHistoryEvent,
  type PromptInstance,
} from './promptEngine';
import { defaultPrompts, promptDefinitionSchema, promptInputSchema, type PromptDefinition } from './prompts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Day 1 is the first simulated day. */
const at = (day: number, hour = 12) => (day - 1) * DAY + hour * HOUR;

const apiCalls = (used: number, extra: Partial<MeterInput> = {}): MeterInput => ({
  metric: 'api_calls',
  name: 'API calls',
  used,
  limit: 10_000,
  ...extra,
});
const storage = (used: number): MeterInput => ({ metric: 'storage_gb', name: 'GB of storage', used, limit: 100 });
const projects = (used: number): MeterInput => ({ metric: 'projects', name: 'projects', used, limit: 10 });

type Account = Omit<PromptEngineInput, 'now' | 'session_id' | 'history'>;

const acme: Account = {
  user_id: 'ana',
  role: 'admin',
  locale: 'en-US',
  activated: true,
  definitions: defaultPrompts,
  meters: [],
  seats: { used: 2, limit: 5 },
  features: {
    sso: { name: 'Single sign-on', entitled: false, trial_available: true, required_plan: 'business' },
    audit_log: { name: 'Audit log', entitled: false, trial_available: false, required_plan: 'business' },
    sandbox: { name: 'Sandbox', entitled: false, trial_available: false, required_plan: 'business' },
    exports: { name: 'Exports', entitled: false, trial_available: false, required_plan: 'enterprise', required_plan_name: 'Enterprise' },
    webhooks: { name: 'Webhooks', entitled: true, trial_available: false, required_plan: null },
  },
  plan: { id: 'starter', name: 'Starter' },
  next_plan: { id: 'business', name: 'Business', limits: { api_calls: 50_000, storage_gb: null } },
  gate_hits_this_session: [],
  invite_blocked: false,
};

type Action = 'ignore' | 'click' | 'dismiss' | 'snooze';

interface Step {
  day: number;
  hour?: number;
  session: string;
  /** What changed in the account before this visit. */
  account?: Partial<Account>;
  /** What the user does with every prompt shown. */
  then?: Action;
  shows: string[];
}

const event = (prompt_id: string, type: PromptEventType, session_id: string, timestamp: number): PromptHistoryEvent => ({
  prompt_id,
  type,
  session_id,
  user_id: acme.user_id,
  timestamp,
});

/** Plays the visits in order: each shown prompt records an impression, then the step's action. */
function play(account: Account, steps: readonly Step[]): string[][] {
  const history: PromptHistoryEvent[] = [];
  let current = account;
  return steps.map((step) => {
    current = { ...current, ...step.account };
    const now = at(step.day, step.hour);
    const { prompts } = eligiblePrompts({ ...current, now, session_id: step.session, history });
    for (const p of prompts) {
      history.push(event(p.id, 'impression', step.session, now));
      if (step.then && step.then !== 'ignore') history.push(event(p.id, step.then, step.session, now + 1000));
    }
    return prompts.map((p) => p.id);
  });
}

const ninety = 'limit-api_calls-90';

describe('limit notices over days and sessions', () => {
  const scenarios: { name: string; account: Account; steps: Step[] }[] = [
    {
      name: 'the 90% notice shows once per session and 3 times in total; the 4th session shows nothing',
      account: { ...acme, meters: [apiCalls(9100)] },
      steps: [
        { day: 1, session: 's1', shows: [ninety] },
        { day: 1, hour: 15, session: 's1', shows: [] },
        { day: 2, session: 's2', shows: [ninety] },
        { day: 3, session: 's3', shows: [ninety] },
        { day: 4, session: 's4', shows: [] },
        { day: 60, session: 's5', shows: [] },
      ],
    },
    {
      name: 'after 3 dismissals the notice is suppressed for 30 days: day 29 shows nothing, day 31 shows it again',
      account: { ...acme, meters: [apiCalls(9100)] },
      steps: [
        { day: 1, hour: 9, session: 's1', then: 'dismiss', shows: [ninety] },
        { day: 1, hour: 10, session: 's2', then: 'dismiss', shows: [ninety] },
        { day: 1, hour: 11, session: 's3', then: 'dismiss', shows: [ninety] },
        { day: 1, hour: 11, session: 's3', shows: [] },
        { day: 2, session: 's4', shows: [] },
        { day: 29, session: 's5', shows: [] },
        { day: 30, session: 's6', shows: [] },
        { day: 31, session: 's7', then: 'dismiss', shows: [ninety] },
        { day: 32, session: 's8', shows: [ninety] },
      ],
    },
    {
      name: '"Remind me later" hides the notice for 7 × 24 hours; it is back on day 8',
      account: { ...acme, meters: [apiCalls(9100)] },
      steps: [
        { day: 1, hour: 9, session: 's1', then: 'snooze', shows: [ninety] },
        { day: 2, session: 's2', shows: [] },
        { day: 7, session: 's3', shows: [] },
        { day: 8, hour: 8, session: 's4', shows: [] },
        { day: 8, hour: 10, session: 's5', shows: [ninety] },
      ],
    },
    {
      name: 'a dismissal hides the notice for the rest of that session only',
      account: { ...acme, meters: [apiCalls(9100)], definitions: withCaps({ per_session: 3 }) },
      steps: [
        { day: 1, hour: 9, session: 's1', shows: [ninety] },
        { day: 1, hour: 10, session: 's1', then: 'dismiss', shows: [ninety] },
        { day: 1, hour: 11, session: 's1', shows: [] },
        { day: 2, session: 's2', shows: [ninety] },
      ],
    },
    {
      name: 'only the highest crossed threshold speaks, and crossing a new one starts its own count',
      account: { ...acme, meters: [apiCalls(5000)] },
      steps: [
        { day: 1, session: 's1', shows: ['limit-api_calls-50'] },
        { day: 2, session: 's2', account: { meters: [apiCalls(7600)] }, shows: ['limit-api_calls-75'] },
        { day: 3, session: 's3', account: { meters: [apiCalls(9100)] }, then: 'dismiss', shows: [ninety] },
        { day: 4, session: 's4', account: { meters: [apiCalls(10_000)] }, then: 'dismiss', shows: ['limit-api_calls-100'] },
        { day: 5, session: 's5', shows: ['limit-api_calls-100'] },
      ],
    },
    {
      name: 'a new usage period counts impressions afresh',
      account: { ...acme, meters: [apiCalls(9100, { period_start: at(1, 0) })] },
      steps: [
        { day: 1, session: 's1', shows: [ninety] },
        { day: 2, session: 's2', shows: [ninety] },
        { day: 3, session: 's3', shows: [ninety] },
        { day: 4, session: 's4', shows: [] },
        { day: 31, session: 's5', shows: [] },
        { day: 32, session: 's6', account: { meters: [apiCalls(9100, { period_start: at(31, 0) })] }, shows: [ninety] },
      ],
    },
    {
      name: 'at most 2 soft prompts per session, most urgent first; blocks do not use up the budget',
      account: { ...acme, meters: [projects(5), storage(80), apiCalls(9100)], seats: { used: 4, limit: 5 } },
      steps: [
        { day: 1, session: 's1', shows: [ninety, 'limit-storage_gb-75'] },
        { day: 1, hour: 14, session: 's1', shows: [] },
        { day: 2, session: 's2', then: 'dismiss', shows: [ninety, 'limit-storage_gb-75'] },
        { day: 2, hour: 14, session: 's2', account: { meters: [apiCalls(10_000)] }, shows: ['limit-api_calls-100'] },
        { day: 3, session: 's3', account: { meters: [projects(5), apiCalls(10_000)] }, shows: ['limit-api_calls-100', 'limit-projects-50', 'invite-seats'] },
      ],
    },
    {
      name: 'a soft prompt shown earlier in the session leaves room for one more',
      account: { ...acme, seats: { used: 4, limit: 5 } },
      steps: [
        { day: 1, hour: 9, session: 's1', shows: ['invite-seats'] },
        { day: 1, hour: 10, session: 's1', account: { meters: [storage(80), apiCalls(9100)] }, shows: [ninety] },
        { day: 1, hour: 11, session: 's1', shows: [] },
      ],
    },
    {
      name: 'the 3rd feature prompt in one session is allowed and the 4th is not; each feature previews once per user',
      account: { ...acme, meters: [apiCalls(9100), storage(80)] },
      steps: [
        { day: 1, hour: 9, session: 's1', account: { gate_hits_this_session: ['sso'] }, shows: [ninety, 'limit-storage_gb-75', 'gate-sso'] },
        { day: 1, hour: 10, session: 's1', account: { gate_hits_this_session: ['sso', 'audit_log'] }, shows: ['gate-audit_log'] },
        { day: 1, hour: 11, session: 's1', account: { gate_hits_this_session: ['sso', 'audit_log', 'sandbox'] }, shows: ['gate-sandbox'] },
        { day: 1, hour: 12, session: 's1', account: { gate_hits_this_session: ['sso', 'audit_log', 'sandbox', 'exports'] }, shows: [] },
        { day: 2, session: 's2', account: { meters: [], gate_hits_this_session: ['sso', 'exports'] }, shows: ['gate-exports'] },
        { day: 40, session: 's3', account: { gate_hits_this_session: ['sso', 'webhooks', 'unknown'] }, shows: [] },
      ],
    },
    {
      name: 'four gate hits at once preview the first three',
      account: { ...acme, gate_hits_this_session: ['sso', 'audit_log', 'sso', 'sandbox', 'exports'] },
      steps: [{ day: 1, session: 's1', shows: ['gate-sso', 'gate-audit_log', 'gate-sandbox'] }],
    },
    {
      name: 'the invite prompt appears at 80% of seats, and an invite beyond the limit is a block every time',
      account: { ...acme, seats: { used: 3, limit: 5 } },
      steps: [
        { day: 1, session: 's1', shows: [] },
        { day: 2, session: 's2', account: { seats: { used: 4, limit: 5 } }, then: 'dismiss', shows: ['invite-seats'] },
        { day: 2, hour: 14, session: 's2', shows: [] },
        { day: 3, session: 's3', account: { seats: { used: 5, limit: 5 }, invite_blocked: true }, then: 'dismiss', shows: ['invite-seats-blocked'] },
        { day: 3, hour: 13, session: 's3', shows: ['invite-seats-blocked'] },
        { day: 3, hour: 14, session: 's3', shows: ['invite-seats-blocked'] },
        { day: 4, session: 's4', account: { invite_blocked: false }, shows: ['invite-seats'] },
        { day: 5, session: 's5', account: { seats: { used: 5, limit: null } }, shows: [] },
      ],
    },
    {
      name: 'a milestone is celebrated once, and not once the meter nears its limit',
      account: { ...acme, meters: [apiCalls(400)] },
      steps: [
        { day: 1, session: 's1', shows: [] },
        { day: 2, session: 's2', account: { meters: [apiCalls(1200)] }, shows: ['milestone-api_calls-1000'] },
        { day: 3, session: 's3', shows: [] },
        { day: 4, session: 's4', account: { meters: [apiCalls(12_000, { limit: null })] }, shows: ['milestone-api_calls-10000'] },
        { day: 5, session: 's5', account: { meters: [apiCalls(5000, { metric: 'emails' })] }, shows: ['limit-emails-50'] },
      ],
    },
  ];

  it.each(scenarios)('$name', ({ account, steps }) => {
    expect(play(account, steps)).toEqual(steps.map((s) => s.shows));
  });
});

/** A history that exhausts every cap of these prompts in this session and before it. */
function exhausted(promptIds: string[], session: string, now: number): PromptHistoryEvent[] {
  return promptIds.flatMap((id) => [
    ...[1, 2, 3, 4].map((n) => event(id, 'impression', `old-${n}`, now - n * DAY)),
    ...[1, 2, 3].map((n) => event(id, 'dismiss', `old-${n}`, now - n * HOUR)),
    event(id, 'impression', session, now - 60_000),
    event(id, 'snooze', session, now - 30_000),
  ]);
}

describe('blocks and activation', () => {
  const now = at(10);
  const atTheLimit: PromptEngineInput = {
    ...acme,
    now,
    session_id: 's9',
    meters: [apiCalls(10_000), storage(95), projects(8)],
    seats: { used: 5, limit: 5 },
    invite_blocked: true,
    gate_hits_this_session: ['sso'],
    history: [],
  };

  it('a 100% block shows despite every cap being exhausted, ahead of the soft prompts', () => {
    const history = exhausted(
      ['limit-api_calls-100', 'invite-seats-blocked', 'limit-projects-75', 'milestone-x-1', 'gate-audit_log', 'gate-sandbox', 'gate-exports'],
      's9',
      now,
    );
    const result = eligiblePrompts({ ...atTheLimit, history });
    expect(result.prompts.map((p) => [p.id, p.blocking])).toEqual([
      ['limit-api_calls-100', true],
      ['invite-seats-blocked', true],
    ]);
    expect(result.session_prompts_left).toBe(0);
  });

  it('a 100% notice whose definition says blocking: false is capped like any soft prompt', () => {
    const definitions = defaultPrompts.map((d) =>
      d.kind === 'limit_notice' && d.id === 'limit-100' ? { ...d, trigger: { ...d.trigger, blocking: false } } : d,
    );
    const history = exhausted(['limit-api_calls-100'], 's9', now);
    const shown = eligiblePrompts({ ...atTheLimit, definitions, history, invite_blocked: false });
    expect(shown.prompts.map((p) => p.id)).toEqual(['limit-storage_gb-90', 'gate-sso']);
    const fresh = eligiblePrompts({ ...atTheLimit, definitions, invite_blocked: false });
    expect(fresh.prompts.map((p) => [p.id, p.blocking])).toEqual([
      ['limit-api_calls-100', false],
      ['limit-storage_gb-90', false],
      ['gate-sso', false],
    ]);
  });

  it('an account that has not activated sees only blocks', () => {
    const result = eligiblePrompts({ ...atTheLimit, activated: false });
    expect(result.prompts.map((p) => p.id)).toEqual(['limit-api_calls-100', 'invite-seats-blocked']);
    expect(result.session_prompts_left).toBe(0);
    const calm = eligiblePrompts({ ...atTheLimit, activated: false, meters: [apiCalls(9900)], invite_blocked: false });
    expect(calm.prompts).toEqual([]);
  });

  it('reports the soft prompts left this session', () => {
    const cases = [
      { meters: [], left: 2 },
      { meters: [storage(95)], left: 1 },
      { meters: [storage(95), projects(8), apiCalls(10_000)], left: 0 },
    ];
    for (const { meters, left } of cases) {
      const result = eligiblePrompts({ ...acme, now, session_id: 's1', history: [], meters });
      expect(result.session_prompts_left).toBe(left);
    }
  });
});

/** The default limit notices with other caps. */
function withCaps(caps: Partial<PromptDefinition['caps']>): PromptDefinition[] {
  return defaultPrompts.map((d) => (d.kind === 'limit_notice' ? { ...d, caps: { ...d.caps, ...caps } } : d));
}

const limitNotice = (id: string, metric: string, thresholds: number[], enabled = true): PromptDefinition => ({
  id,
  kind: 'limit_notice',
  trigger: { metric, thresholds },
  caps: { per_session: 1, total: 3, dismiss_limit: 3, dismiss_cooldown_days: 30, snooze_days: 7 },
  copy: { title: `${id}: {pct} of {metric}`, body: '{used}/{limit} on {plan}', cta_label: 'Upgrade to {next_plan}', secondary_label: '' },
  enabled,
});

describe('definitions', () => {
  const visit = (definitions: PromptDefinition[], meters: MeterInput[]) =>
    eligiblePrompts({ ...acme, definitions, meters, now: at(1), session_id: 's1', history: [] }).prompts;

  it.each([
    { case: 'a disabled definition produces nothing', definitions: [limitNotice('all', '*', [90], false)], shows: [] },
    { case: 'a definition naming the metric wins over "*"', definitions: [limitNotice('all', '*', [90]), limitNotice('api', 'api_calls', [90])], shows: [['limit-api_calls-90', 'api']] },
    { case: 'a disabled definition naming the metric switches it off', definitions: [limitNotice('api', 'api_calls', [90], false), limitNotice('all', '*', [90])], shows: [] },
    { case: 'a named definition for another threshold leaves "*" in charge', definitions: [limitNotice('api', 'api_calls', [50]), limitNotice('all', '*', [90])], shows: [['limit-api_calls-90', 'all']] },
    { case: 'the highest threshold any definition sets speaks', definitions: [limitNotice('all', '*', [50, 75])], shows: [['limit-api_calls-75', 'all']] },
    { case: 'a disabled definition for the highest crossed threshold means no notice, not a lower one', definitions: [limitNotice('all', '*', [50, 75]), limitNotice('off', '*', [90], false)], shows: [] },
    { case: 'an 80% prompt for one metric speaks between 80% and the next threshold', definitions: [...defaultPrompts, limitNotice('api-80', 'api_calls', [80])], shows: [['limit-api_calls-90', 'limit-90']] },
  ])('$case', ({ definitions, shows }) => {
    expect(visit(definitions, [apiCalls(9100)]).map((p) => [p.id, p.definition_id])).toEqual(shows);
  });

  it('"*" never matches the seats meter, which the invite prompt serves', () => {
    const seats: MeterInput = { metric: 'seats', name: 'seats', used: 5, limit: 5 };
    expect(visit(defaultPrompts, [seats])).toEqual([]);
    expect(visit([limitNotice('seats', 'seats', [100])], [seats]).map((p) => p.id)).toEqual(['limit-seats-100']);
  });

  it('renders copy in the reader locale, as text', () => {
    const hostile = limitNotice('all', '*', [90]);
    hostile.copy.body = '<img src=x onerror=alert(1)> {used} <script>alert(1)</script> {plan}';
    const [prompt] = eligiblePrompts({
      ...acme,
      locale: 'de-DE',
      plan: { id: 'starter', name: '<b>Starter</b>' },
      definitions: [hostile],
      meters: [apiCalls(9100)],
      now: at(1),
      session_id: 's1',
      history: [],
    }).prompts;
    expect(prompt).toEqual({
      id: 'limit-api_calls-90',
      definition_id: 'all',
      kind: 'limit_notice',
      metric: 'api_calls',
      threshold: 90,
      blocking: false,
      title: 'all: 91\u00a0% of API calls',
      body: '<img src=x onerror=alert(1)> 9.100 <script>alert(1)</script> <b>Starter</b>',
      cta_label: 'Upgrade to Business',
      secondary_label: '',
    });
  });

  it('the default copy reads well for every kind', () => {
    const prompts = eligiblePrompts({
      ...acme,
      meters: [apiCalls(9100), storage(100)],
      seats: { used: 4, limit: 5 },
      gate_hits_this_session: ['sso'],
      now: at(1),
      session_id: 's1',
      history: [],
      global: { max_soft_per_session: 5 },
    }).prompts;
    expect(prompts.map(({ id, title, body, cta_label }) => ({ id, title, body, cta_label }))).toEqual([
      { id: 'limit-storage_gb-100', title: 'GB of storage limit reached', body: "You've used all 100 GB of storage included in Starter. Upgrade to Business for unlimited GB of storage and keep going.", cta_label: 'Upgrade' },
      { id: 'limit-api_calls-90', title: 'Almost at your API calls limit', body: '9,100 of 10,000 API calls used (91%). Upgrade to Business in one click for 50,000 API calls.', cta_label: 'Upgrade' },
      { id: 'gate-sso', title: 'Unlock Single sign-on', body: 'Single sign-on is included in Business. See what it does, then upgrade from Starter when you are ready.', cta_label: 'Upgrade' },
      { id: 'invite-seats', title: 'Bring your whole team', body: '4 of 5 seats on Starter are in use. Bring in the teammates who still need access.', cta_label: 'Invite teammates' },
    ]);
  });

  it('the default 75/90/100% copy names the next plan and its limit, and on the top plan leaves that sentence out', () => {
    const bodies = (next_plan: PromptEngineInput['next_plan'], used: number) =>
      eligiblePrompts({ ...acme, next_plan, meters: [apiCalls(used)], now: at(1), session_id: 's1', history: [] }).prompts.map((p) => p.body);
    expect(bodies(acme.next_plan, 7600)).toEqual(["You've used 76% of the API calls in Starter. Business includes 50,000 API calls."]);
    expect(bodies(null, 7600)).toEqual(["You've used 76% of the API calls in Starter."]);
    expect(bodies(null, 9100)).toEqual(['9,100 of 10,000 API calls used (91%).']);
    expect(bodies(null, 10_000)).toEqual(["You've used all 10,000 API calls included in Starter."]);
  });

  it('experiment copy replaces the definition copy, by prompt id or definition id', () => {
    const copy = (title: string) => ({ title, body: '{pct}', cta_label: 'Go', secondary_label: '' });
    const base = { ...acme, meters: [apiCalls(9100), storage(80)], now: at(1), session_id: 's1', history: [] };
    const titles = (copy_overrides: PromptEngineInput['copy_overrides']) =>
      eligiblePrompts({ ...base, copy_overrides }).prompts.map((p) => p.title);
    expect(titles({ 'limit-90': copy('B: {metric}') })).toEqual(['B: API calls', 'Approaching your GB of storage limit']);
    expect(titles({ 'limit-90': copy('B'), 'limit-api_calls-90': copy('C') })).toEqual(['C', 'Approaching your GB of storage limit']);
  });

  it("another user's history does not cap this user's prompts", () => {
    const someoneElse = [1, 2, 3].map((n) => ({ ...event(ninety, 'impression', `x${n}`, at(n)), user_id: 'bob' }));
    const prompts = eligiblePrompts({ ...acme, meters: [apiCalls(9100)], now: at(5), session_id: 's1', history: someoneElse }).prompts;
    expect(prompts.map((p) => p.id)).toEqual([ninety]);
  });
});

describe('any whole-percent threshold (the playbooks\' 80% upgrade prompt)', () => {
  const upgradeAt80 = limitNotice('api-80', 'api_calls', [80]);
  upgradeAt80.copy = { title: "You're at {pct} of your {metric}", body: '{next_plan} gives you more.', cta_label: 'Upgrade', secondary_label: '' };
  const visit = (definitions: PromptDefinition[], used: number) =>
    eligiblePrompts({ ...acme, definitions, meters: [apiCalls(used)], now: at(1), session_id: 's1', history: [] }).prompts;

  it('an 80% prompt added to the defaults shows from 80% with its own copy, and 90% takes over at 90%', () => {
    const definitions = [...defaultPrompts, upgradeAt80];
    expect(visit(definitions, 7900).map((p) => p.id)).toEqual(['limit-api_calls-75']);
    expect(visit(definitions, 8000).map((p) => [p.id, p.title, p.body])).toEqual([
      ['limit-api_calls-80', "You're at 80% of your API calls", 'Business gives you more.'],
    ]);
    expect(visit(definitions, 9100).map((p) => p.id)).toEqual(['limit-api_calls-90']);
    expect(visit(definitions, 10_000).map((p) => [p.id, p.blocking])).toEqual([['limit-api_calls-100', true]]);
  });

  it('with only an 80% prompt, it is the one crossed threshold from 80% up, and never blocks', () => {
    expect(visit([upgradeAt80], 7999)).toEqual([]);
    expect(visit([upgradeAt80], 12_000).map((p) => [p.id, p.threshold, p.blocking])).toEqual([['limit-api_calls-80', 80, false]]);
  });
});

describe('caps hold across billing periods and thresholds', () => {
  const periodFrom = (day: number) => ({ meters: [apiCalls(9100, { period_start: at(day, 0) })] });

  const scenarios: { name: string; account: Account; steps: Step[] }[] = [
    {
      name: 'the third dismissal suppresses the notice for 30 days, even when a new billing period starts on day 31',
      account: { ...acme, ...periodFrom(1) },
      steps: [
        { day: 20, hour: 9, session: 's1', then: 'dismiss', shows: [ninety] },
        { day: 21, hour: 10, session: 's2', then: 'dismiss', shows: [ninety] },
        { day: 22, hour: 11, session: 's3', then: 'dismiss', shows: [ninety] },
        { day: 31, session: 's4', account: periodFrom(31), shows: [] },
        { day: 51, hour: 10, session: 's5', shows: [] },
        { day: 52, session: 's6', shows: [ninety] },
      ],
    },
    {
      name: '"Remind me later" on the last day of a period still hides the notice for 7 days into the next',
      account: { ...acme, ...periodFrom(1) },
      steps: [
        { day: 30, hour: 9, session: 's1', then: 'snooze', shows: [ninety] },
        { day: 31, session: 's2', account: periodFrom(31), shows: [] },
        { day: 36, session: 's3', shows: [] },
        { day: 37, hour: 10, session: 's4', shows: [ninety] },
      ],
    },
    {
      name: 'at most 3 soft notices per metric per period across thresholds, each newly crossed threshold shown once',
      account: { ...acme, meters: [apiCalls(5000, { period_start: at(1, 0) })] },
      steps: [
        { day: 1, session: 's1', shows: ['limit-api_calls-50'] },
        { day: 2, session: 's2', shows: ['limit-api_calls-50'] },
        { day: 3, session: 's3', account: { meters: [apiCalls(7600, { period_start: at(1, 0) })] }, shows: ['limit-api_calls-75'] },
        { day: 4, session: 's4', shows: [] },
        { day: 5, session: 's5', account: { meters: [apiCalls(9100, { period_start: at(1, 0) })] }, shows: [ninety] },
        { day: 6, session: 's6', shows: [] },
        { day: 7, session: 's7', account: { meters: [apiCalls(10_000, { period_start: at(1, 0) })] }, shows: ['limit-api_calls-100'] },
        { day: 8, session: 's8', shows: ['limit-api_calls-100'] },
        { day: 31, session: 's9', account: { meters: [apiCalls(9100, { period_start: at(31, 0) })] }, shows: [ninety] },
      ],
    },
    {
      name: 'dismissals of any threshold of a metric add up to its suppression',
      account: { ...acme, meters: [apiCalls(5000)] },
      steps: [
        { day: 1, session: 's1', then: 'dismiss', shows: ['limit-api_calls-50'] },
        { day: 2, session: 's2', account: { meters: [apiCalls(7600)] }, then: 'dismiss', shows: ['limit-api_calls-75'] },
        { day: 3, session: 's3', account: { meters: [apiCalls(9100)] }, then: 'dismiss', shows: [ninety] },
        { day: 4, session: 's4', shows: [] },
        { day: 4, session: 's5', account: { meters: [apiCalls(9100), storage(60)] }, shows: ['limit-storage_gb-50'] },
      ],
    },
  ];

  it.each(scenarios)('$name', ({ account, steps }) => {
    expect(play(account, steps)).toEqual(steps.map((s) => s.shows));
  });

  it('a feature preview seen once is never shown again, even after its events left the kept history', () => {
    const input = { ...acme, gate_hits_this_session: ['sso'], now: at(400), session_id: 's1', history: [] };
    expect(eligiblePrompts(input).prompts.map((p) => p.id)).toEqual(['gate-sso']);
    expect(eligiblePrompts({ ...input, lifetime_impressions: { 'gate-sso': 1 } }).prompts).toEqual([]);
  });
});

describe('prompt definitions from the admin API', () => {
  const body = {
    kind: 'limit_notice',
    trigger: { metric: 'api_calls', thresholds: [90] },
    copy: { title: 'Almost there', body: '{pct} used', cta_label: 'Upgrade', secondary_label: 'Remind me later' },
  };

  it('fills missing caps with the design defaults per kind', () => {
    expect(promptInputSchema.parse(body)).toMatchObject({
      caps: { per_session: 1, total: 3, dismiss_limit: 3, dismiss_cooldown_days: 30, snooze_days: 7 },
      enabled: true,
    });
    const gate = promptInputSchema.parse({ ...body, kind: 'feature_gate', trigger: { feature_id: 'sso' }, caps: { snooze_days: 1 } });
    expect(gate.caps).toEqual({ per_session: 1, total: 1, dismiss_limit: 3, dismiss_cooldown_days: 30, snooze_days: 1 });
  });

  it.each([
    { case: 'an unknown field', patch: { colour: 'red' }, path: [] },
    { case: 'an unknown trigger field', patch: { trigger: { metric: 'api_calls', thresholds: [90], seat_pct: 80 } }, path: ['trigger'] },
    { case: 'a trigger of another kind', patch: { trigger: { feature_id: 'sso' } }, path: ['trigger'] },
    { case: 'a threshold of 0%', patch: { trigger: { metric: 'api_calls', thresholds: [0] } }, path: ['trigger', 'thresholds', 0] },
    { case: 'a threshold over 100%', patch: { trigger: { metric: 'api_calls', thresholds: [80, 101] } }, path: ['trigger', 'thresholds', 1] },
    { case: 'a fractional threshold', patch: { trigger: { metric: 'api_calls', thresholds: [80.5] } }, path: ['trigger', 'thresholds', 0] },
    { case: 'a repeated threshold', patch: { trigger: { metric: 'api_calls', thresholds: [90, 90] } }, path: ['trigger', 'thresholds'] },
    { case: 'an unbounded cap', patch: { caps: { total: 1e9 } }, path: ['caps', 'total'] },
    { case: 'a fractional cap', patch: { caps: { per_session: 1.5 } }, path: ['caps', 'per_session'] },
    { case: 'a title too long', patch: { copy: { ...body.copy, title: 'x'.repeat(121) } }, path: ['copy', 'title'] },
    { case: 'a missing copy field', patch: { copy: { title: 'a', body: 'b', cta_label: 'c' } }, path: ['copy', 'secondary_label'] },
    { case: 'an unknown kind', patch: { kind: 'popup' }, path: ['kind'] },
  ])('refuses $case, naming the field', ({ patch, path }) => {
    const result = promptInputSchema.safeParse({ ...body, ...patch });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.path)).toContainEqual(path);
  });

  it('the default prompts are valid definitions covering every kind and threshold', () => {
    for (const d of defaultPrompts) expect(promptDefinitionSchema.parse(d)).toEqual(d);
    expect(new Set(defaultPrompts.map((d) => d.kind))).toEqual(new Set(['limit_notice', 'feature_gate', 'invite', 'milestone', 'forecast']));
    const thresholds = defaultPrompts.flatMap((d) => (d.kind === 'limit_notice' ? d.trigger.thresholds : []));
    expect(thresholds.sort((a, b) => a - b)).toEqual([50, 75, 90, 100]);
  });
});

describe('prompt ids', () => {
  it.each<[PromptInstance, string]>([
    [{ kind: 'limit_notice', metric: 'api_calls', threshold: 90 }, 'limit-api_calls-90'],
    [{ kind: 'limit_notice', metric: 'build-minutes', threshold: 100 }, 'limit-build-minutes-100'],
    [{ kind: 'limit_notice', metric: 'api_calls', threshold: 80 }, 'limit-api_calls-80'],
    [{ kind: 'feature_gate', feature_id: 'sso' }, 'gate-sso'],
    [{ kind: 'invite', blocking: false }, 'invite-seats'],
    [{ kind: 'invite', blocking: true }, 'invite-seats-blocked'],
    [{ kind: 'milestone', metric: 'api_calls', milestone: 1000 }, 'milestone-api_calls-1000'],
    [{ kind: 'forecast', metric: 'build-minutes' }, 'forecast-build-minutes'],
  ])('%j is %s and back', (instance, id) => {
    expect(promptIdFor(instance)).toBe(id);
    expect(parsePromptId(id)).toEqual(instance);
  });

  it.each(['limit-api_calls-0', 'limit-api_calls-101', 'limit-api_calls-80.5', 'banner-1', 'gate-', 'forecast-', ''])('%j names no prompt', (id) => {
    expect(parsePromptId(id)).toBeNull();
  });
});

describe("the widget's session mirror", () => {
  const { prompts } = eligiblePrompts({
    ...acme,
    meters: [apiCalls(10_000), storage(95)],
    seats: { used: 4, limit: 5 },
    now: at(1),
    session_id: 's1',
    history: [],
  });

  it.each<{ case: string; events: { type: PromptEventType; prompt_id: string }[]; shows: string[] }>([
    { case: 'nothing happened yet', events: [], shows: ['limit-api_calls-100', 'limit-storage_gb-90', 'invite-seats'] },
    { case: 'a soft prompt was shown in this tab', events: [{ type: 'impression', prompt_id: 'invite-seats' }], shows: ['limit-api_calls-100', 'limit-storage_gb-90'] },
    { case: 'a soft prompt was snoozed', events: [{ type: 'snooze', prompt_id: 'limit-storage_gb-90' }], shows: ['limit-api_calls-100', 'invite-seats'] },
    { case: 'a click does not hide it', events: [{ type: 'click', prompt_id: 'invite-seats' }], shows: ['limit-api_calls-100', 'limit-storage_gb-90', 'invite-seats'] },
    {
      case: 'the block was shown and dismissed',
      events: [{ type: 'impression', prompt_id: 'limit-api_calls-100' }, { type: 'dismiss', prompt_id: 'limit-api_calls-100' }],
      shows: ['limit-api_calls-100', 'limit-storage_gb-90', 'invite-seats'],
    },
  ])('keeps what is still showable when $case', ({ events, shows }) => {
    expect(mirrorSessionCaps(prompts, events).map((p) => p.id)).toEqual(shows);
  });
});

describe('forecast prompts', () => {
  // without milestones, which would celebrate the thousands of calls used here
  const acmeF: Account = { ...acme, definitions: defaultPrompts.filter((d) => d.kind !== 'milestone') };
  /** API calls at `used`, the limit forecast `days` ahead of day `day` at noon. */
  const heading = (used: number, day: number, days: number | null, extra: Partial<MeterInput> = {}) =>
    apiCalls(used, { limit_at: days === null ? null : at(day) + days * DAY, days_to_limit: days, period_start: at(1, 0), ...extra });
  const shown = (meters: MeterInput[], now = at(1), more: Partial<PromptEngineInput> = {}) =>
    eligiblePrompts({ ...acmeF, meters, now, session_id: 's1', history: [], ...more }).prompts;

  it('shows within days_before of the forecast limit with {date} and {days} filled, never blocking', () => {
    const [p] = shown([heading(4000, 1, 6)]);
    expect(p).toMatchObject({
      id: 'forecast-api_calls',
      definition_id: 'forecast',
      kind: 'forecast',
      metric: 'api_calls',
      blocking: false,
      title: 'Heading for your API calls limit',
      // day 1 at noon + 6 days is Jan 7 1970 in UTC
      body: "At this pace you'll reach your API calls limit on Jan 7. Business includes 50,000 API calls.",
      cta_label: 'Compare plans',
      secondary_label: 'Remind me later',
    });
    const custom: PromptDefinition = { ...defaultPrompts.find((d) => d.id === 'forecast')!, id: 'forecast-api', trigger: { metric: 'api_calls', days_before: 3 }, copy: { title: '{days} days left', body: 'Limit on {date}', cta_label: '', secondary_label: '' } } as PromptDefinition;
    const withCustom = { definitions: [...acmeF.definitions, custom] };
    // the definition naming the metric speaks for it, whatever the `*` one's days
    expect(shown([heading(4000, 1, 6)], at(1), withCustom)).toEqual([]);
    expect(shown([heading(4000, 1, 2)], at(1), withCustom).map((q) => [q.title, q.body])).toEqual([['2 days left', 'Limit on Jan 3']]);
  });

  it('stays quiet beyond days_before, without a forecast, at the limit, and while a 90%+ notice speaks for the metric', () => {
    expect(shown([heading(4000, 1, 8)])).toEqual([]);
    expect(shown([heading(4000, 1, null)])).toEqual([]);
    expect(shown([apiCalls(4000)])).toEqual([]);
    expect(shown([heading(10_000, 1, 0)]).map((p) => p.id)).toEqual(['limit-api_calls-100']);
    // 91% crossed: the 90% notice says it, not a forecast as well; at 76% both speak, the notice first
    expect(shown([heading(9100, 1, 2)]).map((p) => p.id)).toEqual(['limit-api_calls-90']);
    expect(shown([heading(7600, 1, 2)]).map((p) => p.id)).toEqual(['limit-api_calls-75', 'forecast-api_calls']);
    // a disabled definition switches it off
    const off = acmeF.definitions.map((d) => (d.kind === 'forecast' ? { ...d, enabled: false } : d));
    expect(shown([heading(4000, 1, 6)], at(1), { definitions: off })).toEqual([]);
  });

  it('follows the activation rule and the soft-prompt session budget like a limit notice', () => {
    expect(shown([heading(4000, 1, 6)], at(1), { activated: false })).toEqual([]);
    const meters = [heading(4000, 1, 6), storage(80), projects(9)];
    // two soft prompts a session: the two limit notices (higher thresholds first) take the budget
    expect(shown(meters).map((p) => p.id)).toEqual(['limit-projects-90', 'limit-storage_gb-75']);
  });

  it('is capped per metric per period: once a session, three times a period, snoozed for 7 days', () => {
    const f = 'forecast-api_calls';
    const meter = (day: number) => ({ meters: [heading(4000, day, 5)] });
    const nextPeriod = { meters: [heading(4000, 40, 5, { period_start: at(31, 0) })] };
    const cases: Step[][] = [
      [
        { day: 1, session: 'a', account: meter(1), shows: [f] },
        { day: 1, hour: 13, session: 'a', account: meter(1), shows: [] },
        { day: 2, session: 'b', account: meter(2), shows: [f] },
        { day: 3, session: 'c', account: meter(3), shows: [f] },
        { day: 4, session: 'd', account: meter(4), shows: [] },
        // a new period counts from zero
        { day: 40, session: 'e', account: nextPeriod, shows: [f] },
      ],
      [
        { day: 1, session: 'a', account: meter(1), then: 'snooze', shows: [f] },
        { day: 7, session: 'b', account: meter(7), shows: [] },
        { day: 8, hour: 13, session: 'c', account: meter(8), shows: [f] },
      ],
    ];
    for (const steps of cases) expect(play(acmeF, steps)).toEqual(steps.map((s) => s.shows));
  });

  it('a forecast trigger is a metric and whole days 1–365, 7 by default', () => {
    const body = { kind: 'forecast', trigger: { metric: 'api_calls' }, copy: { title: 't', body: 'b', cta_label: '', secondary_label: '' } };
    expect(promptInputSchema.parse(body)).toMatchObject({ trigger: { metric: 'api_calls', days_before: 7 }, caps: { per_session: 1, total: 3, snooze_days: 7 } });
    for (const days_before of [0, 366, 2.5, '7']) {
      const r = promptInputSchema.safeParse({ ...body, trigger: { metric: 'api_calls', days_before } });
      expect(r.error?.issues.map((i) => i.path)).toContainEqual(['trigger', 'days_before']);
    }
  });
});
