import { git, gitText } from './git.js';
import { commitAll, mergeInProgress, UNMERGED } from './worktrees.js';

/** What {@link commitChanges} did, and what it saw of the worktree. */
export interface CommittedChanges {
  /** Whether a commit was made. */
  readonly committed: boolean;
  /** The commit made, when it was made here (not through `commitAll`). */
  readonly commit?: string;
  /**
   * Whether the worktree now holds exactly its HEAD commit: no ignored, untracked or left-out
   * (`exclude`) file, no uncommitted change. false when unknown. A clean worktree can be switched
   * to another commit without `git clean` or a look at every file (see `WorktreePool.park`).
   */
  readonly clean: boolean;
}

/**
 * Commits everything a task changed in its worktree — new, changed and deleted files (`.gitignore`
 * still applies) but the paths in `exclude` — as `commitAll` does, reading the worktree once:
 * one `git status` finds what changed, then plumbing stages exactly those paths and commits
 * (`update-index`, `write-tree`, `commit-tree`, `update-ref`). `git add -A` and `git commit` would
 * each look at every file of the repository again (hundreds of ms at 20,000 files on a busy
 * machine). A merge in progress, or a nested repository, goes through `commitAll`.
 *
 * @param exclude what weft put there itself (shared set-up folders, copied files): never the task's work
 * @example
 * const { committed, clean } = await commitChanges(dir, 'weft: task a (run r1, attempt 1)', ['node_modules']);
 */
export async function commitChanges(
  dir: string,
  message: string,
  exclude: readonly string[] = [],
): Promise<CommittedChanges> {
  const slow = async (): Promise<CommittedChanges> => ({
    committed: await commitAll(dir, message, exclude),
    clean: false,
  });
  if (await mergeInProgress(dir)) return slow();
  // Ignored entries are listed (a folder without what it holds) only to know whether the
  // worktree is clean; `matching` does not walk into an ignored folder.
  const status = ['status', '--porcelain=v1', '-z', '--no-renames', '--untracked-files=all', '--ignored=matching'];
  const entries = (await git(dir, status)).stdout.split('\0');
  const paths: string[] = [];
  let clean = true;
  // Whether the new tree may equal HEAD's: only when every change is in the index already (an
  // agent that staged a change and then undid it in the file).
  let maybeSame = true;
  for (const entry of entries) {
    if (entry.length < 4) continue;
    const xy = entry.slice(0, 2);
    const path = entry.slice(3);
    if (xy === '!!' || isExcluded(path, exclude)) {
      clean = false;
      continue;
    }
    if (UNMERGED.has(xy) || path.endsWith('/')) return slow(); // a conflict; a nested repository (`git add` warns)
    paths.push(path);
    if (xy[0] === ' ' || xy[0] === '?') maybeSame = false;
  }
  if (paths.length === 0) return { committed: false, clean };
  await git(dir, ['update-index', '--add', '--remove', '-z', '--stdin'], { input: `${paths.join('\0')}\0` });
  const tree = await gitText(dir, ['write-tree']);
  if (maybeSame && tree === (await gitText(dir, ['rev-parse', 'HEAD^{tree}']))) return { committed: false, clean };
  const commit = await gitText(dir, ['commit-tree', tree, '-p', 'HEAD', '-m', message]);
  await git(dir, ['update-ref', '-m', `commit: ${message.split('\n')[0] ?? ''}`, 'HEAD', commit]);
  return { committed: true, clean, commit };
}

/** Whether `path` (as git prints it, relative to the worktree) is one of `exclude` or inside one. */
function isExcluded(path: string, exclude: readonly string[]): boolean {
  return exclude.some((e) => {
    const p = e.replace(/^\.\//, '').replace(/\/+$/, '');
    return path === p || path.startsWith(`${p}/`);
  });
}
