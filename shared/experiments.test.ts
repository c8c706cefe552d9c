import { describe, expect, it } from 'vitest';
import { assignExperiments, resultsFromCounts, shippedDefinition, unitIdFor, type Experiment } from './experiments';
import { defaultPrompts, type PromptCopy } from './prompts';

const copy: PromptCopy = { title: 'New title', body: 'New body', cta_label: 'Go', secondary_label: '' };
const experiment: Experiment = {
  id: 'exp_1',
  key: 'limit-copy',
  promptId: 'limit-90',
  unit: 'account',
  holdoutPct: 0,
  attributionDays: 7,
  minConversions: 100,
  status: 'running',
  variants: [
    { id: 'control', weight: 1, copy: { ...copy, title: 'A' } },
    { id: 'b', weight: 1, copy: { ...copy, title: 'B' } },
  ],
};

describe('shipping a variant', () => {
  it('a definition id gets the copy itself, keeping its trigger and caps', () => {
    const shipped = shippedDefinition(defaultPrompts, 'limit-90', copy);
    const before = defaultPrompts.find((d) => d.id === 'limit-90')!;
    expect(shipped).toEqual({ ...before, copy });
  });

  it('a rendered prompt id served by a "*" definition gets a definition narrowed to it', () => {
    const shipped = shippedDefinition(defaultPrompts, 'limit-api_calls-90', copy);
    expect(shipped).toMatchObject({ id: 'limit-api_calls-90', kind: 'limit_notice', trigger: { metric: 'api_calls', thresholds: [90] }, copy });
  });

  it('an id no definition serves has nowhere to go', () => {
    expect(shippedDefinition(defaultPrompts, 'not-a-prompt', copy)).toBeNull();
    expect(shippedDefinition(defaultPrompts.filter((d) => d.kind !== 'limit_notice'), 'limit-api_calls-90', copy)).toBeNull();
  });
});

describe('assignment', () => {
  it('keys units by account, or by user within the account', () => {
    expect(unitIdFor(experiment, { acct: 'acme', sub: 'u1' })).toBe('acme');
    expect(unitIdFor({ unit: 'user' }, { acct: 'acme', sub: 'u1' })).not.toBe(unitIdFor({ unit: 'user' }, { acct: 'acme', sub: 'u2' }));
  });

  it('puts every user of an account in the same arm and overrides the prompt copy with it', () => {
    const a = assignExperiments([experiment], { acct: 'acme', sub: 'u1' });
    const b = assignExperiments([experiment], { acct: 'acme', sub: 'u2' });
    const arm = a.byPrompt.get('limit-90')!.variant!;
    expect(b.byPrompt.get('limit-90')!.variant!.id).toBe(arm.id);
    expect(a.copyOverrides['limit-90']).toEqual(arm.copy);
  });
});

describe('results from counts', () => {
  it('without a holdout there is no incremental lift; a running test warns about peeking', () => {
    const r = resultsFromCounts(experiment, [
      { variant_id: 'control', exposed: 2000, conversions: 100 },
      { variant_id: 'b', exposed: 2000, conversions: 160 },
    ]);
    expect(r.control_id).toBe('control');
    expect(r.incremental).toBeNull();
    expect(r.variants.map((v) => [v.id, v.exposed, v.conversions])).toEqual([['control', 2000, 100], ['b', 2000, 160]]);
    expect(r.warnings).toHaveLength(1);
  });

  it('with a holdout, the holdout row compares with control and the lift is control over holdout', () => {
    const r = resultsFromCounts({ ...experiment, status: 'stopped', holdoutPct: 20 }, [
      { variant_id: 'control', exposed: 1600, conversions: 160 },
      { variant_id: 'b', exposed: 1600, conversions: 160 },
      { variant_id: null, exposed: 800, conversions: 40 },
    ]);
    expect(r.variants.map((v) => v.id)).toEqual(['control', 'b', 'holdout']);
    expect(r.incremental!.lift).toBeCloseTo(1, 5); // 10% against 5%
    expect(r.warnings).toEqual([]);
  });
});
