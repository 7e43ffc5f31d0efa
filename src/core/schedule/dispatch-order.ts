import type { CompiledPlan } from '../plan/compile.js';
import type { RunMode } from '../run/events.js';
import type { DispatchPlan } from './dispatch-plan.js';
import { searchOrder } from './search/index.js';

/** The order a run follows: ready-queue priorities, and a schedule to follow while the run goes as planned (never in a plan of several classes). */
export interface DispatchOrder {
  /** Ready-queue priorities, larger first (the Scheduler's `score`). */
  readonly score?: Float64Array;
  /** Present when a schedule that idles a worker on purpose beats every list order. */
  readonly dispatchPlan?: DispatchPlan;
}

/**
 * What weft hands the Scheduler for `workers` (M): the searched order, decided here once for
 * `weft run`, `weft estimate` and the library's `runWeft`. A sequential run follows the
 * declaration order and gets nothing.
 *
 * @example
 * runPlan({ ...options, ...dispatchOrder(compiled, 4) });
 */
export function dispatchOrder(plan: CompiledPlan, workers: number, mode: RunMode = 'parallel'): DispatchOrder {
  if (mode === 'sequential') return {};
  const found = searchOrder(plan.graph, workers, { seed: 1 });
  // The search knows nothing of classes (`class:`): its schedule would start a P2 before a ready P1.
  const tasks = plan.graph.tasks;
  const oneClass = tasks.every((t) => t.class === tasks[0]?.class);
  return found.plan === undefined || !oneClass
    ? { score: found.score }
    : { score: found.score, dispatchPlan: found.plan };
}
