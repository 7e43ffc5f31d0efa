#!/usr/bin/env node
// The whole test suite, as CI and a new developer run it: build, lint, typecheck, import rules,
// then every test. Ends with one plain line: "N passed, N failed".
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';

const steps = [
  [
    'format',
    'npx',
    [
      '--no-install',
      'prettier',
      '--check',
      'src',
      'bench',
      'test',
      'scripts',
      'vitest.config.ts',
      'eslint.config.js',
      '.dependency-cruiser.cjs',
    ],
  ],
  ['build', 'npm', ['run', '--silent', 'build']],
  ['lint', 'npx', ['--no-install', 'eslint', '.']],
  ['typecheck', 'npx', ['--no-install', 'tsc', '-p', 'tsconfig.json', '--noEmit']],
  ['import rules', 'npx', ['--no-install', 'depcruise', 'src', '--config', '.dependency-cruiser.cjs']],
];
for (const [name, cmd, args] of steps) {
  process.stdout.write(`\n── ${name}\n`);
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  if (r.status !== 0) {
    process.stdout.write(`\n${name} failed (exit ${r.status})\n0 passed, 1 failed\n`);
    process.exit(1);
  }
}
mkdirSync('.weft', { recursive: true });
const results = '.weft/test-results.json';
process.stdout.write('\n── tests\n');
const extra = process.argv.slice(2);
const r = spawnSync(
  'npx',
  ['--no-install', 'vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${results}`, ...extra],
  { stdio: 'inherit' },
);
let passed = 0;
let failed = r.status === 0 ? 0 : 1;
let skipped = 0;
if (existsSync(results)) {
  const json = JSON.parse(readFileSync(results, 'utf8'));
  passed = json.numPassedTests;
  failed = json.numFailedTests + (r.status !== 0 && json.numFailedTests === 0 ? 1 : 0);
  skipped = json.numPendingTests + json.numTodoTests;
}
process.stdout.write(`\n${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}\n`);
process.exit(r.status === 0 && passed > 0 ? 0 : 1);
