import type { Clock } from '../ports/clock.js';
import { stallCheck } from './policies/stall.js';

/** One watched attempt: when it last showed progress, and its pending check. */
interface Watched {
  readonly attempt: number;
  readonly stallAfterMs: number;
  lastProgressAt: number;
  timer: unknown;
}

/**
 * The engine's watchdog: one timer per watched attempt, re-armed to the time {@link stallCheck}
 * says; `onStall` is called once when an attempt stalls. Progress only moves a timestamp, so a
 * task printing a line every millisecond costs no timer churn.
 */
export class StallWatch {
  private readonly watched = new Map<number, Watched>();

  constructor(
    private readonly clock: Clock,
    private readonly onStall: (task: number, attempt: number, silentMs: number) => void,
  ) {}

  /** Starts watching attempt `attempt` of task `task` (no-op when `stallAfterMs` is undefined). */
  watch(task: number, attempt: number, stallAfterMs: number | undefined): void {
    this.stop(task);
    if (stallAfterMs === undefined) return;
    const w: Watched = { attempt, stallAfterMs, lastProgressAt: this.clock.now(), timer: undefined };
    this.watched.set(task, w);
    this.arm(task, w, stallAfterMs);
  }

  /** The attempt showed progress. */
  progress(task: number, attempt: number): void {
    const w = this.watched.get(task);
    if (w !== undefined && w.attempt === attempt) w.lastProgressAt = this.clock.now();
  }

  /** Stops watching task `task` (its attempt ended). */
  stop(task: number): void {
    const w = this.watched.get(task);
    if (w === undefined) return;
    this.clock.clearTimeout(w.timer);
    this.watched.delete(task);
  }

  /** Stops every timer (the run ended). */
  dispose(): void {
    for (const task of [...this.watched.keys()]) this.stop(task);
  }

  private arm(task: number, w: Watched, inMs: number): void {
    w.timer = this.clock.setTimeout(() => {
      if (this.watched.get(task) !== w) return;
      const found = stallCheck(w.lastProgressAt, this.clock.now(), w.stallAfterMs);
      if (found.kind === 'wait') this.arm(task, w, found.inMs);
      else {
        this.watched.delete(task);
        this.onStall(task, w.attempt, found.silentMs);
      }
    }, inMs);
  }
}
