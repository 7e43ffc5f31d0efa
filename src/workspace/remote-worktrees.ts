import { relative } from 'node:path';
import { WeftError } from '../core/errors.js';
import type { TaskContext } from '../core/ports/executor.js';
import type { ResolvedTask } from '../core/plan/graph.js';
import type { WorkspaceSpec } from '../core/plan/workspace-schema.js';
import type { CloneAttempt } from '../core/ports/workspace.js';
import { maskRemote, remoteAccess, shownRemote, withoutPassword } from '../core/remote-url.js';
import { integrationBranch, refComponent } from './branch-names.js';
import { git, gitTest, gitText, lines, type GitResult } from './git.js';
import { mergeInProgress, stageAll } from './worktrees.js';

/** Where a task of the run works: what {@link RemoteWorktrees} needs of the run's `GitWorkspace`. */
export interface TaskPlaces {
  placeOf(task: ResolvedTask): 'in place' | 'worktree' | 'merged';
  worktreeOf(taskId: string): string;
  /** What weft put into worktrees itself: never sent. */
  readonly excluded: readonly string[];
  /** The run's `workspace:`, when it has one: a worker makes its own worktrees ready with it. */
  readonly workspaceSpec?: WorkspaceSpec | undefined;
}

/** Which attempt, and the folder the coordinator prepared for it. */
export type AttemptAt = Pick<TaskContext, 'task' | 'attempt' | 'workdir'>;

/** How many refs one `git push` of {@link RemoteWorktrees.prune} deletes. */
const PRUNE_SLICE = 200;

/** `refs/weft/<run>/<task>/<attempt>`: an attempt's refs on the shared remote (`…/base`, `…/result`). */
export function attemptRefs(runId: string, taskId: string, attempt: number): { base: string; result: string } {
  const at = `refs/weft/${runId}/${refComponent(taskId)}/${attempt}`;
  return { base: `${at}/base`, result: `${at}/result` };
}

/**
 * The coordinator's side of clone mode: a task's worktree travels through a git remote the
 * coordinator and the workers share. Before its job goes out, the state its worktree was prepared
 * in is pushed as `refs/weft/<run>/<task>/<attempt>/base` — the integration tip for a first attempt;
 * for a fix, the previous attempt's work with the tip merged in. When that merge left conflicts
 * (marked in the files, a merge in progress), they cannot be pushed as such: the files as they are,
 * markers included, are committed on top of both sides (a commit no branch holds) and that is sent.
 * The worker's pushed result is then brought back into the same worktree — fast-forwarded when the
 * worktree was clean, else its files laid over the open merge — so the merge, the conflict-marker
 * check and the commit happen here exactly as for a local attempt.
 *
 * A password in the remote's URL stays here: it is masked in every message, and workers get the
 * URL without it.
 */
export class RemoteWorktrees {
  /** @param url the shared remote, as the user gave it (checked with {@link RemoteWorktrees.check}) */
  constructor(
    private readonly url: string,
    private readonly runId: string,
    private readonly places: TaskPlaces,
  ) {}

  /**
   * Checks the remote answers (`git ls-remote`), before the run starts.
   * @param flag what the user set it with, for the message (`--git-remote`, `dispatch.gitRemote`)
   * @throws WeftError (`WEFT_USAGE`) naming the flag when it does not
   */
  static async check(url: string, flag: string, cwd: string): Promise<void> {
    const access = remoteAccess(url);
    const r = await git(cwd, ['ls-remote', '--heads', access.url], { okCodes: [0, 1, 2, 128], env: access.env });
    if (r.exitCode === 0) return;
    // git's first `fatal:` line says what is wrong; its last may be advice ("… and the repository exists.").
    const lines = r.stderr.trim().split('\n');
    const fatal = lines.find((l) => l.startsWith('fatal: '))?.slice('fatal: '.length);
    const why = maskRemote(fatal ?? lines.at(-1) ?? '', url);
    throw new WeftError('WEFT_USAGE', `${flag}: cannot reach the git remote ${shownRemote(url)} (${why})`, {
      hint: 'give a URL or the path of a bare repository the workers can reach too (git init --bare <path>)',
    });
  }

  /** Pushes where the attempt starts; `undefined` for a task that works in place (no worktree). */
  async send(ctx: AttemptAt): Promise<CloneAttempt | undefined> {
    const place = this.places.placeOf(ctx.task);
    if (place === 'in place') return undefined;
    const dir = this.places.worktreeOf(ctx.task.id);
    const refs = attemptRefs(this.runId, ctx.task.id, ctx.attempt);
    const base = await this.startOf(dir, ctx.task.id, ctx.attempt);
    await this.remote(dir, ['push', '-q'], [`+${base}:${refs.base}`]);
    const message =
      place === 'worktree'
        ? `weft: task ${ctx.task.id} (run ${this.runId}, attempt ${ctx.attempt})`
        : `weft: what task ${ctx.task.id} left on the merged result (run ${this.runId}, attempt ${ctx.attempt})`;
    const workspace = this.places.workspaceSpec;
    return {
      remote: withoutPassword(this.url),
      ...refs,
      cwd: relative(dir, ctx.workdir),
      message,
      ...(workspace === undefined ? {} : { workspace }),
    };
  }

  /** Brings the worker's pushed `commit` into the attempt's worktree. */
  async receive(ctx: AttemptAt, spec: CloneAttempt, commit: string): Promise<void> {
    const dir = this.places.worktreeOf(ctx.task.id);
    await this.remote(dir, ['fetch', '-q', '--no-tags'], [spec.result]);
    const fetched = await gitText(dir, ['rev-parse', '--verify', 'FETCH_HEAD^{commit}']);
    if (fetched !== commit)
      throw new WeftError(
        'WEFT_DISPATCH',
        `${spec.result} on the remote is ${fetched}, not the ${commit} its worker pushed`,
      );
    const onBranch = this.places.placeOf(ctx.task) === 'worktree' && !(await mergeInProgress(dir));
    // On the task's branch the worker's commits are kept; an open fix merge (or the merged result's
    // detached worktree) gets the files, and is concluded (or parked) as a local attempt's would be.
    if (!onBranch) await git(dir, ['read-tree', '--reset', '-u', commit]);
    else if (await this.madeAfresh(dir, commit)) await git(dir, ['reset', '-q', '--hard', commit]);
    else await git(dir, ['merge', '--ff-only', '-q', commit]);
  }

  /**
   * Whether the worktree was made again since the attempt's start was sent — a resumed coordinator
   * that adopted an attempt still on a worker makes it at the integration tip, which may have moved
   * on: its HEAD is then not where the worker started, but it holds nothing of the task's (clean, on
   * the run's branch). Its branch is set to the worker's work, which merges as a local attempt that
   * started before the tip moved does.
   */
  private async madeAfresh(dir: string, commit: string): Promise<boolean> {
    if (await gitTest(dir, ['merge-base', '--is-ancestor', 'HEAD', commit])) return false;
    const clean = (await gitText(dir, ['status', '--porcelain', '--untracked-files=no'])) === '';
    return clean && gitTest(dir, ['merge-base', '--is-ancestor', 'HEAD', integrationBranch(this.runId)]);
  }

  /**
   * Deletes the run's attempt refs (`refs/weft/<run>/…`, every life's) from the shared remote, for
   * a run that succeeded: what they carried is merged, and left there they would pile up, two refs
   * an attempt, keeping every attempt's commits from git's garbage collection. A run that did not
   * succeed keeps them: a resume adopts an attempt still on a worker through them, and a person can
   * fetch work that could not be brought back. Returns how many it deleted.
   * @param cwd a folder of the repository, to run git in
   */
  async prune(cwd: string): Promise<number> {
    const listed = await this.remote(cwd, ['ls-remote'], [`refs/weft/${this.runId}/*`]);
    const refs = lines(listed.stdout).map((l) => l.split('\t')[1] ?? '');
    const ours = refs.filter((r) => r.startsWith(`refs/weft/${this.runId}/`));
    // In slices, so that thousands of attempts stay within the command line's limit.
    for (let i = 0; i < ours.length; i += PRUNE_SLICE)
      await this.remote(
        cwd,
        ['push', '-q'],
        ours.slice(i, i + PRUNE_SLICE).map((r) => `:${r}`),
      );
    return ours.length;
  }

  /** The commit the worktree's state is: HEAD when it is clean, else a commit of its files on top of HEAD (and MERGE_HEAD). */
  private async startOf(dir: string, taskId: string, attempt: number): Promise<string> {
    await stageAll(dir, this.places.excluded);
    const tree = await gitText(dir, ['write-tree']);
    const [head = '', headTree] = lines(await gitText(dir, ['rev-parse', 'HEAD', 'HEAD^{tree}']));
    const merging = await mergeInProgress(dir);
    if (!merging && tree === headTree) return head;
    const parents = ['-p', head, ...(merging ? ['-p', await gitText(dir, ['rev-parse', 'MERGE_HEAD'])] : [])];
    const message = merging
      ? `weft: task ${taskId}'s fix merge with its conflicts marked, sent to a worker (run ${this.runId}, attempt ${attempt})`
      : `weft: task ${taskId}'s worktree as it was, sent to a worker (run ${this.runId}, attempt ${attempt})`;
    return gitText(dir, ['commit-tree', tree, ...parents, '-m', message]);
  }

  /** A git command that names the remote: its password never reaches a message. */
  private async remote(dir: string, command: readonly string[], refspecs: readonly string[]): Promise<GitResult> {
    const access = remoteAccess(this.url); // the password in git's environment, not on its command line
    try {
      return await git(dir, [...command, access.url, ...refspecs], { env: access.env });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new WeftError('WEFT_DISPATCH', maskRemote(message, this.url));
    }
  }
}
