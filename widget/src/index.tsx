/**
 * Ladder's embeddable widget. Loaded by `<script async src=".../ladder.js"
 * data-token-url="/ladder-token">` or started with `Ladder.init({...})`; places meters,
 * notices and gate previews through custom elements, each in its own shadow root.
 * The only global is `window.Ladder`.
 */
import { render, type VNode } from 'preact';
import { adopt } from './style';
import { emit, gateOpen, on, options, placedNotices, prompts, state, upgrade, warn } from './store';
import { flush, loadState, resetSession, track } from './transport';
import type { Options, Theme } from './types';
import { Safe } from './ui/Box';
import { allowed, GateSlot } from './ui/Gate';
import { Meters } from './ui/Meter';
import { openUpgrade } from './ui/lazyUpgrade';
import { Notices } from './ui/Notices';

export interface LadderApi {
  init(options: Options): Promise<void>;
  gate(featureId: string): Promise<boolean>;
  refresh(): Promise<void>;
  /** Opens "Manage plan": yearly billing, downgrade and cancel for admins; "Ask your admin" for members. */
  managePlan(): void;
  on(event: 'ready' | 'upgrade' | 'invite' | 'error', fn: (detail?: unknown) => void): () => void;
  destroy(): void;
}

declare global {
  interface Window {
    Ladder?: LadderApi;
  }
}

/** The worker serving the widget: the default API base. */
const scriptOrigin = new URL(import.meta.url).origin;
let loaded = Promise.resolve();
let ready = false;
let floating: HTMLElement | null = null;

function mount(host: HTMLElement, view: VNode | null) {
  try {
    const root = host.shadowRoot ?? host.attachShadow({ mode: 'open' });
    adopt(root);
    render(view && <Safe>{view}</Safe>, root);
  } catch (e) {
    warn('render', e);
  }
}

/** Defines `<tag attr="…">` rendering `view` into its own open shadow root. */
function define(tag: string, attr: string, view: (el: HTMLElement) => VNode, count?: (n: number) => void) {
  if (customElements.get(tag)) return;
  customElements.define(
    tag,
    class extends HTMLElement {
      static get observedAttributes() {
        return [attr];
      }
      connectedCallback() {
        count?.(1);
        mount(this, view(this));
      }
      disconnectedCallback() {
        count?.(-1);
        mount(this, null);
      }
      attributeChangedCallback() {
        if (this.isConnected) mount(this, view(this));
      }
    },
  );
}

function mountFloating() {
  const go = () => {
    if (floating || !options.value.apiBase) return;
    floating = document.createElement('ladder-root');
    document.body.append(floating);
    mount(floating, <Notices float />);
  };
  document.body ? go() : addEventListener('DOMContentLoaded', go);
}

const Ladder: LadderApi = {
  init(o) {
    try {
      resetSession();
      ready = false;
      options.value = { ...o, apiBase: (o.apiBase ?? scriptOrigin).replace(/\/$/, '') };
      mountFloating();
      return (loaded = loadState().then(() => {
        ready = !!state.value;
        if (ready) emit('ready', state.value);
      }));
    } catch (e) {
      warn('init', e);
      return Promise.resolve();
    }
  },

  async gate(featureId) {
    try {
      await loaded;
      const s = state.value;
      const f = s?.features[featureId];
      // `seats`: may one more teammate join? At the limit, the worker hears it and admins can buy seats.
      const seats = featureId == 'seats' && s?.account.seats;
      if (seats ? seats.limit === null || seats.used < seats.limit : allowed(f)) return true;
      if (seats || f) {
        track('gate_hit', null, featureId);
        if (seats) openUpgrade({ seats: seats.limit! + 1 });
        else {
          // the worker lists the preview, with the PM's copy, only while its caps allow it
          await flush();
          await (loaded = loadState());
          if (prompts.value.some((q) => q.kind === 'feature_gate' && q.feature_id === featureId)) gateOpen.value = featureId;
        }
      }
    } catch (e) {
      warn('gate', e);
    }
    return false;
  },

  refresh: () => (loaded = loadState()),

  managePlan: () => openUpgrade({ manage: true }),

  on(event, fn) {
    if (event === 'ready' && ready) queueMicrotask(() => fn(state.value));
    return on(event, fn);
  },

  destroy() {
    flush();
    if (floating) mount(floating, null);
    floating?.remove();
    floating = null;
    options.value = {};
    upgrade.value = gateOpen.value = null;
    resetSession();
  },
};

/** Installs `window.Ladder` and the custom elements, and starts from the script tag's data attributes. */
function start(script: HTMLScriptElement) {
  window.Ladder = Ladder;
  try {
    addEventListener('visibilitychange', () => document.visibilityState === 'hidden' && flush());
    define('ladder-meter', 'metric', (el) => <Meters metric={el.getAttribute('metric')} />);
    define('ladder-gate', 'feature', (el) => <GateSlot id={el.getAttribute('feature') ?? ''} />);
    define('ladder-notices', 'theme', () => <Notices />, (n) => (placedNotices.value += n));
    define('ladder-plan', 'theme', () => <button onClick={Ladder.managePlan}>Manage plan</button>);
    const d = script.dataset;
    if (d.tokenUrl)
      Ladder.init({
        tokenUrl: d.tokenUrl,
        apiBase: d.apiBase,
        locale: d.locale,
        theme: d.theme as Theme | undefined,
        inviteUrl: d.inviteUrl,
      });
  } catch (e) {
    warn('init', e);
  }
}

// The loader (`/ladder.js`, see widget/build.mjs) imports this module with a stand-in
// `window.Ladder` that holds its <script> element and forwards calls until the real one is here.
const loader = window.Ladder as { script?: HTMLScriptElement } | undefined;
if (loader?.script) start(loader.script);
