import { describe, expect, it } from 'vitest';
import { compilePlan } from '../plan/compile.js';
import { dispatchOrder } from './dispatch-order.js';
import { DEFAULT_MAX_SEARCH_TASKS, searchOrder } from './search/index.js';
import { expectedPathScore } from './surprise.js';

/** On 2 workers a schedule that keeps a worker idle for `long` beats every list schedule (6 s, not 7 s). */
const idleWins = (longClass?: string) =>
  compilePlan(
    {
      workers: 2,
      tasks: [
        { id: 'a', run: 'x', estimate: '1s' },
        { id: 'long', run: 'x', estimate: '3s', ...(longClass === undefined ? {} : { class: longClass }) },
        { id: 'b', run: 'x', estimate: '2s', needs: ['a'] },
        { id: 'c', run: 'x', estimate: '2s', needs: ['a'] },
        { id: 'd', run: 'x', estimate: '2s', needs: ['b', 'c'] },
      ],
    },
    { executors: new Map([['shell', { requires: 'run' as const }]]) },
  );

describe('dispatchOrder', () => {
  it('follows a searched schedule only when every task is of one class', () => {
    expect(dispatchOrder(idleWins(), 2).dispatchPlan).toBeDefined();
    expect(dispatchOrder(idleWins('P2'), 2).dispatchPlan).toBeDefined(); // P2 is the default: still one class
    const mixed = dispatchOrder(idleWins('P1'), 2);
    expect(mixed.dispatchPlan).toBeUndefined();
    expect(mixed.score).toBeDefined();
  });

  it('hands on the expected-path order for the first surprise; a sequential run gets nothing', () => {
    const plan = idleWins();
    expect(dispatchOrder(plan, 2).surpriseScore?.()).toEqual(expectedPathScore(plan.graph));
    expect(dispatchOrder(idleWins('P1'), 2).surpriseScore).toBeDefined();
    expect(dispatchOrder(plan, 2, 'sequential')).toEqual({});
  });

  it('gives a plan too large to search the order searchOrder gives it', () => {
    const n = DEFAULT_MAX_SEARCH_TASKS + 1;
    const tasks = Array.from({ length: n }, (_, i) => ({
      id: `t${i}`,
      run: 'x',
      estimate: `${1 + ((i * 7) % 13)}s`,
      priority: i % 3,
      needs: i < 3 ? [] : [`t${(i * 31) % i}`, `t${i - 1 - (i % 3)}`],
    }));
    const plan = compilePlan({ workers: 3, tasks }, { executors: new Map([['shell', { requires: 'run' as const }]]) });
    const found = searchOrder(plan.graph, 3, { seed: 1 });
    const order = dispatchOrder(plan, 3);
    expect(found.strategy).toBe('critical-path');
    expect(order.score).toEqual(found.score);
    expect(order.dispatchPlan).toBeUndefined();
  });
});
