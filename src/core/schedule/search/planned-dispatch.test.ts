import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OrderedDecoder } from './delay-search.js';
import { DEFAULT_ESTIMATE_MS, type Graph } from '../../plan/graph.js';
import { branchAndBound } from './list-branch-and-bound.js';
import { searchOrder } from './order-search.js';
import { seededRandom } from './random.js';
import { Scheduler, type DispatchPlan } from '../scheduler.js';
import { simulate } from '../simulate.js';
import { planArbitrary, TEST_EXECUTORS, workersArbitrary, type TaskBehaviour } from '../../testing/arbitraries.js';
import { expectedOutcomes, runOnScheduler } from '../../testing/scheduler-harness.js';
import { compilePlan } from '../../plan/compile.js';

const compile = (tasks: readonly Record<string, unknown>[]): Graph =>
  compilePlan({ tasks }, { executors: TEST_EXECUTORS }).graph;

/**
 * On 2 workers only `a` and `long` are ready at 0, so every list schedule runs both then, and `b`
 * and `c` (released by `a` at 1) queue behind `long`: 7 s at best. Keeping a worker idle for
 * `long` lets `b` and `c` run side by side from 1 to 3, then `d` and `long` together: 6 s.
 */
const idleWins = (): Graph =>
  compile([
    { id: 'a', run: 'true', estimate: 1 },
    { id: 'long', run: 'true', estimate: 3 },
    { id: 'b', run: 'true', estimate: 2, needs: ['a'] },
    { id: 'c', run: 'true', estimate: 2, needs: ['a'] },
    { id: 'd', run: 'true', estimate: 2, needs: ['b', 'c'] },
  ]);

/** The plan the planned-dispatch decoder makes of `key` (a random topological order when random). */
function planOf(graph: Graph, workers: number, key: ArrayLike<number>): DispatchPlan {
  const decoder = new OrderedDecoder(graph, workers, Float64Array.from(graph.duration));
  decoder.run(key);
  return {
    order: Int32Array.from(decoder.order),
    start: Float64Array.from(decoder.startAt),
    end: Float64Array.from(decoder.endAt),
  };
}

const exactly = (graph: Graph): TaskBehaviour[] =>
  graph.tasks.map((_, i) => ({ failures: 0, retryDelayMs: 0, actualMs: graph.duration[i] as number }));

describe('planned dispatch', () => {
  it('reaches a makespan no list schedule can, and the Scheduler reproduces it on the virtual clock', () => {
    const graph = idleWins();
    const duration = Float64Array.from(graph.duration);
    const list = branchAndBound(graph, 2, duration, new Float64Array(5), Infinity, 0, 100_000);
    expect(list).toMatchObject({ complete: true, makespan: 7000 });
    const found = searchOrder(graph, 2);
    expect(found.strategy).toBe('planned');
    expect(found.makespan).toBe(6000);
    expect(simulate(graph, { workers: 2, score: found.score, dispatchPlan: found.plan as DispatchPlan }).makespan).toBe(
      6000,
    );
    // Without the plan, the score alone is a list schedule.
    expect(simulate(graph, { workers: 2, score: found.score }).makespan).toBe(7000);
    const trace = runOnScheduler(graph, exactly(graph), { workers: 2, plan: found.plan as DispatchPlan });
    expect(trace.makespan).toBe(6000);
    expect(trace.planDroppedAt).toBeUndefined();
  });

  it('drops the plan when a task overruns, at its deadline, and goes on work-conserving', () => {
    const graph = idleWins();
    const found = searchOrder(graph, 2);
    const plan = found.plan as DispatchPlan;
    const a = graph.index.get('a') as number;
    const long = graph.index.get('long') as number;
    const behaviour = exactly(graph).map((b, i) => (i === a ? { ...b, actualMs: 5000 } : b));
    const trace = runOnScheduler(graph, behaviour, { workers: 2, plan });
    // `a` was planned to end at 1 s (±2%): at 1.02 s the idle worker takes `long` instead of waiting.
    expect(trace.planDroppedAt).toBeCloseTo(1020, 6);
    expect(trace.starts.find((s) => s.task === long)?.at).toBeCloseTo(1020, 6);
    expect(trace.final.every((s) => s === 'succeeded')).toBe(true);
  });

  it('drops the plan when a task ends early, fails or is retried', () => {
    const graph = idleWins();
    const plan = searchOrder(graph, 2).plan as DispatchPlan;
    const a = graph.index.get('a') as number;
    const early = runOnScheduler(
      graph,
      exactly(graph).map((b, i) => (i === a ? { ...b, actualMs: 500 } : b)),
      { workers: 2, plan },
    );
    expect(early.planDroppedAt).toBe(500);
    expect(early.final.every((s) => s === 'succeeded')).toBe(true);
    const failed = runOnScheduler(
      graph,
      exactly(graph).map((b, i) => (i === a ? { ...b, failures: 99 } : b)),
      { workers: 2, plan },
    );
    expect(failed.planDroppedAt).toBe(1000);
    expect(failed.final).toEqual(['failed', 'succeeded', 'skipped', 'skipped', 'skipped']);
  });

  it('never idles a worker on a guess: a task without an estimate keeps the run list-scheduled', () => {
    // idleWins × 20 s, where `long` has no estimate and so gets the default (60 s, the right length).
    expect(DEFAULT_ESTIMATE_MS).toBe(60_000);
    const guessed = compile([
      { id: 'a', run: 'true', estimate: 20 },
      { id: 'long', run: 'true' },
      { id: 'b', run: 'true', estimate: 40, needs: ['a'] },
      { id: 'c', run: 'true', estimate: 40, needs: ['a'] },
      { id: 'd', run: 'true', estimate: 40, needs: ['b', 'c'] },
    ]);
    expect(searchOrder(guessed, 2).plan).toBeUndefined();
    // Given the same durations as known ones, the search does plan.
    expect(searchOrder(guessed, 2, { duration: Float64Array.from(guessed.duration) }).plan).toBeDefined();
  });

  it('rejects a plan that is not a dependency order of every task', () => {
    const graph = idleWins();
    const good = searchOrder(graph, 2).plan as DispatchPlan;
    const reversed = { ...good, order: Int32Array.from(good.order).reverse() };
    expect(() => new Scheduler(graph, { workers: 2, plan: reversed })).toThrow(RangeError);
    expect(() => new Scheduler(graph, { workers: 2, plan: { ...good, order: [0, 0, 1, 2, 3] } })).toThrow(RangeError);
  });

  it('any plan, any run: keeps M, pools, write locks and dependencies, and every task ends as the oracle says', () => {
    fc.assert(
      fc.property(
        planArbitrary({ maxTasks: 120 }),
        workersArbitrary(12),
        fc.integer(),
        ({ graph, behaviour, compiled }, workers, seed) => {
          const rand = seededRandom(seed);
          const key = graph.tasks.map(() => rand());
          const trace = runOnScheduler(graph, behaviour, {
            workers,
            plan: planOf(graph, workers, key),
            vars: compiled.vars,
          });
          expect(trace.final).toEqual(expectedOutcomes(graph, behaviour, compiled.vars).map((e) => e.state));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('a run that goes exactly as planned follows the plan to the end and ends when the plan does', () => {
    fc.assert(
      fc.property(
        planArbitrary({ maxTasks: 120, pools: false, writes: false, when: false, failures: false }),
        workersArbitrary(12),
        fc.integer(),
        ({ graph }, workers, seed) => {
          const rand = seededRandom(seed);
          const key = graph.tasks.map(() => rand());
          const plan = planOf(graph, workers, key);
          const trace = runOnScheduler(graph, exactly(graph), { workers, plan });
          expect(trace.planDroppedAt).toBeUndefined();
          expect(trace.makespan).toBe(Math.max(0, ...Array.from(plan.end)));
          for (const { task, at } of trace.starts) expect(at).toBe(plan.start[task]);
        },
      ),
      { numRuns: 150 },
    );
  });
});
