import { formatDuration } from '../plan/duration.js';
import type { AttemptRecord } from './run-state.js';

/** One attempt the watchdog stopped (`stallAfter`), and what came of it. */
export interface Stall {
  readonly attempt: number;
  /** How long it had shown no progress when it was stopped, ms. */
  readonly silentMs: number;
  /**
   * What happened next: `retried` (a new attempt; `resumed` when it continued the agent's session,
   * told that it stalled), `failed` (no retries left), `cancelled`/`interrupted` (the run stopped),
   * `stopping` (the journal has not seen it end yet).
   */
  readonly then: 'retried' | 'resumed' | 'failed' | 'cancelled' | 'interrupted' | 'stopping';
  /** The attempt that followed it, when one started. */
  readonly next?: number;
}

/** The stalls among a task's attempts, oldest first (none: an empty list). */
export function stallsOf(attempts: readonly AttemptRecord[]): Stall[] {
  const out: Stall[] = [];
  let session = false;
  attempts.forEach((a, k) => {
    // The next attempt continues the last session seen, if there was one (see `attempt.ts`).
    if (a.sessionId !== undefined) session = true;
    if (a.stalledMs === undefined) return;
    const next = attempts[k + 1]?.attempt;
    const then: Stall['then'] =
      next !== undefined || a.outcome === 'retrying'
        ? session
          ? 'resumed'
          : 'retried'
        : a.outcome === 'failed' || a.outcome === 'cancelled' || a.outcome === 'interrupted'
          ? a.outcome
          : 'stopping';
    out.push({ attempt: a.attempt, silentMs: a.stalledMs, then, ...(next === undefined ? {} : { next }) });
  });
  return out;
}

/**
 * A stall as one line for the report and `weft status`.
 *
 * @example
 * stallLine({ attempt: 1, silentMs: 60_000, then: 'retried', next: 2 });
 * // → 'attempt 1 stalled (no progress for 1m00s): retried as attempt 2'
 */
export function stallLine(s: Stall): string {
  const head = `attempt ${s.attempt} stalled (no progress for ${formatDuration(s.silentMs)})`;
  const as = s.next === undefined ? '' : ` as attempt ${s.next}`;
  switch (s.then) {
    case 'retried':
      return `${head}: retried${as}`;
    case 'resumed':
      return `${head}: session resumed${as}, told it stalled`;
    case 'failed':
      return `${head}: failed, no retries left`;
    case 'stopping':
      return `${head}: being stopped`;
    default:
      return `${head}: ${s.then} with the run`;
  }
}
