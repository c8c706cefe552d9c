import type { ComponentChildren } from 'preact';
import { useErrorBoundary } from 'preact/hooks';
import { theme, warn } from '../store';

/** Catches render errors so a widget bug never reaches the host page. */
export function Safe({ children }: { children: ComponentChildren }) {
  const [error] = useErrorBoundary((e) => warn('render', e));
  return error ? null : children;
}

/** The themed root every widget surface renders in (resets what the host's CSS would pass down). */
export const Box = ({ children, float }: { children: ComponentChildren; float?: boolean }) => (
  <div class={`r ${theme.value}${float ? ' float' : ''}`}>{children}</div>
);
