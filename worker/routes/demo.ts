import { sign } from 'hono/jwt';
import { z } from 'zod';
import { checkResultSchema, id } from '../../shared/schemas';
import { existingAccounts, loadAccountState } from '../accounts';
import { checkAndRecord, meterOf } from '../usage';
import { database } from '../db';
import { isProduction } from '../config';
import { ApiError, notFound } from '../errors';
import { json, publicRouter, route } from './groups';

/**
 * `/demo` (outside production only): a fake SaaS host app with a user switcher for the
 * seeded accounts, showing every widget component. It plays the host backend too: its
 * `/demo/token` endpoint mints user tokens, as a real host's `/ladder-token` would.
 * Served under a strict CSP (no inline script or style) to show the widget works there.
 */
const tokenQuery = z.strictObject({
  account: id.default('initech'),
  role: z.enum(['admin', 'member']).default('admin'),
  locale: z.string().regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/).optional(),
  /** Another user of the account (default `<account>-<role>`): caps and dismissals are per user. */
  user: id.optional(),
});

const text = (type: string, description: string) => ({ description, content: { [type]: { schema: z.string() } } });

const pageRoute = route({ method: 'get', path: '/', summary: 'Demo host app (development only)', responses: { 200: text('text/html', 'The demo page') } });
const scriptRoute = route({ method: 'get', path: '/app.js', summary: 'Demo host app script (development only)', responses: { 200: text('text/javascript', 'The script') } });
const stylesRoute = route({ method: 'get', path: '/app.css', summary: 'Demo host app styles (development only)', responses: { 200: text('text/css', 'The styles') } });
const tokenRoute = route({
  method: 'get',
  path: '/token',
  summary: 'Demo host backend: mint a user token (development only)',
  request: { query: tokenQuery },
  responses: { 200: json(z.object({ token: z.string() }), 'A user token for one hour') },
  errors: ['account_not_found', 'not_found'],
});
const projectsRoute = route({
  method: 'post',
  path: '/projects',
  summary: 'Demo host backend: check-and-record one project (development only)',
  request: { query: z.strictObject({ account: id }) },
  responses: { 200: json(checkResultSchema, "The projects meter's room after recording") },
  errors: ['account_not_found', 'metric_not_found', 'not_found'],
});

/** Mounted at `/demo` outside production only; answers 404 in production besides. */
export const demoRoutes = publicRouter();

demoRoutes.use('*', async (c, next) => {
  if (isProduction(c.env)) throw new ApiError('not_found', 'The demo is only served in development.');
  await next();
  c.header('Content-Security-Policy', "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'");
});

demoRoutes
  .openapi(tokenRoute, async (c) => {
    const q = c.req.valid('query');
    if (!(await existingAccounts(database(c.env.DB), [q.account])).size) throw notFound('account', q.account, 'account');
    const now = Math.floor(c.get('now') / 1000);
    const token = await sign(
      { sub: q.user ?? `${q.account}-${q.role}`, acct: q.account, role: q.role, name: `Demo ${q.role}`, iat: now, exp: now + 3600, ...(q.locale && { locale: q.locale }) },
      c.env.LADDER_USER_TOKEN_SECRET,
      'HS256',
    );
    return c.json({ token }, 200);
  })
  // The host backend's side of "New project": an atomic check-and-record of one project.
  .openapi(projectsRoute, async (c) => {
    const { account } = c.req.valid('query');
    const meter = meterOf(c.env);
    const state = await loadAccountState(meter.db, account);
    return c.json(await checkAndRecord(meter, state, 'projects', 1, crypto.randomUUID(), c.get('now')), 200);
  })
  .openapi(scriptRoute, (c) => c.body(APP_JS, 200, { 'content-type': 'text/javascript; charset=utf-8' }))
  .openapi(stylesRoute, (c) => c.body(APP_CSS, 200, { 'content-type': 'text/css; charset=utf-8' }))
  .openapi(pageRoute, (c) => c.html(PAGE, 200));

const ACCOUNTS = [
  ['acme', 'Acme Corp — 55% of API calls'],
  ['globex', 'Globex — 80%'],
  ['initech', 'Initech — 93%'],
  ['umbrella', 'Umbrella — 100% (limit reached)'],
  ['hooli', 'Hooli — new, not activated'],
];

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Quanta — a demo SaaS app with Ladder</title>
<link rel="stylesheet" href="/demo/app.css">
<script defer src="/ladder.js"></script>
<script defer src="/demo/app.js"></script>
</head>
<body>
<header>
  <strong>Quanta</strong> <span class="muted">analytics for teams — a pretend host app</span>
  <form id="who" aria-label="Demo user">
    <label>Account <select id="account">${ACCOUNTS.map(([v, l]) => `<option value="${v}"${v === 'initech' ? ' selected' : ''}>${l}</option>`).join('')}</select></label>
    <label>Role <select id="role"><option value="admin">admin</option><option value="member">member</option></select></label>
    <label>Locale <select id="locale"><option>en-US</option><option>de-DE</option><option>fr-FR</option><option>ja-JP</option></select></label>
    <label>Theme <select id="theme"><option>light</option><option>dark</option></select></label>
  </form>
</header>
<main>
  <section aria-labelledby="usage-h">
    <h2 id="usage-h">Usage</h2>
    <ladder-meter metric="api_calls"></ladder-meter>
    <ladder-meter metric="seats"></ladder-meter>
    <ladder-meter metric="projects"></ladder-meter>
  </section>
  <section aria-labelledby="notices-h">
    <h2 id="notices-h">Notices</h2>
    <ladder-notices></ladder-notices>
  </section>
  <section aria-labelledby="actions-h">
    <h2 id="actions-h">Things a user does</h2>
    <button id="new-project" type="button">New project</button>
    <button id="invite" type="button">Invite a teammate</button>
    <button id="analytics" type="button">Open advanced analytics</button>
    <p id="host-log" role="status" class="muted"></p>
  </section>
  <section aria-labelledby="plan-h">
    <h2 id="plan-h">Billing</h2>
    <ladder-plan></ladder-plan>
  </section>
  <section aria-labelledby="sso-h">
    <h2 id="sso-h">Security settings</h2>
    <ladder-gate feature="sso"><p>SSO is on: users sign in through your identity provider.</p></ladder-gate>
  </section>
</main>
</body>
</html>`;

const APP_CSS = `
body { font: 15px/1.5 system-ui, sans-serif; margin: 0; color: #1f2430; background: #f6f7fb; }
body.dark { color: #e7e9ee; background: #15171c; }
header { display: flex; flex-wrap: wrap; gap: 1rem; align-items: center; padding: .75rem 1.5rem; background: #fff; border-bottom: 1px solid #dde1ea; }
body.dark header { background: #1d2027; border-color: #333845; }
header form { display: flex; gap: .75rem; margin-left: auto; flex-wrap: wrap; }
main { max-width: 60rem; margin: 0 auto; padding: 1rem 1.5rem 4rem; display: grid; gap: 1.5rem; }
section { background: #fff; border: 1px solid #dde1ea; border-radius: 8px; padding: 1rem 1.25rem; }
body.dark section { background: #1d2027; border-color: #333845; }
h2 { font-size: 1rem; margin: 0 0 .75rem; }
button { font: inherit; padding: .4rem .8rem; margin-right: .5rem; border-radius: 6px; border: 1px solid #aab; background: #fff; cursor: pointer; }
.muted { color: #667; }
body.dark .muted { color: #9aa3b5; }
ladder-meter { display: block; margin-bottom: .75rem; }
`;

const APP_JS = `
(function () {
  var $ = function (id) { return document.getElementById(id); };
  var log = function (msg) { $('host-log').textContent = msg; };
  var params = new URLSearchParams(location.search);
  // An account the host created besides the seeded ones (tests use their own) joins the list.
  var asked = params.get('account');
  if (asked && !Array.prototype.some.call($('account').options, function (o) { return o.value === asked; })) $('account').add(new Option(asked, asked));
  ['account', 'role', 'locale', 'theme'].forEach(function (k) { if (params.get(k)) $(k).value = params.get(k); });

  function start() {
    var q = new URLSearchParams({ account: $('account').value, role: $('role').value, locale: $('locale').value });
    var user = new URLSearchParams(location.search).get('user'); // dropped when the switcher changes
    if (user) q.set('user', user);
    document.body.classList.toggle('dark', $('theme').value === 'dark');
    if (!window.Ladder) { log('The widget did not load.'); return; }
    window.Ladder.destroy();
    window.Ladder.init({
      apiBase: location.origin,
      locale: $('locale').value,
      theme: $('theme').value,
      getToken: function () {
        return fetch('/demo/token?' + q).then(function (r) { return r.json(); }).then(function (j) { return j.token; });
      },
    });
  }

  document.addEventListener('DOMContentLoaded', function () {
    $('who').addEventListener('change', function () {
      var q = new URLSearchParams({ account: $('account').value, role: $('role').value, locale: $('locale').value, theme: $('theme').value });
      history.replaceState(null, '', '?' + q);
      start();
    });
    $('new-project').addEventListener('click', function () {
      fetch('/demo/projects?account=' + $('account').value, { method: 'POST' })
        .then(function (r) { return r.json(); })
        .then(function (j) {
          log(j.allowed ? 'Project created (' + j.used + ' of ' + (j.limit === null ? 'unlimited' : j.limit) + ').' : 'Project limit reached — ' + (j.required_plan ? 'the ' + j.required_plan + ' plan allows more.' : 'upgrade for more.'));
          window.Ladder.refresh();
        });
    });
    $('invite').addEventListener('click', function () {
      window.Ladder.gate('seats').then(function (ok) { log(ok ? 'The host would open its invite dialog now.' : 'Seat limit reached: Ladder offered more seats.'); });
    });
    $('analytics').addEventListener('click', function () {
      window.Ladder.gate('advanced_analytics').then(function (ok) { log(ok ? 'Advanced analytics opened.' : 'Ladder showed the advanced analytics preview.'); });
    });
    if (window.Ladder) window.Ladder.on('invite', function () { log('Ladder asked the host to open its invite flow.'); });
    start();
  });
})();
`;
