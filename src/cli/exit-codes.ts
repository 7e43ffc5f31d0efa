import type { WeftErrorCode } from '../core/errors.js';
import type { RunStatus } from '../core/run/events.js';

/** Exit codes: 0 all succeeded, 1 a task failed, 2 bad input, 3 locked/busy, 130 interrupted. */
export const EXIT = { ok: 0, failed: 1, usage: 2, locked: 3, internal: 70, interrupted: 130 } as const;

export function exitCodeForError(code: WeftErrorCode): number {
  switch (code) {
    case 'WEFT_PLAN_INVALID':
    case 'WEFT_PLAN_NOT_FOUND':
    case 'WEFT_USAGE':
    case 'WEFT_IMPORT':
    case 'WEFT_RUN_NOT_FOUND':
      return EXIT.usage;
    case 'WEFT_RUN_LOCKED':
      return EXIT.locked;
    case 'WEFT_INTERNAL':
      return EXIT.internal;
    default:
      return EXIT.failed;
  }
}

export function exitCodeForStatus(status: RunStatus): number {
  return status === 'succeeded' ? EXIT.ok : status === 'cancelled' || status === 'interrupted' ? EXIT.interrupted : EXIT.failed;
}
