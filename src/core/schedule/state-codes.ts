import type { Outcome, SkipCause, TaskState } from './task-state.js';

/*
 * The Scheduler's compact codes for where a task stands (one byte per task); every state from
 * S_SUCCEEDED on is terminal, so `code >= S_SUCCEEDED` asks whether a task ended.
 */
export const S_PENDING = 0,
  S_READY = 1,
  S_RUNNING = 2,
  S_RETRYING = 3,
  S_SUCCEEDED = 4,
  S_FAILED = 5,
  S_SKIPPED = 6,
  S_CANCELLED = 7,
  S_BLOCKED = 8;

/** Each state code's name, as {@link Scheduler.stateOf} and transitions report it. */
export const STATE_NAMES: readonly TaskState[] = [
  'pending',
  'ready',
  'running',
  'retrying',
  'succeeded',
  'failed',
  'skipped',
  'cancelled',
  'blocked',
];

/** The code a skip cause is stored as: 1 condition, 2 upstream, 3 blocked (0: not skipped). */
export function skipCode(cause: SkipCause): number {
  return cause === 'condition' ? 1 : cause === 'upstream' ? 2 : 3;
}

/** The skip cause a stored code stands for, if any. */
export function skipCauseOfCode(code: number | undefined): SkipCause | undefined {
  return code === 1 ? 'condition' : code === 2 ? 'upstream' : code === 3 ? 'blocked' : undefined;
}

/** The state code a task ends in for `outcome`. */
export function outcomeCode(outcome: Outcome): number {
  return outcome === 'succeeded'
    ? S_SUCCEEDED
    : outcome === 'failed'
      ? S_FAILED
      : outcome === 'blocked'
        ? S_BLOCKED
        : S_CANCELLED;
}
