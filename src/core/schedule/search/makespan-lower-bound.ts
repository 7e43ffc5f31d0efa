import type { Graph } from '../../plan/graph.js';
import { bottomLevels, topLevels } from './list-simulator.js';

/**
 * A makespan no order can beat on `workers` workers, ms. Besides the critical path, work / M and
 * each pool's work / capacity, it takes every set S of tasks that cannot start before `a` (the
 * longest path above them) and must leave `b` after they end (the longest path below them): all
 * of S runs between `a` and `makespan - b`, which takes at least work(S) / M, and at least the
 * k+1 shortest of S's kM+1 longest tasks back to back (some worker gets k+1 of them). That sees
 * what the plain bound misses on fan-out/fan-in workflows: 21 tasks of 16 s on 16 workers take
 * two rounds. With whole-ms durations it is rounded up to their greatest common divisor, since a
 * schedule that never idles on purpose ends at a sum of durations.
 */
export function makespanLowerBound(
  graph: Graph,
  workers: number,
  duration: ArrayLike<number> = graph.duration,
): number {
  const n = graph.tasks.length;
  const head = topLevels(graph, duration);
  const rank = bottomLevels(graph, duration);
  const tail = Float64Array.from(rank, (r, i) => r - (duration[i] as number));
  let bound = 0;
  let work = 0;
  for (let i = 0; i < n; i++) {
    work += duration[i] as number;
    bound = Math.max(bound, rank[i] as number);
  }
  bound = Math.max(bound, work / workers);
  graph.pools.forEach((pool, p) => {
    let used = 0;
    graph.uses.forEach((u, i) => u.forEach(([q, units]) => (used += q === p ? units * (duration[i] as number) : 0)));
    bound = Math.max(bound, used / pool.capacity);
  });
  const byTail = Array.from({ length: n }, (_, i) => i).sort((a, b) => (tail[b] as number) - (tail[a] as number));
  const heads = [...new Set(head)];
  // The pigeonhole term keeps S sorted: O(heads × tasks²), so only where that stays cheap.
  const pigeonhole = workers > 1 && heads.length * n * n <= GRANULARITY_BUDGET;
  const sorted = new Float64Array(pigeonhole ? n : 0);
  const prefix = new Float64Array(pigeonhole ? n + 1 : 0);
  for (const a of heads) {
    let w = 0;
    let size = 0;
    for (let k = 0; k < n; k++) {
      const i = byTail[k] as number;
      if ((head[i] as number) >= a) {
        const d = duration[i] as number;
        w += d;
        if (pigeonhole) size = insertDescending(sorted, size, d);
      }
      const b = tail[i] as number;
      // A set closes once every task with this tail is in.
      if (w === 0 || (k < n - 1 && tail[byTail[k + 1] as number] === b)) continue;
      let span = w / workers;
      if (size > workers) {
        for (let j = 0; j < size; j++) prefix[j + 1] = (prefix[j] as number) + (sorted[j] as number);
        // sorted[m] is the (kM+1)-th longest, k = m / M: it and the k next-longer ones share a worker.
        for (let m = workers, k = 1; m < size; m += workers, k++)
          span = Math.max(span, (prefix[m + 1] as number) - (prefix[m - k] as number));
      }
      bound = Math.max(bound, a + span + b);
    }
  }
  let grain = 0;
  for (let i = 0; i < n && grain !== 1; i++) {
    const d = duration[i] as number;
    if (!Number.isInteger(d)) return bound;
    grain = gcd(grain, d);
  }
  return grain > 0 ? Math.ceil(bound / grain - 1e-9) * grain : bound;
}

/** Inner-loop steps the pigeonhole part of {@link makespanLowerBound} may take (~20 ms). */
const GRANULARITY_BUDGET = 20_000_000;

function insertDescending(sorted: Float64Array, size: number, value: number): number {
  let lo = 0;
  let hi = size;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as number) >= value) lo = mid + 1;
    else hi = mid;
  }
  sorted.copyWithin(lo + 1, lo, size);
  sorted[lo] = value;
  return size + 1;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}
