import type { TaskFailure } from '../../errors.js';
import type { ResolvedTask } from '../../plan/graph.js';
import type { AbortCause } from '../../ports/executor.js';
import { stalledMessage, stalledNote } from './stall.js';
import { preemptedNote } from './preempt.js';

/** How often a merge conflict or failed check goes back to a task that does not set `fixAttempts`. */
export const DEFAULT_FIX_ATTEMPTS = 2;

/** What a task's earlier attempts used up: routed-back fixes, transient failures, attempts before a resume. */
export interface AttemptCounts {
  /** Fixes routed back to the task so far. */
  readonly fixes: number;
  /** Attempts that do not count against `retries`: transient failures and fixes. */
  readonly transient: number;
  /** Attempts made before a resume, which don't count against `retries` either. */
  readonly resumedAt: number;
}

/** An attempt that ended, as the engine saw it. */
export interface EndedAttempt {
  readonly task: ResolvedTask;
  readonly attempt: number;
  /** Why it failed; `undefined` when it succeeded and passed weft's checks of its result. */
  readonly failure?: TaskFailure | undefined;
  /** Why the engine aborted it, if it did. */
  readonly cause?: AbortCause | undefined;
  readonly counts: AttemptCounts;
  /** The run is stopping (fail-fast, Ctrl-C, budget): nothing is tried again. */
  readonly stopping: boolean;
  /** Its executor continues where it stopped (an agent's session): a preempted attempt resumes with a note. */
  readonly resumable?: boolean;
}

/** The run-wide settings {@link attemptEnded} reads. */
export interface AttemptPolicy {
  /** Transient failures retried without counting them, at most. */
  readonly maxTransientRetries: number;
  /** Stop the run after a (counted) failure. */
  readonly failFast: boolean;
  /** Jitter source for back-off, in [0, 1). Called only when a retry with jitter is decided. */
  readonly random: () => number;
  /** Masks secrets in text bound for the journal. */
  readonly redact: (text: string) => string;
}

/** A provider said "slow down": the engine narrows its pool (see `throttle.ts`). */
export interface RateLimited {
  readonly retryAfterMs: number | undefined;
}

/**
 * What an ended attempt leads to — data the engine loop applies, in this order: throttle the
 * provider when `rateLimited`, record the event, move the scheduler, then stop the run on `stopRun`.
 */
export type AttemptDecision =
  | { readonly kind: 'cancel'; readonly reason: string }
  | { readonly kind: 'succeed' }
  /** Send the task back at once, same session, with `feedback` (a merge conflict, a failed check). */
  | {
      readonly kind: 'fix';
      readonly feedback: string;
      readonly error: TaskFailure;
      readonly counts: AttemptCounts;
      /** Which fix the next attempt is (`n`, from 1) of the `of` the task may have. */
      readonly fix: { readonly n: number; readonly of: number };
    }
  /** Try again after `delayMs`. */
  | {
      readonly kind: 'retry';
      readonly delayMs: number;
      readonly error: TaskFailure;
      readonly counts: AttemptCounts;
      readonly rateLimited?: RateLimited;
      /** What the next attempt is told (as feedback; an agent resumes its session with it): why this one was stopped. */
      readonly note?: string;
    }
  | {
      readonly kind: 'fail';
      readonly error: TaskFailure;
      readonly counts: AttemptCounts;
      readonly rateLimited?: RateLimited;
      /** Its worktree goes (its branch, holding the unmerged work, stays for a person). */
      readonly releaseWorkspace?: true;
      /** Fail-fast: the reason the run stops. */
      readonly stopRun?: string;
    };

/**
 * Back-off before the `n`th retry: `initial × factor^(n-1)`, capped at `max`; with jitter, scaled
 * by 0.5–1.5 from `random`.
 */
export function backoffMs(backoff: ResolvedTask['backoff'], n: number, random: () => number): number {
  const { initialMs, factor, maxMs, jitter } = backoff;
  const base = Math.min(maxMs, initialMs * factor ** Math.max(0, n - 1));
  return Math.round(jitter ? base * (0.5 + random()) : base);
}

/**
 * What an ended attempt leads to: cancelled, succeeded, routed back to fix (not a retry), retried
 * (a transient failure does not count against `retries`), or failed.
 *
 * @example
 * attemptEnded({ task, attempt: 1, failure: { message: 'exit 1' }, counts, stopping: false }, policy);
 * // → { kind: 'retry', delayMs: 1000, … } while the task has retries left
 */
export function attemptEnded(ended: EndedAttempt, policy: AttemptPolicy): AttemptDecision {
  const { task, attempt, cause, counts } = ended;
  if (cause?.kind === 'cancelled') return { kind: 'cancel', reason: cause.reason };
  // Over its own budget, it fails whether or not it finished first: one API call, priced only once it
  // has answered, cannot be stopped in time, and a success would hide that the limit was passed.
  if (cause?.kind === 'budget') {
    return { kind: 'fail', error: { message: cause.reason, code: 'WEFT_BUDGET_EXCEEDED' }, counts };
  }
  const failure = ended.failure;
  if (failure === undefined) return { kind: 'succeed' };
  if (failure.fix !== undefined && !ended.stopping) return routeBack(task, failure, failure.fix, counts, policy.redact);
  if (cause?.kind === 'preempted') {
    // Stopped to make room, not failed: it goes back to the queue at once and the try does not count.
    if (ended.stopping) return { kind: 'cancel', reason: `preempted by ${cause.by} as the run stopped` };
    const error: TaskFailure = { message: `preempted by ${cause.by}`, code: 'WEFT_PREEMPTED' };
    const note = ended.resumable === true ? { note: preemptedNote(cause.by) } : {};
    return { kind: 'retry', delayMs: 0, error, counts: { ...counts, transient: counts.transient + 1 }, ...note };
  }
  const timedOut = cause?.kind === 'timeout' ? { timedOut: true, message: `timed out after ${cause.ms / 1000}s` } : {};
  const stalled =
    cause?.kind === 'stalled' ? { message: stalledMessage(cause.ms), code: 'WEFT_TASK_STALLED' as const } : {};
  const base: TaskFailure = { ...failure, ...timedOut, ...stalled };
  const tail = base.stderrTail === undefined ? {} : { stderrTail: policy.redact(base.stderrTail) };
  const error: TaskFailure = { ...base, message: policy.redact(base.message), ...tail };
  const transient = error.transient === true && counts.transient < policy.maxTransientRetries;
  // A lost worker is transient too, but says nothing about the provider's limits.
  const rateLimited =
    error.transient === true && error.code !== 'WEFT_WORKER_LOST'
      ? { rateLimited: { retryAfterMs: error.retryAfterMs } }
      : {};
  const now: AttemptCounts = transient ? { ...counts, transient: counts.transient + 1 } : counts;
  const counted = attempt - now.resumedAt - now.transient;
  // A check that failed after its culprits' fixes ran out failed them too, and its verdict on that
  // tree is kept: another attempt would run nothing, fail them again and end the same way.
  const final = error.code === 'WEFT_CHECK_FAILED' && task.verifies !== undefined && task.verifies.length > 0;
  if (!ended.stopping && !final && (transient || counted <= task.retries)) {
    const n = transient ? now.transient : counted;
    const delayMs = Math.max(error.retryAfterMs ?? 0, backoffMs(task.backoff, n, policy.random));
    const note = cause?.kind === 'stalled' ? { note: stalledNote(cause.ms) } : {};
    return { kind: 'retry', delayMs, error, counts: now, ...rateLimited, ...note };
  }
  const stop = policy.failFast ? { stopRun: `fail-fast: task "${task.id}" failed` } : {};
  return { kind: 'fail', error, counts: now, ...rateLimited, ...stop };
}

/** `1 fix attempt`, `2 fix attempts`: how a failure says how many fixes were spent. */
export function fixAttemptsText(n: number): string {
  return `${n} fix attempt${n === 1 ? '' : 's'}`;
}

/** A merge conflict or failed check goes back to the task that caused it, with the details. */
function routeBack(
  task: ResolvedTask,
  failure: TaskFailure,
  feedback: string,
  counts: AttemptCounts,
  redact: (text: string) => string,
): AttemptDecision {
  const allowed = task.fixAttempts ?? DEFAULT_FIX_ATTEMPTS;
  if (counts.fixes < allowed) {
    const { fix: _fix, ...error } = failure;
    // A fix is not a retry: it counts as transient.
    const next = { ...counts, fixes: counts.fixes + 1, transient: counts.transient + 1 };
    const fix = { n: next.fixes, of: allowed };
    return { kind: 'fix', feedback, error: { ...error, message: redact(error.message) }, counts: next, fix };
  }
  // With no fix allowed it failed at once: there is nothing "after" to tell.
  const after = allowed === 0 ? '' : ` (after ${fixAttemptsText(allowed)})`;
  const message = redact(`${failure.message}${after}`);
  const error = {
    message,
    ...(failure.code === undefined ? {} : { code: failure.code }),
    ...(failure.score === undefined ? {} : { score: failure.score }),
  };
  return { kind: 'fail', error, counts, releaseWorkspace: true };
}
