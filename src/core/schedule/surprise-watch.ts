import type { Graph } from '../plan/graph.js';
import { departsFromEstimate } from './surprise.js';

/**
 * Watches a {@link Scheduler}'s tasks for the first surprise: one with an estimate that ends off
 * it, or runs past it, by more than `tolerance` of it (see `surprise.ts`). The Scheduler decides
 * what a surprise does (it switches to `surpriseScore`); this only keeps the start times.
 */
export class SurpriseWatch {
  /** When each task (last) started. */
  private readonly startedAt: Float64Array;
  /** Each task's estimate, ms; NaN without one. */
  private readonly estimate: Float64Array;
  /** No running task overruns before this (a lower bound: tasks that ended may have held it), ms. */
  private earliest = Infinity;

  constructor(
    graph: Graph,
    private readonly tolerance: number,
  ) {
    this.startedAt = new Float64Array(graph.tasks.length);
    // An index loop: `Float64Array.from` with a mapper walks an iterator (~15 ms for 100,000 tasks).
    const n = graph.tasks.length;
    this.estimate = new Float64Array(n);
    for (let i = 0; i < n; i++) this.estimate[i] = graph.tasks[i]?.estimateMs ?? Number.NaN;
  }

  /** `task` started at `now`. */
  started(task: number, now: number): void {
    this.startedAt[task] = now;
    this.earliest = Math.min(this.earliest, this.deadline(task));
  }

  /** Takes over the start times of the tasks a smaller (or the same) graph's watch saw. */
  adopt(previous: SurpriseWatch): void {
    this.startedAt.set(previous.startedAt.subarray(0, Math.min(previous.startedAt.length, this.startedAt.length)));
  }

  /** Whether `task`, ending at `now`, ends off its estimate. */
  endsOff(task: number, now: number): boolean {
    return this.departs(task, now, true);
  }

  /**
   * Whether one of the running tasks (`taskOn`: the task on each worker, -1 for none) has run past
   * its estimate by `now`. Looks at the workers only once the earliest deadline has passed, so a
   * run that goes as estimated pays O(1) per call.
   */
  overrun(taskOn: ArrayLike<number>, now: number): boolean {
    if (now <= this.earliest) return false;
    let next = Infinity;
    for (let w = 0; w < taskOn.length; w++) {
      const task = taskOn[w] as number;
      if (task < 0) continue;
      if (this.departs(task, now, false)) return true;
      next = Math.min(next, this.deadline(task));
    }
    this.earliest = next;
    return false;
  }

  /** When `task`, running, starts to depart from its estimate (never without one), ms. */
  private deadline(task: number): number {
    const estimate = this.estimate[task] as number;
    return Number.isNaN(estimate) ? Infinity : (this.startedAt[task] as number) + estimate * (1 + this.tolerance);
  }

  private departs(task: number, now: number, ended: boolean): boolean {
    // A task without an estimate runs on a made-up default: its duration surprises no one.
    const estimate = this.estimate[task] as number;
    if (Number.isNaN(estimate)) return false;
    return departsFromEstimate(estimate, now - (this.startedAt[task] as number), ended, this.tolerance);
  }
}
