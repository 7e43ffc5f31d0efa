import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { git } from './git.js';
import { listWorktrees, removeWorktree } from './worktrees.js';

/**
 * Worktrees a run has finished with, kept checked out for the next task: moving one to a task's
 * folder and switching it to the task's branch writes only the files that differ, where a new
 * `git worktree add` writes every file of the repository (seconds on 20,000 files).
 *
 * A parked worktree sits detached at `<dir>/<n>` with nothing of value in it (its work was
 * committed before it was parked), so a crash leaves nothing to recover there: a resumed run
 * adopts the slots it finds, and `drain` removes them all when the run ends.
 *
 * Every method but {@link WorktreePool.switchTo} changes the repository's worktree list: call
 * them under the repository lock.
 */
export class WorktreePool {
  private readonly free: string[] = [];
  private next = 0;

  /**
   * @param root top folder of the repository
   * @param dir the folder the parked worktrees go in (`<run dir>/_pool`)
   */
  constructor(
    private readonly root: string,
    private readonly dir: string,
  ) {}

  /** Takes up the worktrees an earlier process of the run left parked (weft resume). */
  async adopt(): Promise<void> {
    for (const path of await listWorktrees(this.root)) {
      const parked = dirname(path) === this.dir && existsSync(join(path, '.git'));
      if (parked && !this.free.includes(path)) this.free.push(path);
    }
  }

  /**
   * Moves a parked worktree to `dir` (which must not exist). Resolves to false when none is
   * parked or the one taken cannot move (it is then removed): add a new worktree instead.
   */
  async take(dir: string): Promise<boolean> {
    for (let slot = this.free.pop(); slot !== undefined; slot = this.free.pop()) {
      const moved = await git(this.root, ['worktree', 'move', slot, dir], { okCodes: [0, 128] });
      if (moved.exitCode === 0) return true;
      await removeWorktree(this.root, slot); // e.g. a slot with submodules, which git will not move
    }
    return false;
  }

  /**
   * Puts a taken worktree on `branch` (or, detached, on a commit) exactly as a fresh checkout of it
   * would be: untracked and ignored files gone, tracked files as committed. Touches only what
   * differs. Needs no lock.
   */
  async switchTo(dir: string, branch: string): Promise<void> {
    await git(dir, ['clean', '-ffdxq']);
    await git(dir, ['checkout', '-q', '-f', branch]);
  }

  /**
   * Parks the open worktree at `dir` for a later task: detaches it (so its branch can be deleted
   * or renamed) and moves it into the pool; one git cannot move is removed instead. Commit what it
   * holds first (so no merge is in progress either).
   */
  async park(dir: string): Promise<void> {
    if (!existsSync(join(dir, '.git'))) return removeWorktree(this.root, dir);
    const detach = ['update-ref', '--no-deref', '-m', 'weft: parked for reuse', 'HEAD', 'HEAD'];
    const detached = await git(dir, detach, { okCodes: [0, 128] });
    if (detached.exitCode !== 0) return removeWorktree(this.root, dir);
    mkdirSync(this.dir, { recursive: true });
    let slot = join(this.dir, String(this.next++));
    while (existsSync(slot)) slot = join(this.dir, String(this.next++));
    const moved = await git(this.root, ['worktree', 'move', dir, slot], { okCodes: [0, 128] });
    if (moved.exitCode === 0) this.free.push(slot);
    else await removeWorktree(this.root, dir);
  }

  /** Removes every parked worktree and the pool's folder. */
  async drain(): Promise<void> {
    this.free.length = 0;
    for (const path of await listWorktrees(this.root)) {
      if (dirname(path) === this.dir) await removeWorktree(this.root, path);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
