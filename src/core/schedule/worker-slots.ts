/**
 * The M workers of a {@link Scheduler}: which are free, the task on each, and the worker each task
 * runs (or last ran) on. A task takes the lowest free worker.
 */
export class WorkerSlots {
  /** How many workers are free. */
  free: number;
  /** The task on each worker, -1 for none. */
  readonly taskOn: Int32Array;
  private readonly worker: Int32Array;

  constructor(workers: number, tasks: number) {
    this.free = workers;
    this.taskOn = new Int32Array(workers).fill(-1);
    this.worker = new Int32Array(tasks).fill(-1);
  }

  /** Puts `task` on the lowest free worker and returns it. */
  take(task: number): number {
    const w = this.taskOn.indexOf(-1);
    this.put(task, w);
    return w;
  }

  /** Puts `task` on worker `w` (free). */
  put(task: number, w: number): void {
    this.taskOn[w] = task;
    this.worker[task] = w;
    this.free--;
  }

  /** `task` left its worker. */
  vacate(task: number): void {
    this.taskOn[this.worker[task] as number] = -1;
    this.free++;
  }

  /** The worker `task` runs (or last ran) on, if it started. */
  workerOf(task: number): number | undefined {
    const w = this.worker[task] as number;
    return w < 0 ? undefined : w;
  }
}
