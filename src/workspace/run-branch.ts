import { existsSync, mkdirSync, readFileSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { integrationBranch } from './branch-names.js';
import { git, gitText, lines } from './git.js';
import { excludeFromCheckout, type Repository } from './repository.js';
import { repositoryLock } from './serial.js';
import { branchExists, changedPaths, commitOf } from './worktrees.js';

/** Where a run's folder records the commit it started from (`{runId, branch, base}`). */
const RUN_FILE = '_run.json';

/** A run's integration branch as {@link openRunBranch} found or made it. */
export interface RunBranch {
  /** `<worktreesDir>/<run-id>`, real path. */
  readonly runDir: string;
  /** The commit the run started from. */
  readonly base: string;
  /** Whether the branch already holds merges (a resumed run's). */
  readonly changed: boolean;
  /** Things the user should know, e.g. uncommitted changes the tasks will not see. */
  readonly warnings: readonly string[];
}

/**
 * Makes the run's folder under `worktreesDir` (kept out of the user's checkout) and its integration
 * branch `weft/<run-id>` from the current HEAD — or, when the branch exists (a resumed run), keeps
 * what was merged so far and the base recorded in the run's folder.
 */
export async function openRunBranch(
  repo: Repository,
  runId: string,
  worktreesDir: string,
  succeeded?: ReadonlyMap<string, number>,
): Promise<RunBranch> {
  mkdirSync(join(worktreesDir, runId), { recursive: true });
  const runDir = realpathSync(join(worktreesDir, runId));
  const branch = integrationBranch(runId);
  const runFile = join(runDir, RUN_FILE);
  const warnings: string[] = [];
  let base!: string;
  let changed = false;
  await repositoryLock(repo.commonDir).run(async () => {
    // All of .weft/ (journal, logs, worktrees), not only the worktrees: `git add -A` committed the journal.
    const weftDir = dirname(realpathSync(worktreesDir));
    await excludeFromCheckout(repo, basename(weftDir) === '.weft' ? weftDir : realpathSync(worktreesDir));
    if (await branchExists(repo.root, branch)) {
      // A resumed run: keep what was merged so far.
      base = await recordedBase(repo.root, runFile, branch);
      if (succeeded !== undefined) {
        const note = await dropUnjournaledMerges(repo.root, branch, base, runId, succeeded);
        if (note !== undefined) warnings.push(note);
      }
      changed = (await commitOf(repo.root, branch)) !== base;
    } else {
      base = await commitOf(repo.root, 'HEAD');
      await git(repo.root, ['branch', '--no-track', branch, base]);
      const dirty = await changedPaths(repo.root, false);
      if (dirty.length > 0)
        warnings.push(
          `${dirty.length} uncommitted change(s) in ${repo.root} are not part of the run: isolated tasks start from the last commit (${base.slice(0, 10)})`,
        );
    }
    writeFileSync(runFile, `${JSON.stringify({ runId, branch, base }, null, 2)}\n`);
  });
  return { runDir, base, changed, warnings };
}

/** A resumed run's base: the one its folder records, else where its branch left HEAD. */
async function recordedBase(root: string, runFile: string, branch: string): Promise<string> {
  const recorded = existsSync(runFile)
    ? (JSON.parse(readFileSync(runFile, 'utf8')) as { base?: string }).base
    : undefined;
  return recorded ?? (await gitText(root, ['merge-base', 'HEAD', branch]));
}

/**
 * The commit a resumed run's tasks start from (see {@link openRunBranch}), not the checkout's HEAD
 * now; undefined for a run whose branch was never made (its resume starts from HEAD).
 */
export async function resumedRunBase(root: string, worktreesDir: string, runId: string): Promise<string | undefined> {
  const branch = integrationBranch(runId);
  if (!(await branchExists(root, branch))) return undefined;
  return recordedBase(root, join(worktreesDir, runId, RUN_FILE), branch);
}

/**
 * Takes away a succeeded run's folder once it holds only its `_run.json`: nothing will resume it,
 * so the base it records is not needed, and one folder per run would pile up. A folder that still
 * holds anything else (a worktree left aside) stays, with its record.
 */
export function removeFinishedRunFolder(runDir: string): void {
  const left = readdirSync(runDir);
  if (left.every((name) => name === RUN_FILE)) rmSync(runDir, { recursive: true, force: true });
}

/**
 * A resumed run's merges that the journal never recorded: weft moved the branch for a task's merge
 * and stopped (Ctrl-C, a crash) before journaling the task's success, so the task runs again and
 * its change would be applied a second time. The merges of each task beyond the number of
 * successes the journal holds are taken off the branch when nothing after them on it was
 * journaled (the usual case: they are its last commits); else they stay, and the note says so.
 * @returns what the user is told, if anything was found
 */
async function dropUnjournaledMerges(
  root: string,
  branch: string,
  base: string,
  runId: string,
  succeeded: ReadonlyMap<string, number>,
): Promise<string | undefined> {
  const log = lines(await gitText(root, ['log', '--first-parent', '--format=%H %P%x1f%s', `${base}..${branch}`]));
  const merges = log.reverse().map((line) => {
    const [head = '', subject = ''] = line.split('\x1f');
    const [sha = '', parent = ''] = head.split(' ');
    const m = /^weft: merge task (\S+) \(run (\S+)\)$/.exec(subject);
    return { sha, parent, task: m !== null && m[2] === runId ? m[1] : undefined };
  });
  const seen = new Map<string, number>();
  const unjournaled = merges.map(({ task }) => {
    if (task === undefined || !succeeded.has(task)) return false; // a task the journal has succeeded: its merges stand
    const n = (seen.get(task) ?? 0) + 1;
    seen.set(task, n);
    return n > (succeeded.get(task) ?? 0);
  });
  const first = unjournaled.indexOf(true);
  if (first === -1) return undefined;
  const tasks = [...new Set(merges.filter((_, i) => unjournaled[i]).map((m) => m.task))].join(', ');
  if (!unjournaled.slice(first).every(Boolean))
    return `${branch} holds merges of ${tasks} that the journal does not record (weft stopped between them); they run again, and their changes may be on the branch twice — check it before \`weft apply\``;
  const from = merges[first] as { parent: string };
  const tip = merges.at(-1) as { sha: string };
  await git(root, [
    'update-ref',
    '-m',
    'weft: take off merges the journal never recorded',
    `refs/heads/${branch}`,
    from.parent,
    tip.sha,
  ]);
  return `${branch}: took off the merge of ${tasks}, made just before weft stopped but never journaled; ${tasks.includes(',') ? 'they run' : 'it runs'} again`;
}
