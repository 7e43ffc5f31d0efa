import { DEFAULT_PLAN_TOLERANCE, type DispatchPlan } from './dispatch-plan.js';

/**
 * Where a {@link Scheduler} stands in the {@link DispatchPlan} it follows: the next planned task to
 * start, and whether a task keeps to its planned end. The Scheduler decides what a surprise does
 * (it drops the plan); this only keeps the plan's clock.
 */
export class PlanFollower {
  /** Tasks planned before `cursor` have started. */
  private cursor = 0;
  /** When the plan began (`Scheduler.begin`'s time). */
  private origin = 0;

  constructor(private readonly plan: DispatchPlan) {}

  /** The plan's time zero. */
  begin(now: number): void {
    this.origin = now;
  }

  /** The next planned task that has not started, if any. */
  get next(): number | undefined {
    return this.cursor < this.plan.order.length ? (this.plan.order[this.cursor] as number) : undefined;
  }

  /** {@link next} started. */
  advance(): void {
    this.cursor++;
  }

  /** Whether `task` ending at `now` ends further from its planned end than the plan tolerates. */
  offPlan(task: number, now: number): boolean {
    return Math.abs(now - this.plannedEnd(task)) > this.slack(task);
  }

  /**
   * The earliest time one of the running tasks (`taskOn`: the task on each worker, -1 for none)
   * overruns the plan — still running past its planned end and slack —, if any runs.
   */
  firstDeadline(taskOn: ArrayLike<number>): number | undefined {
    let best: number | undefined;
    for (let w = 0; w < taskOn.length; w++) {
      const task = taskOn[w] as number;
      const at = task < 0 ? undefined : this.plannedEnd(task) + this.slack(task);
      if (at !== undefined && (best === undefined || at < best)) best = at;
    }
    return best;
  }

  private plannedEnd(task: number): number {
    return this.origin + (this.plan.end[task] as number);
  }

  /** How far from its planned end a task may end while the plan holds, ms. */
  private slack(task: number): number {
    const plan = this.plan;
    return (plan.tolerance ?? DEFAULT_PLAN_TOLERANCE) * ((plan.end[task] as number) - (plan.start[task] as number));
  }
}
