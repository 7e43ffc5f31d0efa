import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, tempProject, weft } from '../support/weft-cli.js';

beforeAll(ensureBuilt);

/** A shell task that logs a line, then prints its structured output as JSON on its last line. */
const producer = `  - id: ui
    run: [node, -e, 'console.log("building"); console.log(JSON.stringify({score: 7, verdict: "ok", meta: {lint: {errors: 0}}, tags: ["ui", "api"]}))']
    outputSchema:
      type: object
      properties:
        score: { type: number }
        verdict: { type: string }
        meta: { type: object, properties: { lint: { type: object, properties: { errors: { type: integer } } } } }
        tags: { type: array, items: { type: string } }
  - { id: docs, when: false, run: "true" }
`;

/** Every form the README documents, each once where it holds and once where it does not. */
const forms: readonly [holds: string, fails: string][] = [
  ['vars.security', '!vars.security'],
  ['vars.level >= 2', 'vars.level > 2'],
  ['vars.mode == "prod"', 'vars.mode != "prod"'],
  ['env.CI == "yes"', 'env.CI == "no"'],
  ['tasks.ui.succeeded', '!tasks.ui.succeeded'],
  ['tasks.docs.skipped', '!tasks.docs.skipped'],
  ['tasks.ui.status == "succeeded"', 'tasks.ui == "skipped"'],
  ['tasks.ui.exitCode == 0', 'tasks.ui.exitCode != 0'],
  ['tasks.ui.output.score >= 6', 'tasks.ui.output.score >= 8'],
  ['tasks.ui.output.score == 7', 'tasks.ui.output.score < 7'],
  ['tasks.ui.output.verdict == "ok"', 'tasks.ui.output.verdict == "bad"'],
  ['tasks.ui.output.meta.lint.errors == 0', 'tasks.ui.output.meta.lint.errors > 0'],
  ['tasks.ui.output.tags.1 == "api"', 'tasks.ui.output.tags.0 == "api"'],
  [
    '(vars.security || vars.level > 5) && tasks.ui.output.score < 10',
    '!(vars.security || vars.level > 5) || vars.level == 3',
  ],
];

function casePlan(): string {
  const tasks = forms.flatMap(([yes, no], k) => [
    `  - { id: yes-${k}, after: [ui, docs], when: '${yes}', run: "true" }`,
    `  - { id: no-${k}, after: [ui, docs], when: '${no}', run: "true" }`,
  ]);
  return `vars: { security: true, level: 2, mode: prod }\ntasks:\n${producer}${tasks.join('\n')}\n`;
}

describe('when conditions on a real run: every documented form, read from real shell tasks', () => {
  it('runs each task whose condition holds and skips, with the reason, each whose condition does not', async () => {
    const project = tempProject();
    mkdirSync(join(project, 'plans'));
    writeFileSync(join(project, 'plans', 'conditions.yaml'), casePlan());
    const r = await weft(['run', 'plans/conditions.yaml', '--no-isolation', '-j', '2'], {
      cwd: project,
      env: { CI: 'yes' },
      timeoutMs: 120_000,
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    forms.forEach(([yes, no], k) => {
      expect(r.stdout, yes).toMatch(new RegExp(`^✓ yes-${k} `, 'm'));
      expect(r.stdout, no).toContain(`↷ no-${k} skipped: condition \`${no}\` is false`);
    });
    expect(r.stdout).toContain(
      `${forms.length + 1} succeeded, 0 failed, ${forms.length + 1} skipped of ${2 * forms.length + 2}`,
    );
  }, 180_000);

  it('--set changes what a condition reads, typed like the declared value', async () => {
    const project = tempProject();
    const plan =
      'vars: { security: true, level: 2 }\ntasks:\n' +
      '  - { id: audit, when: vars.security, run: "true" }\n  - { id: deep, when: vars.level >= 3, run: "true" }\n';
    writeFileSync(join(project, 'plan.yaml'), plan);
    const r = await weft(['run', 'plan.yaml', '--no-isolation', '--set', 'security=false', '--set', 'level=3'], {
      cwd: project,
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('↷ audit skipped: condition `vars.security` is false');
    expect(r.stdout).toMatch(/^✓ deep /m);
  });

  it('weft estimate --set leaves out what a condition skips, and names the critical path of what runs', async () => {
    const project = tempProject();
    const plan =
      'vars: { deep: true }\ntasks:\n' +
      '  - { id: a, run: "true", estimate: 1m }\n  - { id: b, run: "true", estimate: 2m }\n' +
      '  - { id: c, needs: [a], when: vars.deep, run: "true", estimate: 10m }\n';
    writeFileSync(join(project, 'plan.yaml'), plan);
    const figures = async (...set: string[]) =>
      JSON.parse((await weft(['estimate', 'plan.yaml', '--json', '-j', '2', ...set], { cwd: project })).stdout);
    expect(await figures()).toMatchObject({ makespan: 660, criticalPathTasks: ['a', 'c'], skipped: [] });
    // Before, the critical path was the whole plan's less c: "a", 60 s, beside a critical path of 120 s (b).
    expect(await figures('--set', 'deep=false')).toMatchObject({
      makespan: 120,
      criticalPath: 120,
      criticalPathTasks: ['b'],
      skipped: ['c'],
    });
  });

  // `--set level=0x10` was read as 16 (and `0b11` as 3, `" 5"` as 5): Number() reads more than decimals.
  it('--set of a number variable takes a decimal number; hex, binary and padded numbers are refused', async () => {
    const project = tempProject();
    writeFileSync(
      join(project, 'plan.yaml'),
      'vars: { level: 2 }\ntasks:\n  - { id: deep, when: vars.level >= 3, run: "true" }\n',
    );
    for (const value of ['0x10', '0b11', '0o7', ' 5', 'Infinity', '']) {
      const r = await weft(['validate', 'plan.yaml', '--set', `level=${value}`], { cwd: project });
      expect({ value, code: r.code, stderr: r.stderr }).toEqual({
        value,
        code: 2,
        stderr: `plan.yaml:1:9 vars.level: --set level=${value}: expected a decimal number — fix: e.g. --set level=2\n`,
      });
    }
    for (const value of ['16', '-2.5', '1e3', '+4', '.5'])
      expect((await weft(['validate', 'plan.yaml', '--set', `level=${value}`], { cwd: project })).code).toBe(0);
  });

  it('a shell task with outputSchema that prints no JSON fails with the reason, and what reads it is skipped', async () => {
    const project = tempProject();
    const plan =
      'tasks:\n  - id: ui\n    run: [node, -e, \'console.log("score: 7")\']\n' +
      '    outputSchema: { type: object, properties: { score: { type: number } } }\n' +
      '  - { id: ship, needs: [ui], when: tasks.ui.output.score >= 6, run: "true" }\n';
    writeFileSync(join(project, 'plan.yaml'), plan);
    const r = await weft(['run', 'plan.yaml', '--no-isolation'], { cwd: project });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      '✗ ui printed no JSON, but the task has an outputSchema: print one JSON value (all of stdout, or its last line)',
    );
    expect(r.stdout).toContain('↷ ship skipped: dependency "ui" failed');
  });

  it('a shell task whose JSON does not match its outputSchema fails, naming the key', async () => {
    const project = tempProject();
    const plan =
      'tasks:\n  - id: ui\n    run: [node, -e, \'console.log(JSON.stringify({score: "high"}))\']\n' +
      '    outputSchema: { type: object, properties: { score: { type: number } } }\n';
    writeFileSync(join(project, 'plan.yaml'), plan);
    const r = await weft(['run', 'plan.yaml', '--no-isolation'], { cwd: project });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/✗ ui the answer does not match outputSchema: score /);
  });
});

const base =
  'vars: { level: 2, mode: prod }\ntasks:\n' +
  '  - id: build\n    run: "true"\n    outputSchema: { type: object, properties: { score: { type: number } } }\n';
const bad: [string, string, string][] = [
  [
    'a typo in a task field',
    'tasks.build.succeded',
    'condition reads tasks.build.succeded: tasks have no field "succeded" — fix: did you mean "succeeded"?',
  ],
  [
    'an unknown task',
    'tasks.biuld.succeeded',
    'condition reads tasks.biuld.succeeded: unknown task "biuld" — fix: did you mean "build"?',
  ],
  [
    'a key outputSchema lacks',
    'tasks.build.output.scroe >= 6',
    'condition reads tasks.build.output.scroe: outputSchema has no key "scroe" at tasks.build.output — fix: did you mean "score"?',
  ],
  [
    'a number compared with a string',
    'tasks.build.output.score == "high"',
    'condition compares a number with a string in tasks.build.output.score == "high" — fix: compare with a number, e.g. tasks.build.output.score == 6',
  ],
  [
    'a string ordered against a number',
    'vars.mode > 1',
    'condition compares a string with > in vars.mode > 1 — fix: > compares numbers; use == or != for strings',
  ],
  [
    'an undeclared variable',
    'vars.levle >= 2',
    'condition reads vars.levle: the plan declares no variable "levle" — fix: did you mean "vars.level"?',
  ],
  [
    'a prototype name',
    'vars.constructor',
    'condition reads vars.constructor: the plan declares no variable "constructor" — fix: its variables: level, mode',
  ],
  [
    '__proto__',
    'vars.__proto__',
    'condition reads vars.__proto__: the plan declares no variable "__proto__" — fix: its variables: level, mode',
  ],
  [
    'a failure no when can see',
    'tasks.build.failed',
    'condition reads tasks.build.failed, which is never true in when: a task whose dependency failed is skipped before its condition is checked — fix: read tasks.build.succeeded or tasks.build.skipped instead',
  ],
];

describe('a condition that reads something wrong is refused before anything runs: one line, exit 2', () => {
  it.each(bad)('%s', async (_name, when, line) => {
    const project = tempProject();
    writeFileSync(
      join(project, 'plan.yaml'),
      `${base}  - { id: ship, needs: [build], when: '${when}', run: "true" }\n`,
    );
    for (const command of ['validate', 'run']) {
      const r = await weft([command, 'plan.yaml'], { cwd: project });
      expect(r.code).toBe(2);
      expect(r.stderr.split('\n').filter((l) => l !== '')).toEqual([`plan.yaml:6:33 task "ship" when: ${line}`]);
      expect(r.stdout).toBe('');
    }
    expect(existsSync(join(project, '.weft'))).toBe(false);
  });

  it('--set of a name the plan does not declare, __proto__ included, is refused', async () => {
    const project = tempProject();
    writeFileSync(
      join(project, 'plan.yaml'),
      `${base}  - { id: ship, needs: [build], when: 'vars.level > 1 && vars.mode == "prod"', run: "true" }\n`,
    );
    for (const name of ['__proto__', 'constructor', 'toString']) {
      const r = await weft(['run', 'plan.yaml', '--set', `${name}=1`], { cwd: project });
      expect(r.code).toBe(2);
      expect(r.stderr.trim()).toBe(
        `plan.yaml:1:1 vars.${name}: --set ${name}: the plan has no variable "${name}" — fix: its variables: level, mode`,
      );
    }
    expect(existsSync(join(project, '.weft'))).toBe(false);
  });
});
