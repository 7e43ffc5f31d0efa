import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WeftError } from '../core/errors.js';
import type { Integration } from '../core/ports/workspace.js';
import { conflictFeedback, parseConflicts, type ConflictedFile, type ConflictHunk } from './conflicts.js';
import { git } from './git.js';
import { commitAll, mergeInProgress, unmergedFiles } from './worktrees.js';

// A fix attempt works on its task's branch with the integration tip merged in; conflicts stay in
// the files, marked, for the agent to resolve, and are checked for leftovers before the fix merges.

/** Which task's worktree a fix merge works in, and on which run's integration branch. */
export interface FixMergeOptions {
  /** The task's worktree. */
  readonly dir: string;
  readonly taskId: string;
  readonly runId: string;
  /** `weft/<run-id>`. */
  readonly integrationBranch: string;
  /** Paths weft put into the worktree itself: never committed. */
  readonly excluded: readonly string[];
}

/**
 * Merges the integration tip into a task's worktree, leaving any conflicts marked in the files.
 * @returns the conflicted paths, or undefined when the merge went through (or an earlier one is still open)
 * @throws WeftError `WEFT_INTERNAL` when the merge fails with no conflicted file
 */
export async function bringIntegrationIn(o: FixMergeOptions): Promise<readonly string[] | undefined> {
  const { dir, taskId, runId, integrationBranch } = o;
  if (await mergeInProgress(dir)) return undefined; // the last fix left conflicts unresolved: carry on from there
  await commitAll(dir, `weft: uncommitted work of task ${taskId} before its fix (run ${runId})`, o.excluded);
  const r = await git(
    dir,
    [
      'merge',
      '--no-ff',
      '--no-edit',
      '-m',
      `weft: bring ${integrationBranch} into task ${taskId} to fix it (run ${runId})`,
      integrationBranch,
    ],
    { okCodes: [0, 1] },
  );
  if (r.exitCode === 0) return undefined;
  const files = await unmergedFiles(dir);
  if (files.length === 0)
    throw new WeftError(
      'WEFT_INTERNAL',
      `could not merge ${integrationBranch} into the worktree of task "${taskId}": ${(r.stderr || r.stdout).trim()}`,
    );
  return files.map((f) => f.path);
}

/**
 * When a fix merge is still open in the task's worktree: feedback naming the files that still hold
 * conflict markers (among `known`, those the fix merge left, and the ones git says are unmerged).
 * @returns undefined when no merge is open or no marker is left
 */
export async function conflictMarkersLeft(
  o: Pick<FixMergeOptions, 'dir' | 'taskId' | 'integrationBranch'>,
  known: readonly string[],
): Promise<Integration | undefined> {
  const { dir, taskId } = o;
  if (!(await mergeInProgress(dir))) return undefined;
  const suspects = new Set([...known, ...(await unmergedFiles(dir)).map((f) => f.path)]);
  const left: ConflictedFile[] = [];
  for (const path of suspects) {
    const file = join(dir, path);
    if (!existsSync(file)) continue;
    // In the task's worktree "ours" is the task; swap so the feedback reads like a merge conflict.
    const hunks = parseConflicts(readFileSync(file, 'utf8')).map((h): ConflictHunk => ({
      ...h,
      ours: h.theirs,
      theirs: h.ours,
    }));
    if (hunks.length > 0) left.push({ path, status: 'UU', hunks });
  }
  if (left.length === 0) return undefined;
  const names = left.map((f) => f.path).join(', ');
  return {
    ok: false,
    code: 'WEFT_MERGE_CONFLICT',
    message: `task "${taskId}" left conflict markers in ${names}`,
    feedback: conflictFeedback({
      taskId,
      integration: o.integrationBranch,
      files: left,
      mergedMeanwhile: [],
      lead: `Your fix of task "${taskId}" still has unresolved conflict markers, so it was not merged into ${o.integrationBranch}.`,
    }),
  };
}
