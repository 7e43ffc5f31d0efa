import type { Graph } from '../../plan/graph.js';
import { bottomLevels } from './list-simulator.js';

/** What the branch-and-bound over list schedules found, and whether it searched the whole tree. */
export interface BranchAndBoundResult {
  /** Start time of each task in the best schedule found, if it beats the incumbent. */
  readonly startAt?: Float64Array;
  /** Makespan of that schedule, or the incumbent when none beat it, ms. */
  readonly makespan: number;
  /** The whole tree was searched: no list schedule is shorter than `makespan`. */
  readonly complete: boolean;
  readonly nodes: number;
}

/**
 * Depth-first branch and bound over list schedules (schedules that never leave a worker idle
 * while a task is ready: exactly those the Scheduler can produce), in the spirit of Kasahara and
 * Narita's DF/IHS. At each instant it branches on which ready tasks take the free workers, trying
 * them in `priority` order first, and prunes a branch when a task can no longer finish its
 * longest path in time, when the remaining work cannot fit, or when the same state was seen.
 * Only for plans without pools or write scopes (the caller checks). Deterministic.
 *
 * @param incumbent look for schedules strictly shorter than this, ms
 * @param lowerBound stop as soon as a schedule reaches it, ms
 * @param maxNodes search budget
 * @param outOfTime asked every 256 nodes; `true` stops the search
 */
export function branchAndBound(
  graph: Graph,
  workers: number,
  duration: Float64Array,
  priority: ArrayLike<number>,
  incumbent: number,
  lowerBound: number,
  maxNodes: number,
  outOfTime: () => boolean = () => false,
): BranchAndBoundResult {
  const n = graph.tasks.length;
  const rank = bottomLevels(graph, duration);
  const tail = Float64Array.from(rank, (r, i) => r - (duration[i] as number));
  const waiting = Int32Array.from(
    graph.tasks,
    (_, i) => (graph.deps[i]?.length ?? 0) + (graph.softDeps[i]?.length ?? 0),
  );
  const startAt = new Float64Array(n);
  const runTask = new Int32Array(workers);
  const runEnd = new Float64Array(workers);
  let running = 0;
  let ready: number[] = [];
  for (let i = 0; i < n; i++) if (waiting[i] === 0) ready.push(i);
  const byPriority = (a: number, b: number): number => (priority[b] as number) - (priority[a] as number) || a - b;
  ready.sort(byPriority);
  let unstartedWork = 0;
  for (let i = 0; i < n; i++) unstartedWork += duration[i] as number;
  let finished = 0;
  let best = incumbent;
  let bestStart: Float64Array | undefined;
  let nodes = 0;
  let aborted = false;
  // States are remembered by an 85-bit Zobrist hash (a 53-bit key and a 32-bit check); a collision
  // (odds ~1e-13 at two million states) could only skip a branch, never yield a wrong schedule.
  const seen = new Map<number, number>();
  const zobrist = new Int32Array(6 * n);
  let seed = 0x9e3779b9 ^ n;
  for (let k = 0; k < zobrist.length; k++) zobrist[k] = seed = hash32(seed + k);

  /** A decision point: `ready` tasks may take the free workers at `now`. */
  const decide = (now: number): void => {
    if (aborted || best <= lowerBound) return;
    if (++nodes > maxNodes || ((nodes & 255) === 0 && outOfTime())) {
      aborted = true;
      return;
    }
    let runLeft = 0;
    for (let w = 0; w < running; w++) {
      const t = runTask[w] as number;
      if ((runEnd[w] as number) + (tail[t] as number) >= best) return;
      runLeft += (runEnd[w] as number) - now;
    }
    for (const r of ready) if (now + (rank[r] as number) >= best) return;
    if (unstartedWork + runLeft >= workers * (best - now)) return;
    const high = (now / 4294967296) | 0;
    let h1 = hash32(now | 0) ^ hash32(high);
    let h2 = hash32(h1 + 1);
    let h3 = hash32(h2 ^ high);
    for (const r of ready) {
      h1 ^= zobrist[r] as number;
      h2 ^= zobrist[n + r] as number;
      h3 ^= zobrist[2 * n + r] as number;
    }
    for (let w = 0; w < running; w++) {
      const t = runTask[w] as number;
      const lo = (runEnd[w] as number) | 0;
      const hi = ((runEnd[w] as number) / 4294967296) | 0;
      h1 ^= hash32((zobrist[3 * n + t] as number) + lo);
      h2 ^= hash32((zobrist[4 * n + t] as number) ^ hi ^ lo);
      h3 ^= hash32((zobrist[5 * n + t] as number) - lo + hi);
    }
    const key = (h1 >>> 0) * 2097152 + (h2 & 0x1fffff);
    if (seen.get(key) === h3) return;
    seen.set(key, h3);
    const take = Math.min(workers - running, ready.length);
    if (take === 0) {
      if (running > 0) advance();
      return;
    }
    // Combinations of `take` ready tasks, best priority first: the first is plain list scheduling.
    const pick = Array.from({ length: take }, (_, k) => k);
    const options = ready;
    for (;;) {
      const chosen = pick.map((k) => options[k] as number);
      ready = options.filter((_, k) => !pick.includes(k));
      for (const t of chosen) {
        startAt[t] = now;
        runTask[running] = t;
        runEnd[running++] = now + (duration[t] as number);
        unstartedWork -= duration[t] as number;
      }
      advance();
      for (let c = chosen.length - 1; c >= 0; c--) {
        running--;
        unstartedWork += duration[chosen[c] as number] as number;
      }
      ready = options;
      if (aborted || best <= lowerBound) return;
      let k = take - 1;
      while (k >= 0 && pick[k] === options.length - take + k) k--;
      if (k < 0) return;
      pick[k] = (pick[k] as number) + 1;
      for (let j = k + 1; j < take; j++) pick[j] = (pick[j - 1] as number) + 1;
    }
  };

  /** Moves to the next instant a task ends, finishes everything ending then, and decides again. */
  const advance = (): void => {
    let next = Infinity;
    for (let w = 0; w < running; w++) next = Math.min(next, runEnd[w] as number);
    const savedTask = runTask.slice(0, running);
    const savedEnd = runEnd.slice(0, running);
    const savedReady = ready;
    const done: number[] = [];
    let keep = 0;
    for (let w = 0; w < savedTask.length; w++) {
      if (savedEnd[w] === next) done.push(savedTask[w] as number);
      else {
        runTask[keep] = savedTask[w] as number;
        runEnd[keep++] = savedEnd[w] as number;
      }
    }
    running = keep;
    const released: number[] = [];
    for (const t of done) {
      for (const d of graph.dependents[t] ?? []) {
        waiting[d] = (waiting[d] as number) - 1;
        if (waiting[d] === 0) released.push(d);
      }
    }
    finished += done.length;
    if (finished === n) {
      if (next < best) {
        best = next;
        bestStart = startAt.slice();
      }
    } else {
      ready = released.length === 0 ? ready : [...ready, ...released].sort(byPriority);
      if (ready.length > 0) decide(next);
      else advance();
    }
    finished -= done.length;
    for (const t of done) for (const d of graph.dependents[t] ?? []) waiting[d] = (waiting[d] as number) + 1;
    ready = savedReady;
    running = savedTask.length;
    runTask.set(savedTask);
    runEnd.set(savedEnd);
  };

  decide(0);
  return { ...(bestStart === undefined ? {} : { startAt: bestStart }), makespan: best, complete: !aborted, nodes };
}

/** A 32-bit integer mix (from the murmur3 finaliser). */
function hash32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return x ^ (x >>> 16);
}
