import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Graph } from '../plan/graph.js';
import { writeScopesOverlap } from '../plan/glob-overlap.js';
import { estimate, longestPath, simulate, type Simulation } from './simulate.js';
import { planArbitrary, readyOrderArbitrary, TEST_EXECUTORS, workersArbitrary } from '../testing/arbitraries.js';
import { compilePlan } from '../plan/compile.js';

const compile = (tasks: readonly Record<string, unknown>[], extra: Record<string, unknown> = {}): Graph =>
  compilePlan({ ...extra, tasks }, { executors: TEST_EXECUTORS }).graph;

/** Plans with no pools, no write scopes and no gates: only dependencies limit the schedule. */
const unlimitedPlan = planArbitrary({ maxTasks: 200, pools: false, writes: false, when: false, failures: false });

/** Skips every task that carries a `when` (a stand-in for "its condition was false"). */
const skipGated = (graph: Graph) => (i: number) =>
  graph.tasks[i]?.when === undefined ? undefined : 'condition is false';

/**
 * When each task could start at the earliest: when its last dependency ended. A skipped task
 * ends the moment it could have started.
 */
function readyTimes(graph: Graph, sim: Simulation): Float64Array {
  const ended = new Float64Array(graph.tasks.length);
  const ready = new Float64Array(graph.tasks.length);
  const end = new Map(sim.schedule.map((s) => [s.task, s.end]));
  const skipped = new Set(sim.skipped);
  for (const i of graph.topo) {
    for (const d of [...(graph.deps[i] ?? []), ...(graph.softDeps[i] ?? [])])
      ready[i] = Math.max(ready[i] as number, ended[d] as number);
    const e = end.get(i);
    if (e === undefined && !skipped.has(i)) throw new Error(`${graph.tasks[i]?.id} neither ran nor was skipped`);
    ended[i] = e ?? (ready[i] as number);
  }
  return ready;
}

describe('simulate', () => {
  it('with no limits (M ≥ tasks), finishes at exactly the critical path length', () => {
    fc.assert(
      fc.property(unlimitedPlan, fc.nat(4), ({ graph }, extra) => {
        const sim = simulate(graph, { workers: graph.tasks.length + extra });
        expect(sim.makespan).toBe(graph.criticalPathMs);
        expect(sim.makespan).toBe(longestPath(graph, graph.duration));
      }),
      { numRuns: 100 },
    );
  });

  it('with no limits, is work-conserving: every task starts the moment its last dependency ends', () => {
    fc.assert(
      fc.property(unlimitedPlan, readyOrderArbitrary, ({ graph }, order) => {
        const sim = simulate(graph, { workers: graph.tasks.length, order });
        const ready = readyTimes(graph, sim);
        for (const s of sim.schedule)
          expect({ task: graph.tasks[s.task]?.id, start: s.start }).toEqual({
            task: graph.tasks[s.task]?.id,
            start: ready[s.task],
          });
      }),
      { numRuns: 100 },
    );
  });

  it('with limits, respects M, pools, write locks and dependencies, and runs every task once for its estimate', () => {
    fc.assert(
      fc.property(
        planArbitrary({ maxTasks: 120 }),
        workersArbitrary(16),
        readyOrderArbitrary,
        ({ graph }, workers, order) => {
          const sim = simulate(graph, { workers, order, gate: skipGated(graph) });
          const ran = sim.schedule.map((s) => s.task);
          const ready = readyTimes(graph, sim);
          expect(new Set(ran).size).toBe(ran.length);
          expect([...ran, ...sim.skipped].sort((a, b) => a - b)).toEqual(graph.tasks.map((_, i) => i));
          for (const s of sim.schedule) {
            expect(s.end - s.start).toBe(graph.duration[s.task]);
            expect(s.start).toBeGreaterThanOrEqual(ready[s.task] as number);
            expect(s.worker).toBeGreaterThanOrEqual(0);
            expect(s.worker).toBeLessThan(workers);
          }
          // At every start, what is running then (half-open intervals) stays within every limit.
          for (const s of sim.schedule) {
            const during = sim.schedule.filter((o) => o.start <= s.start && s.start < o.end && o.end > o.start);
            expect(during.length).toBeLessThanOrEqual(workers);
            expect(new Set(during.map((o) => o.worker)).size).toBe(during.length);
            graph.pools.forEach((pool, p) => {
              const used = during.reduce((sum, o) => sum + (graph.uses[o.task]?.find(([q]) => q === p)?.[1] ?? 0), 0);
              expect(used).toBeLessThanOrEqual(pool.capacity);
            });
            for (const o of during)
              if (o !== s && s.end > s.start)
                expect(writeScopesOverlap(graph.tasks[s.task]?.writes ?? [], graph.tasks[o.task]?.writes ?? [])).toBe(
                  false,
                );
          }
          expect(sim.makespan).toBe(Math.max(0, ...sim.schedule.map((s) => s.end)));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('with one worker, takes the sum of the estimates of the tasks that run', () => {
    fc.assert(
      fc.property(planArbitrary({ maxTasks: 100 }), ({ graph }) => {
        const figures = estimate(graph, { workers: 1, gate: skipGated(graph) });
        expect(figures.makespan).toBe(figures.sequential);
      }),
      { numRuns: 60 },
    );
  });

  it('without pools or write scopes, stays within Graham’s bound: work / M + (1 − 1/M) · critical path', () => {
    fc.assert(
      fc.property(
        planArbitrary({ maxTasks: 200, pools: false, writes: false, failures: false }),
        workersArbitrary(16),
        readyOrderArbitrary,
        ({ graph }, workers, order) => {
          const f = estimate(graph, { workers, order, gate: skipGated(graph) });
          expect(f.makespan).toBeGreaterThanOrEqual(f.lowerBound);
          expect(f.makespan).toBeLessThanOrEqual(f.sequential / workers + (1 - 1 / workers) * f.criticalPath + 1e-6);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('prints the figures `weft estimate` shows for a diamond', () => {
    const graph = compile([
      { id: 'schema', run: 'x', estimate: '10m' },
      { id: 'api', run: 'x', estimate: '30m', needs: ['schema'] },
      { id: 'web', run: 'x', estimate: '20m', needs: ['schema'] },
      { id: 'e2e', run: 'x', estimate: '15m', needs: ['api', 'web'] },
    ]);
    const min = 60_000;
    const { simulation, ...two } = estimate(graph, { workers: 2 });
    expect(two).toEqual({
      workers: 2,
      makespan: 55 * min,
      sequential: 75 * min,
      criticalPath: 55 * min,
      lowerBound: 55 * min,
      speedup: 75 / 55,
    });
    expect(simulation.schedule.map((s) => [graph.tasks[s.task]?.id, s.start / min, s.end / min])).toEqual([
      ['schema', 0, 10],
      ['api', 10, 40],
      ['web', 10, 30],
      ['e2e', 40, 55],
    ]);
    expect(estimate(graph, { workers: 1 }).makespan).toBe(75 * min);
  });

  it('leaves skipped tasks out of the schedule and the critical path', () => {
    const graph = compile(
      [
        { id: 'build', run: 'x', estimate: '1m' },
        { id: 'bench', run: 'x', estimate: '1h', needs: ['build'], when: 'vars.bench' },
        { id: 'report', run: 'x', estimate: '1m', after: ['bench'] },
      ],
      { vars: { bench: false } },
    );
    const f = estimate(graph, { workers: 4, gate: skipGated(graph) });
    expect(f.simulation.skipped.map((i) => graph.tasks[i]?.id)).toEqual(['bench']);
    expect([f.makespan, f.sequential, f.criticalPath]).toEqual([120_000, 120_000, 120_000]);
  });

  it('uses the durations it is given instead of the estimates', () => {
    const graph = compile([
      { id: 'a', run: 'x', estimate: '1s' },
      { id: 'b', run: 'x', estimate: '1s', needs: ['a'] },
    ]);
    expect(simulate(graph, { workers: 2, duration: [5, 7] }).makespan).toBe(12);
  });
});
