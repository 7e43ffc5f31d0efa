/**
 * A tiny discrete-event loop that drives the real {@link Scheduler} on virtual time, a monitor that
 * checks the scheduler's promises at every state change, and an oracle that says how every task
 * must end. Shared by the scheduler's property tests; usable by any test that needs "run this
 * graph with these failures and tell me what happened".
 */
import type { Graph } from '../plan/graph.js';
import { writeScopesOverlap } from '../plan/glob-overlap.js';
import {
  Scheduler,
  TERMINAL_STATES,
  type DispatchPlan,
  type ReadyOrder,
  type SkipCause,
  type TaskState,
  type Transition,
} from '../schedule/scheduler.js';
import { whenGate, type WhenSources } from '../run/policies/when.js';
import type { TaskBehaviour } from './arbitraries.js';

type Vars = Readonly<Record<string, string | number | boolean>>;

/**
 * The scheduler gate a run uses ({@link whenGate}): evaluates each task's `when` against `vars` and
 * the states of the tasks it reads (`tasks.<id>.succeeded|failed|skipped|status`).
 */
export function conditionGate(
  graph: Graph,
  vars: Vars,
  stateOf: (task: number) => TaskState,
): (task: number) => string | undefined {
  const sources: WhenSources = {
    vars,
    task: (id) => {
      const i = graph.index.get(id);
      return i === undefined ? undefined : { state: stateOf(i) };
    },
  };
  return (task) => {
    const t = graph.tasks[task];
    return t === undefined ? undefined : whenGate(t, sources);
  };
}

const LEGAL: Readonly<Record<TaskState, readonly TaskState[]>> = {
  pending: ['ready', 'skipped', 'cancelled'],
  ready: ['running', 'cancelled', 'blocked'],
  running: ['succeeded', 'failed', 'cancelled', 'retrying', 'blocked'],
  retrying: ['ready', 'cancelled'],
  succeeded: [],
  failed: [],
  skipped: [],
  cancelled: [],
  blocked: [],
};

/** A dependency in this state keeps an `after` dependent waiting no longer (and does not skip it). */
const finishedForAfter = (state: TaskState, cause: SkipCause | undefined): boolean =>
  state === 'succeeded' || (state === 'skipped' && cause === 'condition');

/**
 * Watches every transition and throws the moment the scheduler breaks a promise: the budget M,
 * pool capacities, write-scope locks, dependency order, legal state changes, work conservation.
 */
export class SchedulerMonitor {
  readonly state: TaskState[];
  readonly cause: (SkipCause | undefined)[];
  readonly running = new Set<number>();
  readonly ready = new Set<number>();
  private readonly workerOf = new Map<number, number>();
  private readonly poolUsed: number[];
  private readonly overlapMemo = new Map<number, boolean>();
  private lastAt = -Infinity;

  constructor(
    readonly graph: Graph,
    readonly workers: number,
  ) {
    this.state = graph.tasks.map(() => 'pending');
    this.cause = graph.tasks.map(() => undefined);
    this.poolUsed = graph.pools.map(() => 0);
  }

  readonly onTransition = (t: Transition): void => {
    const { task, to, at } = t;
    const from = this.state[task] as TaskState;
    const id = this.id(task);
    if (at < this.lastAt) this.fail(`time went backwards: ${id} → ${to} at ${at} after ${this.lastAt}`);
    this.lastAt = at;
    if (!LEGAL[from].includes(to)) this.fail(`illegal transition of ${id}: ${from} → ${to} at ${at}`);
    if (from === 'running') this.vacate(task);
    if (from === 'ready') this.ready.delete(task);
    if (to === 'ready') {
      if (from === 'pending') this.checkDependenciesDone(task, 'became ready');
      this.ready.add(task);
    }
    if (to === 'running') this.occupy(task, t.worker, at);
    if (to === 'skipped') {
      if (t.cause === undefined) this.fail(`${id} was skipped without a cause`);
      if (t.cause === 'upstream' && !this.allDeps(task).some((d) => this.brokeDependents(d)))
        this.fail(`${id} was skipped as "upstream" but no dependency failed or was cancelled`);
      this.cause[task] = t.cause;
    }
    this.state[task] = to;
  };

  /** After `start()`: no worker may stay idle while a ready task fits (capacity, pools, locks). */
  assertNothingStartable(now: number): void {
    if (this.running.size >= this.workers) return;
    for (const t of this.ready) {
      if (this.fits(t))
        this.fail(
          `at ${now} ${this.id(t)} was ready and fit, but ${this.workers - this.running.size} worker(s) stayed idle`,
        );
    }
  }

  /** Whether a ready task could start now: pool units are free and no running task writes where it writes. */
  fits(task: number): boolean {
    for (const [p, units] of this.graph.uses[task] ?? [])
      if ((this.poolUsed[p] as number) + units > (this.graph.pools[p]?.capacity ?? 0)) return false;
    for (const r of this.running) if (this.overlap(task, r)) return false;
    return true;
  }

  /** Whether two tasks' `writes` globs overlap, computed from the globs (not from `graph.conflicts`). */
  overlap(a: number, b: number): boolean {
    const key = Math.min(a, b) * this.graph.tasks.length + Math.max(a, b);
    let v = this.overlapMemo.get(key);
    if (v === undefined) {
      const [x, y] = [this.graph.tasks[a], this.graph.tasks[b]];
      v = writeScopesOverlap(x?.writes ?? [], y?.writes ?? [], x?.cwd, y?.cwd);
      this.overlapMemo.set(key, v);
    }
    return v;
  }

  private occupy(task: number, worker: number | undefined, at: number): void {
    const id = this.id(task);
    this.checkDependenciesDone(task, 'started');
    if (this.running.size + 1 > this.workers)
      this.fail(`${id} started at ${at} with ${this.running.size} of ${this.workers} workers already busy`);
    if (worker === undefined || worker < 0 || worker >= this.workers || !Number.isInteger(worker))
      this.fail(`${id} started on worker ${worker} (M = ${this.workers})`);
    for (const [r, w] of this.workerOf)
      if (w === worker) this.fail(`${id} started at ${at} on worker ${worker}, which ${this.id(r)} is using`);
    for (const r of this.running)
      if (this.overlap(task, r))
        this.fail(`${id} started at ${at} while ${this.id(r)}, whose writes overlap, is running`);
    for (const [p, units] of this.graph.uses[task] ?? []) {
      const used = (this.poolUsed[p] as number) + units;
      const pool = this.graph.pools[p];
      if (used > (pool?.capacity ?? 0))
        this.fail(`${id} started at ${at} and took pool "${pool?.name}" to ${used} of ${pool?.capacity} units`);
      this.poolUsed[p] = used;
    }
    this.running.add(task);
    this.workerOf.set(task, worker as number);
  }

  private vacate(task: number): void {
    for (const [p, units] of this.graph.uses[task] ?? []) this.poolUsed[p] = (this.poolUsed[p] as number) - units;
    this.running.delete(task);
    this.workerOf.delete(task);
  }

  private checkDependenciesDone(task: number, what: string): void {
    for (const d of this.graph.deps[task] ?? []) {
      if (this.state[d] !== 'succeeded')
        this.fail(`${this.id(task)} ${what} while it needs ${this.id(d)}, which is ${this.state[d]}`);
    }
    for (const d of this.graph.softDeps[task] ?? []) {
      if (!finishedForAfter(this.state[d] as TaskState, this.cause[d]))
        this.fail(`${this.id(task)} ${what} while it is after ${this.id(d)}, which is ${this.state[d]}`);
    }
  }

  private brokeDependents(d: number): boolean {
    const s = this.state[d];
    return s === 'failed' || s === 'cancelled' || (s === 'skipped' && this.cause[d] === 'upstream');
  }

  private allDeps(task: number): number[] {
    return [...(this.graph.deps[task] ?? []), ...(this.graph.softDeps[task] ?? [])];
  }

  private id(task: number): string {
    return this.graph.tasks[task]?.id ?? `#${task}`;
  }

  private fail(message: string): never {
    throw new Error(`scheduler broke a promise: ${message}`);
  }
}

export interface RunOptions {
  /** The budget M. */
  readonly workers: number;
  readonly order?: ReadyOrder;
  /** Values for `when` gates. @default {} */
  readonly vars?: Vars;
  /** Stop the run at this time: `cancelPending`, then let running tasks end (no more retries). */
  readonly cancelAt?: number;
  /** A schedule for the Scheduler to follow; no worker may idle only once it has been dropped. */
  readonly plan?: DispatchPlan;
}

export interface StartRecord {
  readonly task: number;
  readonly worker: number;
  readonly at: number;
}

export interface RunTrace {
  /** Final state per task. */
  readonly final: readonly TaskState[];
  readonly cause: readonly (SkipCause | undefined)[];
  /** How many times each task started. */
  readonly attempts: readonly number[];
  readonly starts: readonly StartRecord[];
  readonly transitions: readonly Transition[];
  /** The tasks skipped, in the order `onSkipped` saw them. */
  readonly skipped: readonly number[];
  /** When the last task ended. */
  readonly makespan: number;
  /** With a `plan`: when the Scheduler stopped following it, if it did. */
  readonly planDroppedAt?: number;
}

/**
 * Runs a graph on the real scheduler with virtual time: each attempt of task `i` takes
 * `behaviour[i].actualMs`; the first `behaviour[i].failures` attempts fail, and a failed attempt is
 * retried after `retryDelayMs` while the task has retries left. A {@link SchedulerMonitor} checks
 * every transition and, after every `start()`, that no worker idles while a ready task fits.
 */
export function runOnScheduler(graph: Graph, behaviour: readonly TaskBehaviour[], options: RunOptions): RunTrace {
  const n = graph.tasks.length;
  const monitor = new SchedulerMonitor(graph, options.workers);
  const transitions: Transition[] = [];
  const starts: StartRecord[] = [];
  const skipped: number[] = [];
  const attempts = new Array<number>(n).fill(0);
  const endAt = new Float64Array(n);
  const running = new Set<number>();
  const sched: Scheduler = new Scheduler(graph, {
    workers: options.workers,
    ...(options.order === undefined ? {} : { order: options.order }),
    ...(options.plan === undefined ? {} : { plan: options.plan }),
    gate: conditionGate(graph, options.vars ?? {}, (i) => sched.stateOf(i)),
    onTransition: (t) => {
      monitor.onTransition(t);
      transitions.push(t);
    },
    onSkipped: (task) => skipped.push(task),
  });
  const { cancelAt } = options;
  let cancelled = false;
  let now = 0;
  let planDroppedAt: number | undefined;
  sched.begin(now);
  for (let step = 0; ; step++) {
    if (step > 30 * n + 100) throw new Error(`run did not settle after ${step} steps`);
    if (!cancelled && cancelAt !== undefined && now >= cancelAt) {
      sched.cancelPending('run stopped', now);
      cancelled = true;
    }
    if (!cancelled) {
      for (const { task, worker } of sched.start(now)) {
        attempts[task] = (attempts[task] as number) + 1;
        endAt[task] = now + (behaviour[task]?.actualMs ?? 0);
        running.add(task);
        starts.push({ task, worker, at: now });
      }
      // Idling on purpose is the point of a plan: work conservation holds once it is dropped.
      if (options.plan !== undefined && !sched.planned) planDroppedAt ??= now;
      if (!sched.planned) monitor.assertNothingStartable(now);
    }
    if (sched.running !== running.size)
      throw new Error(`scheduler counts ${sched.running} running tasks, the loop ${running.size}`);
    let next = Infinity;
    for (const r of running) next = Math.min(next, endAt[r] as number);
    if (!cancelled) next = Math.min(next, sched.nextWakeAt() ?? Infinity, cancelAt ?? Infinity);
    if (next === Infinity) break;
    now = Math.max(now, next);
    for (const r of [...running].sort((a, b) => a - b)) {
      if (endAt[r] !== now) continue;
      running.delete(r);
      const b = behaviour[r] as TaskBehaviour;
      const attempt = attempts[r] as number;
      if (attempt > b.failures) sched.finish(r, 'succeeded', now);
      else if (!cancelled && attempt <= (graph.tasks[r]?.retries ?? 0)) sched.retryAt(r, now + b.retryDelayMs, now);
      else sched.finish(r, 'failed', now, `attempt ${attempt} failed`);
    }
  }
  if (!sched.finished || !sched.idle)
    throw new Error(`run stalled at ${now}: ${graph.tasks.map((t, i) => `${t.id}=${sched.stateOf(i)}`).join(' ')}`);
  const final = graph.tasks.map((_, i) => sched.stateOf(i));
  if (final.some((s, i) => s !== monitor.state[i] || !TERMINAL_STATES.has(s)))
    throw new Error('scheduler and monitor disagree on final states');
  return {
    final,
    cause: graph.tasks.map((_, i) => sched.skipCauseOf(i)),
    attempts,
    starts,
    transitions,
    skipped,
    makespan: now,
    ...(planDroppedAt === undefined ? {} : { planDroppedAt }),
  };
}

export interface ExpectedOutcome {
  readonly state: TaskState;
  readonly cause?: SkipCause;
  /** How many times the task runs. */
  readonly attempts: number;
}

/**
 * How one task must end, given how its dependencies ended: a failed, cancelled or upstream-skipped
 * dependency (`needs` or `after`) skips it as "upstream"; otherwise a hard dependency skipped by a
 * condition skips it as "condition"; otherwise its own `when` decides; otherwise it runs until it
 * succeeds or its retries run out.
 */
export function expectedOutcomeOf(
  graph: Graph,
  behaviour: readonly TaskBehaviour[],
  vars: Vars,
  task: number,
  outcomeOf: (task: number) => ExpectedOutcome,
): ExpectedOutcome {
  const hard = graph.deps[task] ?? [];
  const all = [...hard, ...(graph.softDeps[task] ?? [])];
  const broken = (d: number): boolean => {
    const o = outcomeOf(d);
    return o.state === 'failed' || o.state === 'cancelled' || (o.state === 'skipped' && o.cause === 'upstream');
  };
  if (all.some(broken)) return { state: 'skipped', cause: 'upstream', attempts: 0 };
  if (hard.some((d) => outcomeOf(d).state === 'skipped')) return { state: 'skipped', cause: 'condition', attempts: 0 };
  if (conditionGate(graph, vars, (d) => outcomeOf(d).state)(task) !== undefined)
    return { state: 'skipped', cause: 'condition', attempts: 0 };
  const b = behaviour[task] as TaskBehaviour;
  const retries = graph.tasks[task]?.retries ?? 0;
  return b.failures > retries
    ? { state: 'failed', attempts: retries + 1 }
    : { state: 'succeeded', attempts: b.failures + 1 };
}

/** The oracle: how every task of an uninterrupted run must end, independent of M, order and timing. */
export function expectedOutcomes(
  graph: Graph,
  behaviour: readonly TaskBehaviour[],
  vars: Vars = {},
): ExpectedOutcome[] {
  const out: ExpectedOutcome[] = new Array<ExpectedOutcome>(graph.tasks.length);
  for (const i of graph.topo) out[i] = expectedOutcomeOf(graph, behaviour, vars, i, (d) => out[d] as ExpectedOutcome);
  return out;
}

/** Every task that depends, directly or through others (`needs` or `after`), on one of `roots`. */
export function transitiveDependents(graph: Graph, roots: Iterable<number>): Set<number> {
  const seen = new Set<number>();
  const stack = [...roots];
  while (stack.length > 0) {
    for (const d of graph.dependents[stack.pop() as number] ?? []) {
      if (!seen.has(d)) {
        seen.add(d);
        stack.push(d);
      }
    }
  }
  return seen;
}
