import { WeftError } from '../core/errors.js';
import type { TaskResultData } from '../core/run/events.js';
import { assertRunId, integrationBranch } from './branch-names.js';
import { git, gitTest, WEFT_IDENTITY } from './git.js';
import { openRepository } from './repository.js';
import { branchExists, changedPaths, commitOf, diffStats, mergeInProgress, unmergedFiles } from './worktrees.js';

export interface ApplyRunOptions {
  /**
   * `ff`: move the current branch forward to the run's result; refused when the branch has moved
   * on since the run started. `merge`: a merge commit, which works either way.
   */
  readonly mode: 'ff' | 'merge';
}

export interface AppliedRun {
  /** The branch that received the run's work. */
  readonly branch: string;
  /** `weft/<run-id>`. */
  readonly from: string;
  readonly how: 'fast-forward' | 'merge' | 'up-to-date';
  readonly before: string;
  readonly after: string;
  readonly files: NonNullable<TaskResultData['files']>;
}

/** The branch checked out in the repository at `root`; `undefined` when its HEAD is detached. */
export async function checkedOutBranch(root: string): Promise<string | undefined> {
  const head = await git(root, ['symbolic-ref', '-q', '--short', 'HEAD'], { internal: false, okCodes: [0, 1] });
  return head.exitCode === 0 ? head.stdout.trim() : undefined;
}

/**
 * Brings a run's integration branch `weft/<run-id>` into the user's current branch — the one step
 * that touches the user's checkout (`weft apply <run>`). Runs with the user's own git settings and
 * hooks. Refuses, changing nothing, when the checkout has uncommitted changes to tracked files, is
 * mid-merge, has a detached HEAD, or (mode `ff`) cannot fast-forward.
 *
 * @example
 * await applyRun(process.cwd(), '20250101-120000-ab12', { mode: 'ff' });
 * @throws WeftError `WEFT_RUN_NOT_FOUND` without the run's branch, `WEFT_USAGE` when it refuses
 */
export async function applyRun(repoDir: string, runId: string, options: ApplyRunOptions): Promise<AppliedRun> {
  if (options.mode !== 'ff' && options.mode !== 'merge')
    throw new WeftError('WEFT_USAGE', `Expected \`mode\` to be "ff" or "merge", got ${JSON.stringify(options.mode)}`);
  assertRunId(runId);
  const { root } = await openRepository(repoDir);
  const from = integrationBranch(runId);
  if (!(await branchExists(root, from))) {
    throw new WeftError('WEFT_RUN_NOT_FOUND', `run "${runId}" has no branch ${from} in ${root}`, {
      hint: 'list the runs that have one with `git branch --list "weft/*"`',
    });
  }
  const user = { internal: false } as const;
  const branch = await checkedOutBranch(root);
  if (branch === undefined)
    throw new WeftError('WEFT_USAGE', `HEAD in ${root} is detached; weft applies a run to a branch`, {
      hint: 'check out the branch to apply it to, e.g. `git switch main`',
    });
  if (branch === from)
    throw new WeftError('WEFT_USAGE', `${from} is checked out in ${root}; apply the run to another branch`, {
      hint: 'check out the branch to apply it to, e.g. `git switch main`',
    });
  if (await mergeInProgress(root))
    throw new WeftError('WEFT_USAGE', `${root} is in the middle of a merge`, {
      hint: 'finish or abort it (`git merge --abort`), then apply again',
    });
  const dirty = await changedPaths(root, false);
  if (dirty.length > 0) {
    const shown = dirty.slice(0, 5).join(', ') + (dirty.length > 5 ? `, … (${dirty.length} in all)` : '');
    throw new WeftError(
      'WEFT_USAGE',
      `${root} has uncommitted changes (${shown}); applying run "${runId}" would mix them in`,
      { hint: 'commit or stash them (`git stash`), then apply again' },
    );
  }

  const before = await commitOf(root, 'HEAD');
  const tip = await commitOf(root, `refs/heads/${from}`);
  const done = async (how: AppliedRun['how']): Promise<AppliedRun> => {
    const after = await commitOf(root, 'HEAD');
    return { branch, from, how, before, after, files: await diffStats(root, before, after) };
  };
  if (await gitTest(root, ['merge-base', '--is-ancestor', tip, before], user)) return done('up-to-date');

  if (options.mode === 'ff') {
    if (!(await gitTest(root, ['merge-base', '--is-ancestor', before, tip], user))) {
      throw new WeftError(
        'WEFT_USAGE',
        `cannot fast-forward ${branch} to ${from}: ${branch} has commits the run did not start from`,
        { hint: 'apply it as a merge instead: `weft apply --merge` (mode "merge" from the library)' },
      );
    }
    await git(root, ['merge', '--ff-only', '-q', from], user);
    return done('fast-forward');
  }
  // The user's identity if git has one, else weft's, so the merge works on a bare machine too.
  const known = (await git(root, ['var', 'GIT_COMMITTER_IDENT'], { ...user, okCodes: [0, 128] })).exitCode === 0;
  const identity = known ? {} : { identity: WEFT_IDENTITY };
  const r = await git(root, ['merge', '--no-ff', '--no-edit', '-m', `Merge weft run ${runId} (${from})`, from], {
    ...user,
    ...identity,
    okCodes: [0, 1],
  });
  if (r.exitCode !== 0) {
    const conflicts = (await unmergedFiles(root)).map((f) => f.path);
    await git(root, ['merge', '--abort'], { ...user, okCodes: [0, 128] });
    if (conflicts.length === 0)
      throw new WeftError('WEFT_USAGE', `could not merge ${from} into ${branch}: ${(r.stderr || r.stdout).trim()}`);
    throw new WeftError(
      'WEFT_USAGE',
      `merging ${from} into ${branch} conflicts in ${conflicts.join(', ')}; nothing was changed`,
      { hint: `merge it by hand: \`git merge ${from}\`` },
    );
  }
  return done('merge');
}
