import { statSync } from 'node:fs';
import type { ProgressEvent } from '../../core/run/events.js';

/**
 * For the watchdog (`stallAfter`): looks at the sizes of a task's log files every `everyMs` and
 * reports `{kind: 'output'}` when they grew — a process that writes is alive. Returns the stop
 * function. A poll rather than a pipe: the task writes straight into its files (its output must
 * survive weft dying), so weft never sees the bytes go by.
 */
export function watchOutput(paths: readonly string[], everyMs: number, emit: (e: ProgressEvent) => void): () => void {
  let last = -1;
  const size = (): number => {
    let n = 0;
    for (const p of paths) {
      try {
        n += statSync(p).size;
      } catch {
        // not made yet
      }
    }
    return n;
  };
  last = size();
  const timer = setInterval(() => {
    const now = size();
    if (now !== last) {
      last = now;
      emit({ kind: 'output' });
    }
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** How often {@link watchOutput} looks for a task with `stallAfterMs`: five times per period, 100 ms to 5 s. */
export function outputPollMs(stallAfterMs: number): number {
  return Math.min(5000, Math.max(100, Math.floor(stallAfterMs / 5)));
}
