import type { AttemptCounts } from './policies/attempt-ended.js';

/**
 * The engine's per-task counters: attempts made, transient retries and fixes spent, and the
 * attempts made before a resume or a loop's new iteration (which don't count against `retries`).
 * The arrays are replaced when the plan grows, so read them through this object, not kept aside.
 */
export class TaskCounters {
  attempts: Int32Array;
  transient: Int32Array;
  fixes: Int32Array;
  /** Attempts made before a resume, which don't count against `retries`. */
  resumedAt: Int32Array;

  constructor(n: number) {
    this.attempts = new Int32Array(n);
    this.transient = new Int32Array(n);
    this.fixes = new Int32Array(n);
    this.resumedAt = new Int32Array(n);
  }

  /** What the attempt-ended policy counts for task `i`. */
  countsOf(i: number): AttemptCounts {
    const { fixes, transient, resumedAt } = this;
    return { fixes: fixes[i] as number, transient: transient[i] as number, resumedAt: resumedAt[i] as number };
  }

  /** Task `i` starts an attempt: returns its number. */
  started(i: number): number {
    return (this.attempts[i] = (this.attempts[i] as number) + 1);
  }

  /** Task `i` made `attempts` attempts in an earlier life of the run: numbers go on, retries start afresh. */
  resumed(i: number, attempts: number): void {
    this.attempts[i] = this.resumedAt[i] = attempts;
  }

  /** Task `i` starts over (a loop's next iteration): fixes and retries afresh, attempt numbers go on. */
  restart(i: number): void {
    this.fixes[i] = this.transient[i] = 0;
    this.resumedAt[i] = this.attempts[i] as number;
  }

  /** The plan grew to `n` tasks: the new ones start at zero. */
  widen(n: number): void {
    const widen = (a: Int32Array): Int32Array => {
      const b = new Int32Array(n);
      b.set(a);
      return b;
    };
    this.attempts = widen(this.attempts);
    this.transient = widen(this.transient);
    this.fixes = widen(this.fixes);
    this.resumedAt = widen(this.resumedAt);
  }
}
