import { existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { integrationBranch } from './branch-names.js';
import { git, gitText } from './git.js';
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
export async function openRunBranch(repo: Repository, runId: string, worktreesDir: string): Promise<RunBranch> {
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
      const recorded = existsSync(runFile)
        ? (JSON.parse(readFileSync(runFile, 'utf8')) as { base?: string }).base
        : undefined;
      base = recorded ?? (await gitText(repo.root, ['merge-base', 'HEAD', branch]));
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
