import { existsSync } from 'node:fs';
import { applyRun, branchExists, integrationBranch, openRepository } from '../../workspace/index.js';
import { isWeftError, WeftError } from '../../core/errors.js';
import type { RunState } from '../../core/run/run-state.js';
import { EXIT } from '../exit-codes.js';
import { openJournal, readRun, resolveRunId } from '../journal.js';
import { driven } from '../run-views.js';
import { wire } from '../wiring.js';

/**
 * `weft apply <run> [--merge]`: bring the run's integration branch into the current branch of the
 * repository the run worked in (its plan's, which need not be the current folder's). A run whose
 * tasks changed no file has no branch: that is said in one line, and nothing is done.
 */
export async function applyCommand(
  given: string | undefined,
  opts: { dir?: string; merge?: boolean; json?: boolean },
): Promise<number> {
  const { projectDir, config } = wire(opts.dir);
  const store = await openJournal(projectDir, config, { create: false });
  let runId: string;
  let state: RunState;
  let live: boolean;
  try {
    runId = await resolveRunId(store, given);
    state = (await readRun(store, runId)).state;
    live = state.status === 'running' && (await driven(store, runId));
  } finally {
    await store.close();
  }
  // Its branch moves with every merge: applied now, the rest would come later, in a second apply.
  if (live)
    throw new WeftError('WEFT_USAGE', `run ${runId} is still running`, {
      hint: `apply it once it ends (\`weft apply ${runId}\`), or stop it first (Ctrl-C where it runs)`,
    });
  const repoDir = runFolder(state) ?? projectDir;
  if (!changedFiles(state) && !(await hasBranch(repoDir, runId))) {
    const files = { changed: 0, added: 0, removed: 0 };
    const text = `nothing to apply: run ${runId} has no branch ${integrationBranch(runId)} (none of its tasks changed a file in a worktree)`;
    process.stdout.write(
      opts.json === true
        ? `${JSON.stringify({ runId, from: integrationBranch(runId), how: 'nothing', files })}\n`
        : `${text}\n`,
    );
    return EXIT.ok;
  }
  if (state.status !== 'succeeded')
    process.stderr.write(
      `weft: run ${runId} ${state.status === 'running' ? 'was interrupted' : `ended ${state.status}`}: its branch holds only the work merged before that\n`,
    );
  const applied = await applyRun(repoDir, runId, { mode: opts.merge === true ? 'merge' : 'ff' });
  process.stdout.write(
    opts.json === true
      ? `${JSON.stringify(applied)}\n`
      : `applied ${applied.from} to ${applied.branch} (${applied.how}): ${applied.before.slice(0, 10)} → ${applied.after.slice(0, 10)}\n`,
  );
  return EXIT.ok;
}

/** The plan's folder the run recorded (its repository holds the run's branch), if it is still there. */
function runFolder(state: RunState): string | undefined {
  const dir = state.options.baseDir;
  return typeof dir === 'string' && existsSync(dir) ? dir : undefined;
}

/** Whether any task's merge changed a file (recorded in the journal from git's numstat). */
function changedFiles(state: RunState): boolean {
  return [...state.tasks.values()].some((t) => (t.result?.files?.changed ?? 0) > 0);
}

async function hasBranch(dir: string, runId: string): Promise<boolean> {
  try {
    return await branchExists((await openRepository(dir)).root, integrationBranch(runId));
  } catch (error) {
    if (isWeftError(error) && error.code === 'WEFT_USAGE') return false; // not a repository: no branch either
    throw error;
  }
}
