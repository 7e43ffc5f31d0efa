import type { Graph } from '../plan/graph.js';
import { IndexHeap } from './heap.js';
import type { Assignment, Outcome, SkipCause, TaskState, Transition } from './task-state.js';
import { readyComparator } from './ready-order.js';
import { checkedPlan } from './dispatch-plan.js';
import { PlanFollower } from './plan-follower.js';
import { Resources } from './resources.js';
import { RetryQueue } from './retry-queue.js';
import { WorkerSlots } from './worker-slots.js';
import type { SchedulerOptions } from './scheduler-options.js';
import {
  STATE_NAMES,
  S_CANCELLED,
  S_FAILED,
  S_PENDING,
  S_READY,
  S_RETRYING,
  S_RUNNING,
  S_SKIPPED,
  S_SUCCEEDED,
  outcomeCode,
  skipCauseOfCode,
  skipCode,
} from './state-codes.js';
import { dependencyEnded } from './dependency-ended.js';
import { DEFAULT_SURPRISE_TOLERANCE } from './surprise.js';
import { SurpriseWatch } from './surprise-watch.js';

export type { TaskState, Outcome, SkipCause, Transition, Assignment } from './task-state.js';
export { TERMINAL_STATES } from './task-state.js';
export type { ReadyOrder } from './ready-order.js';
export type { DispatchPlan } from './dispatch-plan.js';
export type { SchedulerOptions } from './scheduler-options.js';

/**
 * The pure scheduling core: a dependency-aware ready queue on M workers with pools and
 * write-scope locks. It never sleeps and never does I/O; callers pass the time in and tell it
 * what finished. The same code drives a real run and the virtual-clock estimate.
 */
export class Scheduler {
  private readonly state: Uint8Array;
  private readonly waiting: Int32Array;
  private readonly skipCause: Uint8Array; // 1 condition, 2 upstream, 3 blocked
  private readonly skippedDep: Int32Array; // 1 + the first hard dependency skipped by a condition, or 0
  private readonly arrival: Float64Array;
  private readonly resources: Resources;
  private readonly workers: WorkerSlots;
  private ready: IndexHeap;
  private readonly retries = new RetryQueue();
  private readonly toSettle: number[] = [];
  private settling = false;
  private arrivals = 0;
  private terminal = 0;
  private readyCount = 0;
  /** The plan being followed; while it is, ready tasks wait outside the heap for their turn. */
  private plan: PlanFollower | undefined;
  /** Until the first surprise, when there is a `surpriseScore` to switch to. */
  private watch: SurpriseWatch | undefined;

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
    this.arrival = new Float64Array(n);
    this.resources = new Resources(graph);
    this.workers = new WorkerSlots(options.workers, n);
    this.ready = new IndexHeap(readyComparator(graph, options.order, options.score, this.arrival));
    for (let i = 0; i < n; i++) this.waiting[i] = (graph.deps[i]?.length ?? 0) + (graph.softDeps[i]?.length ?? 0);
    if (options.plan !== undefined) this.plan = new PlanFollower(checkedPlan(graph, options.plan));
    if (options.surpriseScore !== undefined)
      this.watch = new SurpriseWatch(graph, options.surpriseTolerance ?? DEFAULT_SURPRISE_TOLERANCE);
  }

  /**
   * Instead of {@link begin}, for a graph that grew mid-run (a task's output added tasks): takes
   * over the state of the scheduler that ran the smaller graph. Old tasks keep their indices;
   * running ones keep their workers, pool units and locks; pending ones — old or new — wait only
   * for what has not ended yet. Tasks in `reset` (a loop's next iteration) start over as pending.
   */
  adopt(previous: Scheduler, now: number, reset?: ReadonlySet<number>): void {
    this.dropPlan();
    const old = previous.graph.tasks.length;
    for (let i = 0; i < old; i++) {
      const s = previous.state[i] as number;
      if (s === S_PENDING || reset?.has(i) === true) continue;
      this.state[i] = s;
      this.skipCause[i] = previous.skipCause[i] as number;
      this.arrival[i] = previous.arrival[i] as number;
      if (s >= S_SUCCEEDED) this.terminal++;
      else if (s === S_READY) {
        this.ready.push(i);
        this.readyCount++;
      } else if (s === S_RUNNING) {
        this.workers.put(i, previous.workers.workerOf(i) as number);
        this.resources.acquire(i, 1);
      }
    }
    this.retries.addAll(previous.retries);
    this.arrivals = previous.arrivals;
    if (previous.surprised) this.switchOnSurprise();
    else if (previous.watch !== undefined) this.watch?.adopt(previous.watch);
    for (let p = 0; p < this.resources.pools && p < previous.resources.pools; p++) {
      this.setPoolCapacity(this.graph.pools[p]?.name ?? '', previous.resources.capacityAt(p) as number);
    }
    // Pending tasks count only the dependencies still to end; those that ended are replayed.
    const n = this.graph.tasks.length;
    for (let i = 0; i < n; i++)
      if (this.state[i] === S_PENDING)
        this.waiting[i] = (this.graph.deps[i]?.length ?? 0) + (this.graph.softDeps[i]?.length ?? 0);
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
    this.plan?.begin(now);
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
    for (const d of this.graph.dependents[task] ?? [])
      if (this.options.heldEdge?.(task, d) !== true) this.waiting[d] = (this.waiting[d] as number) - 1;
  }

  /** Starts as many ready tasks as capacity allows, best first; returns them with their worker. */
  start(now: number): Assignment[] {
    this.wakeRetries(now);
    // Only a choice (more ready tasks than free workers) needs to know of a task running long.
    if (this.watch !== undefined && this.readyCount > this.workers.free && this.workers.free > 0)
      if (this.watch.overrun(this.workers.taskOn, now)) this.switchOnSurprise();
    const out: Assignment[] = [];
    if (this.plan !== undefined) this.followPlan(now, out);
    if (this.workers.free === 0 || this.ready.size === 0) return out;
    let deferred: number[] | undefined;
    while (this.workers.free > 0 && this.ready.size > 0) {
      const i = this.ready.pop() as number;
      if (!this.resources.fits(i) || this.options.held?.(i) === true) {
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
    const plan = this.plan as PlanFollower;
    // A task still running at its deadline (which it would have ended by) has overrun the plan.
    const deadline = plan.firstDeadline(this.workers.taskOn);
    if (deadline !== undefined && now >= deadline) return this.dropPlan();
    for (let i = plan.next; this.workers.free > 0 && i !== undefined; i = plan.next) {
      const s = this.state[i] as number;
      if (s === S_PENDING) return;
      if (s !== S_READY || !this.resources.fits(i) || this.options.held?.(i) === true) return this.dropPlan();
      plan.advance();
      out.push(this.run(i, now));
    }
  }

  /** Stops following the plan: from now on ready tasks start best first, as without one. */
  private dropPlan(): void {
    if (this.plan === undefined) return;
    this.plan = undefined;
    for (let i = 0; i < this.graph.tasks.length; i++) if (this.state[i] === S_READY) this.ready.push(i);
  }

  /**
   * Whether a task's duration departed from its estimate, so that ready tasks now start in
   * `surpriseScore` order (false without one).
   */
  get surprised(): boolean {
    return this.watch === undefined && this.options.surpriseScore !== undefined;
  }

  /** The first surprise: from now on ready tasks start in `surpriseScore` order. */
  private switchOnSurprise(): void {
    const surpriseScore = this.options.surpriseScore;
    if (surpriseScore === undefined || this.surprised) return;
    this.watch = undefined;
    const score = surpriseScore();
    const waiting = this.ready.toArray();
    this.ready = new IndexHeap(readyComparator(this.graph, this.options.order, score, this.arrival));
    for (const i of waiting) this.ready.push(i);
  }

  private run(i: number, now: number): Assignment {
    this.watch?.started(i, now);
    const w = this.workers.take(i);
    this.resources.acquire(i, 1);
    this.set(i, S_RUNNING, now, w);
    return { task: i, worker: w };
  }

  /** Records the end of a running task (or, on resume, the known outcome of one that never ran here). */
  finish(task: number, outcome: Outcome, now: number, reason?: string): void {
    const s = this.state[task] as number;
    if (s >= S_SUCCEEDED) throw new Error(`task ${this.graph.tasks[task]?.id} already ended`);
    if (s === S_RUNNING && outcome === 'succeeded' && this.watch?.endsOff(task, now) === true) this.switchOnSurprise();
    if (this.plan !== undefined && (s !== S_RUNNING || outcome !== 'succeeded' || this.plan.offPlan(task, now)))
      this.dropPlan();
    if (s === S_RUNNING) this.vacate(task);
    else if (s === S_READY) this.removeReady(task);
    else if (s === S_RETRYING) this.retries.remove(task);
    this.set(task, outcomeCode(outcome), now, undefined, reason);
    this.settle(task, now);
  }

  /**
   * A task that succeeded fails after all (a check that verifies it ran out of fixes for it): its
   * dependents that have not started are skipped, as if it had failed when it ended.
   */
  failSucceeded(task: number, now: number, reason: string): void {
    if (this.state[task] !== S_SUCCEEDED) throw new Error(`task ${this.graph.tasks[task]?.id} has not succeeded`);
    this.dropPlan();
    this.set(task, S_FAILED, now, undefined, reason);
    this.terminal--; // counted again as it settles
    this.settle(task, now);
  }

  /** Frees a running task's slot; it becomes ready again at `at`. */
  retryAt(task: number, at: number, now: number): void {
    if (this.state[task] !== S_RUNNING) throw new Error(`task ${this.graph.tasks[task]?.id} is not running`);
    this.dropPlan();
    this.vacate(task);
    this.set(task, S_RETRYING, now);
    this.retries.add({ task, at });
  }

  /** Cancels every task that has not started (running ones are the caller's to stop). */
  cancelPending(reason: string, now: number): void {
    this.dropPlan();
    for (let i = 0; i < this.graph.tasks.length; i++) {
      const s = this.state[i] as number;
      if (s === S_PENDING || s === S_READY || s === S_RETRYING) {
        this.set(i, S_CANCELLED, now, undefined, reason);
        this.terminal++;
      }
    }
    this.retries.clear();
    while (this.ready.size > 0) this.ready.pop();
  }

  /**
   * Changes a pool's capacity while running (e.g. narrowed after a provider's 429, widened again
   * later). Units already held stay held; new starts see the new capacity.
   */
  setPoolCapacity(pool: string, capacity: number): void {
    const p = this.graph.pools.findIndex((x) => x.name === pool);
    if (p < 0) return;
    if (this.resources.setCapacityAt(p, capacity)) this.dropPlan();
  }

  /** A pool's capacity now (narrowed while its provider is throttled); `undefined` for no such pool. */
  poolCapacity(pool: string): number | undefined {
    const p = this.graph.pools.findIndex((x) => x.name === pool);
    return p < 0 ? undefined : this.resources.capacityAt(p);
  }

  /**
   * The earliest time a waiting retry becomes ready or, while a plan is followed, a running task
   * overruns it (call {@link start} then, which drops the plan), if any.
   */
  nextWakeAt(): number | undefined {
    const retry = this.retries.nextAt();
    const overrun = this.plan?.firstDeadline(this.workers.taskOn);
    return overrun === undefined || (retry !== undefined && retry <= overrun) ? retry : overrun;
  }

  /** Where `task` stands. */
  stateOf(task: number): TaskState {
    return STATE_NAMES[this.state[task] as number] as TaskState;
  }

  /** Why `task` was skipped, if it was. */
  skipCauseOf(task: number): SkipCause | undefined {
    return skipCauseOfCode(this.skipCause[task]);
  }

  /** The worker `task` runs (or last ran) on, if it started. */
  workerOf(task: number): number | undefined {
    return this.workers.workerOf(task);
  }

  /** How many tasks run now. */
  get running(): number {
    return this.options.workers - this.workers.free;
  }

  /** Whether every task reached a terminal state. */
  get finished(): boolean {
    return this.terminal === this.graph.tasks.length;
  }

  /** Whether anything can still happen without an outside event (a start or a retry timer). */
  get idle(): boolean {
    return this.workers.free === this.options.workers && this.readyCount === 0 && this.retries.size === 0;
  }

  /**
   * Moves `task` to `state` and tells `onTransition`, if there is one: only then is a Transition
   * built (a simulation has none, and moves every task three times or more).
   */
  private set(task: number, state: number, at: number, worker?: number, reason?: string, cause?: SkipCause): void {
    if (this.state[task] === S_READY) this.readyCount--;
    if (state === S_READY) this.readyCount++;
    this.state[task] = state;
    this.options.onTransition?.(transition(task, STATE_NAMES[state] as TaskState, at, worker, reason, cause));
  }

  private release(task: number, now: number): void {
    const reason = this.options.gate?.(task);
    if (reason !== undefined) {
      if (typeof reason === 'string') this.skip(task, now, reason, 'condition');
      else this.skip(task, now, reason.reason, reason.cause);
      return;
    }
    this.arrival[task] = this.arrivals++;
    this.set(task, S_READY, now);
    if (this.plan === undefined) this.ready.push(task);
    else if (this.graph.tasks[task]?.class === 'P0') this.dropPlan(); // a ready P0 does not wait for its turn in the plan
  }

  private skip(task: number, now: number, reason: string, cause: SkipCause): void {
    this.dropPlan();
    this.skipCause[task] = skipCode(cause);
    this.set(task, S_SKIPPED, now, undefined, reason, cause);
    this.options.onSkipped?.(task);
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
    const after = this.graph.dependents[task];
    if (after === undefined) return;
    const s = this.state[task] as number;
    const skip = this.skipCause[task] as number;
    const held = this.options.heldEdge;
    for (let k = 0; k < after.length; k++) {
      const d = after[k] as number;
      if (this.state[d] !== S_PENDING || (held !== undefined && held(task, d))) continue;
      const end = dependencyEnded(this.graph, task, d, s, skip);
      if (typeof end === 'object') {
        this.skip(d, now, end.reason, end.cause);
        continue;
      }
      // A hard dependency skipped by a condition dooms this task, but a failure among its other
      // dependencies must still win (and reach its `after` dependents): decide once all have ended,
      // so how a task ends never depends on which dependency happened to end first.
      if (end === 'doomed' && this.skippedDep[d] === 0) this.skippedDep[d] = task + 1;
      this.waiting[d] = (this.waiting[d] as number) - 1;
      if (this.waiting[d] !== 0) continue;
      const by = (this.skippedDep[d] as number) - 1;
      if (by < 0) this.release(d, now);
      else this.skip(d, now, `dependency "${this.graph.tasks[by]?.id}" was skipped`, 'condition');
    }
  }

  private vacate(task: number): void {
    this.resources.acquire(task, -1);
    this.workers.vacate(task);
  }

  private wakeRetries(now: number): void {
    if (this.retries.size === 0) return;
    this.retries.takeDue(now, (task) => {
      this.arrival[task] = this.arrivals++; // a retry queues behind what became ready meanwhile
      this.set(task, S_READY, now);
      this.ready.push(task);
    });
  }

  private removeReady(task: number): void {
    const keep = this.ready.toArray().filter((i) => i !== task);
    while (this.ready.size > 0) this.ready.pop();
    for (const i of keep) this.ready.push(i);
  }
}

/** A state change as `onTransition` sees it: `worker` for a start, `reason` (and `cause`) for an end that has one. */
function transition(
  task: number,
  to: TaskState,
  at: number,
  worker: number | undefined,
  reason: string | undefined,
  cause: SkipCause | undefined,
): Transition {
  if (worker !== undefined) return { task, to, at, worker };
  if (reason === undefined) return { task, to, at };
  return cause === undefined ? { task, to, at, reason } : { task, to, at, reason, cause };
}
