import { describe, expect, it } from 'vitest';
import { renderCopy, withoutSentencesNaming, type CopyVars } from './copy';

const NBSP = '\u00a0';
const usage: CopyVars = { used: 9100, limit: 10_000, pct: 91, metric: 'API calls', plan: 'Starter', next_plan: 'Business' };

describe('prompt copy', () => {
  it.each([
    { locale: 'en-US', text: '9,100 of 10,000 API calls (91%)' },
    { locale: 'de-DE', text: `9.100 of 10.000 API calls (91${NBSP}%)` },
    { locale: 'fr-FR', text: `9\u202f100 of 10\u202f000 API calls (91${NBSP}%)` },
  ])('formats numbers and percentages for $locale readers', ({ locale, text }) => {
    expect(renderCopy('{used} of {limit} {metric} ({pct})', usage, locale)).toBe(text);
  });

  it.each(['not a locale!!', '', 'en_US'])('falls back to en-US for the invalid locale %j', (locale) => {
    expect(renderCopy('{used} ({pct})', usage, locale)).toBe('9,100 (91%)');
  });

  it('fills every placeholder of the admin API', () => {
    const vars: CopyVars = { ...usage, feature: 'Single sign-on' };
    expect(renderCopy('{feature}: move from {plan} to {next_plan}', vars, 'en-US')).toBe(
      'Single sign-on: move from Starter to Business',
    );
  });

  it.each([
    { case: 'unknown placeholders', template: 'Hi {name}, {used} used', vars: usage, text: 'Hi {name}, 9,100 used' },
    { case: 'placeholders without a value', template: '{feature} is on {next_plan}', vars: { next_plan: null }, text: '{feature} is on {next_plan}' },
    { case: 'an unlimited limit', template: '{used} of {limit}', vars: { used: 5, limit: null }, text: '5 of {limit}' },
    { case: 'unbalanced braces', template: '{used {pct}} {{metric}}', vars: usage, text: '{used 91%} {API calls}' },
  ])('leaves $case as written', ({ template, vars, text }) => {
    expect(renderCopy(template, vars, 'en-US')).toBe(text);
  });

  it('rounds a percentage down, so 99.6% never reads as 100%', () => {
    expect(renderCopy('{pct}', { pct: 99.6 }, 'en-US')).toBe('99%');
  });

  it.each([
    '<script>alert(1)</script>',
    '<img src=x onerror=alert(1)>',
    '&lt;b&gt; & "quotes" \'single\'',
    'costs $& or $1 or $$',
  ])('returns markup and special characters verbatim as text: %s', (hostile) => {
    expect(renderCopy(hostile, usage, 'en-US')).toBe(hostile);
    expect(renderCopy('Upgrade {plan}', { plan: hostile }, 'en-US')).toBe(`Upgrade ${hostile}`);
  });
});

describe('copy about the next plan', () => {
  it.each([
    ['All used. {next_plan} includes {next_limit} {metric}.', ['next_plan'], 'All used.'],
    ['{used} used ({pct}). Upgrade to {next_plan}! Keep going.', ['next_plan'], '{used} used ({pct}). Keep going.'],
    ['Upgrade to {next_plan}', ['next_plan'], ''],
    ['Nothing about plans. {plan} is fine.', ['next_plan'], 'Nothing about plans. {plan} is fine.'],
    ['All used. {next_plan} includes {next_limit}.', [], 'All used. {next_plan} includes {next_limit}.'],
  ])('%j without %j is %j', (template, names, expected) => {
    expect(withoutSentencesNaming(template, names)).toBe(expected);
  });

  it('fills {next_limit} as a number in the reader locale, or as text', () => {
    expect(renderCopy('{next_plan}: {next_limit}', { next_plan: 'Pro', next_limit: 50000 }, 'de-DE')).toBe('Pro: 50.000');
    expect(renderCopy('{next_limit} {metric}', { next_limit: 'unlimited', metric: 'API calls' }, 'en-US')).toBe('unlimited API calls');
  });
});

