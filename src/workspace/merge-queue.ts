import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WeftError } from '../core/errors.js';
import type { Integration } from '../core/ports/workspace.js';
import { conflictFeedback, parseConflicts, type ConflictedFile } from './conflicts.js';
import { git, gitText, lines } from './git.js';
import { formatArgv, runChecks } from './merge-checks.js';
import { Serial } from './serial.js';
import { clearStaleDir, commitOf, diffStats, isWorktree, mergeInProgress, removeWorktree, unmergedFiles } from './worktrees.js';

export interface MergeQueueOptions {
  readonly runId: string;
  /** Top folder of the repository. */
  readonly root: string;
  /** The integration branch, e.g. `weft/<run>`. */
  readonly branch: string;
  /** Folder of the integration worktree (created on the first merge). */
  readonly dir: string;
  /** The repository lock, for adding and removing the integration worktree. */
  readonly lock: Serial;
  /** Commands run after each merge; one that fails reverts it. @default [] */
  readonly checks?: readonly (readonly string[])[];
  /** @default 600000 */
  readonly checkTimeoutMs?: number;
}

/**
 * Merges task branches into the integration branch one at a time, in the order they were
 * queued. Each merge happens in a worktree of its own, detached at the branch's tip; the branch
 * moves (compare-and-swap) only once the merge succeeded and every check passed, so nobody ever
 * starts from a merge that is later reverted — and the user's checkout is never touched.
 */
export class MergeQueue {
  private readonly serial = new Serial();
  private ready = false;

  constructor(private readonly options: MergeQueueOptions) {}

  /** The integration branch's current commit. */
  async tip(): Promise<string> {
    return commitOf(this.options.root, `refs/heads/${this.options.branch}`);
  }

  /**
   * Takes a place in the queue now; when its turn comes, waits for `before` (e.g. the task's
   * commit, which may run meanwhile) and merges `taskBranch` unless `before` gave an answer.
   */
  merge(taskId: string, taskBranch: string, before: Promise<Integration | undefined>): Promise<Integration> {
    before.catch(() => undefined); // it is awaited in its turn; until then a rejection is not "unhandled"
    return this.serial.run(async () => (await before) ?? this.mergeNow(taskId, taskBranch));
  }

  /** Removes the integration worktree (the branch stays). */
  async close(): Promise<void> {
    await this.serial.run(() =>
      this.options.lock.run(async () => {
        await removeWorktree(this.options.root, this.options.dir);
        await git(this.options.root, ['worktree', 'prune']);
        this.ready = false;
      }),
    );
  }

  private async mergeNow(taskId: string, taskBranch: string): Promise<Integration> {
    const { runId, branch, checks = [] } = this.options;
    const dir = await this.worktree();
    const before = await this.tip();
    await this.reset(dir, before);
    try {
      const r = await git(dir, ['merge', '--no-ff', '--no-edit', '-m', `weft: merge task ${taskId} (run ${runId})`, taskBranch], { okCodes: [0, 1] });
      if (r.exitCode !== 0) return await this.conflict(taskId, dir, before, taskBranch, (r.stderr || r.stdout).trim());
      const after = await commitOf(dir, 'HEAD');
      if (after === before) return { ok: true, files: { changed: 0, added: 0, removed: 0 }, commit: before };
      if (checks.length > 0) {
        const failure = await runChecks(checks, { cwd: dir, ...(this.options.checkTimeoutMs === undefined ? {} : { timeoutMs: this.options.checkTimeoutMs }), env: { WEFT_RUN_ID: runId, WEFT_TASK_ID: taskId } });
        if (failure !== undefined) {
          await this.reset(dir, before);
          const command = formatArgv(failure.argv);
          const how = failure.timedOut ? 'timed out' : failure.exitCode === undefined ? 'could not run' : `exited with code ${failure.exitCode}`;
          return {
            ok: false,
            code: 'WEFT_CHECK_FAILED',
            message: `check \`${command}\` ${how} after merging task "${taskId}"; the merge was reverted`,
            feedback: [
              `Your work on task "${taskId}" merged cleanly into ${branch}, but the check \`${command}\` ${how} on the merged result, so the merge was reverted.`,
              `Your fix attempt continues in the same worktree, with ${branch} merged in. Make the check pass; weft commits and merges the result.`,
              '',
              `Output of \`${command}\` (end):`,
              failure.outputTail === '' ? '(no output)' : failure.outputTail,
            ].join('\n'),
          };
        }
      }
      await git(dir, ['update-ref', '-m', `weft: merge task ${taskId}`, `refs/heads/${branch}`, after, before]);
      return { ok: true, files: await diffStats(dir, before, after), commit: after };
    } catch (error) {
      await this.reset(dir, before).catch(() => undefined);
      throw error;
    }
  }

  private async conflict(taskId: string, dir: string, before: string, taskBranch: string, gitMessage: string): Promise<Integration> {
    const { branch } = this.options;
    const unmerged = await unmergedFiles(dir);
    if (unmerged.length === 0) {
      await this.reset(dir, before);
      throw new WeftError('WEFT_INTERNAL', `could not merge task "${taskId}" into ${branch}: ${gitMessage}`);
    }
    const files: ConflictedFile[] = unmerged.map(({ path, status }) => {
      const file = join(dir, path);
      return { path, status, hunks: existsSync(file) ? parseConflicts(readFileSync(file, 'utf8')) : [] };
    });
    const forkPoint = await gitText(dir, ['merge-base', before, taskBranch]);
    const meanwhile = lines(await gitText(dir, ['log', '--first-parent', '--format=%s', `${forkPoint}..${before}`, '--', ...files.map((f) => f.path)])).slice(0, 10);
    await this.reset(dir, before);
    return {
      ok: false,
      code: 'WEFT_MERGE_CONFLICT',
      message: `merging task "${taskId}" into ${branch} conflicts in ${files.map((f) => f.path).join(', ')}`,
      feedback: conflictFeedback({ taskId, integration: branch, files, mergedMeanwhile: meanwhile }),
    };
  }

  /** Puts the integration worktree at `commit`, clean (aborting a merge, dropping a reverted one). */
  private async reset(dir: string, commit: string): Promise<void> {
    if (await mergeInProgress(dir)) await git(dir, ['merge', '--abort'], { okCodes: [0, 128] });
    await git(dir, ['reset', '-q', '--hard', commit]);
    await git(dir, ['clean', '-fdq']); // ignored files (a check's node_modules) stay for the next check
  }

  private async worktree(): Promise<string> {
    const { root, dir, lock } = this.options;
    if (this.ready && (await isWorktree(root, dir))) return dir;
    await lock.run(async () => {
      if (await isWorktree(root, dir)) return;
      await clearStaleDir(root, dir);
      await git(root, ['worktree', 'add', '-q', '--detach', dir, await this.tip()]);
    });
    this.ready = true;
    return dir;
  }
}
