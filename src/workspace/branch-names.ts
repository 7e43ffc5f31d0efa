import { createHash } from 'node:crypto';
import { WeftError } from '../core/errors.js';

/*
 * Branch names of a run. Git cannot hold both `weft/<run>` and `weft/<run>/<task>` (a ref cannot
 * be a file and a folder at once), so task branches sit beside the integration branch with `--`:
 *
 *   weft/<run>                         the integration branch: every merged task (what `weft apply` takes)
 *   weft/<run>--<task>                 a task's work while it runs; deleted once merged
 *   weft/<run>--<task>--attempt-<n>    the work of an attempt that ended without merging, kept
 */

const RUN_ID = /^[A-Za-z0-9](?:[A-Za-z0-9_-]|\.(?!\.))*$/;

/** Checks a run id can name a branch; throws a WeftError saying what is allowed. */
export function assertRunId(runId: string): void {
  if (!RUN_ID.test(runId) || runId.endsWith('.') || runId.endsWith('.lock')) {
    throw new WeftError('WEFT_USAGE', `run id "${runId}" cannot name a git branch`, {
      hint: 'use letters, digits, ".", "_" and "-" (no "..", not ending in "." or ".lock")',
    });
  }
}

/** A task id as one ref component: unchanged unless git forbids it (a trailing "." or ".lock"). */
export function refComponent(id: string): string {
  if (!id.endsWith('.') && !id.endsWith('.lock')) return id;
  const hash = createHash('sha256').update(id).digest('hex').slice(0, 6);
  return `${id.replace(/\.lock$/, '-lock').replace(/\.+$/, '')}-${hash}`;
}

/** `weft/<run>`: where the run's merged work accumulates. */
export function integrationBranch(runId: string): string {
  return `weft/${runId}`;
}

/** `weft/<run>--<task>`: the branch a task works on. */
export function taskBranch(runId: string, taskId: string): string {
  return `weft/${runId}--${refComponent(taskId)}`;
}

/** `weft/<run>--<task>--attempt-<n>`: the kept work of an attempt that did not merge. */
export function attemptBranch(runId: string, taskId: string, attempt: number): string {
  return `${taskBranch(runId, taskId)}--attempt-${attempt}`;
}
