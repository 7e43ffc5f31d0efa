import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, tempProject, weft } from '../support/weft-cli.js';

beforeAll(ensureBuilt);

const BAD_PLAN = 'tasks:\n  - { id: build, run: "true" }\n  - { id: test, run: "true", needs: [biuld] }\n';

/** [what fails, the arguments (run in a fresh folder holding plan.yaml with a typo and notes.txt), exit code, code, message] */
const cases: [string, string[], number, string, RegExp][] = [
  [
    'run: a bad plan',
    ['run', 'plan.yaml'],
    2,
    'WEFT_PLAN_INVALID',
    /^plan\.yaml:3:\d+ task "test" needs\[0\]: unknown task "biuld"/,
  ],
  ['run: a missing plan file', ['run', 'nope.yaml'], 2, 'WEFT_PLAN_NOT_FOUND', /^nope\.yaml: no such file$/],
  ['run: an unknown flag', ['run', 'plan.yaml', '--bogus'], 2, 'WEFT_USAGE', /^unknown option '--bogus'$/],
  [
    'run: a bad flag value',
    ['run', 'plan.yaml', '-j', '0'],
    2,
    'WEFT_USAGE',
    /^-j expects a whole number of workers from 1 to 1024, got "0"$/,
  ],
  ['estimate: a bad plan', ['estimate', 'plan.yaml'], 2, 'WEFT_PLAN_INVALID', /unknown task "biuld"/],
  ['estimate: a missing plan file', ['estimate', 'nope.yaml'], 2, 'WEFT_PLAN_NOT_FOUND', /^nope\.yaml: no such file$/],
  ['validate: a missing plan file', ['validate', 'nope.yaml'], 2, 'WEFT_PLAN_NOT_FOUND', /^nope\.yaml: no such file$/],
  ['status: an unknown run', ['status', 'nope'], 2, 'WEFT_RUN_NOT_FOUND', /^no run "nope"$/],
  ['logs: an unknown run', ['logs', 'nope', 'build'], 2, 'WEFT_RUN_NOT_FOUND', /^no run "nope"$/],
  ['report: an unknown run', ['report', 'nope'], 2, 'WEFT_RUN_NOT_FOUND', /^no run "nope"$/],
  ['apply: no run yet', ['apply'], 2, 'WEFT_RUN_NOT_FOUND', /^no run to pick$/],
  ['resume: no run yet', ['resume'], 2, 'WEFT_RUN_NOT_FOUND', /^no run to resume$/],
  ['init: an unknown template', ['init', '--template', 'nope'], 2, 'WEFT_USAGE', /^unknown template "nope"$/],
  ['plan: a missing argument', ['plan'], 2, 'WEFT_USAGE', /^missing required argument 'goal'$/],
  [
    'schema: a file it cannot write',
    ['schema', '-o', 'notes.txt/schema.json'],
    2,
    'WEFT_USAGE',
    /^cannot write the schema to notes\.txt\/schema\.json: ENOTDIR$/,
  ],
  ['an unknown command', ['bogus'], 2, 'WEFT_USAGE', /^unknown command 'bogus'/],
];

describe('with --json, a command that fails prints one JSON object on stdout and keeps its exit code', () => {
  it.each(cases)('%s', async (_what, args, exitCode, code, message) => {
    const project = tempProject();
    writeFileSync(join(project, 'plan.yaml'), BAD_PLAN);
    writeFileSync(join(project, 'notes.txt'), 'not a folder\n');
    const plain = await weft(args, { cwd: project });
    expect(plain.code).toBe(exitCode);
    expect(plain.stdout).toBe('');
    const r = await weft([...args, '--json'], { cwd: project });
    expect(r.code).toBe(exitCode);
    const lines = r.stdout.split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(1);
    const out = JSON.parse(lines[0] as string);
    expect(Object.keys(out)).toEqual(['error']);
    expect(out.error.code).toBe(code);
    expect(out.error.message).toMatch(message);
    expect(r.stdout).not.toMatch(/\n\s+at /); // never a stack trace
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it("weft logs --help says what its --json does (it said 'accepted for symmetry', as if it did nothing)", async () => {
    const help = await weft(['logs', '--help']);
    expect(help.stdout).toMatch(/ --json +a failure as one JSON object on stdout \(the log stays text\)\n/);
  });

  it('a bad plan lists every issue with its position, as validate --json does', async () => {
    const project = tempProject();
    writeFileSync(join(project, 'plan.yaml'), BAD_PLAN);
    const r = await weft(['run', 'plan.yaml', '--json'], { cwd: project });
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout).error.issues).toEqual([
      expect.objectContaining({
        file: 'plan.yaml',
        line: 3,
        task: 'test',
        field: 'needs[0]',
        message: 'unknown task "biuld"',
        fix: 'did you mean "build"?',
      }),
    ]);
  });

  it('a hint comes as its own field', async () => {
    const project = tempProject();
    const r = await weft(['run', 'nope.yaml', '--json'], { cwd: project });
    expect(JSON.parse(r.stdout).error.hint).toBe('pass the path of a plan file, e.g. examples/app.yaml');
  });

  it('after `--`, "--json" is an argument, not the flag', async () => {
    const project = tempProject();
    const r = await weft(['validate', '--', '--json'], { cwd: project });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^weft: --json: no such file/);
  });
});
