import type { CompiledPlan } from '../plan/compile.js';
import type { Graph } from '../plan/graph.js';
import type { RunMode } from '../run/events.js';
import type { DispatchPlan } from './dispatch-plan.js';
import { criticalPathScore, DEFAULT_MAX_SEARCH_TASKS, searchOrder } from './search/index.js';
import { expectedPathScore } from './surprise.js';

/**
 * The order a run follows: ready-queue priorities, a schedule to follow while the run goes as
 * planned (never in a plan of several classes), and the priorities that take over once a task's
 * duration departs from its estimate.
 */
export interface DispatchOrder {
  /** Ready-queue priorities, larger first (the Scheduler's `score`): the best order on the estimates. */
  readonly score?: Float64Array;
  /** Present when a schedule that idles a worker on purpose beats every list order. */
  readonly dispatchPlan?: DispatchPlan;
  /**
   * From the first surprise on, in place of `score`: the expected remaining path (see `surprise.ts`),
   * made at the first call (a run that goes as estimated never makes it).
   */
  readonly surpriseScore?: () => Float64Array;
}

/**
 * What weft hands the Scheduler for `workers` (M): the searched order, decided here once for
 * `weft run`, `weft estimate` and the library's `runWeft`, and the expected-path order it falls
 * back on when the run does not go as estimated. A sequential run follows the declaration order
 * and gets nothing.
 *
 * @example
 * runPlan({ ...options, ...dispatchOrder(compiled, 4) });
 */
export function dispatchOrder(plan: CompiledPlan, workers: number, mode: RunMode = 'parallel'): DispatchOrder {
  return mode === 'sequential' ? {} : graphDispatchOrder(plan.graph, workers);
}

/** {@link dispatchOrder} of a parallel run, on the compiled graph (what the schedule-noise bench runs). */
export function graphDispatchOrder(graph: Graph, workers: number): DispatchOrder {
  const surpriseScore = () => expectedPathScoreOf(graph);
  // A plan too large to search keeps critical-path order, which is all searchOrder would give it:
  // it would also simulate that order once, for a makespan no caller here reads (~0.1 s for 100k tasks).
  if (graph.tasks.length > DEFAULT_MAX_SEARCH_TASKS) return { score: criticalPathScore(graph), surpriseScore };
  const found = searchOrder(graph, workers, { seed: 1 });
  // The search knows nothing of classes (`class:`): its schedule would start a P2 before a ready P1.
  const tasks = graph.tasks;
  const oneClass = tasks.every((t) => t.class === tasks[0]?.class);
  return found.plan === undefined || !oneClass
    ? { score: found.score, surpriseScore }
    : { score: found.score, dispatchPlan: found.plan, surpriseScore };
}

/** The expected-path order depends on the graph alone: made once per graph, however many M are asked about (`weft estimate`). */
const expectedPaths = new WeakMap<Graph, Float64Array>();

function expectedPathScoreOf(graph: Graph): Float64Array {
  let score = expectedPaths.get(graph);
  if (score === undefined) expectedPaths.set(graph, (score = expectedPathScore(graph)));
  return score;
}
