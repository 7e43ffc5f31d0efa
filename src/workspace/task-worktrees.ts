import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { ResolvedTask } from '../core/plan/graph.js';
import { attemptBranch, taskBranch } from './branch-names.js';
import { bringIntegrationIn, conflictMarkersLeft } from './fix-merge.js';
import { git, gitText, lines } from './git.js';
import type { BeforeMerge } from './merge-queue.js';
import type { Serial } from './serial.js';
import { checkOut, type WorktreePool } from './worktree-pool.js';
import { branchExists, clearStaleDir, isWorktree, removeWorktree } from './worktrees.js';

/** What {@link TaskWorktrees} works with: the repository, its lock, the run's folders, branch and pool. */
export interface TaskWorktreesOptions {
  /** Top folder of the repository. */
  readonly root: string;
  readonly runId: string;
  /** The run's worktrees folder: a task's worktree is `<runDir>/<task>`. */
  readonly runDir: string;
  /** `weft/<run-id>`. */
  readonly integrationBranch: string;
  readonly lock: Serial;
  readonly pool: WorktreePool;
  /** What weft put into worktrees itself (shared folders, copies): never committed. */
  readonly excluded: readonly string[];
  /** The integration branch's tip (the merge queue's). */
  tip(): Promise<string>;
}

/**
 * The worktree and branch `weft/<run>--<task>` of each isolated task across its attempts: started
 * from the integration tip, reopened with the tip merged in for a fix, committed before its merge,
 * retired after it, or shelved — kept as `…--attempt-<n>` when it holds unmerged work — when it
 * will not be merged. (`GitWorkspace` decides which; this does it.)
 */
export class TaskWorktrees {
  /** Files the last fix merge left conflicted, per task: checked for leftover markers on commit. */
  private readonly conflicted = new Map<string, readonly string[]>();
  /** The shelving under way, per task: a second one (the run's close, while a failed attempt's is still going) waits for it. */
  private readonly shelving = new Map<string, Promise<void>>();

  constructor(private readonly o: TaskWorktreesOptions) {}

  /** The worktree folder of a task (whether or not it exists right now). */
  dirOf(taskId: string): string {
    return join(this.o.runDir, taskId);
  }

  /**
   * A first attempt or a retry: puts aside whatever an earlier attempt left (as attempt `shelveAs`)
   * and checks out a fresh branch from the tip, in a parked worktree when there is one.
   */
  async start(taskId: string, shelveAs: number): Promise<string> {
    const { root, lock, pool } = this.o;
    const dir = this.dirOf(taskId);
    const branch = taskBranch(this.o.runId, taskId);
    await this.shelve(taskId, shelveAs);
    const tip = await this.o.tip();
    const reused = await lock.run(async () => {
      rmSync(dir, { recursive: true, force: true }); // a crash's leftovers; --force: git may still list it
      if (await pool.take(dir)) return true;
      await git(root, ['worktree', 'add', '-q', '-f', '--no-checkout', '-b', branch, dir, tip]);
      return false;
    });
    await (reused ? pool.switchTo(dir, tip, branch) : checkOut(dir));
    return dir;
  }

  /**
   * A fix: reopens the task's worktree on its branch and merges the integration tip into it,
   * leaving conflicts marked in the files. Undefined when its branch is gone (then start afresh).
   */
  async reopenForFix(taskId: string): Promise<string | undefined> {
    const dir = this.dirOf(taskId);
    if (!(await this.reopen(dir, taskBranch(this.o.runId, taskId)))) return undefined;
    const o = { dir, taskId, runId: this.o.runId, integrationBranch: this.o.integrationBranch };
    const conflicted = await bringIntegrationIn({ ...o, excluded: this.o.excluded });
    if (conflicted !== undefined) this.conflicted.set(taskId, conflicted);
    return dir;
  }

  /** Commits the task's work; returns feedback instead when a fix left conflict markers. */
  async commitWork(task: ResolvedTask, attempt: number, dir: string): Promise<BeforeMerge> {
    const o = { dir, taskId: task.id, integrationBranch: this.o.integrationBranch };
    const left = await conflictMarkersLeft(o, this.conflicted.get(task.id) ?? []);
    if (left !== undefined) return left;
    const message = `weft: task ${task.id} (run ${this.o.runId}, attempt ${attempt})`;
    const made = await this.o.pool.commit(dir, message, this.o.excluded);
    this.conflicted.delete(task.id);
    return made; // the commit to merge, when known
  }

  /**
   * After a merge: the worktree goes, and so does the branch (its work is in the integration
   * branch; `contained`: the merge said so, no need to ask git).
   */
  async retire(taskId: string, contained = false): Promise<void> {
    const { root, lock, pool } = this.o;
    const dir = this.dirOf(taskId);
    const branch = taskBranch(this.o.runId, taskId);
    this.conflicted.delete(taskId);
    await pool.detach(dir); // before the lock: parking under it then only moves the worktree
    await lock.run(async () => {
      await pool.park(dir);
      if (contained || ((await branchExists(root, branch)) && (await this.merged(branch))))
        await git(root, ['branch', '-q', '-D', branch]);
    });
  }

  /**
   * Puts aside an attempt that will not be merged: commits what it changed, removes its worktree,
   * and keeps its branch only if it holds anything not merged — renamed to `…--attempt-<n>` when
   * `attempt` is given, so the next attempt can start fresh on the task branch.
   */
  async shelve(taskId: string, attempt: number | undefined): Promise<void> {
    const before = this.shelving.get(taskId);
    const now = (before === undefined ? Promise.resolve() : before.catch(() => undefined)).then(() =>
      this.shelveNow(taskId, attempt),
    );
    this.shelving.set(taskId, now);
    try {
      await now;
    } finally {
      if (this.shelving.get(taskId) === now) this.shelving.delete(taskId);
    }
  }

  /**
   * Deletes the `…--attempt-<n>` branches (and their `.k` twins) that the given attempts of a task
   * were put aside as, once the task's work is merged: attempts cut off by a stop or a killed weft,
   * whose work a later attempt redid from the start.
   */
  async dropShelved(taskId: string, attempts: readonly number[]): Promise<void> {
    const { root, runId, lock } = this.o;
    await this.shelving.get(taskId)?.catch(() => undefined);
    const names = new Set(attempts.map((n) => attemptBranch(runId, taskId, n)));
    const twin = (b: string): boolean => names.has(b.replace(/\.\d+$/, ''));
    await lock.run(async () => {
      const listed = await gitText(root, [
        'for-each-ref',
        '--format=%(refname:short)',
        `refs/heads/${taskBranch(runId, taskId)}--attempt-*`,
      ]);
      const branches = lines(listed).filter((b) => names.has(b) || twin(b));
      if (branches.length > 0) await git(root, ['branch', '-q', '-D', ...branches]);
    });
  }

  /** Once every shelving under way has ended (however it ended). */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.shelving.values()]);
  }

  private async shelveNow(taskId: string, attempt: number | undefined): Promise<void> {
    const { root, runId, lock, pool } = this.o;
    const dir = this.dirOf(taskId);
    const branch = taskBranch(runId, taskId);
    this.conflicted.delete(taskId);
    const open = await isWorktree(root, dir);
    const message = `weft: work of task ${taskId}, attempt ${attempt ?? '?'}, which did not merge (run ${runId})`;
    if (open) await pool.commit(dir, message, this.o.excluded);
    else if (!existsSync(dir) && !(await branchExists(root, branch))) return; // nothing to put aside
    await lock.run(async () => {
      await (open ? pool.park(dir) : removeWorktree(root, dir));
      if (!(await branchExists(root, branch))) return;
      if (await this.merged(branch)) {
        await git(root, ['branch', '-q', '-D', branch]); // nothing on it that is not merged
        return;
      }
      if (attempt === undefined) return;
      let keep = attemptBranch(runId, taskId, attempt);
      for (let k = 2; await branchExists(root, keep); k++) keep = `${attemptBranch(runId, taskId, attempt)}.${k}`;
      await git(root, ['branch', '-q', '-m', branch, keep]);
    });
  }

  /** Makes sure the task's worktree is there for a fix; false when its branch is gone too. */
  private async reopen(dir: string, branch: string): Promise<boolean> {
    const { root, lock, pool } = this.o;
    if (await isWorktree(root, dir)) return true;
    if (!(await branchExists(root, branch))) return false;
    const reused = await lock.run(async () => {
      await clearStaleDir(root, dir);
      if (await pool.take(dir)) return true;
      await git(root, ['worktree', 'add', '-q', '--no-checkout', dir, branch]);
      return false;
    });
    await (reused ? pool.switchTo(dir, branch) : checkOut(dir));
    return true;
  }

  /** Whether every commit of `branch` is in the integration branch. */
  private async merged(branch: string): Promise<boolean> {
    const range = `refs/heads/${this.o.integrationBranch}..refs/heads/${branch}`;
    return (await gitText(this.o.root, ['rev-list', '--count', range])) === '0';
  }
}
