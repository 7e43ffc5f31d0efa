import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { staticGate } from '../../core/run/policies/when.js';
import { dispatchOrder } from '../../core/schedule/dispatch-order.js';
import { estimate } from '../../core/schedule/simulate.js';
import { planArbitrary } from '../../core/testing/arbitraries.js';
import { smallestSimulated } from './estimate.js';

describe('smallestSimulated: the smallest M within 5% of the best, simulating only the M that can matter', () => {
  it('gives what simulating every M gives, on plans with pools, write scopes and conditions', () => {
    fc.assert(
      fc.property(planArbitrary({ maxTasks: 40 }), fc.integer({ min: 1, max: 8 }), ({ compiled, graph }, asked) => {
        const gate = staticGate(compiled, {});
        const makespan = (m: number): number =>
          estimate(graph, { workers: m, gate, ...dispatchOrder(compiled, m) }).makespan;
        const first = estimate(graph, { workers: asked, gate, ...dispatchOrder(compiled, asked) });
        const ms = Array.from({ length: Math.min(graph.tasks.length, 64) }, (_, k) => k + 1);

        const every = ms.map(makespan);
        const best = Math.min(...every);
        const smallest = ms.find((_, k) => (every[k] as number) <= best * 1.05);

        let simulations = 0;
        const found = smallestSimulated(
          ms,
          (m) => (simulations++, makespan(m)),
          (m) => Math.max(first.criticalPath, first.sequential / m),
        );
        expect(found).toEqual({ best, smallest });
        expect(simulations).toBeLessThanOrEqual(ms.length);
      }),
      { numRuns: 30, seed: 16 },
    );
  });

  it('simulates a few M, not every one, when more workers stop helping early', () => {
    // Makespan: work ÷ M down to the critical path of 10 at M = 10, then flat.
    const ms = Array.from({ length: 64 }, (_, k) => k + 1);
    const bound = (m: number): number => Math.max(10, 100 / m);
    const simulated: number[] = [];
    const found = smallestSimulated(ms, (m) => (simulated.push(m), bound(m)), bound);
    expect(found).toEqual({ best: 10, smallest: 10 });
    expect(simulated).toEqual([64, 10]);
  });
});
