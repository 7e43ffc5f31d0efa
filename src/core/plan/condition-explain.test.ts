import { describe, expect, it } from 'vitest';
import { parseCondition, resolverOf } from './condition.js';
import { explainFalse, render } from './condition-explain.js';

const resolve = resolverOf({
  vars: { level: 1, env: 'dev' },
  task: (id) =>
    id === 'ui'
      ? { state: 'succeeded', output: { score: 4, nested: { ok: false } } }
      : id === 'sec'
        ? { state: 'succeeded', output: { veto: 'SQL built from input' } }
        : undefined,
});
const explain = (source: string) => explainFalse(parseCondition(source), resolve);

describe('explainFalse', () => {
  it('a comparison reads as the comparison that holds instead, with the value read', () => {
    expect(explain('tasks.ui.output.score >= 6')).toEqual(['tasks.ui.output.score = 4 < 6']);
    expect(explain('tasks.ui.output.score > 4')).toEqual(['tasks.ui.output.score = 4 <= 4']);
    expect(explain('tasks.ui.output.score < 2')).toEqual(['tasks.ui.output.score = 4 >= 2']);
    expect(explain('tasks.ui.output.score <= 3')).toEqual(['tasks.ui.output.score = 4 > 3']);
    expect(explain('vars.env == "prod"')).toEqual(["vars.env = 'dev' != 'prod'"]);
    expect(explain('vars.level != 1')).toEqual(['vars.level = 1 == 1']);
    expect(explain('vars.level == tasks.ui.output.score')).toEqual(['vars.level = 1 != tasks.ui.output.score = 4']);
  });

  it('a negated name that holds shows its value; a bare name that does not shows it too', () => {
    expect(explain('!tasks.sec.output.veto')).toEqual(["tasks.sec.output.veto = 'SQL built from input'"]);
    expect(explain('tasks.ui.output.nested.ok')).toEqual(['tasks.ui.output.nested.ok = false']);
    expect(explain('tasks.ui.output.missing')).toEqual(['tasks.ui.output.missing = missing']);
    expect(explain('!(vars.level == 1)')).toEqual(['vars.level == 1 holds']);
  });

  it('&& names only its failing sides; || names every side', () => {
    expect(explain('tasks.ui.output.score >= 6 && !tasks.sec.output.veto')).toEqual([
      'tasks.ui.output.score = 4 < 6',
      "tasks.sec.output.veto = 'SQL built from input'",
    ]);
    expect(explain('tasks.ui.output.score >= 2 && !tasks.sec.output.veto')).toEqual([
      "tasks.sec.output.veto = 'SQL built from input'",
    ]);
    expect(explain('tasks.ui.output.score >= 6 || vars.level > 1')).toEqual([
      'tasks.ui.output.score = 4 < 6',
      'vars.level = 1 <= 1',
    ]);
  });

  it('is empty when the condition holds; false literal says so', () => {
    expect(explain('tasks.ui.output.score >= 2')).toEqual([]);
    expect(explain('false')).toEqual(['false is false']);
  });

  it('renders a condition back as text', () => {
    const source = '!(vars.b == "x" || vars.c) && tasks.t.succeeded';
    expect(render(parseCondition(source))).toBe(source);
  });
});
