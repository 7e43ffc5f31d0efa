import type { Graph, ResolvedTask } from '../plan/graph.js';
import { PRIORITY_CLASSES } from '../plan/plan-schema.js';

/**
 * The order in which ready tasks of one class start:
 * - `critical-path`: longest remaining path first, then `priority`, then declaration order;
 * - `fifo`: in the order they became ready (what `make -j` does);
 * - `declaration`: plan order (used by `--sequential`).
 */
export type ReadyOrder = 'critical-path' | 'fifo' | 'declaration';

/** A class's rank: 0 for P0 (most urgent) … 3 for P3. */
export function classRank(task: Pick<ResolvedTask, 'class'>): number {
  return PRIORITY_CLASSES.indexOf(task.class);
}

/**
 * The ready queue's "starts before" test: the task's class first (P0 before P1 …; not in
 * `declaration` order, which `--sequential` promises), then `score` (larger first, ties in
 * declaration order) when given, else `order`. `arrival` is read live: the order each task became
 * ready in (for `fifo`).
 */
export function readyComparator(
  graph: Graph,
  order: ReadyOrder | undefined,
  score: ArrayLike<number> | undefined,
  arrival: Float64Array,
): (a: number, b: number) => boolean {
  const within = orderWithinClass(graph, order, score, arrival);
  if (order === 'declaration' && score === undefined) return within;
  const ranks = classRanks(graph.tasks);
  // Most plans leave every task in one class: then the class costs nothing per comparison.
  if (ranks.every((r) => r === ranks[0])) return within;
  return (a, b) => {
    const ca = ranks[a] as number;
    const cb = ranks[b] as number;
    return ca !== cb ? ca < cb : within(a, b);
  };
}

/** Each task's {@link classRank}, by an index loop (`Uint8Array.from` with a mapper walks an iterator). */
function classRanks(tasks: readonly ResolvedTask[]): Uint8Array {
  const ranks = new Uint8Array(tasks.length);
  for (let i = 0; i < tasks.length; i++) ranks[i] = classRank(tasks[i] as ResolvedTask);
  return ranks;
}

function orderWithinClass(
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
