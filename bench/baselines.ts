import type { Graph } from '../src/core/plan/graph.js';
import { simulate } from '../src/core/schedule/simulate.js';

/**
 * What a hand-written `for (const stage of stages) await Promise.all(stage.map(run))` with a
 * concurrency limit of M does: tasks are grouped by dependency level (longest chain of `needs`
 * above them), each level is list-scheduled in declaration order on M workers, and the next
 * level waits for the whole level to finish. Returns the makespan in ms.
 */
export function levelBarrierMakespan(
  graph: Graph,
  workers: number,
  duration: ArrayLike<number> = graph.duration,
): number {
  const level = new Int32Array(graph.tasks.length);
  let levels = 0;
  for (const i of graph.topo) {
    let l = 0;
    for (const d of graph.deps[i] ?? []) l = Math.max(l, (level[d] as number) + 1);
    for (const d of graph.softDeps[i] ?? []) l = Math.max(l, (level[d] as number) + 1);
    level[i] = l;
    levels = Math.max(levels, l + 1);
  }
  const byLevel: number[][] = Array.from({ length: levels }, () => []);
  for (let i = 0; i < graph.tasks.length; i++) byLevel[level[i] as number]?.push(i);
  let now = 0;
  const free = new Float64Array(workers);
  for (const stage of byLevel) {
    free.fill(now);
    let end = now;
    for (const i of stage) {
      // The next task goes to the worker that frees up first, as a concurrency limiter does.
      let w = 0;
      for (let k = 1; k < workers; k++) if ((free[k] as number) < (free[w] as number)) w = k;
      free[w] = (free[w] as number) + (duration[i] as number);
      end = Math.max(end, free[w] as number);
    }
    now = end;
  }
  return now;
}

/** `make -j M`: ready tasks start in the order they became ready (the Scheduler's `fifo` order). */
export function fifoMakespan(graph: Graph, workers: number): number {
  return simulate(graph, { workers, order: 'fifo' }).makespan;
}

/** Plain critical-path list scheduling (the Scheduler's default order, no search). */
export function criticalPathMakespan(graph: Graph, workers: number): number {
  return simulate(graph, { workers, order: 'critical-path' }).makespan;
}
