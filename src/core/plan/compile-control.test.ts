import { describe, expect, it } from 'vitest';
import { planProblems, SHELL_AND_CLAUDE as executors } from '../testing/plan-problems.js';
import { compilePlan } from './compile.js';

const SCORED = { type: 'object', properties: { score: { type: 'number' }, veto: { type: 'string' } } };

const problems = (plan: unknown): string[] => planProblems(plan);

const review = { id: 'ui', run: 'review', outputSchema: SCORED };

describe('compilePlan: gates', () => {
  it('a gate runs nothing (no executor needed) and waits for the tasks it reads', () => {
    const p = compilePlan(
      {
        defaults: { executor: 'claude' },
        tasks: [
          { ...review, executor: 'shell' },
          { id: 'ok', gate: 'tasks.ui.output.score >= 6' },
        ],
      },
      { executors },
    );
    const gate = p.graph.tasks[1];
    expect(gate).toMatchObject({ executor: 'gate', after: ['ui'], gateSource: 'tasks.ui.output.score >= 6' });
    expect(gate?.gate).toMatchObject({ kind: 'binary', op: '>=' });
    expect([...(p.graph.softDeps[1] ?? []), ...(p.graph.deps[1] ?? [])]).toEqual([0]);
  });

  it('a typo in a gate is one line with did-you-mean, before anything runs', () => {
    expect(problems({ tasks: [review, { id: 'ok', gate: 'tasks.ui.output.scroe >= 6' }] })).toEqual([
      expect.stringMatching(
        /^plan\.yaml task "ok" gate: condition reads tasks\.ui\.output\.scroe: .*did you mean "score"\?$/,
      ),
    ]);
    expect(problems({ tasks: [review, { id: 'ok', gate: 'tasks.uix.succeeded' }] })).toEqual([
      'plan.yaml task "ok" gate: condition reads tasks.uix.succeeded: unknown task "uix" — fix: did you mean "ui"?',
    ]);
    expect(problems({ tasks: [review, { id: 'ok', gate: 'tasks.ui.output.score >=' }] })).toEqual([
      expect.stringMatching(/^plan\.yaml task "ok" gate: bad condition at character \d+: unexpected end of condition/),
    ]);
    expect(problems({ tasks: [review, { id: 'ok', gate: 'tasks.ui.output.veto >= 6' }] })).toHaveLength(1);
  });

  it('a gate with a command, a prompt or an executor is told it runs nothing', () => {
    expect(problems({ tasks: [review, { id: 'ok', gate: 'tasks.ui.succeeded', run: 'deploy' }] })).toEqual([
      'plan.yaml task "ok" run: a gate runs nothing, so it has no run — fix: remove run, or make "ok" a task and put the condition in a gate after it',
    ]);
    expect(problems({ tasks: [review, { id: 'ok', gate: 'tasks.ui.succeeded', executor: 'claude' }] })).toHaveLength(1);
  });

  it('a gate reading itself, or closing a cycle through what it reads, is refused', () => {
    expect(problems({ tasks: [{ id: 'ok', gate: 'tasks.ok.succeeded' }] })).toEqual([
      'plan.yaml task "ok" gate: gate "ok" reads itself — fix: read the tasks before it (tasks.<id>.output.<key>)',
    ]);
    expect(
      problems({
        tasks: [
          { ...review, needs: ['ok'] },
          { id: 'ok', gate: 'tasks.ui.output.score >= 6' },
        ],
      }),
    ).toEqual([expect.stringContaining('dependency cycle')]);
  });

  it('a gate that reads a blocked gate in when: never true, said so', () => {
    expect(
      problems({
        tasks: [
          review,
          { id: 'ok', gate: 'tasks.ui.succeeded' },
          { id: 'd', run: 'x', after: ['ok'], when: 'tasks.ok.blocked' },
        ],
      }),
    ).toEqual([expect.stringContaining('never true in when')]);
  });
});

describe('compilePlan: score and minScore', () => {
  it('minScore needs score; score must be a numeric key of outputSchema (did you mean)', () => {
    expect(problems({ tasks: [{ ...review, minScore: 6 }] })).toEqual([
      'plan.yaml task "ui" minScore: minScore needs score: the output key that holds the number — fix: add score: <output key>, e.g. score: score',
    ]);
    expect(problems({ tasks: [{ ...review, score: 'scroe' }] })).toEqual([
      'plan.yaml task "ui" score: score "scroe" is not a key of outputSchema — fix: did you mean "score"?',
    ]);
    expect(problems({ tasks: [{ ...review, score: 'veto' }] })).toEqual([
      'plan.yaml task "ui" score: score "veto" is a string in outputSchema, not a number — fix: declare veto as {type: number}, or name a numeric key',
    ]);
    expect(problems({ tasks: [{ ...review, score: 'score', minScore: 6 }] })).toEqual([]);
  });

  it('score without an outputSchema: refused before the run (every attempt would fail after it)', () => {
    expect(problems({ tasks: [{ id: 'ui', run: 'review', score: 'score', minScore: 6 }] })).toEqual([
      'plan.yaml task "ui" score: score "score" needs an outputSchema that declares it: the output is checked against it, then scored — fix: add outputSchema: {type: object, required: [score], properties: {score: {type: number}}}',
    ]);
  });

  it('an outputSchema that is not a JSON Schema: refused before the run, not after the task ran', () => {
    expect(problems({ tasks: [{ id: 'ui', run: 'review', outputSchema: { type: 'objectt' } }] })).toEqual([
      'plan.yaml task "ui" outputSchema: not a JSON Schema weft can check: type "objectt" is not a JSON Schema type: did you mean "object"? — fix: e.g. {type: object, required: [score], properties: {score: {type: number}}}',
    ]);
    const forbidding = { type: 'object', required: ['score'], additionalProperties: false };
    expect(problems({ tasks: [{ id: 'ui', run: 'review', outputSchema: forbidding }] })).toEqual([
      expect.stringContaining('outputSchema: not a JSON Schema weft can check: required names "score"'),
    ]);
  });

  it('a check cannot verify a gate: there is no work of its to send a fix back to', () => {
    const tasks = [review, { id: 'ok', gate: 'tasks.ui.succeeded' }, { id: 'c', run: 'test', verifies: ['ui', 'ok'] }];
    expect(problems({ tasks })).toEqual([
      'plan.yaml task "c" verifies[1]: "ok" is a gate: it runs nothing, so there is no work of its to check — fix: verify the tasks the gate reads, or make this check read the gate with when: tasks.ok.passed',
    ]);
  });

  it('approval takes only "required"', () => {
    expect(problems({ tasks: [{ ...review, approval: 'required' }] })).toEqual([]);
    expect(problems({ tasks: [{ ...review, approval: 'yes' }] })).toEqual([
      expect.stringMatching(/^plan\.yaml task "ui" approval: /),
    ]);
  });
});
