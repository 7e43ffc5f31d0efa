import { git, lines } from './git.js';

/** How files of a checkout stand against the commit the run's worktrees start from (HEAD, or a resumed run's base). */
export interface CommitStanding {
  /** Not in the commit at all (untracked, ignored, or only staged): a worktree does not have them. */
  readonly absent: readonly string[];
  /** In the commit, with uncommitted changes: a worktree has them as they were committed. */
  readonly changed: readonly string[];
}

/**
 * Which of `paths` (relative to the repository's top folder `root`, with `/`) a worktree of `commit`
 * would not have as the checkout has them. Three git calls at most, whatever the number of paths.
 *
 * @example
 * await commitStanding(root, ['local.cfg', 'in.cfg']) // { absent: ['local.cfg'], changed: ['in.cfg'] }
 */
export async function commitStanding(root: string, paths: readonly string[], commit = 'HEAD'): Promise<CommitStanding> {
  if (paths.length === 0) return { absent: [], changed: [] };
  // `<mode> <type> <blob>\t<path>`, one an entry.
  const tree = await git(root, ['ls-tree', '-r', '-z', '--full-tree', commit]);
  const blobs = new Map(
    tree.stdout
      .split('\0')
      .filter((e) => e !== '')
      .map((e) => {
        const tab = e.indexOf('\t');
        return [e.slice(tab + 1), e.slice(0, tab).split(' ')[2]] as const;
      }),
  );
  const diff = await git(root, ['diff', '--name-only', '-z', '--no-renames', commit, '--']);
  const edited = new Set(lines(diff.stdout));
  // What git finds changed, looked at closer: a file no longer tracked (or committed as edited since
  // `commit`) may be just as it was in `commit`.
  const asked = paths.filter((p) => blobs.has(p) && edited.has(p));
  const hashed =
    asked.length === 0
      ? []
      : lines((await git(root, ['hash-object', '--stdin-paths'], { input: `${asked.join('\n')}\n` })).stdout);
  return {
    absent: paths.filter((p) => !blobs.has(p)),
    changed: asked.filter((p, i) => hashed[i] !== blobs.get(p)),
  };
}
