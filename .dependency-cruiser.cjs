/**
 * Ladder's architecture rules, checked by `npm test` (`npm run check:deps`).
 * shared/ is pure and self-contained; the worker and the two browser apps meet only there.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment:
        'Import cycles hide which module owns a rule; move the shared part into a module of its own. ' +
        'A cycle closed by a dynamic import() is not one: the widget entry loads its upgrade dialog on demand, ' +
        'and the dialog imports the entry on purpose (widget/src/upgrade/chunk.ts says why).',
      from: {},
      to: { circular: true, viaOnly: { dependencyTypesNot: ['dynamic-import', 'type-import'] } },
    },
    {
      name: 'shared-is-self-contained',
      severity: 'error',
      comment: 'shared/ holds pure rules and schemas used by every side; it imports nothing of the project outside itself.',
      from: { path: '^shared/' },
      to: { path: '^(worker|widget|dashboard|test)/' },
    },
    {
      name: 'browser-apps-never-import-the-worker',
      severity: 'error',
      comment: 'The widget and the dashboard talk to the worker over HTTP; shared types live in shared/.',
      from: { path: '^(widget|dashboard)/' },
      to: { path: '^worker/' },
    },
    {
      name: 'worker-never-imports-browser-code',
      severity: 'error',
      comment: 'The worker serves the built widget and dashboard as files; it never imports their code.',
      from: { path: '^worker/' },
      to: { path: '^(widget|dashboard)/' },
    },
    {
      name: 'widget-never-imports-the-dashboard',
      severity: 'error',
      from: { path: '^widget/' },
      to: { path: '^dashboard/' },
    },
    {
      name: 'dashboard-uses-widget-only-for-the-copy-preview',
      severity: 'error',
      comment: 'The copy editor previews prompts with the real widget components (dashboard/src/preview.tsx); nothing else in the dashboard imports the widget.',
      from: { path: '^dashboard/', pathNot: '^dashboard/src/preview\\.tsx$' },
      to: { path: '^widget/' },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'An import that does not resolve is a typo or a missing dependency.',
      from: {},
      to: { couldNotResolve: true, pathNot: '^(cloudflare:|node:|ladder:)' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist|\\.wrangler)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.tsx', '.js', '.mjs', '.d.ts'],
    },
  },
};
