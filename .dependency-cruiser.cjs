/** Keeps the picture in ARCHITECTURE.md true: core is pure, adapters never import each other, no cycles. */
const ADAPTERS = ['plan', 'executors', 'workspace', 'store', 'dispatch', 'report', 'server', 'mcp'];
module.exports = {
  forbidden: [
    { name: 'no-circular', comment: 'type-only cycles vanish at run time', severity: 'error', from: {}, to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } } },
    {
      name: 'core-is-pure',
      comment: 'src/core imports only src/core and plain libraries (no Node I/O).',
      severity: 'error',
      from: { path: '^src/core/' },
      to: { pathNot: ['^src/core/', 'node_modules'], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'core-no-node-io',
      severity: 'error',
      from: { path: '^src/core/' },
      to: { dependencyTypes: ['core'] },
    },
    ...ADAPTERS.map((a) => ({
      name: `${a}-only-core`,
      comment: `src/${a} imports core/ and libraries, never another adapter; cli/ wires them.`,
      severity: 'error',
      from: { path: `^src/${a}/` },
      to: { path: `^src/(${ADAPTERS.filter((x) => x !== a).join('|')}|cli)/` },
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
