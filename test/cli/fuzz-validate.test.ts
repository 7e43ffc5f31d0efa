import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { parse, stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { formatPlanIssue, PlanValidationError, WeftError } from '../../src/core/errors.js';
import { catalogOf } from '../../src/executors/index.js';
import { loadPlanFile } from '../../src/plan/load-plan.js';
import { wire } from '../../src/cli/wiring.js';
import { ROOT } from '../support/weft-cli.js';

/**
 * A seeded fuzzer over `weft validate`: it mutates valid plans — their values, and their text — and
 * checks what a user would see. Runs: WEFT_FUZZ_RUNS (default 300 each); seed: WEFT_FUZZ_SEED.
 */
const RUNS = Number(process.env.WEFT_FUZZ_RUNS ?? 300);
const SEED = Number(process.env.WEFT_FUZZ_SEED ?? 20261205);
/** A case takes ~10-40 ms on a loaded 2-core machine; long runs get the time they need. */
const TIMEOUT_MS = 30_000 + RUNS * 100;

const SEEDS = ['app.yaml', 'pipeline.yaml', 'checks.yaml', 'failing.yaml'].map((f) =>
  readFileSync(join(ROOT, 'examples', f), 'utf8'),
);
const executors = catalogOf(wire(ROOT).executors);
const dir = mkdtempSync(join(tmpdir(), 'weft-fuzz-'));
const file = join(dir, 'plan.yaml');

/** What `weft validate <file>` decides, in process: the exit code and the lines on stderr. */
function validate(text: string): { code: number; lines: string[] } {
  writeFileSync(file, text);
  try {
    loadPlanFile(file, { executors });
    return { code: 0, lines: [] };
  } catch (error) {
    if (error instanceof PlanValidationError) return { code: 2, lines: error.issues.map(formatPlanIssue) };
    if (error instanceof WeftError) return { code: -1, lines: [`weft: ${error.message} (${error.code})`] };
    return {
      code: 70,
      lines: [`internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`],
    };
  }
}

/** Exit 0, or exit 2 with one line per problem, each naming the file and where (a field or line:column). */
function expectOneLineEach(text: string): void {
  const { code, lines } = validate(text);
  const shown = `${lines.join('\n')}\n--- plan (first 300 chars) ---\n${text.slice(0, 300)}`;
  expect([0, 2], shown).toContain(code);
  for (const line of lines) {
    expect(line, shown).not.toMatch(/\n/);
    expect(line, shown).not.toMatch(/internal error|\s+at .+\(.+:\d+:\d+\)/);
    expect(line.startsWith(`${file}:`) || line.startsWith(`${file} `), shown).toBe(true);
    expect(line.length, shown).toBeLessThan(2_000);
  }
}

const nasty = fc.oneof(
  fc.constantFrom<unknown>(
    '',
    '\0',
    'a\nb',
    'a\0b',
    '__proto__',
    'constructor',
    '25d',
    '-1s',
    '1e400',
    '*a',
    '../..',
    'x'.repeat(200_000),
  ),
  fc.constantFrom<unknown>(
    null,
    true,
    false,
    0,
    -1,
    1.5,
    2 ** 31,
    Number.MAX_SAFE_INTEGER,
    [],
    {},
    [''],
    { '': '' },
    { 'A=B': 1 },
  ),
  fc.constantFrom<unknown>(
    'tasks.x.output.y > 1',
    'vars.constructor',
    `${'('.repeat(500)}vars.a${')'.repeat(500)}`,
    'vars.a && '.repeat(400),
  ),
  fc.anything({ maxDepth: 3 }),
);

/** The paths of every value in a plan, so a mutation can land anywhere. */
function paths(value: unknown, at: (string | number)[] = []): (string | number)[][] {
  if (typeof value !== 'object' || value === null) return [at];
  const keys = Array.isArray(value) ? value.map((_, i) => i) : Object.keys(value);
  return [at, ...keys.flatMap((k) => paths((value as Record<string | number, unknown>)[k], [...at, k]))];
}

function setAt(root: unknown, path: readonly (string | number)[], value: unknown): unknown {
  if (path.length === 0) return value;
  const [head, ...rest] = path as [string | number, ...(string | number)[]];
  const copy = Array.isArray(root) ? [...root] : ({ ...(root as object) } as Record<string | number, unknown>);
  (copy as Record<string | number, unknown>)[head] = setAt(
    (root as Record<string | number, unknown>)[head],
    rest,
    value,
  );
  return copy;
}

const TOKENS = [
  '*a',
  '&a ',
  '<<: *a',
  '[',
  ']',
  '{',
  '}',
  ': ',
  '- ',
  '\t',
  '\n',
  '"',
  "'",
  '!!binary ',
  '!!js/function ',
  '#',
  '\0',
  '%YAML 1.1\n',
  '---\n',
  '? ',
];

describe('fuzzing weft validate: every mutant is valid, or one line per problem naming file and field, exit 2', () => {
  it(
    'with values replaced anywhere in a valid plan',
    () => {
      fc.assert(
        fc.property(fc.constantFrom(...SEEDS), fc.nat(), nasty, fc.boolean(), (seed, pick, value, asKey) => {
          const plan = parse(seed) as unknown;
          const all = paths(plan);
          const path = all[pick % all.length] as (string | number)[];
          const mutated =
            asKey && typeof value === 'string' && path.length > 0
              ? setAt(plan, [...path.slice(0, -1), value], 1)
              : setAt(plan, path, value);
          expectOneLineEach(stringify(mutated, { aliasDuplicateObjects: false }));
        }),
        { numRuns: RUNS, seed: SEED },
      );
    },
    TIMEOUT_MS,
  );

  it(
    'with the text edited: tokens inserted, cut, repeated',
    () => {
      fc.assert(
        fc.property(
          fc.constantFrom(...SEEDS),
          fc.array(fc.tuple(fc.nat(), fc.constantFrom(...TOKENS), fc.nat({ max: 8 })), { minLength: 1, maxLength: 4 }),
          (seed, edits) => {
            let text = seed;
            for (const [at, token, cut] of edits) {
              const i = at % (text.length + 1);
              text = text.slice(0, i) + token + text.slice(i + cut);
            }
            expectOneLineEach(text);
          },
        ),
        { numRuns: RUNS, seed: SEED },
      );
    },
    TIMEOUT_MS,
  );

  it('the seeds themselves are valid', () => {
    for (const seed of SEEDS) expect(validate(seed)).toEqual({ code: 0, lines: [] });
  });
});
