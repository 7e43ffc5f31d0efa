#!/usr/bin/env node
// The whole test suite, as CI and a new developer run it: format, build, then weft's own checks run
// by weft (examples/checks.yaml: lint ∥ typecheck ∥ core unit tests ∥ a second build), import
// rules, then every test. Ends with one plain line: "N passed, N failed".
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
  ['checks, run by weft', 'node', ['dist/bin/main.js', 'run', 'examples/checks.yaml', '--no-isolation', '--no-cache']],
  ['import rules', 'npx', ['--no-install', 'depcruise', 'src', '--config', '.dependency-cruiser.cjs']],
];
/** The checks' run as a user reads it, then what weft's summary must say; a failed check's output in full. */
const CHECK_IDS = ['lint', 'typecheck', 'unit', 'build'];
function checksRun(r) {
  const out = r.stdout.toString();
  process.stdout.write(out);
  process.stderr.write(r.stderr.toString());
  const problems = [];
  if (!/tasks +4 succeeded/.test(out)) problems.push('the summary does not say "tasks 4 succeeded"');
  if (!/bottleneck +(lint|typecheck|unit|build)\n/.test(out)) problems.push('the summary names no bottleneck');
  if (r.status !== 0 || problems.length > 0)
    for (const task of CHECK_IDS)
      for (const stream of [[], ['--stderr']]) {
        const log = spawnSync('node', ['dist/bin/main.js', 'logs', 'latest', task, ...stream], { encoding: 'utf8' });
        if ((log.stdout ?? '').trim() !== '')
          process.stdout.write(`\n── ${task} ${stream[0] ?? '--stdout'}\n${log.stdout}`);
      }
  // The core's unit tests ran here (checks.yaml's `unit`): counted, and not run again below.
  const unit = spawnSync('node', ['dist/bin/main.js', 'logs', 'latest', 'unit'], { encoding: 'utf8' }).stdout ?? '';
  coreTests = Number(/Tests\s+(\d+) passed/.exec(unit)?.[1] ?? 0);
  if (coreTests === 0) problems.push("the unit check's log does not say how many tests passed");
  for (const p of problems) process.stdout.write(`weft's checks: ${p}\n`);
  return r.status === 0 && problems.length === 0 ? 0 : (r.status ?? 1) || 1;
}
/** How many of src/core's tests the checks step ran and passed. */
let coreTests = 0;
for (const [name, cmd, args] of steps) {
  process.stdout.write(`\n── ${name}\n`);
  const checks = name.startsWith('checks');
  const r = spawnSync(cmd, args, { stdio: checks ? 'pipe' : 'inherit', maxBuffer: 64 << 20 });
  const status = checks ? checksRun(r) : r.status;
  if (status !== 0) {
    process.stdout.write(`\n${name} failed (exit ${status})\n0 passed, 1 failed\n`);
    process.exit(1);
  }
}
mkdirSync('.weft', { recursive: true });
const results = '.weft/test-results.json';
process.stdout.write('\n── tests\n');
const extra = process.argv.slice(2);
// With no arguments narrowing the run, src/core's tests are left out: the checks step ran them.
const core = extra.length === 0 ? ['--exclude', 'src/core/**'] : [];
const r = spawnSync(
  'npx',
  [
    '--no-install',
    'vitest',
    'run',
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${results}`,
    ...core,
    ...extra,
  ],
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
if (core.length > 0) {
  process.stdout.write(`\n(and src/core's ${coreTests} tests, passed in the checks step)\n`);
  passed += coreTests;
}
process.stdout.write(`\n${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}\n`);
process.exit(r.status === 0 && passed > 0 ? 0 : 1);
