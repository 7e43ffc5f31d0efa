import type { Graph } from '../plan/graph.js';

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
  /** Planned start and end of each task, ms after `Scheduler.begin`. */
  readonly start: ArrayLike<number>;
  readonly end: ArrayLike<number>;
  /** How far a task may end from its planned end, as a fraction of its planned duration. @default 0.02 */
  readonly tolerance?: number;
}

/** {@link DispatchPlan.tolerance} when a plan does not set it. */
export const DEFAULT_PLAN_TOLERANCE = 0.02;

/** The plan, if it lists every task once with each task's dependencies before it; else throws a RangeError. */
export function checkedPlan(graph: Graph, plan: DispatchPlan): DispatchPlan {
  const n = graph.tasks.length;
  const position = new Int32Array(n).fill(-1);
  if (plan.order.length !== n || plan.start.length !== n || plan.end.length !== n)
    throw new RangeError(`Expected a plan of ${n} tasks, got ${plan.order.length}`);
  for (let k = 0; k < n; k++) {
    const i = plan.order[k] as number;
    if (!Number.isInteger(i) || i < 0 || i >= n || position[i] !== -1)
      throw new RangeError(`Expected a plan that lists every task once, got task index ${i} at position ${k}`);
    position[i] = k;
  }
  for (let i = 0; i < n; i++) {
    for (const d of [...(graph.deps[i] ?? []), ...(graph.softDeps[i] ?? [])]) {
      if ((position[d] as number) > (position[i] as number))
        throw new RangeError(
          `Expected a plan that starts ${graph.tasks[d]?.id} before ${graph.tasks[i]?.id}, which depends on it`,
        );
    }
  }
  return plan;
}
