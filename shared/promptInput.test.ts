import { describe, expect, it } from 'vitest';
import { eligiblePrompts } from './promptEngine';
import { engineInputFor, type ServeInput } from './promptInput';
import { defaultPrompts } from './prompts';

const serve = (extra: Partial<ServeInput> = {}): ServeInput => ({
  now: Date.UTC(2026, 8, 10, 12),
  session_id: 's1',
  user_id: 'ana',
  locale: 'en-US',
  activated: true,
  definitions: defaultPrompts,
  meters: [
    { metric: 'api_calls', name: 'API calls', used: 9_300, limit: 10_000, cap_period_start: Date.UTC(2026, 8, 1) },
    { metric: 'seats', name: 'Seats', used: 2, limit: 5, cap_period_start: Date.UTC(2026, 8, 1) },
  ],
  seats: { used: 2, limit: 5 },
  features: { sso: { name: 'Single sign-on', entitled: false, required_plan: 'business', required_plan_name: 'Business' } },
  plan: { id: 'starter', name: 'Starter' },
  next_plan: { id: 'pro', name: 'Pro' },
  history: [],
  lifetime: {},
  ...extra,
});

describe('engineInputFor', () => {
  it('rewriting an earlier input in place gives exactly the input built afresh, optional parts dropped when no longer asked', () => {
    const first = serve({
      role: 'admin',
      copy_overrides: { 'limit-90': { title: 'T', body: 'B', cta_label: 'C', secondary_label: '' } },
      meters: [{ metric: 'api_calls', name: 'API calls', used: 8_000, limit: 10_000, cap_period_start: 0, limit_at: Date.UTC(2026, 8, 12), days_to_limit: 2 }, serve().meters[1]!],
      session_gate_hits: ['sso', 'seats', 'sso'],
      seats: { used: 5, limit: 5 },
    });
    const reused = engineInputFor(first);
    expect(reused.gate_hits_this_session).toEqual(['sso']);
    expect(reused.invite_blocked).toBe(true);
    expect(reused.meters[0]).toMatchObject({ limit_at: Date.UTC(2026, 8, 12), days_to_limit: 2 });
    const meterObjects = [...reused.meters];

    const second = serve({ session_gate_hits: ['audit_log'] });
    const rewritten = engineInputFor(second, reused);
    expect(rewritten).toBe(reused);
    expect(rewritten.meters[0]).toBe(meterObjects[0]);
    expect(rewritten).toStrictEqual(engineInputFor(second));
    expect('role' in rewritten || 'copy_overrides' in rewritten || 'limit_at' in rewritten.meters[0]!).toBe(false);
    expect(eligiblePrompts(rewritten)).toEqual(eligiblePrompts(engineInputFor(second)));
  });

  it('reads the session gate hits from the history when not given, each feature once, oldest first', () => {
    const gate = (feature_id: string, session_id = 's1', timestamp = 1) => ({ prompt_id: '', type: 'gate_hit' as const, session_id, user_id: 'ana', feature_id, timestamp });
    const input = engineInputFor(serve({ history: [gate('audit_log'), gate('sso', 's2'), gate('sso'), gate('audit_log')] }));
    expect(input.gate_hits_this_session).toEqual(['audit_log', 'sso']);
    expect(input.invite_blocked).toBe(false);
  });
});
