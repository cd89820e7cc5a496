/**
 * The architecture, checked: the core (src/) never reaches into jobs/ or notifiers/ except
 * through the composition root's registry (src/registry.ts); notifiers never import jobs;
 * no import cycles, type-only imports included (tsPreCompilationDeps).
 * Run with `npm run lint:deps` (part of `npm run lint`).
 */
module.exports = {
  forbidden: [
    {
      name: 'core-not-to-jobs-or-notifiers',
      comment: 'src/ derives from the definitions; only src/registry.ts imports the registries.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/registry\\.ts$' },
      to: { path: '^(jobs|notifiers)/' },
    },
    {
      name: 'registry-imports-only-the-registries',
      severity: 'error',
      from: { path: '^src/registry\\.ts$' },
      to: { path: '^(jobs|notifiers)/', pathNot: '^(jobs|notifiers)/index\\.ts$' },
    },
    {
      name: 'notifiers-not-to-jobs',
      severity: 'error',
      from: { path: '^notifiers/' },
      to: { path: '^jobs/' },
    },
    {
      name: 'no-circular',
      comment: 'No import cycles, type-only imports included.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], extensions: ['.ts', '.js'] },
  },
};
