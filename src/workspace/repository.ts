import { appendFileSync, existsSync, mkdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, relative, resolve } from 'node:path';
import { WeftError } from '../core/errors.js';
import { git, GitError, type GitResult, gitTest, gitText } from './git.js';

/** A git repository weft works on. */
export interface Repository {
  /** Top folder of the user's checkout (real path). */
  readonly root: string;
  /** The git dir shared by all its worktrees (keys the repository lock). */
  readonly commonDir: string;
}

/**
 * Finds the repository that holds `dir`. Throws a WeftError (`WEFT_USAGE`) that says how to fix
 * it when `dir` is missing, not in a git repository, or in one without a commit to start from.
 */
export async function openRepository(dir: string): Promise<Repository> {
  const abs = resolve(dir);
  if (!existsSync(abs) || !statSync(abs).isDirectory())
    throw new WeftError('WEFT_USAGE', `project folder ${abs} does not exist`);
  const top = await git(abs, ['rev-parse', '--show-toplevel'], { okCodes: [0, 128] });
  if (top.exitCode !== 0) {
    throw new WeftError(
      'WEFT_USAGE',
      `${abs} is not inside a git repository, so tasks cannot get their own worktrees`,
      {
        hint: 'run `git init && git add -A && git commit -m "initial"` there first',
      },
    );
  }
  const root = realpathSync(top.stdout.trim());
  if (!(await gitTest(root, ['rev-parse', '--verify', '-q', 'HEAD^{commit}']))) {
    throw new WeftError('WEFT_USAGE', `the git repository at ${root} has no commit yet; tasks start from a commit`, {
      hint: 'commit once first: `git add -A && git commit -m "initial"`',
    });
  }
  const commonDir = realpathSync(resolve(root, await gitText(root, ['rev-parse', '--git-common-dir'])));
  return { root, commonDir };
}

/**
 * Makes git ignore `dir` (weft's folder: journal, logs, worktrees) in the user's checkout, so
 * `git status` there stays clean and `git add -A` never picks up the journal or a nested worktree. Writes to `.git/info/exclude` — local,
 * never committed — and only when nothing ignores it yet.
 */
export async function excludeFromCheckout(repo: Repository, dir: string): Promise<void> {
  const rel = relative(repo.root, dir);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return;
  const path = rel.split('\\').join('/');
  if (await gitTest(repo.root, ['check-ignore', '-q', '--no-index', `${path}/x`])) return;
  const exclude = resolve(repo.root, await gitText(repo.root, ['rev-parse', '--git-path', 'info/exclude']));
  appendExclude(exclude, path);
}

/**
 * Makes git ignore weft's folder `dir` (it exists) in the git work tree that holds it, when one
 * does — with or without a commit, in a subfolder of the repository or in a linked worktree:
 * every run keeps its journal, logs and run files there, not only one that opens worktrees, and
 * `git add -A` would commit them. Writes to the repository's `info/exclude` (local, never committed)
 * once, and only when nothing ignores `dir` yet; outside a work tree it does nothing. One `git`
 * process when `dir` is ignored already or not in a repository, two the first time; none runs
 * without git installed.
 * @throws an fs error when the exclude file cannot be written
 */
export async function excludeFromWorkTree(dir: string): Promise<void> {
  const real = realpathSync(dir);
  const parent = dirname(real);
  // 1: not ignored; 0: ignored already; 128: not in a work tree (none, a bare repository, inside .git).
  let ignored: GitResult;
  try {
    ignored = await git(parent, ['check-ignore', '-q', '--no-index', `${basename(real)}/x`], { okCodes: [0, 1, 128] });
  } catch (error) {
    if (error instanceof GitError && error.exitCode === undefined) return; // no git here: no repository either
    throw error;
  }
  if (ignored.exitCode !== 1) return;
  const [top, exclude] = (await gitText(parent, ['rev-parse', '--show-toplevel', '--git-path', 'info/exclude'])).split(
    '\n',
  );
  if (top === undefined || exclude === undefined) return;
  const rel = relative(realpathSync(top), real);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return;
  appendExclude(resolve(parent, exclude), rel.split('\\').join('/'));
}

/** Adds `/<path>/` to the exclude file `exclude` (made when missing) unless that line is there, after the user's lines. */
function appendExclude(exclude: string, path: string): void {
  // A folder named `a[1]` or `x*` is itself, not a pattern.
  const line = `/${path.replace(/[\\*?[]/g, '\\$&')}/`;
  const current = existsSync(exclude) ? readFileSync(exclude, 'utf8') : '';
  if (current.split(/\r?\n/).some((l) => l.trim() === line)) return;
  mkdirSync(dirname(exclude), { recursive: true });
  const sep = current === '' || current.endsWith('\n') ? '' : '\n';
  appendFileSync(exclude, `${sep}# weft's journal, logs and task worktrees\n${line}\n`);
}
