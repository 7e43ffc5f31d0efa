/** Keeps the picture in docs/ARCHITECTURE.md true: core is pure, adapters never import each other, no cycles. */
const { readdirSync } = require('node:fs');

// Every folder under src/ but core (pure) and cli (the one place that wires adapters together) is an
// adapter; read from disk so the rules never name a folder that does not exist.
const ADAPTERS = readdirSync(`${__dirname}/src`, { withFileTypes: true })
  .filter((d) => d.isDirectory() && d.name !== 'core' && d.name !== 'cli')
  .map((d) => d.name);

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'type-only cycles vanish at run time',
      severity: 'error',
      from: {},
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    {
      name: 'core-is-pure',
      comment: 'src/core imports only src/core and plain libraries.',
      severity: 'error',
      from: { path: '^src/core/' },
      to: { pathNot: ['^src/core/', 'node_modules'], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'core-no-node-io',
      comment: 'src/core does no I/O: no node: modules.',
      severity: 'error',
      from: { path: '^src/core/' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'search-through-its-index',
      comment: 'src/core/schedule/search is reached only through its index.ts.',
      severity: 'error',
      from: { pathNot: '^src/core/schedule/search/' },
      to: { path: '^src/core/schedule/search/', pathNot: '^src/core/schedule/search/index\\.ts$' },
    },
    {
      name: 'ports-import-no-implementation',
      comment: 'src/core/ports describes contracts: it may name types from the rest of core, never import its code.',
      severity: 'error',
      from: { path: '^src/core/ports/' },
      to: { path: '^src/core/(plan|schedule|run)/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'plan-knows-no-schedule',
      comment:
        'Imports go one way inside core: plan <- schedule <- run. A plan is data; it never knows how it is scheduled.',
      severity: 'error',
      from: { path: '^src/core/plan/' },
      to: { path: '^src/core/schedule/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'plan-and-schedule-before-run',
      comment:
        'Imports go one way inside core: plan <- schedule <- run. Planning and scheduling never know about a run.',
      severity: 'error',
      from: { path: '^src/core/(plan|schedule)/' },
      to: { path: '^src/core/run/', dependencyTypesNot: ['type-only'] },
    },
    ...ADAPTERS.map((a) => ({
      name: `${a}-only-core`,
      comment: `src/${a} imports core/ and libraries, never another adapter; cli/ wires them.`,
      severity: 'error',
      from: { path: `^src/${a}/` },
      to: { path: `^src/(${[...ADAPTERS.filter((x) => x !== a), 'cli'].join('|')})/` },
    })),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '\\.test\\.ts$' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
