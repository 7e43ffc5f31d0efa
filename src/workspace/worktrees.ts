import { existsSync, readFileSync, realpathSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { TaskResultData } from '../core/run/events.js';
import { git, gitTest, gitText } from './git.js';

/** Git questions and chores on one worktree or branch, shared by the workspace and `applyRun`. */

/** Real paths of the worktrees git has registered for the repository at `root`. */
export async function listWorktrees(root: string): Promise<Set<string>> {
  const out = await gitText(root, ['worktree', 'list', '--porcelain', '-z']);
  const paths = new Set<string>();
  for (const entry of out.split('\0')) {
    if (!entry.startsWith('worktree ')) continue;
    const path = entry.slice('worktree '.length);
    try {
      paths.add(realpathSync(path));
    } catch {
      paths.add(path); // registered but gone from disk; `worktree prune` will drop it
    }
  }
  return paths;
}

export async function branchExists(root: string, branch: string): Promise<boolean> {
  return gitTest(root, ['show-ref', '--verify', '--quiet', `refs/heads/${branch}`]);
}

/** The commit a revision names. */
export async function commitOf(cwd: string, rev: string): Promise<string> {
  return gitText(cwd, ['rev-parse', '--verify', `${rev}^{commit}`]);
}

/**
 * The git folder of the checkout whose top folder is `dir`: its `.git` folder, or, for a linked
 * worktree, the folder its `.git` file points to. undefined when there is neither.
 */
export function gitDirOf(dir: string): string | undefined {
  const dotGit = join(dir, '.git');
  try {
    if (statSync(dotGit).isDirectory()) return dotGit;
    const pointer = /^gitdir: (.+)$/m.exec(readFileSync(dotGit, 'utf8'))?.[1];
    return pointer === undefined ? undefined : resolve(dir, pointer.trim());
  } catch {
    return undefined;
  }
}

/** Whether a merge is in progress in the checkout whose top folder is `dir` (read from its git folder: no process). */
export async function mergeInProgress(dir: string): Promise<boolean> {
  const gitDir = gitDirOf(dir);
  if (gitDir !== undefined) return existsSync(join(gitDir, 'MERGE_HEAD'));
  return gitTest(dir, ['rev-parse', '-q', '--verify', 'MERGE_HEAD']);
}

/** Index states (`git status` XY) of a path that is part of a merge's conflict. */
export const UNMERGED: ReadonlySet<string> = new Set(['DD', 'AU', 'UD', 'UA', 'DU', 'AA', 'UU']);

/** Files a merge left unmerged in a worktree, with their `git status` code. */
export async function unmergedFiles(dir: string): Promise<{ path: string; status: string }[]> {
  const entries = (await git(dir, ['status', '--porcelain=v1', '-z', '--untracked-files=no'])).stdout.split('\0');
  const files: { path: string; status: string }[] = [];
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i] as string;
    if (e.length < 4) continue;
    const status = e.slice(0, 2);
    if (UNMERGED.has(status)) files.push({ path: e.slice(3), status });
    if (status[0] === 'R' || status[0] === 'C') i++; // a rename carries its old path as the next entry
  }
  return files;
}

/** Paths with uncommitted changes (tracked only, unless `untracked`). */
export async function changedPaths(dir: string, untracked: boolean): Promise<string[]> {
  const out = (await git(dir, ['status', '--porcelain=v1', '-z', `--untracked-files=${untracked ? 'all' : 'no'}`]))
    .stdout;
  const paths: string[] = [];
  const entries = out.split('\0');
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i] as string;
    if (e.length < 4) continue;
    paths.push(e.slice(3));
    if (e[0] === 'R' || e[0] === 'C') i++;
  }
  return paths;
}

/**
 * Stages everything in the worktree (new, changed, deleted; `.gitignore` still applies) but the
 * paths in `exclude`: what weft put there itself (shared set-up folders, copied files), never the task's work.
 */
export async function stageAll(dir: string, exclude: readonly string[] = []): Promise<void> {
  await git(dir, ['add', '-A']);
  // Unstaged after the fact: an exclude pathspec on `git add` fails when the path is also ignored.
  if (exclude.length > 0) await git(dir, ['reset', '-q', '--', ...exclude.map((p) => `:(literal)${p}`)]);
}

/**
 * Stages everything in the worktree (new, changed, deleted; `.gitignore` still applies) but the
 * paths in `exclude`, and commits it. Also concludes a merge in progress. @returns whether a commit was made
 */
export async function commitAll(dir: string, message: string, exclude: readonly string[] = []): Promise<boolean> {
  await stageAll(dir, exclude);
  const staged = !(await gitTest(dir, ['diff', '--cached', '--quiet']));
  if (!staged && !(await mergeInProgress(dir))) return false;
  await git(dir, ['commit', '--no-verify', '-q', '-m', message]);
  return true;
}

/** Files changed and lines added/removed between two commits (`git diff --numstat`; a renamed file is one change, its edits its lines, as `git diff --stat` shows it). */
export async function diffStats(cwd: string, from: string, to: string): Promise<NonNullable<TaskResultData['files']>> {
  const out = await gitText(cwd, ['diff', '--numstat', '--find-renames', from, to]);
  let changed = 0;
  let added = 0;
  let removed = 0;
  for (const line of out.split('\n')) {
    if (line === '') continue;
    const [a, r] = line.split('\t');
    changed++;
    added += a === '-' ? 0 : Number(a);
    removed += r === '-' ? 0 : Number(r);
  }
  return { changed, added, removed };
}

/** Whether `dir` (a real path) is a worktree git knows of. */
export async function isWorktree(root: string, dir: string): Promise<boolean> {
  return existsSync(join(dir, '.git')) && (await listWorktrees(root)).has(dir);
}

/** Removes the worktree at `dir` (a real path) and its folder, whatever state either is in. Call under the repository lock. */
export async function removeWorktree(root: string, dir: string): Promise<void> {
  if (await isWorktree(root, dir)) await git(root, ['worktree', 'remove', '--force', dir]);
  rmSync(dir, { recursive: true, force: true });
}

/**
 * Clears the way for `git worktree add` at `dir`: removes a folder git does not know as a
 * worktree (left by a crash) and forgets registered worktrees whose folder is gone.
 * Call under the repository lock.
 */
export async function clearStaleDir(root: string, dir: string): Promise<void> {
  rmSync(dir, { recursive: true, force: true });
  await git(root, ['worktree', 'prune']);
}
