import type { TaskPlace } from '../core/run/events.js';
import type { Integration } from '../core/ports/workspace.js';
import { git } from './git.js';
import { missingOutputs, missingOutputsVerdict } from './outputs.js';
import type { Serial } from './serial.js';
import type { WorktreePool } from './worktree-pool.js';
import { clearStaleDir, isWorktree } from './worktrees.js';

/** Characters of a commit's name in `merged result @<sha>`, as `git log --oneline` shows it. */
const SHORT_SHA = 7;

/** What {@link MergedResult} works with: the repository, its lock, the run's worktree pool and merge queue. */
export interface MergedResultOptions {
  /** Top folder of the repository. */
  readonly root: string;
  readonly lock: Serial;
  readonly pool: WorktreePool;
  /** The integration branch's tip (the merge queue's). */
  tip(): Promise<string>;
  /** Makes a worktree ready (the workspace's set-up and copies). */
  provision(dir: string): Promise<void>;
}

/**
 * The worktrees of tasks that run on the merged result: not isolated, but waiting on isolated tasks
 * (see `Placement`). Each gets a worktree of the integration branch, detached at its tip — which
 * holds the work of every isolated task it waits on, since a task starts only after its
 * dependencies merged. It is read-mostly: what the task writes there is not merged (a task that
 * writes declares `writes`).
 */
export class MergedResult {
  /** The integration commit each task running on the merged result was given. */
  private readonly mergedAt = new Map<string, string>();

  constructor(private readonly o: MergedResultOptions) {}

  /** Opens `dir` detached at the integration tip (reusing a parked worktree when there is one). */
  async open(taskId: string, dir: string): Promise<void> {
    const { root, lock, pool } = this.o;
    const { tip, reused } = await lock.run(async () => {
      if (await isWorktree(root, dir)) await pool.park(dir); // an earlier attempt's
      await clearStaleDir(root, dir);
      const at = await this.o.tip();
      if (await pool.take(dir)) return { tip: at, reused: true };
      await git(root, ['worktree', 'add', '-q', '--detach', dir, at]);
      return { tip: at, reused: false };
    });
    if (reused) await pool.switchTo(dir, tip);
    await this.o.provision(dir);
    this.mergedAt.set(taskId, tip);
  }

  /**
   * The task succeeded: its declared `outputs` are checked in `cwd` (its folder in `dir`), then the
   * worktree is parked.
   */
  async end(taskId: string, dir: string, cwd: string, outputs: readonly string[]): Promise<Integration> {
    const missing = missingOutputs(cwd, outputs);
    if (missing.length > 0) {
      return { ok: false, code: 'WEFT_OUTPUT_MISSING', ...missingOutputsVerdict(taskId, missing) };
    }
    const tip = this.mergedAt.get(taskId) ?? (await this.o.tip());
    await this.park(taskId, dir);
    const where: TaskPlace = `merged result @${tip.slice(0, SHORT_SHA)}`;
    return { ok: true, where };
  }

  /** Parks the task's worktree for reuse. */
  async park(taskId: string, dir: string): Promise<void> {
    this.mergedAt.delete(taskId);
    await this.o.lock.run(() => this.o.pool.park(dir));
  }
}
