import { describe, expect, it } from 'vitest';
import { compilePlan } from '../plan/compile.js';
import { TEST_EXECUTORS } from '../testing/arbitraries.js';
import { searchOrder } from './search/index.js';
import { Scheduler, type DispatchPlan } from './scheduler.js';
import { simulate } from './simulate.js';

/** On 2 workers the searched schedule keeps a worker idle at 0 for `long` (see planned-dispatch.test.ts). */
const idleWins = (longClass: string) =>
  compilePlan(
    {
      tasks: [
        { id: 'a', run: 'true', estimate: 1 },
        { id: 'long', run: 'true', estimate: 3, class: longClass },
        { id: 'b', run: 'true', estimate: 2, needs: ['a'] },
        { id: 'c', run: 'true', estimate: 2, needs: ['a'] },
        { id: 'd', run: 'true', estimate: 2, needs: ['b', 'c'] },
      ],
    },
    { executors: TEST_EXECUTORS },
  ).graph;

describe('Scheduler: classes and a planned schedule', () => {
  it('a ready P0 does not wait for its turn in the plan: the plan is dropped', () => {
    const started = (longClass: string): string[] => {
      const graph = idleWins(longClass);
      const plan = searchOrder(idleWins('P2'), 2).plan as DispatchPlan;
      const sched = new Scheduler(graph, { workers: 2, plan });
      sched.begin(0);
      const ids = sched.start(0).map((x) => graph.tasks[x.task]?.id as string);
      expect(sched.planned).toBe(longClass !== 'P0');
      return ids;
    };
    expect(started('P2')).toEqual(['a']); // the plan idles a worker on purpose
    expect(started('P0')).toEqual(['long', 'a']);
  });
});

describe('simulate (weft estimate): classes', () => {
  it('starts ready tasks by class before critical path, with a searched score too', () => {
    const graph = compilePlan(
      {
        tasks: [
          { id: 'long', run: 'true', estimate: '1h', class: 'P3' },
          { id: 'mid', run: 'true', estimate: '10m' },
          { id: 'quick', run: 'true', estimate: '1s', class: 'P0' },
        ],
      },
      { executors: TEST_EXECUTORS },
    ).graph;
    const order = (s: { schedule: readonly { task: number; start: number }[] }) =>
      [...s.schedule].sort((a, b) => a.start - b.start).map((x) => graph.tasks[x.task]?.id);
    expect(order(simulate(graph, { workers: 1 }))).toEqual(['quick', 'mid', 'long']);
    expect(order(simulate(graph, { workers: 1, score: searchOrder(graph, 1).score }))).toEqual([
      'quick',
      'mid',
      'long',
    ]);
  });
});
