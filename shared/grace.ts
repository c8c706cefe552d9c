/**
 * Grace at the limit, as the widget shows it: how much a meter may still go past its limit on
 * a plan with `overage: { mode: 'grace' }`, and the 100% notice saying so. Pure.
 */

import { formatNumber } from './copy';

export type GraceState = { limit: number; remaining: number; in_grace: boolean };

/**
 * A meter's grace: the ceiling (limit × (1 + grace_pct/100)), what is left of it and whether the
 * meter is past its limit; `null` where the plan blocks at the limit.
 * @example graceState({ used: 10400, limit: 10000 }, 11000) // { limit: 11000, remaining: 600, in_grace: true }
 */
export function graceState(meter: { used: number; limit: number | null }, ceiling: number | null): GraceState | null {
  if (meter.limit === null || ceiling === null || ceiling <= meter.limit) return null;
  return { limit: ceiling, remaining: Math.max(ceiling - meter.used, 0), in_grace: meter.used > meter.limit };
}

/**
 * The 100% limit notices of metrics in grace say how much grace is left and do not block while
 * some is; other prompts pass unchanged.
 * @example withGraceNotes(prompts, { api_calls: { limit: 11000, remaining: 600, in_grace: true } }, { api_calls: 'call' })[0].body
 *          // '… You have 600 calls of grace left.'
 */
export function withGraceNotes<P extends { kind: string; metric?: string | undefined; threshold?: number | null | undefined; body: string; blocking: boolean }>(
  prompts: P[],
  grace: Record<string, GraceState | null>,
  units: Record<string, string>,
  locale = 'en-US',
): P[] {
  return prompts.map((p) => {
    const g = p.kind === 'limit_notice' && p.threshold === 100 && p.metric ? grace[p.metric] : null;
    if (!g || !p.metric) return p;
    const n = formatNumber(g.remaining, locale);
    const unit = units[p.metric] ? ` ${units[p.metric]}${g.remaining === 1 ? '' : 's'}` : '';
    const note = g.remaining > 0 ? `You have ${n}${unit} of grace left.` : 'Your grace allowance is used up.';
    return { ...p, body: p.body ? `${p.body} ${note}` : note, blocking: g.remaining > 0 ? false : p.blocking };
  });
}
