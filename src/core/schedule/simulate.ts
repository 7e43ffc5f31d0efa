import type { Graph } from '../plan/graph.js';
import { keyHeapPop, keyHeapPush } from './key-heap.js';
import { Scheduler, type DispatchPlan, type ReadyOrder } from './scheduler.js';

/** A task's place in a simulated schedule: its worker, start and end, ms. */
export interface SimulatedTask {
  readonly task: number;
  readonly worker: number;
  readonly start: number;
  readonly end: number;
}

/** A run simulated on the virtual clock. */
export interface Simulation {
  readonly makespan: number;
  readonly schedule: readonly SimulatedTask[];
  /** Tasks skipped because a `when` was false. */
  readonly skipped: readonly number[];
}

/** How to simulate: M, the ready-queue order, and what the Scheduler would be handed in a run. */
export interface SimulateOptions {
  readonly workers: number;
  readonly order?: ReadyOrder;
  readonly score?: ArrayLike<number>;
  /** A schedule to follow while every task takes its estimate (see `DispatchPlan`), e.g. `searchOrder`'s `plan`. */
  readonly dispatchPlan?: DispatchPlan;
  /** Priorities once a task's `duration` departs from its estimate (see `SchedulerOptions.surpriseScore`). */
  readonly surpriseScore?: () => ArrayLike<number>;
  /** Durations to use instead of the graph's, ms. */
  readonly duration?: ArrayLike<number>;
  readonly gate?: (task: number) => string | undefined;
}

/**
 * Runs the real {@link Scheduler} on a virtual clock: every task takes its estimate. This is what
 * `weft estimate` prints and what the benchmarks measure.
 */
export function simulate(graph: Graph, options: SimulateOptions): Simulation {
  const duration = options.duration ?? graph.duration;
  const skipped: number[] = [];
  const sched = new Scheduler(graph, {
    workers: options.workers,
    ...(options.order === undefined ? {} : { order: options.order }),
    ...(options.score === undefined ? {} : { score: options.score }),
    ...(options.dispatchPlan === undefined ? {} : { plan: options.dispatchPlan }),
    ...(options.surpriseScore === undefined ? {} : { surpriseScore: options.surpriseScore }),
    ...(options.gate === undefined ? {} : { gate: options.gate }),
    onSkipped: (task) => skipped.push(task),
  });
  // The running tasks, soonest end first (ties: lower index): a key heap on minus each one's end,
  // as a key heap puts the larger key first. Not an IndexHeap, whose comparator call then sees the
  // ready queue's comparator alone and can inline it (two made it polymorphic: ~10% of a simulation).
  const negEnd = new Float64Array(graph.tasks.length);
  const running = new Int32Array(options.workers);
  let size = 0;
  const schedule: SimulatedTask[] = [];
  let now = 0;
  sched.begin(now);
  for (;;) {
    for (const { task, worker } of sched.start(now)) {
      const end = now + (duration[task] as number);
      negEnd[task] = -end;
      size = keyHeapPush(running, size, task, negEnd);
      schedule.push({ task, worker, start: now, end });
    }
    if (size === 0) break;
    now = -(negEnd[running[0] as number] as number);
    // Finish everything that ends at this instant before deciding what starts next.
    while (size > 0 && -(negEnd[running[0] as number] as number) === now) {
      const task = running[0] as number;
      size = keyHeapPop(running, size, negEnd);
      sched.finish(task, 'succeeded', now);
    }
  }
  if (!sched.finished) throw new Error('simulate: tasks left unscheduled');
  return { makespan: now, schedule, skipped };
}

/** What `weft estimate` prints for one M, ms. */
export interface EstimateFigures {
  readonly workers: number;
  readonly makespan: number;
  readonly sequential: number;
  readonly criticalPath: number;
  readonly lowerBound: number;
  readonly speedup: number;
}

/** The figures `weft estimate` prints for one M, in ms. */
export function estimate(graph: Graph, options: SimulateOptions): EstimateFigures & { simulation: Simulation } {
  const simulation = simulate(graph, options);
  const skipped = new Set(simulation.skipped);
  const duration = options.duration ?? graph.duration;
  let sequential = 0;
  for (let i = 0; i < graph.tasks.length; i++) if (!skipped.has(i)) sequential += duration[i] as number;
  const criticalPath = simulation.schedule.length === 0 ? 0 : longestPath(graph, duration, skipped);
  const lowerBound = Math.max(criticalPath, sequential / options.workers);
  return {
    workers: options.workers,
    makespan: simulation.makespan,
    sequential,
    criticalPath,
    lowerBound,
    speedup: simulation.makespan === 0 ? 1 : sequential / simulation.makespan,
    simulation,
  };
}

/** Longest path through the tasks that run, ms. */
export function longestPath(
  graph: Graph,
  duration: ArrayLike<number>,
  skipped: ReadonlySet<number> = new Set(),
): number {
  const finish = new Float64Array(graph.tasks.length);
  const { topo, deps, softDeps } = graph;
  const anySkipped = skipped.size > 0;
  let best = 0;
  // Index loops, and the set asked only when a task was skipped: a large plan's estimate walks
  // every task and edge here once, mostly before it is optimised (~50 → ~35 ms for 100,000 tasks).
  for (let k = 0; k < topo.length; k++) {
    const i = topo[k] as number;
    const start = Math.max(latestFinish(deps[i], finish), latestFinish(softDeps[i], finish));
    finish[i] = start + (anySkipped && skipped.has(i) ? 0 : (duration[i] as number));
    best = Math.max(best, finish[i] as number);
  }
  return best;
}

/**
 * The tasks of {@link longestPath} that run, first to last: from the task that finishes last, back
 * each step to the (hard or soft) dependency that finished last. Skipped tasks take no time and
 * are left out of the chain, which goes on through them to what they waited for.
 */
export function longestChain(
  graph: Graph,
  duration: ArrayLike<number>,
  skipped: ReadonlySet<number> = new Set(),
): number[] {
  const finish = new Float64Array(graph.tasks.length);
  const { topo, deps, softDeps } = graph;
  let last = -1;
  for (const i of topo) {
    const start = Math.max(latestFinish(deps[i], finish), latestFinish(softDeps[i], finish));
    finish[i] = start + (skipped.has(i) ? 0 : (duration[i] as number));
    if (last === -1 || (finish[i] as number) > (finish[last] as number)) last = i;
  }
  const chain: number[] = [];
  for (let i = last; i !== -1;) {
    if (!skipped.has(i)) chain.push(i);
    let before = -1;
    for (const d of [...(deps[i] ?? []), ...(softDeps[i] ?? [])])
      if (before === -1 || (finish[d] as number) > (finish[before] as number)) before = d;
    i = before;
  }
  return chain.reverse();
}

/** The latest of `tasks`' finish times, 0 for none. */
function latestFinish(tasks: readonly number[] | undefined, finish: Float64Array): number {
  let latest = 0;
  if (tasks !== undefined)
    for (let k = 0; k < tasks.length; k++) latest = Math.max(latest, finish[tasks[k] as number] as number);
  return latest;
}
