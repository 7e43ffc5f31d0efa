import { describe, expect, it } from 'vitest';
import { compilePlan } from '../plan/compile.js';
import { TEST_EXECUTORS } from '../testing/arbitraries.js';
import { searchOrder } from './search/index.js';
import { Scheduler, type DispatchPlan } from './scheduler.js';

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
