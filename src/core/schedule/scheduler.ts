import type { Graph, ResolvedTask } from '../plan/graph.js';
import { IndexHeap } from './heap.js';

export type TaskState = 'pending' | 'ready' | 'running' | 'retrying' | 'succeeded' | 'failed' | 'skipped' | 'cancelled';
export type Outcome = 'succeeded' | 'failed' | 'cancelled';
/** Why a task was skipped: its own (or an upstream) `when` was false, or something upstream failed. */
export type SkipCause = 'condition' | 'upstream';

export const TERMINAL_STATES: ReadonlySet<TaskState> = new Set(['succeeded', 'failed', 'skipped', 'cancelled']);

/**
 * The order in which ready tasks start:
 * - `critical-path`: longest remaining path first, then `priority`, then declaration order;
 * - `fifo`: in the order they became ready (what `make -j` does);
 * - `declaration`: plan order (used by `--sequential`).
 */
export type ReadyOrder = 'critical-path' | 'fifo' | 'declaration';

export interface Transition {
  readonly task: number;
  readonly to: TaskState;
  readonly at: number;
  readonly worker?: number;
  readonly reason?: string;
  readonly cause?: SkipCause;
}

/**
 * A schedule to follow while the run goes as planned, e.g. one `searchOrder` found that leaves a
 * worker idle on purpose. Tasks start strictly in `order`: a ready task waits (and a worker may
 * idle) until every task planned before it has started. When each task takes what the plan says,
 * this reproduces the plan exactly. The first surprise drops the plan for good and the Scheduler
 * goes back to its work-conserving order (`score` / `order`): a task ending more than `tolerance`
 * of its planned duration early or late, or running past that, a failure, a retry, a skip, a
 * cancel, a pool capacity change, a resumed task, or a planned task that does not fit its pools
 * or write locks.
 */
export interface DispatchPlan {
  /** Every task once, in planned start order; each task's dependencies come before it. */
  readonly order: ArrayLike<number>;
  /** Planned start and end of each task, ms after {@link Scheduler.begin}. */
  readonly start: ArrayLike<number>;
  readonly end: ArrayLike<number>;
  /** How far a task may end from its planned end, as a fraction of its planned duration. @default 0.02 */
  readonly tolerance?: number;
}

export interface SchedulerOptions {
  /** The budget M. */
  readonly workers: number;
  /** @default 'critical-path' */
  readonly order?: ReadyOrder;
  /** Custom priority: larger starts first; ties fall back to declaration order. Overrides `order`. */
  readonly score?: ArrayLike<number>;
  /** Follow this schedule while the run goes as planned (see {@link DispatchPlan}). */
  readonly plan?: DispatchPlan;
  /** Called when a task's dependencies are done: a string skips it with that reason (its `when`). */
  readonly gate?: (task: number) => string | undefined;
  /** Sees every state change, in order. */
  readonly onTransition?: (t: Transition) => void;
}

export interface Assignment {
  readonly task: number;
  readonly worker: number;
}

const S_PENDING = 0, S_READY = 1, S_RUNNING = 2, S_RETRYING = 3, S_SUCCEEDED = 4, S_FAILED = 5, S_SKIPPED = 6, S_CANCELLED = 7;
const STATE_NAMES: readonly TaskState[] = ['pending', 'ready', 'running', 'retrying', 'succeeded', 'failed', 'skipped', 'cancelled'];

/**
 * The pure scheduling core: a dependency-aware ready queue on M workers with pools and
 * write-scope locks. It never sleeps and never does I/O; callers pass the time in and tell it
 * what finished. The same code drives a real run and the virtual-clock estimate.
 */
export class Scheduler {
  private readonly state: Uint8Array;
  private readonly waiting: Int32Array;
  private readonly skipCause: Uint8Array; // 1 condition, 2 upstream
  private readonly skippedDep: Int32Array; // 1 + the first hard dependency skipped by a condition, or 0
  private readonly worker: Int32Array;
  private readonly arrival: Float64Array;
  private readonly lockedBy: Int32Array;
  private readonly poolFree: Int32Array;
  private readonly capacity: Int32Array;
  private readonly busy: Uint8Array;
  private readonly ready: IndexHeap;
  private readonly retries: { task: number; at: number }[] = [];
  private readonly toSettle: number[] = [];
  private settling = false;
  private arrivals = 0;
  private terminal = 0;
  private freeWorkers: number;
  private readyCount = 0;
  /** The plan being followed; while it is, ready tasks wait outside the heap for their turn. */
  private plan: DispatchPlan | undefined;
  /** Tasks planned before `cursor` have started; when the plan began; the task on each worker. */
  private cursor = 0;
  private origin = 0;
  private readonly taskOn: Int32Array;

  constructor(
    readonly graph: Graph,
    private readonly options: SchedulerOptions,
  ) {
    if (!Number.isInteger(options.workers) || options.workers < 1) {
      throw new RangeError(`Expected \`workers\` to be a positive integer, got \`${options.workers}\``);
    }
    const n = graph.tasks.length;
    this.state = new Uint8Array(n);
    this.waiting = new Int32Array(n);
    this.skipCause = new Uint8Array(n);
    this.skippedDep = new Int32Array(n);
    this.worker = new Int32Array(n).fill(-1);
    this.arrival = new Float64Array(n);
    this.lockedBy = new Int32Array(n);
    this.poolFree = Int32Array.from(graph.pools.map((p) => p.capacity));
    this.capacity = Int32Array.from(graph.pools.map((p) => p.capacity));
    this.busy = new Uint8Array(options.workers);
    this.freeWorkers = options.workers;
    this.ready = new IndexHeap(this.comparator());
    for (let i = 0; i < n; i++) this.waiting[i] = (graph.deps[i]?.length ?? 0) + (graph.softDeps[i]?.length ?? 0);
    this.taskOn = new Int32Array(options.workers).fill(-1);
    if (options.plan !== undefined) this.plan = checkedPlan(graph, options.plan);
  }

  /**
   * Instead of {@link begin}, for a graph that grew mid-run (a task's output added tasks): takes
   * over the state of the scheduler that ran the smaller graph. Old tasks keep their indices;
   * running ones keep their workers, pool units and locks; pending ones — old or new — wait only
   * for what has not ended yet.
   */
  adopt(previous: Scheduler, now: number): void {
    this.dropPlan();
    const old = previous.graph.tasks.length;
    for (let i = 0; i < old; i++) {
      const s = previous.state[i] as number;
      if (s === S_PENDING) continue;
      this.state[i] = s;
      this.skipCause[i] = previous.skipCause[i] as number;
      this.arrival[i] = previous.arrival[i] as number;
      if (s >= S_SUCCEEDED) this.terminal++;
      else if (s === S_READY) {
        this.ready.push(i);
        this.readyCount++;
      } else if (s === S_RUNNING) {
        const w = previous.worker[i] as number;
        this.worker[i] = w;
        this.taskOn[w] = i;
        this.busy[w] = 1;
        this.freeWorkers--;
        this.acquire(i, 1);
      }
    }
    for (const r of previous.retries) this.retries.push(r);
    this.arrivals = previous.arrivals;
    for (let p = 0; p < this.capacity.length && p < previous.capacity.length; p++) this.setPoolCapacity(this.graph.pools[p]?.name ?? '', previous.capacity[p] as number);
    // Pending tasks count only the dependencies still to end; those that ended are replayed.
    const n = this.graph.tasks.length;
    for (let i = 0; i < n; i++) if (this.state[i] === S_PENDING) this.waiting[i] = (this.graph.deps[i]?.length ?? 0) + (this.graph.softDeps[i]?.length ?? 0);
    this.settling = true;
    try {
      for (let i = 0; i < old; i++) if ((this.state[i] as number) >= S_SUCCEEDED) this.notifyDependents(i, now);
      for (let k = 0; k < this.toSettle.length; k++) this.notifyDependents(this.toSettle[k] as number, now);
    } finally {
      this.toSettle.length = 0;
      this.settling = false;
    }
    for (let i = 0; i < n; i++) if (this.state[i] === S_PENDING && this.waiting[i] === 0) this.release(i, now);
  }

  /** Releases the tasks with no dependencies. Call once before the first {@link start}. */
  begin(now: number): void {
    this.origin = now;
    for (let i = 0; i < this.graph.tasks.length; i++) {
      if (this.state[i] === S_PENDING && this.waiting[i] === 0) this.release(i, now);
    }
  }

  /**
   * Before {@link begin}: records that a task already succeeded in an earlier coordinator's life
   * (resume), so it never runs again and its dependents can start.
   */
  restoreSucceeded(task: number): void {
    if (this.state[task] !== S_PENDING) throw new Error(`task ${this.graph.tasks[task]?.id} is not pending`);
    this.dropPlan();
    this.state[task] = S_SUCCEEDED;
    this.terminal++;
    for (const d of this.graph.dependents[task] ?? []) this.waiting[d] = (this.waiting[d] as number) - 1;
  }

  /** Starts as many ready tasks as capacity allows, best first; returns them with their worker. */
  start(now: number): Assignment[] {
    this.wakeRetries(now);
    const out: Assignment[] = [];
    if (this.plan !== undefined) this.followPlan(now, out);
    if (this.freeWorkers === 0 || this.ready.size === 0) return out;
    let deferred: number[] | undefined;
    while (this.freeWorkers > 0 && this.ready.size > 0) {
      const i = this.ready.pop() as number;
      if (!this.fits(i)) {
        (deferred ??= []).push(i);
        continue;
      }
      out.push(this.run(i, now));
    }
    if (deferred !== undefined) for (const i of deferred) this.ready.push(i);
    return out;
  }

  /** Whether the Scheduler still follows its {@link DispatchPlan} (false without one). */
  get planned(): boolean {
    return this.plan !== undefined;
  }

  /** Starts the next planned tasks, in plan order, while they are ready and workers are free. */
  private followPlan(now: number, out: Assignment[]): void {
    const plan = this.plan as DispatchPlan;
    // A task still running at its deadline (which it would have ended by) has overrun the plan.
    for (const task of this.taskOn) {
      if (task >= 0 && now >= this.plannedEnd(task) + this.slack(task)) return this.dropPlan();
    }
    const n = this.graph.tasks.length;
    while (this.freeWorkers > 0 && this.cursor < n) {
      const i = plan.order[this.cursor] as number;
      const s = this.state[i] as number;
      if (s === S_PENDING) return;
      if (s !== S_READY || !this.fits(i)) return this.dropPlan();
      this.cursor++;
      out.push(this.run(i, now));
    }
  }

  private plannedEnd(task: number): number {
    return this.origin + ((this.plan as DispatchPlan).end[task] as number);
  }

  /** How far from its planned end a task may end while the plan holds, ms. */
  private slack(task: number): number {
    const plan = this.plan as DispatchPlan;
    return (plan.tolerance ?? DEFAULT_PLAN_TOLERANCE) * ((plan.end[task] as number) - (plan.start[task] as number));
  }

  /** Stops following the plan: from now on ready tasks start best first, as without one. */
  private dropPlan(): void {
    if (this.plan === undefined) return;
    this.plan = undefined;
    for (let i = 0; i < this.graph.tasks.length; i++) if (this.state[i] === S_READY) this.ready.push(i);
  }

  private run(i: number, now: number): Assignment {
    const w = this.busy.indexOf(0);
    this.busy[w] = 1;
    this.taskOn[w] = i;
    this.freeWorkers--;
    this.worker[i] = w;
    this.acquire(i, 1);
    this.set(i, S_RUNNING, now, { worker: w });
    return { task: i, worker: w };
  }

  /** Records the end of a running task (or, on resume, the known outcome of one that never ran here). */
  finish(task: number, outcome: Outcome, now: number, reason?: string): void {
    const s = this.state[task] as number;
    if (s >= S_SUCCEEDED) throw new Error(`task ${this.graph.tasks[task]?.id} already ended`);
    if (this.plan !== undefined && (s !== S_RUNNING || outcome !== 'succeeded' || Math.abs(now - this.plannedEnd(task)) > this.slack(task))) this.dropPlan();
    if (s === S_RUNNING) this.vacate(task);
    else if (s === S_READY) this.removeReady(task);
    else if (s === S_RETRYING) this.removeRetry(task);
    this.set(task, outcome === 'succeeded' ? S_SUCCEEDED : outcome === 'failed' ? S_FAILED : S_CANCELLED, now, reason === undefined ? undefined : { reason });
    this.settle(task, now);
  }

  /** Frees a running task's slot; it becomes ready again at `at`. */
  retryAt(task: number, at: number, now: number): void {
    if (this.state[task] !== S_RUNNING) throw new Error(`task ${this.graph.tasks[task]?.id} is not running`);
    this.dropPlan();
    this.vacate(task);
    this.set(task, S_RETRYING, now);
    this.retries.push({ task, at });
  }

  /** Cancels every task that has not started (running ones are the caller's to stop). */
  cancelPending(reason: string, now: number): void {
    this.dropPlan();
    for (let i = 0; i < this.graph.tasks.length; i++) {
      const s = this.state[i] as number;
      if (s === S_PENDING || s === S_READY || s === S_RETRYING) {
        this.set(i, S_CANCELLED, now, { reason });
        this.terminal++;
      }
    }
    this.retries.length = 0;
    while (this.ready.size > 0) this.ready.pop();
  }

  /**
   * Changes a pool's capacity while running (e.g. narrowed after a provider's 429, widened again
   * later). Units already held stay held; new starts see the new capacity.
   */
  setPoolCapacity(pool: string, capacity: number): void {
    const p = this.graph.pools.findIndex((x) => x.name === pool);
    if (p < 0) return;
    const current = this.capacity[p] as number;
    if (capacity !== current) this.dropPlan();
    this.capacity[p] = capacity;
    this.poolFree[p] = (this.poolFree[p] as number) + capacity - current;
  }

  poolCapacity(pool: string): number | undefined {
    const p = this.graph.pools.findIndex((x) => x.name === pool);
    return p < 0 ? undefined : this.capacity[p];
  }

  /**
   * The earliest time a waiting retry becomes ready or, while a plan is followed, a running task
   * overruns it (call {@link start} then, which drops the plan), if any.
   */
  nextWakeAt(): number | undefined {
    let best: number | undefined;
    for (const r of this.retries) if (best === undefined || r.at < best) best = r.at;
    if (this.plan !== undefined) {
      for (const task of this.taskOn) {
        const at = task < 0 ? undefined : this.plannedEnd(task) + this.slack(task);
        if (at !== undefined && (best === undefined || at < best)) best = at;
      }
    }
    return best;
  }

  stateOf(task: number): TaskState {
    return STATE_NAMES[this.state[task] as number] as TaskState;
  }

  skipCauseOf(task: number): SkipCause | undefined {
    const c = this.skipCause[task];
    return c === 1 ? 'condition' : c === 2 ? 'upstream' : undefined;
  }

  workerOf(task: number): number | undefined {
    const w = this.worker[task] as number;
    return w < 0 ? undefined : w;
  }

  get running(): number {
    return this.options.workers - this.freeWorkers;
  }

  get finished(): boolean {
    return this.terminal === this.graph.tasks.length;
  }

  /** Whether anything can still happen without an outside event (a start or a retry timer). */
  get idle(): boolean {
    return this.freeWorkers === this.options.workers && this.readyCount === 0 && this.retries.length === 0;
  }

  private comparator(): (a: number, b: number) => boolean {
    const { rank, tasks } = this.graph;
    const score = this.options.score;
    if (score !== undefined) return (a, b) => (score[a] as number) > (score[b] as number) || (score[a] === score[b] && a < b);
    switch (this.options.order ?? 'critical-path') {
      case 'declaration':
        return (a, b) => a < b;
      case 'fifo': {
        const arrival = this.arrival;
        return (a, b) => (arrival[a] as number) < (arrival[b] as number) || (arrival[a] === arrival[b] && a < b);
      }
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

  private set(task: number, state: number, at: number, extra?: { worker?: number; reason?: string; cause?: SkipCause }): void {
    if (this.state[task] === S_READY) this.readyCount--;
    if (state === S_READY) this.readyCount++;
    this.state[task] = state;
    const notify = this.options.onTransition;
    if (notify !== undefined) notify(extra === undefined ? { task, to: STATE_NAMES[state] as TaskState, at } : { task, to: STATE_NAMES[state] as TaskState, at, ...extra });
  }

  private release(task: number, now: number): void {
    const reason = this.options.gate?.(task);
    if (reason !== undefined) {
      this.skip(task, now, reason, 'condition');
      return;
    }
    this.arrival[task] = this.arrivals++;
    this.set(task, S_READY, now);
    if (this.plan === undefined) this.ready.push(task);
  }

  private skip(task: number, now: number, reason: string, cause: SkipCause): void {
    this.dropPlan();
    this.skipCause[task] = cause === 'condition' ? 1 : 2;
    this.set(task, S_SKIPPED, now, { reason, cause });
    this.settle(task, now);
  }

  /**
   * A task reached a terminal state: count it and tell its dependents. Skips cascade through a
   * worklist rather than recursion, so a long chain of skipped tasks cannot overflow the stack.
   */
  private settle(task: number, now: number): void {
    this.terminal++;
    this.toSettle.push(task);
    if (this.settling) return;
    this.settling = true;
    try {
      for (let k = 0; k < this.toSettle.length; k++) this.notifyDependents(this.toSettle[k] as number, now);
    } finally {
      this.toSettle.length = 0;
      this.settling = false;
    }
  }

  private notifyDependents(task: number, now: number): void {
    const { dependents, deps, tasks } = this.graph;
    const s = this.state[task] as number;
    const id = tasks[task]?.id;
    const conditionSkip = s === S_SKIPPED && this.skipCause[task] === 1;
    const after = dependents[task];
    if (after === undefined) return;
    for (let k = 0; k < after.length; k++) {
      const d = after[k] as number;
      if (this.state[d] !== S_PENDING) continue;
      // Whether the edge is hard only matters for a condition-skipped dependency: look it up then.
      const hard = conditionSkip && (deps[d] ?? []).includes(task);
      if (s === S_SUCCEEDED || conditionSkip) {
        // A hard dependency skipped by a condition dooms this task, but a failure among its other
        // dependencies must still win (and reach its `after` dependents): decide once all have ended,
        // so how a task ends never depends on which dependency happened to end first.
        if (hard && conditionSkip && this.skippedDep[d] === 0) this.skippedDep[d] = task + 1;
        this.waiting[d] = (this.waiting[d] as number) - 1;
        if (this.waiting[d] !== 0) continue;
        const by = (this.skippedDep[d] as number) - 1;
        if (by < 0) this.release(d, now);
        else this.skip(d, now, `dependency "${tasks[by]?.id}" was skipped`, 'condition');
      } else {
        const what = s === S_FAILED ? 'failed' : s === S_CANCELLED ? 'was cancelled' : 'was skipped';
        this.skip(d, now, `dependency "${id}" ${what}`, 'upstream');
      }
    }
  }

  // Index loops: most tasks use no pool and lock nothing, and these run for every start and end.
  private fits(task: number): boolean {
    if ((this.lockedBy[task] as number) > 0) return false;
    const uses = this.graph.uses[task];
    if (uses !== undefined) {
      for (let k = 0; k < uses.length; k++) {
        const [p, units] = uses[k] as readonly [number, number];
        if ((this.poolFree[p] as number) < units) return false;
      }
    }
    return true;
  }

  private acquire(task: number, sign: 1 | -1): void {
    const uses = this.graph.uses[task];
    if (uses !== undefined) {
      for (let k = 0; k < uses.length; k++) {
        const [p, units] = uses[k] as readonly [number, number];
        this.poolFree[p] = (this.poolFree[p] as number) - sign * units;
      }
    }
    const conflicts = this.graph.conflicts[task];
    if (conflicts !== undefined) for (let k = 0; k < conflicts.length; k++) this.lockedBy[conflicts[k] as number] = (this.lockedBy[conflicts[k] as number] as number) + sign;
  }

  private vacate(task: number): void {
    this.acquire(task, -1);
    this.busy[this.worker[task] as number] = 0;
    this.taskOn[this.worker[task] as number] = -1;
    this.freeWorkers++;
  }

  private wakeRetries(now: number): void {
    if (this.retries.length === 0) return;
    for (let k = this.retries.length - 1; k >= 0; k--) {
      const r = this.retries[k] as { task: number; at: number };
      if (r.at <= now) {
        this.retries.splice(k, 1);
        this.arrival[r.task] = this.arrivals++; // a retry queues behind what became ready meanwhile
        this.set(r.task, S_READY, now);
        this.ready.push(r.task);
      }
    }
  }

  private removeReady(task: number): void {
    const keep = this.ready.toArray().filter((i) => i !== task);
    while (this.ready.size > 0) this.ready.pop();
    for (const i of keep) this.ready.push(i);
  }

  private removeRetry(task: number): void {
    const k = this.retries.findIndex((r) => r.task === task);
    if (k >= 0) this.retries.splice(k, 1);
  }
}

const DEFAULT_PLAN_TOLERANCE = 0.02;

/** The plan, if it lists every task once with each task's dependencies before it; else throws. */
function checkedPlan(graph: Graph, plan: DispatchPlan): DispatchPlan {
  const n = graph.tasks.length;
  const position = new Int32Array(n).fill(-1);
  if (plan.order.length !== n || plan.start.length !== n || plan.end.length !== n) throw new RangeError(`Expected a plan of ${n} tasks, got ${plan.order.length}`);
  for (let k = 0; k < n; k++) {
    const i = plan.order[k] as number;
    if (!Number.isInteger(i) || i < 0 || i >= n || position[i] !== -1) throw new RangeError(`Expected a plan that lists every task once, got task index ${i} at position ${k}`);
    position[i] = k;
  }
  for (let i = 0; i < n; i++) {
    for (const d of [...(graph.deps[i] ?? []), ...(graph.softDeps[i] ?? [])]) {
      if ((position[d] as number) > (position[i] as number)) throw new RangeError(`Expected a plan that starts ${graph.tasks[d]?.id} before ${graph.tasks[i]?.id}, which depends on it`);
    }
  }
  return plan;
}
