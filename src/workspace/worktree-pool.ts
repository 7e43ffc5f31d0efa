import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { git } from './git.js';
import { listWorktrees, removeWorktree } from './worktrees.js';

/**
 * Worktrees a run has finished with, kept checked out for the next task — of this run or of a
 * later one: moving one to a task's folder and switching it to the task's branch writes only the
 * files that differ, where a new `git worktree add` writes every file of the repository (seconds
 * on 20,000 files, and as long again to delete them).
 *
 * A parked worktree sits detached at `<dir>/<run>-<n>` (`.weft/worktrees/_pool`, shared by the
 * runs of the repository) with nothing of value in it (its work was committed before it was
 * parked), so a crash leaves nothing to recover there: a run adopts the slots it finds when it
 * opens, and {@link WorktreePool.trim} keeps a few of them for the next run when it ends.
 *
 * Every method but {@link WorktreePool.switchTo} changes the repository's worktree list: call
 * them under the repository lock. Two runs at once may adopt the same slot: the one whose
 * `worktree move` comes second finds it gone and takes another (or adds a new worktree).
 */
export class WorktreePool {
  private readonly free: string[] = [];
  private next = 0;

  /**
   * @param root top folder of the repository
   * @param dir the folder the parked worktrees go in (`.weft/worktrees/_pool`)
   * @param tag what the slots this pool parks are named after (the run id), so that runs never pick the same name
   */
  constructor(
    private readonly root: string,
    private readonly dir: string,
    private readonly tag = 'slot',
  ) {}

  /** Takes up the worktrees parked by earlier runs (or an earlier process of this run: weft resume). */
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
    let slot = join(this.dir, `${this.tag}-${this.next++}`);
    while (existsSync(slot)) slot = join(this.dir, `${this.tag}-${this.next++}`);
    const moved = await git(this.root, ['worktree', 'move', dir, slot], { okCodes: [0, 128] });
    if (moved.exitCode === 0) this.free.push(slot);
    else await removeWorktree(this.root, dir);
  }

  /**
   * Keeps at most `keep` parked worktrees (those this pool parked last first) for the next run to
   * take up, and removes the others; with `keep` 0, the pool's folder goes too.
   */
  async trim(keep: number): Promise<void> {
    const parked = [...(await listWorktrees(this.root))].filter((path) => dirname(path) === this.dir);
    const mine = this.free.filter((path) => parked.includes(path)).reverse();
    const kept = new Set([...mine, ...parked].slice(0, Math.max(0, keep)));
    this.free.length = 0;
    for (const path of parked) if (!kept.has(path)) await removeWorktree(this.root, path);
    if (kept.size === 0) rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Writes the files of a worktree added with `--no-checkout` — outside the repository lock, so
 * worktrees fill in parallel (`git worktree add` alone would write them all while holding it).
 */
export function checkOut(dir: string): Promise<unknown> {
  return git(dir, ['reset', '-q', '--hard']);
}
