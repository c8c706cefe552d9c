/**
 * The copy editor's live preview: the widget's own notice and gate components (not a
 * redrawing), rendered into a shadow root with the widget's stylesheet, from a sample
 * account state holding the one prompt being edited.
 */
import { render } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import { renderCopy, type CopyVars } from '../../shared/copy';
import type { PromptCopy, PromptDefinition } from '../../shared/prompts';
import { options as widgetOptions, shown, state as widgetState } from '../../widget/src/store';
import { adopt } from '../../widget/src/style';
import type { Prompt, WidgetState } from '../../widget/src/types';
import { Box } from '../../widget/src/ui/Box';
import { GatePreview } from '../../widget/src/ui/Gate';
import { Notices } from '../../widget/src/ui/Notices';
import { theme } from './state';

const SAMPLE = {
  metric: 'API calls',
  limit: 10_000,
  plan: 'Starter',
  next_plan: 'Pro',
  feature: 'Single sign-on',
  seats: { used: 4, limit: 5 },
  /** A forecast prompt's sample: 7,000 of 10,000 used, the limit 6 days ahead (Dec 12). */
  forecast_used: 7000,
  forecast_days: 6,
  forecast_at: Date.UTC(2026, 11, 12),
};

const PREVIEW_FEATURE = 'preview_feature';

/** The widget state a user on the sample account would get with this prompt showing. */
function previewState(def: Pick<PromptDefinition, 'kind' | 'trigger'>, copy: PromptCopy): WidgetState {
  const trigger = def.kind === 'forecast' ? {} : (def.trigger as { thresholds?: number[]; blocking?: boolean; milestones?: number[]; seat_pct?: number });
  const threshold = def.kind === 'limit_notice' ? (trigger.thresholds?.[0] ?? 90) : undefined;
  const used =
    def.kind === 'limit_notice'
      ? Math.round((SAMPLE.limit * Math.min(threshold! + 3, 100)) / 100)
      : def.kind === 'milestone'
        ? (trigger.milestones?.[0] ?? 1000)
        : def.kind === 'forecast'
          ? SAMPLE.forecast_used
          : SAMPLE.seats.used;
  const limit = def.kind === 'invite' ? SAMPLE.seats.limit : SAMPLE.limit;
  const vars: CopyVars = {
    used,
    limit,
    pct: Math.floor((used / limit) * 100),
    metric: def.kind === 'invite' ? 'seats' : SAMPLE.metric,
    plan: SAMPLE.plan,
    next_plan: SAMPLE.next_plan,
    feature: SAMPLE.feature,
    next_limit: 50_000,
    date: SAMPLE.forecast_at,
    days: SAMPLE.forecast_days,
  };
  const text = (s: string) => renderCopy(s, vars, 'en-US');
  const blocking = (def.kind === 'limit_notice' && threshold === 100 && trigger.blocking !== false) || false;
  const prompt: Prompt = {
    id: `preview-${def.kind}`,
    kind: def.kind,
    ...(def.kind === 'limit_notice' && { metric: 'api_calls', threshold }),
    ...(def.kind === 'forecast' && { metric: 'api_calls' }),
    ...(def.kind === 'feature_gate' && { feature_id: PREVIEW_FEATURE }),
    blocking,
    title: text(copy.title),
    body: text(copy.body),
    cta_label: text(copy.cta_label),
    secondary_label: text(copy.secondary_label),
  };
  return {
    account: {
      id: 'preview',
      name: 'Preview Co',
      role: 'admin',
      plan: { id: 'starter', name: SAMPLE.plan, price_cents: 5000, currency: 'usd' },
      seats: SAMPLE.seats,
    },
    meters: [{ metric: 'api_calls', name: SAMPLE.metric, used, limit: SAMPLE.limit, pct: vars.pct!, threshold: threshold ?? null }],
    features: {
      [PREVIEW_FEATURE]: { entitled: false, trial_available: false, required_plan: 'pro', name: SAMPLE.feature, description: 'Sign in with your identity provider.' },
    },
    prompts: [prompt],
    upgrade_options: [{ plan_id: 'pro', name: SAMPLE.next_plan, price_cents: 20000, currency: 'usd', limits: { api_calls: 50_000 } }],
    caps: { session_prompts_left: 99 },
  };
}

/** What the shadow root shows: the gate preview for feature gates, the notices otherwise. */
const Surface = () =>
  widgetState.value?.prompts[0]?.kind === 'feature_gate' ? (
    <Box>
      <GatePreview id={PREVIEW_FEATURE} />
    </Box>
  ) : (
    <Notices />
  );

/** The prompt as the widget renders it, updated on every keystroke. Not interactive. */
export function WidgetPreview({ def, copy }: { def: Pick<PromptDefinition, 'kind' | 'trigger'>; copy: PromptCopy }) {
  const host = useRef<HTMLDivElement>(null);
  const t = theme.value;
  useEffect(() => {
    const root = host.current!.shadowRoot ?? host.current!.attachShadow({ mode: 'open' });
    adopt(root);
    render(<Surface />, root);
    return () => render(null, root);
  }, []);
  useEffect(() => {
    const s = previewState(def, copy);
    // The preview is not a real impression: mark it shown so the widget records nothing.
    for (const p of s.prompts) shown.add(p.id);
    widgetOptions.value = { theme: t };
    widgetState.value = s;
  }, [def, copy.title, copy.body, copy.cta_label, copy.secondary_label, t]);
  return (
    <div class="preview-frame">
      <div class="muted small">
        Live preview, as the widget renders it (sample: {SAMPLE.plan} plan, {SAMPLE.metric}, next plan {SAMPLE.next_plan})
      </div>
      <div class="preview" ref={host} data-testid="prompt-preview" inert />
    </div>
  );
}
