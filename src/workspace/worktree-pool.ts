import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { commitChanges } from './commit-changes.js';
import { git } from './git.js';
import { gitDirOf, listWorktrees, removeWorktree } from './worktrees.js';

/** A full object id (SHA-1 or SHA-256): a commit to check out detached, not a branch name. */
const OBJECT_ID = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

/**
 * Where a parked worktree is marked clean for the runs that take it up: a file in its own git
 * folder (`.git/worktrees/<id>/`), which moves with it and goes when it is removed. It holds the
 * commit the worktree was parked at, so a mark left behind (by a weft that did not know of it)
 * no longer counts once the worktree has moved on.
 */
function cleanMark(worktree: string): string {
  return join(gitDirOf(worktree) ?? join(worktree, '.git'), 'weft-parked-clean');
}

/** The commit a detached worktree's HEAD holds, read from its git folder. */
function headOf(worktree: string): string | undefined {
  try {
    const head = readFileSync(join(gitDirOf(worktree) ?? '', 'HEAD'), 'utf8').trim();
    return OBJECT_ID.test(head) ? head : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a parked worktree is marked clean at the commit it is on. */
function markedClean(worktree: string): boolean {
  try {
    const head = headOf(worktree);
    return head !== undefined && readFileSync(cleanMark(worktree), 'utf8') === head;
  } catch {
    return false;
  }
}

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
 * A worktree committed through {@link WorktreePool.commit} and found clean (nothing ignored or
 * untracked left) is parked marked so, and the task that takes it next is switched with `git
 * read-tree -m -u`, which looks only at the files that differ between the two commits, instead of
 * `git clean` and `git checkout --force`, which look at every file of the repository. (What
 * `git status` does not show stays: an empty folder a task left, or a file written into a parked
 * worktree after it was parked — nothing weft does writes there.)
 *
 * Every method but {@link WorktreePool.switchTo} and {@link WorktreePool.commit} changes the
 * repository's worktree list: call them under the repository lock. Two runs at once may adopt the same slot: the one whose
 * `worktree move` comes second finds it gone and takes another (or adds a new worktree).
 */
export class WorktreePool {
  private readonly free: string[] = [];
  /** Parked slots known to hold exactly their HEAD commit (see {@link WorktreePool.park}). */
  private readonly clean = new Set<string>();
  /** Worktrees taken from a clean slot, by the folder they were moved to, until they are switched. */
  private readonly takenClean = new Set<string>();
  /** Open worktrees whose last {@link WorktreePool.commit} left them clean, until they are parked. */
  private readonly committedClean = new Set<string>();
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

  /**
   * Takes up the worktrees parked by earlier runs (or an earlier process of this run: weft resume),
   * after forgetting the worktrees whose folder is gone.
   */
  async adopt(): Promise<void> {
    await git(this.root, ['worktree', 'prune']);
    for (const path of await listWorktrees(this.root)) {
      const parked = dirname(path) === this.dir && existsSync(join(path, '.git'));
      if (!parked || this.free.includes(path)) continue;
      this.free.push(path);
      if (markedClean(path)) this.clean.add(path);
    }
  }

  /**
   * Moves a parked worktree to `dir` (which must not exist). Resolves to false when none is
   * parked or the one taken cannot move (it is then removed): add a new worktree instead.
   */
  async take(dir: string): Promise<boolean> {
    for (let slot = this.free.pop(); slot !== undefined; slot = this.free.pop()) {
      const wasClean = this.clean.delete(slot);
      // --force: `dir` may be registered still (a worktree whose folder was deleted), which is no reason to stop.
      const moved = await git(this.root, ['worktree', 'move', '--force', slot, dir], { okCodes: [0, 128] });
      if (moved.exitCode === 0) {
        rmSync(cleanMark(dir), { force: true }); // the task may write anything there now
        if (wasClean) this.takenClean.add(dir);
        return true;
      }
      await removeWorktree(this.root, slot); // e.g. a slot with submodules, which git will not move
    }
    return false;
  }

  /**
   * Puts a taken worktree on `target` — a branch, or (a full object id) a commit, detached; with
   * `newBranch`, on that branch created at `target` — exactly as a fresh checkout of it would be:
   * untracked and ignored files gone, tracked files as committed. Writes only the files that
   * differ. Needs no lock.
   *
   * A worktree parked clean (see {@link WorktreePool.park}) is switched by `git read-tree -m -u`,
   * which looks only at the files that differ between the two commits; any other is cleaned and
   * checked out with `--force`, which looks at every file (twice) — hundreds of ms at 20,000 files.
   */
  async switchTo(dir: string, target: string, newBranch?: string): Promise<void> {
    this.committedClean.delete(dir);
    if (this.takenClean.delete(dir)) {
      const read = await git(dir, ['read-tree', '-m', '-u', 'HEAD', target], { okCodes: [0, 128] });
      if (read.exitCode === 0) {
        if (newBranch !== undefined) {
          const create = ['update-ref', '-m', `branch: Created from ${target}`, `refs/heads/${newBranch}`, target, ''];
          await git(dir, create);
          await git(dir, ['symbolic-ref', 'HEAD', `refs/heads/${newBranch}`]);
        } else if (OBJECT_ID.test(target)) {
          await git(dir, ['update-ref', '--no-deref', '-m', `checkout: moving to ${target}`, 'HEAD', target]);
        } else {
          await git(dir, ['symbolic-ref', 'HEAD', `refs/heads/${target}`]);
        }
        return;
      }
      // Not clean after all (someone wrote there while it was parked): the long way.
    }
    await git(dir, ['clean', '-ffdxq']);
    await git(dir, [
      'checkout',
      '-q',
      '-f',
      ...(newBranch === undefined ? [] : ['--no-track', '-b', newBranch]),
      target,
    ]);
  }

  /**
   * Commits everything in the open worktree at `dir` (see {@link commitChanges}) and remembers
   * whether that left it clean — holding exactly its HEAD commit, nothing ignored or untracked —
   * so that, parked right after, the next task can switch it without a clean or a look at every file.
   * @returns the commit made, when one was made and git said which (else HEAD has to be asked)
   */
  async commit(dir: string, message: string, exclude: readonly string[] = []): Promise<string | undefined> {
    this.committedClean.delete(dir);
    const { commit, clean } = await commitChanges(dir, message, exclude);
    if (clean) this.committedClean.add(dir);
    return commit;
  }

  /**
   * Detaches the open worktree at `dir` — HEAD stays at its commit, so its branch can be deleted or
   * renamed — unless it is detached already. Needs no lock: call it before {@link WorktreePool.park}
   * to hold the lock for less. @returns false when git could not
   */
  async detach(dir: string): Promise<boolean> {
    if (headOf(dir) !== undefined) return true; // HEAD holds a commit, not a branch
    const detach = ['update-ref', '--no-deref', '-m', 'weft: parked for reuse', 'HEAD', 'HEAD'];
    return (await git(dir, detach, { okCodes: [0, 128] })).exitCode === 0;
  }

  /**
   * Parks the open worktree at `dir` for a later task: detaches it (so its branch can be deleted
   * or renamed) and moves it into the pool; one git cannot move is removed instead. Commit what it
   * holds first (so no merge is in progress either), through {@link WorktreePool.commit} when
   * nothing is written there in between, so the pool knows it is clean.
   */
  async park(dir: string): Promise<void> {
    this.takenClean.delete(dir);
    const clean = this.committedClean.delete(dir);
    if (!existsSync(join(dir, '.git'))) return removeWorktree(this.root, dir);
    if (!(await this.detach(dir))) return removeWorktree(this.root, dir);
    mkdirSync(this.dir, { recursive: true });
    let slot = join(this.dir, `${this.tag}-${this.next++}`);
    while (existsSync(slot)) slot = join(this.dir, `${this.tag}-${this.next++}`);
    const moved = await git(this.root, ['worktree', 'move', dir, slot], { okCodes: [0, 128] });
    if (moved.exitCode !== 0) return removeWorktree(this.root, dir);
    this.free.push(slot);
    if (clean) this.clean.add(slot);
    // Told to the next run that takes it up (a mark in the worktree's own git folder).
    if (clean) writeFileSync(cleanMark(slot), headOf(slot) ?? '');
    else rmSync(cleanMark(slot), { force: true });
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
    this.clean.clear();
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
