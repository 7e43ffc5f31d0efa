import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, realpathSync, rmSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { refComponent } from './branch-names.js';
import { git, gitText } from './git.js';
import { repositoryLock } from './serial.js';
import { commitAll, removeWorktree } from './worktrees.js';

/** What a worker is told about an attempt (the dispatcher's `CloneSpec`). */
export interface CloneAttempt {
  readonly remote: string;
  readonly base: string;
  readonly result: string;
  readonly cwd: string;
  readonly message: string;
}

/**
 * A worker's own clone of each shared remote it is sent work from (`weft worker --clone <dir>`):
 * `<dir>/<name>-<hash>.git` (bare), cloned on first use and fetched from after; each attempt gets a
 * worktree `<dir>/worktrees/<run>/<task>` detached at the attempt's `base` ref. Its work is committed
 * (as a local attempt's is) and pushed to the `result` ref; then the worktree goes.
 *
 * @example
 * const clones = new WorkerClone('/var/weft/clones');
 * const wt = await clones.open(job.clone, { runId, taskId, attempt });
 * // … run the task in wt.workdir …
 * const commit = await wt.finish();
 */
export class WorkerClone {
  readonly dir: string;

  constructor(dir: string) {
    mkdirSync(dir, { recursive: true });
    this.dir = realpathSync(resolve(dir));
  }

  async open(
    spec: CloneAttempt,
    at: { readonly runId: string; readonly taskId: string; readonly attempt: number },
  ): Promise<{ workdir: string; finish(): Promise<string>; discard(): Promise<void> }> {
    const repo = this.repoOf(spec.remote);
    const lock = repositoryLock(repo);
    const wt = join(this.dir, 'worktrees', at.runId, refComponent(at.taskId));
    await lock.run(async () => {
      if (!existsSync(join(repo, 'HEAD'))) {
        rmSync(repo, { recursive: true, force: true }); // a clone cut off before it was done
        await git(this.dir, ['clone', '--bare', '-q', spec.remote, repo]);
      }
      await git(repo, ['fetch', '-q', '--no-tags', spec.remote, `+${spec.base}:${spec.base}`]);
      mkdirSync(join(this.dir, 'worktrees', at.runId), { recursive: true });
      await removeWorktree(repo, wt); // an earlier attempt's, left by a crash
      await git(repo, ['worktree', 'prune']);
      await git(repo, ['worktree', 'add', '-q', '--detach', wt, spec.base]);
    });
    const workdir = join(wt, spec.cwd);
    mkdirSync(workdir, { recursive: true });
    const remove = (): Promise<void> =>
      lock.run(async () => {
        await removeWorktree(repo, wt);
        await git(repo, ['update-ref', '-d', spec.base]);
      });
    return {
      workdir,
      finish: async () => {
        await commitAll(wt, spec.message);
        const commit = await gitText(wt, ['rev-parse', 'HEAD']);
        await git(wt, ['push', '-q', spec.remote, `+${commit}:${spec.result}`]);
        await remove();
        return commit;
      },
      discard: remove,
    };
  }

  /** The bare clone of one remote: named after it, so that one worker can serve several. */
  private repoOf(remote: string): string {
    const name =
      basename(remote.replace(/\/+$/, ''))
        .replace(/\.git$/, '')
        .replace(/[^A-Za-z0-9_.-]/g, '_') || 'repo';
    const hash = createHash('sha256').update(remote).digest('hex').slice(0, 8);
    return join(this.dir, `${name}-${hash}.git`);
  }
}
