import type { WeftErrorCode } from '../core/errors.js';
import type { RunStatus } from '../core/run/events.js';

/**
 * Exit codes: 0 all succeeded, 1 a task failed, 2 bad input, 3 locked/busy, 4 blocked (a gate blocked
 * or a person rejected a task, nothing failed), 70 a bug, 130 interrupted.
 */
export const EXIT = { ok: 0, failed: 1, usage: 2, locked: 3, blocked: 4, internal: 70, interrupted: 130 } as const;

/**
 * The exit code for an error that ended a command. Every code is listed, without a default, so a
 * code added to {@link WeftErrorCode} does not compile until someone decides its exit code.
 */
export function exitCodeForError(code: WeftErrorCode): number {
  switch (code) {
    case 'WEFT_PLAN_INVALID':
    case 'WEFT_PLAN_NOT_FOUND':
    case 'WEFT_CONFIG_INVALID':
    case 'WEFT_USAGE':
    case 'WEFT_IMPORT':
    case 'WEFT_RUN_NOT_FOUND':
    case 'WEFT_RUN_STATE':
    case 'WEFT_DISPATCH':
    case 'WEFT_UNAUTHORIZED':
      return EXIT.usage;
    case 'WEFT_RUN_LOCKED':
      return EXIT.locked;
    case 'WEFT_INTERNAL':
      return EXIT.internal;
    case 'WEFT_STORE':
    case 'WEFT_EXECUTOR':
    case 'WEFT_AGENT_AUTH':
    case 'WEFT_AGENT_MAX_TURNS':
    case 'WEFT_RATE_LIMITED':
    case 'WEFT_OUTPUT_SCHEMA':
    case 'WEFT_CONTRACT_BROKEN':
    case 'WEFT_RESULT_INVALID':
    case 'WEFT_BUDGET_EXCEEDED':
    case 'WEFT_NEEDS_DECISION':
    case 'WEFT_MERGE_CONFLICT':
    case 'WEFT_CHECK_FAILED':
    case 'WEFT_OUTPUT_MISSING':
    case 'WEFT_OUTSIDE_WRITES':
    case 'WEFT_TASK_STALLED':
    case 'WEFT_PREEMPTED':
    case 'WEFT_LIMIT_EXCEEDED':
    case 'WEFT_SANDBOX':
    case 'WEFT_SETUP_FAILED':
    case 'WEFT_WORKER_LOST':
    case 'WEFT_SCORE_TOO_LOW':
      return EXIT.failed;
  }
}

/** The exit code for a run that ended: 0 succeeded, 4 blocked, 130 stopped, 1 otherwise. */
export function exitCodeForStatus(status: RunStatus): number {
  return status === 'succeeded'
    ? EXIT.ok
    : status === 'blocked'
      ? EXIT.blocked
      : status === 'cancelled' || status === 'interrupted'
        ? EXIT.interrupted
        : EXIT.failed;
}
