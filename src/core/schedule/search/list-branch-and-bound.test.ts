import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Graph } from '../../plan/graph.js';
import { branchAndBound } from './list-branch-and-bound.js';
import type { TaskSpec } from '../../plan/plan-schema.js';
import { simulate } from '../simulate.js';
import { compilePlan, type ExecutorCatalog } from '../../plan/compile.js';

const executors: ExecutorCatalog = new Map([['shell', { requires: 'run' as const }]]);

/** The shortest list schedule, by trying every choice at every instant (tiny graphs only). */
function bruteForce(graph: Graph, workers: number): number {
  const n = graph.tasks.length;
  const waiting = graph.tasks.map((_, i) => (graph.deps[i]?.length ?? 0) + (graph.softDeps[i]?.length ?? 0));
  let best = Infinity;
  const step = (now: number, ready: number[], running: [number, number][], done: number): void => {
    const take = Math.min(workers - running.length, ready.length);
    const choose = (from: number, picked: number[]): void => {
      if (picked.length === take) {
        const run = [...running, ...picked.map((t): [number, number] => [t, now + (graph.duration[t] as number)])];
        const next = Math.min(...run.map(([, end]) => end));
        const finished = run.filter(([, end]) => end === next).map(([t]) => t);
        const released: number[] = [];
        for (const t of finished) for (const d of graph.dependents[t] ?? []) if (--waiting[d]! === 0) released.push(d);
        if (done + finished.length === n) best = Math.min(best, next);
        else
          step(
            next,
            [...ready.filter((t) => !picked.includes(t)), ...released],
            run.filter(([, end]) => end !== next),
            done + finished.length,
          );
        for (const t of finished) for (const d of graph.dependents[t] ?? []) waiting[d]!++;
        return;
      }
      for (let k = from; k < ready.length; k++) choose(k + 1, [...picked, ready[k] as number]);
    };
    choose(0, []);
  };
  step(
    0,
    waiting.flatMap((w, i) => (w === 0 ? [i] : [])),
    [],
    0,
  );
  return best;
}

const smallDag = fc
  .record({
    tasks: fc.array(
      fc.record({ estimate: fc.integer({ min: 1, max: 6 }), needs: fc.array(fc.nat(), { maxLength: 3 }) }),
      { minLength: 1, maxLength: 8 },
    ),
    workers: fc.integer({ min: 1, max: 3 }),
  })
  .map(({ tasks, workers }) => {
    const specs: TaskSpec[] = tasks.map((t, i) => ({
      id: `t${i}`,
      run: 'true',
      estimate: t.estimate,
      needs: i === 0 ? [] : [...new Set(t.needs.map((x) => `t${x % i}`))],
    }));
    return { graph: compilePlan({ tasks: specs }, { executors }).graph, workers };
  });

describe('branchAndBound', () => {
  it('finds the shortest list schedule, and says so, on every small graph', () => {
    fc.assert(
      fc.property(smallDag, ({ graph, workers }) => {
        const duration = Float64Array.from(graph.duration);
        const cp = simulate(graph, { workers }).makespan;
        const result = branchAndBound(graph, workers, duration, graph.rank, cp, 0, 1_000_000);
        expect(result.complete).toBe(true);
        expect(result.makespan).toBe(bruteForce(graph, workers));
        if (result.startAt !== undefined) {
          // The schedule it found is one the Scheduler reproduces when ranked by start time.
          const score = Array.from(result.startAt, (s) => -s);
          expect(simulate(graph, { workers, score }).makespan).toBe(result.makespan);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('stops at its node budget and does not claim completeness', () => {
    const specs: TaskSpec[] = Array.from({ length: 14 }, (_, i) => ({
      id: `t${i}`,
      run: 'true',
      estimate: 1 + ((i * 5) % 7),
    }));
    const graph = compilePlan({ tasks: specs }, { executors }).graph;
    const result = branchAndBound(graph, 3, Float64Array.from(graph.duration), graph.rank, Infinity, 0, 10);
    expect(result.complete).toBe(false);
    expect(result.nodes).toBe(11);
  });
});
