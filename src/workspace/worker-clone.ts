import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, realpathSync, rmSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { WeftError } from '../core/errors.js';
import { WorkspaceSchema, type WorkspaceSpec } from '../core/plan/workspace-schema.js';
import type { CloneAttempt } from '../core/ports/workspace.js';
import { refComponent } from './branch-names.js';
import { git, gitText } from './git.js';
import { repositoryLock } from './serial.js';
import { WorktreeSetup, type GroupGuard } from './worktree-setup.js';
import { commitAll, removeWorktree } from './worktrees.js';

/**
 * A worker's own clone of each shared remote it is sent work from (`weft worker --clone <dir>`):
 * `<dir>/<name>-<hash>.git` (bare), cloned on first use and fetched from after; each attempt gets a
 * worktree `<dir>/worktrees/<run>/<task>` detached at the attempt's `base` ref. Its work is committed
 * (as a local attempt's is) and pushed to the `result` ref; then the worktree goes.
 *
 * The run's `workspace:` is applied to each worktree as the coordinator applies it to its own:
 * the set-up runs here, once per content of its key files, cached in `<dir>/setup/`; the files to
 * copy (`workspace.copy`, e.g. `.env`) are never sent by the coordinator (a job is stored in Redis)
 * and come from this worker's `<dir>/files/<path>` — an attempt is refused, naming that path, when
 * one is not there.
 *
 * @example
 * const clones = new WorkerClone('/var/weft/clones');
 * const wt = await clones.open(job.clone, { runId, taskId, attempt });
 * // … run the task in wt.workdir …
 * const commit = await wt.finish();
 */
export class WorkerClone {
  readonly dir: string;
  /** One set-up per remote and `workspace:` (its builds are shared by that remote's attempts). */
  private readonly setups = new Map<string, WorktreeSetup>();

  /** @param guardGroup how a set-up's process group is stopped (see `GroupGuard`) */
  constructor(
    dir: string,
    private readonly guardGroup?: GroupGuard,
  ) {
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
    const setup = this.setupOf(repo, spec.workspace);
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
    const remove = (): Promise<void> =>
      lock.run(async () => {
        await removeWorktree(repo, wt);
        await git(repo, ['update-ref', '-d', spec.base]);
      });
    try {
      await setup?.provision(wt);
    } catch (error) {
      await remove().catch(() => undefined);
      throw error;
    }
    const workdir = join(wt, spec.cwd);
    mkdirSync(workdir, { recursive: true });
    return {
      workdir,
      finish: async () => {
        await commitAll(wt, spec.message, setup?.excluded ?? []);
        const commit = await gitText(wt, ['rev-parse', 'HEAD']);
        await git(wt, ['push', '-q', spec.remote, `+${commit}:${spec.result}`]);
        await remove();
        return commit;
      },
      discard: remove,
    };
  }

  /** The set-up of a run's `workspace:` for the clone `repo`; `undefined` when there is nothing to do. */
  private setupOf(repo: string, spec: WorkspaceSpec | undefined): WorktreeSetup | undefined {
    if (spec === undefined || (spec.setup === undefined && (spec.copy?.length ?? 0) === 0)) return undefined;
    // A job's paths are checked as a plan's are: none may lead out of the clone folder's files/ or the worktree.
    if (!WorkspaceSchema.safeParse(spec).success)
      throw new WeftError('WEFT_DISPATCH', "the job's workspace (set-up, copies) is not a valid `workspace:`");
    const id = `${repo}\0${JSON.stringify(spec)}`;
    let setup = this.setups.get(id);
    if (setup === undefined) {
      const files = join(this.dir, 'files');
      setup = new WorktreeSetup({
        root: repo,
        copyFrom: files,
        copyHint: `the coordinator does not send files git does not track: put this worker's own copy at ${files}/, or take it out of workspace.copy`,
        cacheDir: join(this.dir, 'setup'),
        scratchDir: join(this.dir, 'worktrees'),
        spec,
        lock: repositoryLock(repo),
        guardGroup: this.guardGroup,
      });
      this.setups.set(id, setup);
    }
    return setup;
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
