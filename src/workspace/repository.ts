import { appendFileSync, existsSync, mkdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { WeftError } from '../core/errors.js';
import { git, gitTest, gitText } from './git.js';

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
  const current = existsSync(exclude) ? readFileSync(exclude, 'utf8') : '';
  mkdirSync(dirname(exclude), { recursive: true });
  const sep = current === '' || current.endsWith('\n') ? '' : '\n';
  appendFileSync(exclude, `${sep}# weft's journal, logs and task worktrees\n/${path}/\n`);
}
