import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WeftError } from '../core/errors.js';
import { checkTasks, readProjectFacts, type ProjectFacts } from './project-checks.js';

const facts = (scripts: Record<string, string> | undefined, files: string[] = []): ProjectFacts => ({
  scripts,
  files: new Set(files),
});
const runs = (f: ProjectFacts, shards?: number) =>
  checkTasks(f, shards === undefined ? {} : { shards })?.tasks.map((t) => `${t.id}: ${String(t.run)}`);

describe('checkTasks', () => {
  it('prefers the first script of each kind and keeps declaration order lint → build', () => {
    expect(
      runs(
        facts({
          build: 'tsc',
          'type-check': 'tsc --noEmit',
          'format:check': 'prettier -c .',
          lint: 'eslint .',
          e2e: 'playwright test',
          test: 'node --test',
        }),
      ),
    ).toEqual([
      'lint: npm run --silent lint',
      'format: npm run --silent format:check',
      'typecheck: npm run --silent type-check',
      'unit: npm run --silent test',
      'e2e: npm run --silent e2e',
      'build: npm run --silent build',
    ]);
  });

  it('shards vitest and jest, but not watch mode or other runners', () => {
    expect(runs(facts({ test: 'jest --ci' }), 2)).toEqual([
      'unit-1: npm run --silent test -- --shard=1/2',
      'unit-2: npm run --silent test -- --shard=2/2',
    ]);
    expect(runs(facts({ test: 'vitest --watch' }))).toEqual(['unit: npm run --silent test']);
    expect(runs(facts({ test: 'vitest' }), 1)).toEqual(['unit: npm run --silent test']);
    expect(runs(facts({ test: 'mocha' }))).toEqual(['unit: npm run --silent test']);
  });

  it('skips the placeholder test script of `npm init`, and empty scripts', () => {
    expect(checkTasks(facts({ test: 'echo "Error: no test specified" && exit 1', lint: ' ' }))).toBeUndefined();
    expect(runs(facts({ test: 'echo "Error: no test specified" && exit 1', 'test:unit': 'vitest run' }), 2)).toEqual([
      'unit-1: npm run --silent test:unit -- --shard=1/2',
      'unit-2: npm run --silent test:unit -- --shard=2/2',
    ]);
  });

  it('falls back to the tools when a config exists but no script', () => {
    expect(checkTasks(facts(undefined, ['tsconfig.json', '.eslintrc.json']))?.found).toEqual([
      'lint: no script, .eslintrc.json → eslint .',
      'typecheck: no script, tsconfig.json → tsc --noEmit',
    ]);
    expect(checkTasks(facts(undefined, ['README.md']))).toBeUndefined();
  });

  it('refuses a shard count that is not a small whole number', () => {
    expect(() => checkTasks(facts({ test: 'vitest' }), { shards: 0 })).toThrow(
      'shards expects a whole number from 1 to 64, got "0"',
    );
    expect(() => checkTasks(facts({ test: 'vitest' }), { shards: 2.5 })).toThrow(WeftError);
  });
});

describe('readProjectFacts', () => {
  it('reads the scripts and the file names, and says when package.json is not JSON', () => {
    const dir = mkdtempSync(join(tmpdir(), 'weft-checks-'));
    expect(readProjectFacts(dir)).toEqual({ scripts: undefined, files: new Set() });
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ scripts: { lint: 'eslint .', bad: 3 } }));
    writeFileSync(join(dir, 'tsconfig.json'), '{}');
    expect(readProjectFacts(dir)).toEqual({
      scripts: { lint: 'eslint .' },
      files: new Set(['package.json', 'tsconfig.json']),
    });
    writeFileSync(join(dir, 'package.json'), '{ "scripts": ');
    expect(() => readProjectFacts(dir)).toThrow(/package\.json: cannot read it as JSON/);
    expect(readProjectFacts(join(dir, 'missing'))).toEqual({ scripts: undefined, files: new Set() });
  });
});
