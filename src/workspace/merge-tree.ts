import { git } from './git.js';

/** A path `git merge-tree` could not merge, with its `git status` code (UU, AA, UD, DU, AU, UA, DD). */
export interface TreeConflict {
  readonly path: string;
  readonly status: string;
}

/** What merging two commits without a checkout gave: the merged tree, and what conflicted. */
export interface TreeMerge {
  /** The merged tree; conflicted text files hold diff3 conflict markers in it. */
  readonly tree: string;
  /** Whether git merged every path (exit code 0). */
  readonly clean: boolean;
  /** The unmerged paths; empty when the merge is clean. */
  readonly conflicts: readonly TreeConflict[];
}

/** Index stages present → the status code `git status` shows for the unmerged path. */
const STATUS_OF_STAGES: Readonly<Record<string, string>> = {
  '123': 'UU',
  '23': 'AA',
  '12': 'UD',
  '13': 'DU',
  '2': 'AU',
  '3': 'UA',
  '1': 'DD',
};

/**
 * Reads `git merge-tree --write-tree -z` output: the tree, then `<mode> <oid> <stage>\t<path>`
 * entries up to an empty one, then messages (ignored). Pure.
 *
 * @example
 * parseMergeTree('t1\0' + '100644 a 1\tx\0100644 b 2\tx\0100644 c 3\tx\0\0...', false)
 * // → { tree: 't1', clean: false, conflicts: [{ path: 'x', status: 'UU' }] }
 */
export function parseMergeTree(out: string, clean: boolean): TreeMerge {
  const entries = out.split('\0');
  const tree = (entries[0] ?? '').trim();
  const stages = new Map<string, Set<string>>();
  for (let i = 1; i < entries.length; i++) {
    const e = entries[i] as string;
    if (e === '') break;
    const tab = e.indexOf('\t');
    if (tab < 0) continue;
    const stage = e.slice(0, tab).split(' ')[2] ?? '';
    const path = e.slice(tab + 1);
    const seen = stages.get(path) ?? new Set<string>();
    seen.add(stage);
    stages.set(path, seen);
  }
  const conflicts = [...stages].map(([path, seen]) => {
    const status = STATUS_OF_STAGES[[...seen].sort().join('')] ?? 'UU';
    return { path, status };
  });
  return { tree, clean, conflicts };
}

/**
 * Merges `theirs` into `ours` (commits) in the object database only — no worktree, no index,
 * nothing checked out, so its cost follows what changed, not the size of the repository.
 * Needs git ≥ 2.38. Conflict markers name the sides by the revisions given.
 */
export async function mergeTrees(root: string, ours: string, theirs: string): Promise<TreeMerge> {
  const r = await git(root, ['merge-tree', '--write-tree', '-z', ours, theirs], { okCodes: [0, 1] });
  return parseMergeTree(r.stdout, r.exitCode === 0);
}
