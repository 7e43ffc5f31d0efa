import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { makespanLowerBound } from './makespan-lower-bound.js';
import type { TaskSpec } from '../../plan/plan-schema.js';
import { simulate } from '../simulate.js';
import { compilePlan, type ExecutorCatalog } from '../../plan/compile.js';

const executors: ExecutorCatalog = new Map([['shell', { requires: 'run' as const }]]);
/** The graph of `tasks`, with those of `pools` they use (a pool no task uses is refused). */
const graphOf = (tasks: readonly TaskSpec[], pools: Record<string, number> = {}) => {
  const used = Object.entries(pools).filter(([pool]) => tasks.some((t) => t.uses?.[pool] !== undefined));
  return compilePlan({ tasks, ...(used.length === 0 ? {} : { pools: Object.fromEntries(used) }) }, { executors }).graph;
};

/** Random DAGs with soft deps, pools and write scopes, and a random order to run them in. */
const dagWithOrder = fc
  .record({
    tasks: fc.array(
      fc.record({
        estimate: fc.integer({ min: 0, max: 12 }),
        needs: fc.array(fc.nat(), { maxLength: 4 }),
        after: fc.array(fc.nat(), { maxLength: 1 }),
        pool: fc.constantFrom(undefined, 'gpu', 'api'),
        writes: fc.constantFrom(undefined, 'src/**', 'src/a.ts', 'docs/*.md'),
        key: fc.double({ min: 0, max: 1, noNaN: true }),
      }),
      { minLength: 1, maxLength: 40 },
    ),
    workers: fc.integer({ min: 1, max: 6 }),
  })
  .map(({ tasks, workers }) => {
    const specs: TaskSpec[] = tasks.map((t, i) => {
      const earlier = (xs: number[]): string[] => (i === 0 ? [] : [...new Set(xs.map((x) => `t${x % i}`))]);
      const needs = earlier(t.needs);
      return {
        id: `t${i}`,
        run: 'true',
        estimate: t.estimate,
        needs,
        after: earlier(t.after).filter((d) => !needs.includes(d)),
        ...(t.pool === undefined ? {} : { uses: { [t.pool]: 1 } }),
        ...(t.writes === undefined ? {} : { writes: [t.writes] }),
      };
    });
    return { graph: graphOf(specs, { gpu: 1, api: 2 }), workers, score: tasks.map((t) => t.key) };
  });

describe('makespanLowerBound', () => {
  it('is never above what any order achieves', () => {
    fc.assert(
      fc.property(dagWithOrder, ({ graph, workers, score }) => {
        const bound = makespanLowerBound(graph, workers);
        expect(simulate(graph, { workers, score }).makespan).toBeGreaterThanOrEqual(bound);
        expect(bound).toBeGreaterThanOrEqual(Math.max(graph.criticalPathMs, graph.totalWorkMs / workers) - 1e-6);
      }),
      { numRuns: 200 },
    );
  });

  it('counts rounds when tasks are too few to share the workers evenly', () => {
    // 5 tasks of 10 s on 4 workers: work / M says 12.5 s, but one worker runs two of them.
    const graph = graphOf(Array.from({ length: 5 }, (_, i) => ({ id: `t${i}`, run: 'true', estimate: 10 })));
    expect(makespanLowerBound(graph, 4)).toBe(20_000);
  });

  it('sees that a fan-in has to wait for the widest stage', () => {
    // a (10 s) then b, c, d (10 s each) then e (10 s), on 2 workers: 10 + 20 + 10 = 40 s, not max(30, 25).
    const graph = graphOf([
      { id: 'a', run: 'true', estimate: 10 },
      ...['b', 'c', 'd'].map((id) => ({ id, run: 'true', estimate: 10, needs: ['a'] })),
      { id: 'e', run: 'true', estimate: 10, needs: ['b', 'c', 'd'] },
    ]);
    expect(makespanLowerBound(graph, 2)).toBe(40_000);
    expect(simulate(graph, { workers: 2 }).makespan).toBe(40_000);
  });
});
