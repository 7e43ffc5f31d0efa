import type { Graph } from '../../plan/graph.js';
import { keyHeapPop, keyHeapPush } from '../key-heap.js';

/**
 * The {@link Scheduler}'s decisions on plain typed arrays, so a search can simulate thousands of
 * orders per second. Same semantics as `simulate(graph, { workers, score })`: at each instant
 * every task ending then finishes first (earliest end, then lower index), then ready tasks start
 * best score first (ties: lower index); a task that does not fit its pools or write locks is
 * passed over until the next instant. The makespans are identical; the tests hold it to that.
 *
 * Internal to the order search; not part of weft's API.
 */
export class ListSimulator {
  readonly n: number;
  /** Of the last run: when each task became ready, started and ended; the tasks in start order. */
  readonly readyAt: Float64Array;
  readonly startAt: Float64Array;
  readonly endAt: Float64Array;
  readonly started: Int32Array;
  /** Longest path after each task ends. */
  readonly tail: Float64Array;
  private readonly waitingInit: Int32Array;
  private readonly waiting: Int32Array;
  private readonly depOffset: Int32Array;
  private readonly dependents: Int32Array;
  private readonly ready: Int32Array;
  private readonly running: Int32Array;
  private readonly resources: boolean;
  private readonly poolFree: Int32Array;
  private readonly lockedBy: Int32Array;
  private readonly deferred: Int32Array;
  private score: Float64Array = new Float64Array(0);

  constructor(
    private readonly graph: Graph,
    private readonly workers: number,
    private readonly duration: Float64Array,
  ) {
    const n = (this.n = graph.tasks.length);
    this.readyAt = new Float64Array(n);
    this.startAt = new Float64Array(n);
    this.endAt = new Float64Array(n);
    this.started = new Int32Array(n);
    const rank = bottomLevels(graph, duration);
    this.tail = new Float64Array(n);
    this.waitingInit = new Int32Array(n);
    this.depOffset = new Int32Array(n + 1);
    for (let i = 0; i < n; i++) {
      this.tail[i] = (rank[i] as number) - (duration[i] as number);
      this.waitingInit[i] = (graph.deps[i]?.length ?? 0) + (graph.softDeps[i]?.length ?? 0);
      this.depOffset[i + 1] = (this.depOffset[i] as number) + (graph.dependents[i]?.length ?? 0);
    }
    this.dependents = new Int32Array(this.depOffset[n] as number);
    for (let i = 0, e = 0; i < n; i++) for (const d of graph.dependents[i] ?? []) this.dependents[e++] = d;
    this.waiting = new Int32Array(n);
    this.ready = new Int32Array(n);
    this.running = new Int32Array(n);
    this.deferred = new Int32Array(n);
    this.resources = graph.uses.some((u) => u.length > 0) || graph.conflicts.some((c) => c.length > 0);
    this.poolFree = new Int32Array(graph.pools.length);
    this.lockedBy = new Int32Array(n);
  }

  /** The same problem with every dependency turned around, for scheduling backwards in time. */
  reversed(): ListSimulator {
    const g = this.graph;
    const reversed: Graph = {
      ...g,
      deps: g.dependents,
      softDeps: g.deps.map(() => []),
      dependents: g.deps.map((d, i) => [...d, ...(g.softDeps[i] ?? [])]),
      topo: [...g.topo].reverse(),
    };
    return new ListSimulator(reversed, this.workers, this.duration);
  }

  /**
   * Simulates one order and returns the makespan. With `fifo`, `score` is written instead of
   * read: each task gets a lower score than the one that became ready before it, which is the
   * Scheduler's `fifo` order.
   */
  run(score: Float64Array, fifo = false): number {
    const { n, duration, waiting, endAt, startAt, readyAt, depOffset, dependents, started, deferred } = this;
    this.score = score;
    waiting.set(this.waitingInit);
    if (this.resources) {
      this.graph.pools.forEach((p, k) => (this.poolFree[k] = p.capacity));
      this.lockedBy.fill(0);
    }
    let arrivals = 0;
    let readySize = 0;
    let runningSize = 0;
    for (let i = 0; i < n; i++) {
      if (waiting[i] === 0) {
        readyAt[i] = 0;
        if (fifo) score[i] = -arrivals++;
        readySize = keyHeapPush(this.ready, readySize, i, this.score);
      }
    }
    let free = this.workers;
    let now = 0;
    let count = 0;
    for (;;) {
      let passed = 0;
      while (free > 0 && readySize > 0) {
        const i = this.ready[0] as number;
        readySize = keyHeapPop(this.ready, readySize, this.score);
        if (this.resources) {
          if (!this.fits(i)) {
            deferred[passed++] = i;
            continue;
          }
          this.acquire(i, 1);
        }
        free--;
        startAt[i] = now;
        endAt[i] = now + (duration[i] as number);
        started[count++] = i;
        runningSize = this.pushRunning(runningSize, i);
      }
      while (passed > 0) readySize = keyHeapPush(this.ready, readySize, deferred[--passed] as number, this.score);
      if (runningSize === 0) break;
      now = endAt[this.running[0] as number] as number;
      while (runningSize > 0 && endAt[this.running[0] as number] === now) {
        const i = this.running[0] as number;
        runningSize = this.popRunning(runningSize);
        free++;
        if (this.resources) this.acquire(i, -1);
        const last = depOffset[i + 1] as number;
        for (let e = depOffset[i] as number; e < last; e++) {
          const d = dependents[e] as number;
          waiting[d] = (waiting[d] as number) - 1;
          if (waiting[d] === 0) {
            readyAt[d] = now;
            if (fifo) score[d] = -arrivals++;
            readySize = keyHeapPush(this.ready, readySize, d, this.score);
          }
        }
      }
    }
    return now;
  }

  /** How many tasks of the last run end too late to leave their tail room before `makespan`. */
  criticalCount(makespan: number): number {
    const { endAt, tail } = this;
    let count = 0;
    for (let i = 0; i < this.n; i++) if ((endAt[i] as number) + (tail[i] as number) >= makespan) count++;
    return count;
  }

  /**
   * The tasks on the last run's critical chain that waited for a worker (were ready before they
   * started), walking back from the task that ended last through the dependency that released it.
   */
  criticalChain(): number[] {
    const { graph, endAt, startAt, readyAt } = this;
    const out: number[] = [];
    let task = -1;
    let latest = -1;
    for (let i = 0; i < this.n; i++) {
      if ((endAt[i] as number) > latest) {
        latest = endAt[i] as number;
        task = i;
      }
    }
    while (task >= 0) {
      if ((startAt[task] as number) > (readyAt[task] as number)) out.push(task);
      let next = -1;
      for (const d of graph.deps[task] ?? []) if (endAt[d] === readyAt[task]) next = d;
      for (const d of graph.softDeps[task] ?? []) if (endAt[d] === readyAt[task]) next = d;
      task = next;
    }
    return out;
  }

  private fits(task: number): boolean {
    if ((this.lockedBy[task] as number) > 0) return false;
    for (const [p, units] of this.graph.uses[task] ?? []) if ((this.poolFree[p] as number) < units) return false;
    return true;
  }

  private acquire(task: number, sign: 1 | -1): void {
    for (const [p, units] of this.graph.uses[task] ?? [])
      this.poolFree[p] = (this.poolFree[p] as number) - sign * units;
    for (const c of this.graph.conflicts[task] ?? []) this.lockedBy[c] = (this.lockedBy[c] as number) + sign;
  }

  // The ready queue is a key heap (key-heap.ts); the running set, earliest end first, is its own
  // hand-specialised heap on purpose: a comparator closure is ~2x slower, and key-heap.ts over a −endAt
  // array (one more store per task) made `searchOrder` 5–18% slower on 300- and 1,000-task random
  // graphs (measured once with a one-off script timing searchOrder, not kept).

  private earlier(a: number, b: number): boolean {
    const ea = this.endAt[a] as number;
    const eb = this.endAt[b] as number;
    return ea < eb || (ea === eb && a < b);
  }

  private pushRunning(size: number, value: number): number {
    const heap = this.running;
    let i = size;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent] as number;
      if (!this.earlier(value, p)) break;
      heap[i] = p;
      i = parent;
    }
    heap[i] = value;
    return size + 1;
  }

  private popRunning(size: number): number {
    const heap = this.running;
    const n = size - 1;
    const last = heap[n] as number;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const child = l + 1 < n && this.earlier(heap[l + 1] as number, heap[l] as number) ? l + 1 : l;
      if (!this.earlier(heap[child] as number, last)) break;
      heap[i] = heap[child] as number;
      i = child;
    }
    heap[i] = last;
    return n;
  }
}

/** Longest path from the start of each task to the end of the graph, for the given durations. */
export function bottomLevels(graph: Graph, duration: ArrayLike<number>): Float64Array {
  const rank = new Float64Array(graph.tasks.length);
  for (let k = graph.topo.length - 1; k >= 0; k--) {
    const i = graph.topo[k] as number;
    let best = 0;
    for (const d of graph.dependents[i] ?? []) best = Math.max(best, rank[d] as number);
    rank[i] = (duration[i] as number) + best;
  }
  return rank;
}

/** Longest path from the start of the graph to the start of each task (its earliest start). */
export function topLevels(graph: Graph, duration: ArrayLike<number>): Float64Array {
  const head = new Float64Array(graph.tasks.length);
  for (const i of graph.topo) {
    let h = 0;
    for (const d of graph.deps[i] ?? []) h = Math.max(h, (head[d] as number) + (duration[d] as number));
    for (const d of graph.softDeps[i] ?? []) h = Math.max(h, (head[d] as number) + (duration[d] as number));
    head[i] = h;
  }
  return head;
}
