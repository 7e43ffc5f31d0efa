import type { Graph, ResolvedTask } from '../plan/graph.js';

/**
 * The order in which ready tasks start:
 * - `critical-path`: longest remaining path first, then `priority`, then declaration order;
 * - `fifo`: in the order they became ready (what `make -j` does);
 * - `declaration`: plan order (used by `--sequential`).
 */
export type ReadyOrder = 'critical-path' | 'fifo' | 'declaration';

/**
 * The ready queue's "starts before" test: `score` (larger first, ties in declaration order) when
 * given, else `order`. `arrival` is read live: the order each task became ready in (for `fifo`).
 */
export function readyComparator(
  graph: Graph,
  order: ReadyOrder | undefined,
  score: ArrayLike<number> | undefined,
  arrival: Float64Array,
): (a: number, b: number) => boolean {
  const { rank, tasks } = graph;
  if (score !== undefined) {
    return (a, b) => (score[a] as number) > (score[b] as number) || (score[a] === score[b] && a < b);
  }
  switch (order ?? 'critical-path') {
    case 'declaration':
      return (a, b) => a < b;
    case 'fifo':
      return (a, b) => (arrival[a] as number) < (arrival[b] as number) || (arrival[a] === arrival[b] && a < b);
    case 'critical-path': {
      const priority = new Float64Array(tasks.length);
      for (let i = 0; i < tasks.length; i++) priority[i] = (tasks[i] as ResolvedTask).priority;
      return (a, b) => {
        const ra = rank[a] as number;
        const rb = rank[b] as number;
        if (ra !== rb) return ra > rb;
        const pa = priority[a] as number;
        const pb = priority[b] as number;
        return pa !== pb ? pa > pb : a < b;
      };
    }
  }
}
