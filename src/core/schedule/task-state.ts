/** Where a task stands in a run. */
export type TaskState =
  'pending' | 'ready' | 'running' | 'retrying' | 'succeeded' | 'failed' | 'skipped' | 'cancelled' | 'blocked';
/** How a started (or, on resume, known) task ended; `blocked`: a gate whose condition was false, or a rejected approval. */
export type Outcome = 'succeeded' | 'failed' | 'cancelled' | 'blocked';
/**
 * Why a task was skipped: its own (or an upstream) `when` was false, something upstream failed,
 * or a gate upstream blocked.
 */
export type SkipCause = 'condition' | 'upstream' | 'blocked';

/** The states a task never leaves. */
export const TERMINAL_STATES: ReadonlySet<TaskState> = new Set([
  'succeeded',
  'failed',
  'skipped',
  'cancelled',
  'blocked',
]);

/** A task's state change, as the Scheduler reports it (`onTransition`). */
export interface Transition {
  readonly task: number;
  readonly to: TaskState;
  readonly at: number;
  readonly worker?: number;
  readonly reason?: string;
  readonly cause?: SkipCause;
}

/** A task the Scheduler started, and the worker (0 … M-1) it runs on. */
export interface Assignment {
  readonly task: number;
  readonly worker: number;
}
