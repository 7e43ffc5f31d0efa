import { git, lines } from './git.js';

/** How files of a checkout stand against its HEAD commit, which the run's worktrees start from. */
export interface CommitStanding {
  /** Not in the commit at all (untracked, ignored, or only staged): a worktree does not have them. */
  readonly absent: readonly string[];
  /** In the commit, with uncommitted changes: a worktree has them as they were committed. */
  readonly changed: readonly string[];
}

/**
 * Which of `paths` (relative to the repository's top folder `root`, with `/`) a worktree of HEAD
 * would not have as the checkout has them. Two git calls, whatever the number of paths.
 *
 * @example
 * await commitStanding(root, ['local.cfg', 'in.cfg']) // { absent: ['local.cfg'], changed: ['in.cfg'] }
 */
export async function commitStanding(root: string, paths: readonly string[]): Promise<CommitStanding> {
  if (paths.length === 0) return { absent: [], changed: [] };
  const tree = await git(root, ['ls-tree', '-r', '-z', '--name-only', '--full-tree', 'HEAD']);
  const committed = new Set(lines(tree.stdout));
  const diff = await git(root, ['diff', '--name-only', '-z', '--no-renames', 'HEAD', '--']);
  const edited = new Set(lines(diff.stdout));
  return {
    absent: paths.filter((p) => !committed.has(p)),
    changed: paths.filter((p) => committed.has(p) && edited.has(p)),
  };
}
