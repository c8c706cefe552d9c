/**
 * The widget's CSS, adopted into each shadow root as one constructable stylesheet
 * (not blocked by a strict `style-src`), with a <style> element where that is missing.
 * Themed by the host through --ladder-* custom properties, which inherit into shadow roots.
 */
const v = (name: string, light: string, dark: string) => [`--${name}:var(--ladder-${name},${light})`, `--${name}:var(--ladder-${name},${dark})`];
const vars = [
  v('bg', '#fff', '#1c1f26'),
  v('fg', '#1f2330', '#eceef3'),
  v('muted', '#555b68', '#aab0bd'),
  v('border', '#d5d8e0', '#434958'),
  v('accent', '#4338ca', '#a5a6fa'),
  v('on-accent', '#fff', '#111'),
];
const theme = (i: number) => vars.map((p) => p[i]).join(';');

let css = `.r{all:initial;display:block;font:14px/1.45 var(--ladder-font,system-ui,sans-serif);color:var(--fg);--rd:var(--ladder-radius,8px);${theme(0)}}
.dark{${theme(1)}}@media(prefers-color-scheme:dark){.auto{${theme(1)}}}
*{box-sizing:border-box}
.float{position:fixed;right:16px;bottom:16px;z-index:2147483000;width:min(360px,calc(100vw - 32px))}
.card{background:var(--bg);border:1px solid var(--border);border-left:4px solid var(--accent);border-radius:var(--rd);padding:12px 14px;margin-bottom:8px;position:relative}
[data-intent=almost]{border-left-color:#d97706}[data-intent=reached]{border-left-color:#dc2626}
h2,h3,p{margin:0 0 6px;font-size:1em}
.mu{color:var(--muted);font-size:.9em}
.row{display:flex;flex-wrap:wrap;gap:8px;margin-top:8px}
button,input,textarea{font:inherit;color:inherit}
button{cursor:pointer;border:1px solid var(--border);background:var(--bg);border-radius:6px;padding:5px 12px}
.pri{background:var(--accent);border-color:var(--accent);color:var(--on-accent)}
.x{position:absolute;top:4px;right:4px;border:0;padding:2px 8px;font-size:1.2em}
:focus-visible{outline:2px solid var(--accent);outline-offset:2px}
.bar{height:8px;border-radius:4px;background:var(--border);overflow:hidden;margin:6px 0}
.fill{height:100%;background:var(--accent)}.over .fill{background:#dc2626}
.m{margin-bottom:10px}
@media(prefers-reduced-motion:no-preference){.fill{transition:width .4s}.card{animation:in .2s}}
@keyframes in{from{opacity:0;transform:translateY(6px)}}`;

let sheet: CSSStyleSheet | undefined;
const fallbacks: HTMLStyleElement[] = [];

/** Styles a shadow root, preferring a shared constructable stylesheet. */
export function adopt(root: ShadowRoot) {
  try {
    if (!sheet) (sheet = new CSSStyleSheet()).replaceSync(css);
    root.adoptedStyleSheets = [sheet];
  } catch {
    if (root.querySelector('style')) return;
    const el = document.createElement('style');
    el.textContent = css;
    fallbacks.push(el);
    root.prepend(el);
  }
}

/** Adds rules for on-demand parts (the upgrade dialog) to every styled root. */
export function addCss(more: string) {
  css += more;
  sheet?.replaceSync(css);
  fallbacks.forEach((el) => (el.textContent = css));
}
