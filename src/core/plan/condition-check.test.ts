import { describe, expect, it } from 'vitest';
import { parseCondition } from './condition.js';
import { checkCondition, checkWhen, type ConditionTask } from './condition-check.js';

const schema = {
  type: 'object',
  properties: {
    score: { type: 'number' },
    verdict: { type: 'string' },
    passed: { type: 'boolean' },
    meta: { type: 'object', properties: { lint: { type: 'object', properties: { errors: { type: 'integer' } } } } },
    tags: { type: 'array', items: { type: 'string' } },
    extra: { type: 'object', additionalProperties: { type: 'number' } },
  },
};
const tasks = new Map<string, ConditionTask>([
  ['ui', { outputSchema: schema }],
  ['build', {}],
  ['count', { outputWithoutSchema: true }],
  ['loose', { outputSchema: { type: 'object' } }],
]);
const vars = { security: true, level: 2, mode: 'prod' };

/** The problems a user would see for `source`, as "message — fix" lines. */
const problems = (source: string): string[] =>
  checkCondition(parseCondition(source), { vars, tasks }).map((p) => `${p.message} — fix: ${p.fix}`);

describe('checkCondition: every name a condition reads is checked before anything runs', () => {
  it('accepts every documented form', () => {
    for (const ok of [
      'vars.security',
      '!vars.security',
      'vars.level >= 2',
      'vars.mode == "prod"',
      'env.CI == "true"',
      'env.ANY',
      'tasks.build.succeeded',
      'tasks.build.failed',
      'tasks.build.skipped',
      'tasks.build.cancelled',
      'tasks.build.status == "failed"',
      'tasks.build == "failed"',
      'tasks.build.exitCode != 0',
      'tasks.build.text == "x"',
      'tasks.ui.output.score >= 6',
      'tasks.ui.output.verdict == "ok"',
      'tasks.ui.output.passed',
      'tasks.ui.output.meta.lint.errors == 0',
      'tasks.ui.output.tags.0 == "a"',
      'tasks.ui.output.extra.anything > 1',
      'tasks.ui.output.score == null',
      'tasks.count.output.files > 1',
      'tasks.loose.output.any.key == "x"',
      'env.LEVEL > 1',
      'tasks.ui.output.meta',
    ])
      expect(problems(ok), ok).toEqual([]);
  });

  it('names an unknown task, field, variable or output key, with did-you-mean', () => {
    expect(problems('tasks.build.succeded')).toEqual([
      'condition reads tasks.build.succeded: tasks have no field "succeded" — fix: did you mean "succeeded"?',
    ]);
    expect(problems('tasks.biuld.succeeded')).toEqual([
      'condition reads tasks.biuld.succeeded: unknown task "biuld" — fix: did you mean "build"?',
    ]);
    expect(problems('tasks.zzzzzz.succeeded')).toEqual([
      'condition reads tasks.zzzzzz.succeeded: unknown task "zzzzzz" — fix: use the id of a task in this plan',
    ]);
    expect(problems('tasks.ui.output.scroe >= 6')).toEqual([
      'condition reads tasks.ui.output.scroe: outputSchema has no key "scroe" at tasks.ui.output — fix: did you mean "score"?',
    ]);
    expect(problems('tasks.ui.output.meta.lint.erors == 0')).toEqual([
      'condition reads tasks.ui.output.meta.lint.erors: outputSchema has no key "erors" at tasks.ui.output.meta.lint' +
        ' — fix: did you mean "errors"?',
    ]);
    expect(problems('tasks.ui.output.tags.first')).toEqual([
      'condition reads tasks.ui.output.tags.first: tasks.ui.output.tags is a list in outputSchema; it has no key "first"' +
        ' — fix: read an item by its position, e.g. tasks.ui.output.tags.0',
    ]);
    expect(problems('tasks.ui.output.score.value')).toEqual([
      'condition reads tasks.ui.output.score.value: tasks.ui.output.score is a number in outputSchema and has no key "value"' +
        ' — fix: write tasks.ui.output.score',
    ]);
    expect(problems('tasks.build.output.score >= 6')).toEqual([
      'condition reads tasks.build.output.score: task "build" declares no outputSchema, so it has no structured output' +
        ' — fix: add outputSchema to task "build", e.g. {type: object, properties: {score: {type: number}}}',
    ]);
    expect(problems('tasks.build.succeeded.really')).toEqual([
      'condition reads tasks.build.succeeded.really: succeeded has no fields — fix: write tasks.build.succeeded',
    ]);
    expect(problems('vars.levle > 1')).toEqual([
      'condition reads vars.levle: the plan declares no variable "levle" — fix: did you mean "vars.level"?',
    ]);
    expect(problems('vars.mode.length')).toEqual([
      'condition reads vars.mode.length: variable "mode" is a single value and has no fields — fix: write vars.mode',
    ]);
    expect(problems('env.CI.x')).toEqual([
      'condition reads env.CI.x: environment variables have no fields — fix: write env.CI',
    ]);
  });

  it("declares only the plan's own variables: prototype names are unknown", () => {
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      expect(problems(`vars.${name}`)).toEqual([
        `condition reads vars.${name}: the plan declares no variable "${name}" — fix: its variables: security, level, mode`,
      ]);
    }
    expect(checkCondition(parseCondition('vars.x'), { vars: {}, tasks }).map((p) => p.fix)).toEqual([
      'declare it under vars: {x: …}',
    ]);
    expect(problems('tasks.ui.output.constructor')).toEqual([
      'condition reads tasks.ui.output.constructor: outputSchema has no key "constructor" at tasks.ui.output' +
        ' — fix: its keys: score, verdict, passed, meta, tags, extra',
    ]);
  });

  it('refuses comparisons whose types are known and cannot match', () => {
    expect(problems('tasks.ui.output.score == "high"')).toEqual([
      'condition compares a number with a string in tasks.ui.output.score == "high"' +
        ' — fix: compare with a number, e.g. tasks.ui.output.score == 6',
    ]);
    expect(problems('tasks.ui.output.verdict > 3')).toEqual([
      'condition compares a string with > in tasks.ui.output.verdict > 3 — fix: > compares numbers; use == or != for strings',
    ]);
    expect(problems('vars.mode >= 1')).toEqual([
      'condition compares a string with >= in vars.mode >= 1 — fix: >= compares numbers; use == or != for strings',
    ]);
    expect(problems('vars.level == "2"')).toEqual([
      'condition compares a number with a string in vars.level == "2" — fix: compare with a number, e.g. vars.level == 2',
    ]);
    // The fix writes the literal in the reference's type, wherever the literal stands.
    expect(problems('"2" != vars.level')).toEqual([
      'condition compares a string with a number in "2" != vars.level — fix: compare with a number, e.g. vars.level != 2',
    ]);
    expect(problems('vars.mode == 3')).toEqual([
      'condition compares a string with a number in vars.mode == 3 — fix: compare with a string, e.g. vars.mode == "3"',
    ]);
    expect(problems('tasks.build.succeeded == "false"')).toEqual([
      'condition compares a boolean with a string in tasks.build.succeeded == "false" — fix: compare with a boolean, e.g. tasks.build.succeeded == false',
    ]);
    expect(problems('vars.security == 1')).toEqual([
      'condition compares a boolean with a number in vars.security == 1 — fix: compare with a boolean, e.g. vars.security == true',
    ]);
    expect(problems('tasks.build.exitCode == "0"')).toHaveLength(1);
    expect(problems('tasks.build.succeeded > 0')).toHaveLength(1);
    expect(problems('tasks.ui.output.score > tasks.ui.output.verdict')).toHaveLength(1);
    expect(problems('tasks.ui.output.meta.lint.errors < vars.level')).toEqual([]);
  });

  it('refuses comparing a whole object or list: its author meant a value inside it', () => {
    expect(problems('tasks.ui.output < 6')).toEqual([
      'condition compares tasks.ui.output, an object in outputSchema, in tasks.ui.output < 6 — fix: compare a value inside it, e.g. tasks.ui.output.<key>',
    ]);
    expect(problems('tasks.ui.output.tags == "x"')).toEqual([
      'condition compares tasks.ui.output.tags, a list in outputSchema, in tasks.ui.output.tags == "x" — fix: compare a value inside it, e.g. tasks.ui.output.tags.0',
    ]);
    expect(problems('6 <= tasks.ui.output.meta')).toHaveLength(1);
    expect(problems('tasks.ui.output.tags.0 == "x"')).toEqual([]);
    expect(problems('tasks.ui.output.meta')).toEqual([]); // read for its truth, not compared
  });

  it('reports every problem in one condition', () => {
    expect(problems('tasks.build.succeded || vars.nope || tasks.ui.output.scroe > 1')).toHaveLength(3);
  });
});

describe('checkWhen', () => {
  it('refuses reading failed or cancelled in when: the task would be skipped before its condition is read', () => {
    const when = (source: string) =>
      checkWhen(parseCondition(source), { vars, tasks }).map((p) => `${p.message} — fix: ${p.fix}`);
    expect(when('tasks.build.failed || vars.security')).toEqual([
      'condition reads tasks.build.failed, which is never true in when: a task whose dependency failed is skipped before' +
        ' its condition is checked — fix: read tasks.build.succeeded or tasks.build.skipped instead',
    ]);
    expect(when('!tasks.build.cancelled')).toHaveLength(1);
    expect(when('tasks.build.succeeded || tasks.build.skipped')).toEqual([]);
  });
});
