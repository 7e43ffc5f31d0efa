/** A task waiting to be tried again, and when it becomes ready. */
export interface WaitingRetry {
  readonly task: number;
  readonly at: number;
}

/** Tasks waiting out their back-off. Few at a time: a plain array. */
export class RetryQueue {
  private readonly waiting: WaitingRetry[] = [];

  /** How many wait. */
  get size(): number {
    return this.waiting.length;
  }

  /** `retry.task` waits until `retry.at`. */
  add(retry: WaitingRetry): void {
    this.waiting.push(retry);
  }

  /** Copies what another queue holds (a scheduler adopting a smaller graph's state). */
  addAll(other: RetryQueue): void {
    for (const r of other.waiting) this.waiting.push(r);
  }

  /** `task` no longer waits (it ended some other way). */
  remove(task: number): void {
    const k = this.waiting.findIndex((r) => r.task === task);
    if (k >= 0) this.waiting.splice(k, 1);
  }

  /** Nothing waits any more (the run is stopping). */
  clear(): void {
    this.waiting.length = 0;
  }

  /** The earliest time one becomes ready, if any waits. */
  nextAt(): number | undefined {
    let best: number | undefined;
    for (const r of this.waiting) if (best === undefined || r.at < best) best = r.at;
    return best;
  }

  /** Takes out those due at `now`, last added first, and hands each to `ready`. */
  takeDue(now: number, ready: (task: number) => void): void {
    for (let k = this.waiting.length - 1; k >= 0; k--) {
      const r = this.waiting[k] as WaitingRetry;
      if (r.at <= now) {
        this.waiting.splice(k, 1);
        ready(r.task);
      }
    }
  }
}
