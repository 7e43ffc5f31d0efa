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

  constructor(
    private readonly graph: Graph,
    private readonly tolerance: number,
  ) {
    this.startedAt = new Float64Array(graph.tasks.length);
  }

  /** `task` started at `now`. */
  started(task: number, now: number): void {
    this.startedAt[task] = now;
  }

  /** Takes over the start times of the tasks a smaller (or the same) graph's watch saw. */
  adopt(previous: SurpriseWatch): void {
    this.startedAt.set(previous.startedAt.subarray(0, Math.min(previous.startedAt.length, this.startedAt.length)));
  }

  /** Whether `task`, ending at `now`, ends off its estimate. */
  endsOff(task: number, now: number): boolean {
    return this.departs(task, now, true);
  }

  /** Whether one of the running tasks (`taskOn`: the task on each worker, -1 for none) has run past its estimate by `now`. */
  overrun(taskOn: ArrayLike<number>, now: number): boolean {
    for (let w = 0; w < taskOn.length; w++) {
      const task = taskOn[w] as number;
      if (task >= 0 && this.departs(task, now, false)) return true;
    }
    return false;
  }

  private departs(task: number, now: number, ended: boolean): boolean {
    // A task without an estimate runs on a made-up default: its duration surprises no one.
    const estimate = this.graph.tasks[task]?.estimateMs;
    if (estimate === undefined) return false;
    return departsFromEstimate(estimate, now - (this.startedAt[task] as number), ended, this.tolerance);
  }
}
