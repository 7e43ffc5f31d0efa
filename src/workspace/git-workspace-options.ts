import { join, resolve } from 'node:path';
import { WeftError } from '../core/errors.js';
import { checkNumbers } from '../core/options.js';
import type { WorkspaceSpec } from '../core/plan/workspace-schema.js';
import { assertRunId } from './branch-names.js';
import type { GitIdentity } from './git.js';
import type { PlacedTask } from './isolation.js';
import type { GroupGuard } from './worktree-setup.js';

/** How `GitWorkspace.open` sets up a run's workspace: the run, the repository, checks, set-up. */
export interface GitWorkspaceOptions {
  readonly runId: string;
  /** The user's project folder; anywhere inside the repository. */
  readonly projectDir: string;
  /** Folder a task's relative `cwd` resolves against (the plan file's folder). @default projectDir */
  readonly baseDir?: string;
  /**
   * A resumed run: for each task that has not succeeded, how many times the journal says it did (a
   * loop's earlier iterations). Its merges on the run's branch beyond that were never journaled
   * (weft stopped between the two) — see `openRunBranch`.
   */
  readonly succeeded?: ReadonlyMap<string, number>;
  /**
   * A resumed run: for each task that has not succeeded, the numbers of its attempts that were cut
   * off (the coordinator died, or a stop: Ctrl-C, SIGTERM, a cancel, --fail-fast), not counting one
   * a dispatch worker still runs (adopted). Their half-done work is put aside as `…--attempt-<n>`
   * as any unmerged attempt's is (by the stop, or when the task starts again), and those branches
   * are deleted once the task's work is merged: it was redone from the start, and will never be
   * merged. (A failed attempt's branch stays.)
   */
  readonly cutOff?: ReadonlyMap<string, readonly number[]>;
  /**
   * A resumed run: attempts a dispatch worker still runs in the task's worktree here (task id →
   * attempt; workers that share this machine's folders). Their worktree holds the worker's work so
   * far: `prepare` keeps it as it is, where it would otherwise put it aside and start afresh.
   */
  readonly adopted?: ReadonlyMap<string, number>;
  /** Where the run's worktrees go (`<worktreesDir>/<run-id>/<task-id>`). @default <projectDir>/.weft/worktrees */
  readonly worktreesDir?: string;
  /**
   * How many worktrees `close()` leaves parked in `<worktreesDir>/_pool` (detached, clean; git
   * lists them) for the next run to take up: a full checkout each, so that run writes only the
   * files that differ instead of whole checkouts, and this one deletes none. 0 leaves no worktree.
   * @default 4
   */
  readonly keepWorktrees?: number;
  /**
   * Commands (argv, no shell) run in the integration worktree after each merge, e.g.
   * `[['npm', 'test']]`. One that fails reverts the merge and goes back to the task to fix.
   * @default []
   */
  readonly checks?: readonly (readonly string[])[];
  /** How long one check may run. @default 600000 (10 minutes) */
  readonly checkTimeoutMs?: number;
  /** Author and committer of weft's commits and merges. @default weft <weft@localhost> */
  readonly identity?: GitIdentity;
  /**
   * The plan's tasks, to tell which run on the merged result (see `Placement`): a task that
   * is not isolated but waits on isolated ones. Tasks not listed are learnt when prepared.
   * @default []
   */
  readonly tasks?: readonly PlacedTask[];
  /**
   * How each worktree is made ready (see `WorktreeSetup`): a set-up run once per content of
   * its key files and shared, and files git does not track copied in. @default {}
   */
  readonly workspace?: WorkspaceSpec;
  /** Where finished set-ups are kept between runs. @default <worktreesDir>/../setup (.weft/setup) */
  readonly setupDir?: string;
  /** How the set-up command's process group is stopped (see `GroupGuard`). @default stopGroupOnAbort */
  readonly guardGroup?: GroupGuard;
  /** Masks the run's secrets in the set-up's log and messages (it runs with weft's env and the `copy` files). @default none */
  readonly redact?: (text: string) => string;
}

/**
 * Checks the options `GitWorkspace.open` was given.
 * @throws WeftError `WEFT_USAGE` when `runId` is not a run id, `checkTimeoutMs` is not a positive
 *   integer or `checks` is not a list of argv lists
 */
export function checkGitWorkspaceOptions(options: GitWorkspaceOptions): void {
  assertRunId(options.runId);
  checkNumbers('GitWorkspace', options, {
    checkTimeoutMs: 'a positive integer',
    keepWorktrees: 'a non-negative integer',
  });
  for (const check of options.checks ?? []) {
    if (!Array.isArray(check) || check.length === 0 || check.some((a) => typeof a !== 'string')) {
      throw new WeftError(
        'WEFT_USAGE',
        `Expected \`checks\` to be a list of argv lists like [["npm", "test"]], got ${JSON.stringify(check)}`,
      );
    }
  }
}

/** Where the run's worktrees go: `worktreesDir`, by default `<projectDir>/.weft/worktrees`. */
export function worktreesDirOf(options: GitWorkspaceOptions): string {
  return resolve(options.worktreesDir ?? join(options.projectDir, '.weft', 'worktrees'));
}
