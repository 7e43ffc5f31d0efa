/** The plan shapes the engine benches run, as plain plan-file tasks (what `compilePlan` reads). */

export type Shape = 'wide' | 'chain' | 'random';

export interface DagTask {
  readonly id: string;
  readonly needs: readonly string[];
}

/** A seeded linear congruential generator: the same graph for the same seed, on every machine. */
export function lcgRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => (a = (Math.imul(a, 1664525) + 1013904223) >>> 0) / 4294967296;
}

/**
 * Dependency lists by task index. `wide`: no dependencies; `chain`: each task needs the one before;
 * `random`: each task needs `min(i, preds)` distinct tasks drawn uniformly from all earlier ones
 * (so ~`preds` per task, a DAG by construction, wide enough to keep any small M busy).
 */
export function dagDeps(shape: Shape, tasks: number, seed = 1, preds = 3): number[][] {
  if (shape === 'wide') return Array.from({ length: tasks }, () => []);
  if (shape === 'chain') return Array.from({ length: tasks }, (_, i) => (i === 0 ? [] : [i - 1]));
  const rand = lcgRandom(seed);
  return Array.from({ length: tasks }, (_, i) => {
    const picked = new Set<number>();
    while (picked.size < Math.min(i, preds)) picked.add(Math.floor(rand() * i));
    return [...picked].sort((x, y) => x - y);
  });
}

/** Task ids: `t0`, `t1`, … */
export const taskId = (i: number): string => `t${i}`;

/** The same graph as plan tasks (`needs` by id). */
export function dagTasks(deps: readonly (readonly number[])[]): DagTask[] {
  return deps.map((d, i) => ({ id: taskId(i), needs: d.map(taskId) }));
}
