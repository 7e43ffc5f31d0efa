import { describe, expect, it } from 'vitest';
import { learnedDuration, median, taskKind, whatTaskRuns } from './learned-duration.js';
import { compilePlan } from './compile.js';

describe('learnedDuration', () => {
  it("replaces a declared estimate only with the task's own measurements", () => {
    expect(learnedDuration(30_000, { kind: [900], command: [800] })).toBeUndefined();
    const own = learnedDuration(30_000, { task: [1000, 3000, 2000], kind: [900] });
    expect(own).toEqual({ ms: 2000, runs: 3, from: 'task', declaredMs: 30_000 });
  });

  it('fills a task with no estimate from its own runs, then the same command, then its kind', () => {
    const own = learnedDuration(undefined, { task: [10], command: [20], kind: [30] });
    expect(own).toMatchObject({ ms: 10, from: 'task' });
    const command = learnedDuration(undefined, { task: [], command: [20, 40], kind: [30] });
    expect(command).toEqual({ ms: 30, runs: 2, from: 'command', declaredMs: undefined });
    const kind = learnedDuration(undefined, { kind: [30] });
    expect(kind).toEqual({ ms: 30, runs: 1, from: 'kind', declaredMs: undefined });
    expect(learnedDuration(undefined, {})).toBeUndefined();
  });
});

describe('median, taskKind', () => {
  it('takes the middle value, or the mean of the two middle ones', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
  it('drops a trailing number', () => {
    const kinds = ['review-3', 'review_12', 't039', '42'].map(taskKind);
    expect(kinds).toEqual(['review', 'review', 't', '42']);
  });
});

describe('whatTaskRuns', () => {
  const executors = new Map([
    ['shell', { requires: 'run' as const }],
    ['claude', { requires: 'prompt' as const }],
  ]);
  const tasks = compilePlan(
    {
      defaults: { env: { B: 1, A: 2 } },
      tasks: [
        { id: 'a', run: 'make x', estimate: '1m' },
        { id: 'b', run: 'make x', priority: 3 },
        { id: 'c', run: 'make y' },
        { id: 'd', run: 'make x', env: { A: 3 } },
        { id: 'e', prompt: 'do x', executor: 'claude' },
        { id: 'f', prompt: 'do x', executor: 'claude', model: 'other' },
      ],
    },
    { executors },
  ).graph.tasks;
  const what = (i: number, dir = '.') => whatTaskRuns(tasks[i] as (typeof tasks)[number], dir);

  it('is the same for tasks that run the same thing, whatever their id, estimate or priority', () => {
    expect(what(0)).toBe(what(1));
  });
  it('differs by command, environment, folder, prompt, model', () => {
    expect(new Set([what(0), what(2), what(3), what(0, 'pkg'), what(4), what(5)]).size).toBe(6);
  });
});
