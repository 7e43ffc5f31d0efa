import type { Graph } from '../../plan/graph.js';
import { keyHeapPop, keyHeapPush } from '../key-heap.js';
import type { DispatchPlan } from '../scheduler.js';

/*
 * Why: a list scheduler never leaves a worker idle while a task is ready, and on some graphs every
 * such schedule is longer than the optimum (e.g. it must hold a worker for a long task that is
 * about to become ready). Starting the tasks strictly in a planned order, each as soon as its
 * dependencies are done and a worker is free but never before the task planned ahead of it, does
 * idle workers on purpose, and is what the Scheduler's planned mode does at run time. Any schedule
 * at all, replayed in its start order this way, starts no task later, so searching start orders
 * under this rule can reach an optimal schedule, and it includes every list schedule.
 *
 * Internal to the order search; not part of weft's API.
 */

/** Decodes priorities into the schedule the Scheduler's planned mode reproduces on the virtual clock. */
export class OrderedDecoder {
  readonly n: number;
  /** Of the last run: tasks in start order, and when each started and ended. */
  readonly order: Int32Array;
  readonly startAt: Float64Array;
  readonly endAt: Float64Array;
  /** Longest path after each task ends. */
  readonly tail: Float64Array;
  private readonly predOffset: Int32Array;
  private readonly preds: Int32Array;
  private readonly succOffset: Int32Array;
  private readonly succs: Int32Array;
  private readonly indegree: Int32Array;
  private readonly waiting: Int32Array;
  private readonly readyAt: Float64Array;
  private readonly eligible: Int32Array;
  private readonly free: Float64Array;

  constructor(
    graph: Graph,
    private readonly workers: number,
    private readonly duration: Float64Array,
    reversed = false,
  ) {
    const n = (this.n = graph.tasks.length);
    const before = (i: number): readonly number[] => [...(graph.deps[i] ?? []), ...(graph.softDeps[i] ?? [])];
    const after = (i: number): readonly number[] => graph.dependents[i] ?? [];
    [this.predOffset, this.preds] = csr(n, reversed ? after : before);
    [this.succOffset, this.succs] = csr(n, reversed ? before : after);
    this.indegree = Int32Array.from(
      { length: n },
      (_, i) => (this.predOffset[i + 1] as number) - (this.predOffset[i] as number),
    );
    this.order = new Int32Array(n);
    this.startAt = new Float64Array(n);
    this.endAt = new Float64Array(n);
    this.waiting = new Int32Array(n);
    this.readyAt = new Float64Array(n);
    this.eligible = new Int32Array(n);
    this.free = new Float64Array(workers);
    this.tail = new Float64Array(n);
    // Every task after its successors, so each tail is final when read.
    const topo = reversed ? [...graph.topo] : [...graph.topo].reverse();
    for (const i of topo) {
      let t = 0;
      for (let e = this.succOffset[i] as number; e < (this.succOffset[i + 1] as number); e++) {
        const s = this.succs[e] as number;
        t = Math.max(t, (this.tail[s] as number) + (duration[s] as number));
      }
      this.tail[i] = t;
    }
  }

  /**
   * Schedules the tasks in priority order (largest `key` first among those whose dependencies
   * are all placed), each at the earliest instant no sooner than the one before it, with its
   * dependencies done and a worker free. Returns the makespan.
   */
  run(key: ArrayLike<number>): number {
    const { n, duration, waiting, readyAt, startAt, endAt, order, free, succOffset, succs } = this;
    waiting.set(this.indegree);
    readyAt.fill(0);
    free.fill(0);
    let size = 0;
    for (let i = 0; i < n; i++) if (waiting[i] === 0) size = keyHeapPush(this.eligible, size, i, key);
    let previous = 0;
    let makespan = 0;
    for (let k = 0; k < n; k++) {
      const i = this.eligible[0] as number;
      size = keyHeapPop(this.eligible, size, key);
      // free[0] is the worker that frees up first (a min-heap).
      const start = Math.max(previous, readyAt[i] as number, free[0] as number);
      const end = start + (duration[i] as number);
      this.replaceFirstFree(end);
      startAt[i] = start;
      endAt[i] = end;
      order[k] = i;
      previous = start;
      if (end > makespan) makespan = end;
      for (let e = succOffset[i] as number; e < (succOffset[i + 1] as number); e++) {
        const s = succs[e] as number;
        if (end > (readyAt[s] as number)) readyAt[s] = end;
        waiting[s] = (waiting[s] as number) - 1;
        if (waiting[s] === 0) size = keyHeapPush(this.eligible, size, s, key);
      }
    }
    return makespan;
  }

  /** When `task`'s dependencies were all done, given each task's end. */
  dependenciesDone(task: number, endAt: Float64Array): number {
    let t = 0;
    for (let e = this.predOffset[task] as number; e < (this.predOffset[task + 1] as number); e++)
      t = Math.max(t, endAt[this.preds[e] as number] as number);
    return t;
  }

  /** How many tasks of the last run end too late to leave their tail room before `makespan`. */
  criticalCount(makespan: number): number {
    let count = 0;
    for (let i = 0; i < this.n; i++) if ((this.endAt[i] as number) + (this.tail[i] as number) >= makespan) count++;
    return count;
  }

  private replaceFirstFree(value: number): void {
    const heap = this.free;
    const n = heap.length;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const child = l + 1 < n && (heap[l + 1] as number) < (heap[l] as number) ? l + 1 : l;
      if ((heap[child] as number) >= value) break;
      heap[i] = heap[child] as number;
      i = child;
    }
    heap[i] = value;
  }
}

function csr(n: number, edges: (i: number) => readonly number[]): [Int32Array, Int32Array] {
  const offset = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) offset[i + 1] = (offset[i] as number) + edges(i).length;
  const out = new Int32Array(offset[n] as number);
  for (let i = 0, e = 0; i < n; i++) for (const j of edges(i)) out[e++] = j;
  return [offset, out];
}

/** What the search for planned idle time found. */
export interface DelaySearchResult {
  /** The best plan found, when it beats the incumbent. */
  readonly plan?: DispatchPlan;
  /** Its makespan, or the incumbent's, ms. */
  readonly makespan: number;
  readonly evaluations: number;
}

/**
 * Iterated local search over start orders under the planned-dispatch rule, from `startOrder`
 * (the best list schedule's, which this rule replays no later). Moves: justification (schedule
 * backwards from the ends, then forwards again, which packs tasks tighter and never lengthens the
 * schedule), moving a task that waited ahead of some that started before it, and random kicks.
 * Returns the best plan found if it beats `incumbent`. Deterministic for `rand`.
 */
export function searchDelayPlan(
  graph: Graph,
  workers: number,
  duration: Float64Array,
  startOrder: ArrayLike<number>,
  incumbent: number,
  lowerBound: number,
  iterations: number,
  rand: () => number,
  outOfTime: () => boolean,
): DelaySearchResult {
  const n = graph.tasks.length;
  const forward = new OrderedDecoder(graph, workers, duration);
  const backward = new OrderedDecoder(graph, workers, duration, true);
  // The current schedule: priorities (= rank in its start order), start order, starts and ends.
  const cur = {
    key: new Float64Array(n),
    order: new Int32Array(n),
    startAt: new Float64Array(n),
    endAt: new Float64Array(n),
    makespan: 0,
    critical: 0,
  };
  const adopt = (makespan: number): void => {
    cur.order.set(forward.order);
    cur.startAt.set(forward.startAt);
    cur.endAt.set(forward.endAt);
    for (let k = 0; k < n; k++) cur.key[cur.order[k] as number] = n - k;
    cur.makespan = makespan;
    cur.critical = forward.criticalCount(makespan);
  };
  const initial = new Float64Array(n);
  for (let k = 0; k < n; k++) initial[startOrder[k] as number] = n - k;
  adopt(forward.run(initial));
  let evaluations = 1;
  let best = { key: Float64Array.from(cur.key), makespan: cur.makespan };
  const trial = new Float64Array(n);
  let stale = 0;

  /** Backwards from the ends, then forwards by how early the backward pass packed each task. */
  const justify = (into: Float64Array): void => {
    backward.run(cur.endAt);
    evaluations++;
    // A later backward end is an earlier forward start; ties keep the current order.
    const order = Array.from(cur.order).sort(
      (a, b) =>
        (backward.endAt[b] as number) - (backward.endAt[a] as number) ||
        (cur.key[b] as number) - (cur.key[a] as number),
    );
    order.forEach((task, k) => (into[task] = n - k));
  };

  /**
   * A task on the critical chain that started after its dependencies were done (it waited for a
   * worker or for the task planned before it) goes ahead of one of the tasks that started in
   * between. False when there is none.
   */
  const shift = (into: Float64Array): boolean => {
    const candidates: number[] = [];
    for (let i = 0; i < n; i++) {
      if (
        (cur.endAt[i] as number) + (forward.tail[i] as number) >= cur.makespan &&
        (cur.startAt[i] as number) > forward.dependenciesDone(i, cur.endAt)
      )
        candidates.push(i);
    }
    if (candidates.length === 0) return false;
    const task = candidates[Math.floor(rand() * candidates.length)] as number;
    const since = forward.dependenciesDone(task, cur.endAt);
    const k = n - (cur.key[task] as number);
    let first = k;
    while (first > 0 && (cur.startAt[cur.order[first - 1] as number] as number) >= since) first--;
    if (first === k) return false;
    const to = first + Math.floor(rand() * (k - first));
    into[task] = (cur.key[cur.order[to] as number] as number) + 0.5;
    return true;
  };

  for (let it = 0; it < iterations && best.makespan > lowerBound; it++) {
    if ((it & 15) === 15 && outOfTime()) break;
    trial.set(cur.key);
    const r = rand();
    if (r < 0.25) justify(trial);
    else if (r < 0.3 || !shift(trial)) kick(trial, 0.02 + 0.2 * rand(), rand);
    const value = forward.run(trial);
    evaluations++;
    if (value < best.makespan) {
      best = { key: Float64Array.from(trial), makespan: value };
      stale = 0;
    } else stale++;
    if (value < cur.makespan || (value === cur.makespan && forward.criticalCount(value) <= cur.critical)) adopt(value);
    else if (stale >= 200) {
      stale = 0;
      trial.set(best.key);
      kick(trial, 0.05 + 0.3 * rand(), rand);
      adopt(forward.run(trial));
      evaluations++;
    }
  }
  if (best.makespan >= incumbent) return { makespan: incumbent, evaluations };
  const makespan = forward.run(best.key);
  return {
    plan: {
      order: Int32Array.from(forward.order),
      start: Float64Array.from(forward.startAt),
      end: Float64Array.from(forward.endAt),
    },
    makespan,
    evaluations,
  };
}

function kick(key: Float64Array, strength: number, rand: () => number): void {
  const n = key.length;
  for (let i = 0; i < n; i++) if (rand() < strength) key[i] = (key[i] as number) + (rand() - 0.5) * n * strength;
}
