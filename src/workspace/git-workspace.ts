import { existsSync, mkdirSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { WeftError } from '../core/errors.js';
import type { WorkspaceSpec } from '../core/plan/workspace-schema.js';
import type { TaskResultData } from '../core/run/events.js';
import type { ResolvedTask } from '../core/plan/graph.js';
import type { CheckAt, CheckCheckout, Integration, Workspace } from '../core/ports/workspace.js';
import { checkCheckout } from './check-checkouts.js';
import { integrationBranch, taskBranch } from './branch-names.js';
import { checkGitWorkspaceOptions, worktreesDirOf, type GitWorkspaceOptions } from './git-workspace-options.js';
import { git } from './git.js';
import { isIsolated, Placement } from './isolation.js';
import { MergeQueue } from './merge-queue.js';
import { MergedResult } from './merged-result.js';
import { missingOutputs, missingOutputsVerdict } from './outputs.js';
import { openRunBranch, removeFinishedRunFolder } from './run-branch.js';
import { writeScope } from './stray-writes.js';
import { WorktreePool } from './worktree-pool.js';
import { WorktreeSetup } from './worktree-setup.js';
import { openRepository, type Repository } from './repository.js';
import { repositoryLock, type Serial } from './serial.js';
import { TaskWorktrees } from './task-worktrees.js';
import { branchExists, commitOf, diffStats, gitDirOf, isWorktree, listWorktrees, removeWorktree } from './worktrees.js';

export type { GitWorkspaceOptions } from './git-workspace-options.js';

const INTEGRATION_DIR = '_integration'; // task ids start with a letter or digit, so no task is called this
const POOL_DIR = '_pool'; // shared by the runs (run ids start with a letter or digit)
const DEFAULT_KEEP_WORKTREES = 4;

/**
 * Gives each isolated task (see {@link isIsolated}) its own git worktree and branch, and merges
 * finished work into the run's integration branch `weft/<run-id>` through a merge queue — one
 * merge at a time, in the order `integrate` is called — without ever touching the user's checkout.
 *
 * - **prepare**: a worktree `<worktreesDir>/<run>/<task>` on `weft/<run>--<task>`, branched
 *   from the integration branch's tip (which holds every dependency: a task starts only after they
 *   were merged), exactly as a fresh checkout of it. It is one an earlier task of the run finished
 *   with when there is one (see {@link WorktreePool}: switching it writes only the files that
 *   differ), else a new one. A **fix** attempt keeps the worktree and branch and *merges* the integration tip
 *   into it; conflicts stay in the files, marked, for the agent to resolve. (Not a rebase: a rebase
 *   stops once per conflicting commit and needs `git rebase --continue`, which an agent that only
 *   edits files cannot drive; a merge shows every conflict at once and is concluded by the one
 *   commit weft makes, keeping the task's history as it was.)
 * - **integrate**: checks that the task's declared `outputs` exist (missing ones go back to the
 *   task as feedback, unmerged), commits everything the task changed (author weft), refuses work
 *   that changed files outside its `writes` (see {@link writeScope}: back to the task, unmerged), merges its branch
 *   into the tip without a checkout (a merge commit made by `git merge-tree` and `commit-tree`; see
 *   {@link MergeQueue}), runs the `checks` on it in an integration worktree when there are any, and
 *   only then moves `weft/<run>` — so no task ever branches from a merge that a check later
 *   reverts. A conflict or a failed check returns feedback for the task's fix attempt; on success
 *   the worktree is parked for reuse and the task branch (now merged) deleted.
 * - **release** (an attempt ended without merging: failed, timed out, cancelled): its changes are
 *   committed, its worktree parked, and if it changed anything the branch is kept as
 *   `weft/<run>--<task>--attempt-<n>` for inspection. A retry starts fresh from the integration tip.
 *   An attempt cut off by a stop or a killed weft is put aside the same way (when the resume starts
 *   its task again, if the stop did not), and its branch is deleted once the task's work is merged
 *   (`cutOff`): it was redone from the start. A failed attempt's branch stays.
 *   A paused attempt (`retrying`: a preempted agent) keeps its worktree as it is for the next one.
 *
 * Repository-wide operations (worktree add/remove, branch create/rename/delete) are serialized by
 * a per-repository lock; commits in different worktrees run in parallel (each has its own index).
 * weft's own git commands run without hooks and as weft (see `git.ts`).
 *
 * @example
 * const workspace = await GitWorkspace.open({ runId, projectDir, baseDir, checks: [['npm', 'test']] });
 * try {
 *   await runPlan({ runId, plan, executors, baseDir, workspace });
 * } finally {
 *   await workspace.close(); // removes leftover worktrees; branches stay
 * }
 */
export class GitWorkspace implements Workspace {
  readonly runId: string;
  /** Top folder of the user's checkout. */
  readonly repoRoot: string;
  /** `weft/<run-id>`. */
  readonly integrationBranch: string;
  /** `weft/<run-id>` once a merge changed a file; undefined while it holds nothing (then `close` deletes it). */
  get resultBranch(): string | undefined {
    return this.changed ? this.integrationBranch : undefined;
  }
  /** The commit the run started from (the user's HEAD when the run was created). */
  readonly baseCommit: string;
  /** Things the user should know, e.g. uncommitted changes the tasks will not see. */
  readonly warnings: readonly string[];

  private readonly baseDir: string;
  private readonly runDir: string;
  private readonly integrationDir: string;
  private readonly lock: Serial;
  private readonly queue: MergeQueue;
  /** Whether the integration branch holds a change (a merge that changed files, or an earlier life's merges). */
  private changed: boolean;
  private readonly pool: WorktreePool;
  /**
   * Tasks whose next attempt goes on in the worktree as it is: one paused (preempted,
   * `release(…, 'retrying')`), or one a resume adopted from a dispatch worker that works in it.
   */
  private readonly paused = new Set<string>();
  /** Whether a task of this life of the run has worked in a worktree of its own (see `resultChanges`). */
  private worktreeUsed = false;
  /** A resume's tasks whose last attempt was cut off, until their work is merged (see `GitWorkspaceOptions.cutOff`). */
  private readonly cutOff: Map<string, readonly number[]>;
  private readonly placement: Placement;
  private readonly setup: WorktreeSetup | undefined;
  /** The worktrees and branches of isolated tasks. */
  private readonly tasks: TaskWorktrees;
  /** The worktrees of tasks that run on the merged result. */
  private readonly mergedResult: MergedResult;

  private constructor(
    private readonly repo: Repository,
    private readonly options: GitWorkspaceOptions,
    runDir: string,
    baseCommit: string,
    warnings: readonly string[],
    changed: boolean,
  ) {
    this.changed = changed;
    this.cutOff = new Map(options.cutOff);
    // An adopted attempt goes on where its worker is working: made afresh, the worktree's work so
    // far would be put aside, and what the worker wrote after that would never be merged.
    for (const id of options.adopted?.keys() ?? []) this.paused.add(id);
    this.runId = options.runId;
    this.repoRoot = repo.root;
    this.integrationBranch = integrationBranch(options.runId);
    this.baseCommit = baseCommit;
    this.warnings = warnings;
    const baseDir = resolve(options.baseDir ?? options.projectDir);
    this.baseDir = existsSync(baseDir) ? realpathSync(baseDir) : baseDir;
    this.runDir = runDir;
    this.integrationDir = join(runDir, INTEGRATION_DIR);
    this.lock = repositoryLock(repo.commonDir);
    this.pool = new WorktreePool(repo.root, join(dirname(runDir), POOL_DIR), options.runId);
    this.placement = new Placement(options.tasks ?? []);
    const spec = options.workspace ?? {};
    const worktreesDir = worktreesDirOf(options);
    const cacheDir = resolve(options.setupDir ?? join(dirname(worktreesDir), 'setup'));
    const wanted = spec.setup !== undefined || (spec.copy?.length ?? 0) > 0;
    const setupOptions = {
      root: repo.root,
      cacheDir,
      scratchDir: runDir,
      spec,
      lock: this.lock,
      ...(options.guardGroup === undefined ? {} : { guardGroup: options.guardGroup }),
      ...(options.redact === undefined ? {} : { redact: options.redact }),
    };
    this.setup = wanted ? new WorktreeSetup(setupOptions) : undefined;
    this.queue = new MergeQueue({
      runId: this.runId,
      root: repo.root,
      branch: this.integrationBranch,
      dir: this.integrationDir,
      lock: this.lock,
      ...(options.checks === undefined ? {} : { checks: options.checks }),
      ...(options.checkTimeoutMs === undefined ? {} : { checkTimeoutMs: options.checkTimeoutMs }),
      prepare: async (dir) => this.setup?.provision(dir),
    });
    this.mergedResult = new MergedResult({
      root: repo.root,
      lock: this.lock,
      pool: this.pool,
      tip: () => this.queue.tip(),
      provision: async (dir) => this.setup?.provision(dir),
    });
    this.tasks = new TaskWorktrees({
      root: repo.root,
      runId: this.runId,
      runDir,
      integrationBranch: this.integrationBranch,
      lock: this.lock,
      pool: this.pool,
      excluded: this.setup?.excluded ?? [],
      tip: () => this.queue.tip(),
    });
  }

  /**
   * Opens the workspace of a run on the repository that holds `projectDir`: creates the
   * integration branch from the current HEAD, or picks it up again when the run is resumed.
   * @throws WeftError `WEFT_USAGE` when the folder is not in a git repository or it has no commit, or an
   *   option is malformed (`checks`, `checkTimeoutMs`)
   */
  static async open(options: GitWorkspaceOptions): Promise<GitWorkspace> {
    checkGitWorkspaceOptions(options);
    const repo = await openRepository(options.projectDir);
    const { runDir, base, changed, warnings } = await openRunBranch(
      repo,
      options.runId,
      worktreesDirOf(options),
      options.succeeded,
    );
    const lock = repositoryLock(repo.commonDir);
    const workspace = new GitWorkspace(repo, options, runDir, base, warnings, changed);
    await lock.run(() => workspace.pool.adopt()); // worktrees parked before a crash
    return workspace;
  }

  /** What weft puts into worktrees itself (shared set-up folders, copies): never a task's work. */
  get excluded(): readonly string[] {
    return this.setup?.excluded ?? [];
  }

  /** The run's `workspace:` (set-up, copies), as written: sent to workers that make their own worktrees. */
  get workspaceSpec(): WorkspaceSpec | undefined {
    const spec = this.options.workspace;
    return spec === undefined || (spec.setup === undefined && (spec.copy?.length ?? 0) === 0) ? undefined : spec;
  }

  /** The worktree folder of a task (whether or not it exists right now). */
  worktreeOf(taskId: string): string {
    return this.tasks.dirOf(taskId);
  }

  /**
   * Where `task` runs: `worktree` (isolated), `merged` (not isolated, but after isolated tasks: a
   * worktree of the integration branch at the commit holding their work), or `in place` (the
   * user's checkout; also a task whose folder is outside the repository).
   */
  placeOf(task: ResolvedTask): 'in place' | 'worktree' | 'merged' {
    if (isIsolated(task)) return 'worktree';
    if (!this.placement.onMergedResult(task)) return 'in place';
    const rel = relative(this.repo.root, resolve(this.baseDir, task.cwd ?? '.'));
    return rel.startsWith('..') || isAbsolute(rel) ? 'in place' : 'merged';
  }

  async prepare(task: ResolvedTask, attempt: number, fix: boolean): Promise<string> {
    const place = this.placeOf(task);
    if (place === 'merged') {
      await this.mergedResult.open(task.id, this.worktreeOf(task.id));
      return this.cwdIn(this.worktreeOf(task.id), task);
    }
    if (place === 'in place') return resolve(this.baseDir, task.cwd ?? '.');
    this.worktreeUsed = true;
    const kept = this.tasks.dirOf(task.id);
    if (this.paused.delete(task.id) && (await isWorktree(this.repo.root, kept))) return this.cwdIn(kept, task);
    const reopened = fix ? await this.tasks.reopenForFix(task.id) : undefined;
    // A first attempt or a retry (or a fix whose branch is gone) starts from the tip.
    const dir = reopened ?? (await this.tasks.start(task.id, Math.max(1, attempt - 1)));
    await this.setup?.provision(dir);
    return this.cwdIn(dir, task);
  }

  /**
   * Runs the workspace's set-up (`workspace.setup`) for the commit tasks start from, unless an
   * earlier run ran it for the same key files: call before any task starts, so a failing set-up
   * fails the run before any work is done.
   * @param signal a stop (Ctrl-C): the set-up command is ended, and this throws
   * @throws WeftError `WEFT_SETUP_FAILED` when the set-up command fails or is stopped
   */
  async setUp(signal?: AbortSignal): Promise<void> {
    if (this.setup === undefined) return;
    await this.setup.ready(await this.queue.tip(), signal);
  }

  async integrate(task: ResolvedTask, attempt: number, _result: TaskResultData): Promise<Integration> {
    const place = this.placeOf(task);
    if (place === 'merged') {
      const dir = this.worktreeOf(task.id);
      return this.mergedResult.end(task.id, dir, this.cwdIn(dir, task), task.outputs ?? []);
    }
    if (place === 'in place') return { ok: true, where: 'in place' };
    const dir = this.worktreeOf(task.id);
    if (gitDirOf(dir) === undefined)
      throw new WeftError('WEFT_INTERNAL', `task "${task.id}" has no worktree at ${dir} to integrate`);
    // Work without the outputs the task promised is not merged: the task is told what is missing.
    const missing = missingOutputs(this.cwdIn(dir, task), task.outputs ?? []);
    if (missing.length > 0)
      return { ok: false, code: 'WEFT_OUTPUT_MISSING', ...missingOutputsVerdict(task.id, missing) };
    // Commit now, in parallel with other tasks' merges, but take the queue's place at once, so
    // merges happen in the order integrate was called.
    const merged = await this.queue.merge(
      task.id,
      taskBranch(this.runId, task.id),
      this.tasks.commitWork(task, attempt, dir),
      writeScope(task, this.repo.root, this.baseDir, this.integrationBranch),
    );
    if (merged.ok) await this.tasks.retire(task.id, (merged.files?.changed ?? 0) > 0);
    const cut = merged.ok ? this.cutOff.get(task.id) : undefined;
    if (cut !== undefined) {
      // Its work is merged: what the attempt a stop or a killed weft cut off left was redone, never to be merged.
      this.cutOff.delete(task.id);
      await this.tasks.dropShelved(task.id, cut);
    }
    if (merged.ok && (merged.files?.changed ?? 0) > 0) this.changed = true;
    return merged.ok ? { ...merged, where: 'worktree' } : merged;
  }

  async release(task: ResolvedTask, attempt: number, outcome: 'failed' | 'cancelled' | 'retrying'): Promise<void> {
    const place = this.placeOf(task);
    if (place === 'merged') return this.mergedResult.park(task.id, this.worktreeOf(task.id));
    if (place === 'in place') return;
    if (outcome === 'retrying') return void this.paused.add(task.id);
    await this.tasks.shelve(task.id, attempt);
  }

  /** A detached worktree of `weft/<run>` for a check (see {@link checkCheckout}), in the task's `cwd`. */
  async checkout(check: ResolvedTask, at: CheckAt): Promise<CheckCheckout> {
    const o = {
      root: this.repo.root,
      runId: this.runId,
      branch: this.integrationBranch,
      runDir: this.runDir,
      lock: this.lock,
      pool: this.pool,
    };
    const made = await checkCheckout(o, check.id, at);
    return { ...made, dir: this.cwdIn(made.dir, check) };
  }

  /** The integration branch against the run's base: what `weft apply` brings, each file once. */
  async resultChanges(): Promise<NonNullable<TaskResultData['files']> | undefined> {
    if (await branchExists(this.repo.root, this.integrationBranch))
      return diffStats(this.repo.root, this.baseCommit, this.integrationBranch);
    // Nothing merged: none, measured, when a task worked in a worktree; else every task ran in place, unseen.
    return this.worktreeUsed ? { changed: 0, added: 0, removed: 0 } : undefined;
  }

  /**
   * Ends the run's use of git: commits and parks every worktree still open (a task whose fixes
   * ran out keeps its branch `weft/<run>--<task>`), removes the integration worktree and the parked
   * ones beyond `keepWorktrees` (which stay, detached and clean, for the next run). Branches stay.
   */
  async close(ended?: { readonly succeeded: boolean }): Promise<void> {
    // A failed attempt's release is not awaited by the engine: it may still be putting its worktree aside.
    await this.tasks.settled();
    const open = await listWorktrees(this.repo.root);
    for (const path of open) {
      const rel = relative(this.runDir, path);
      if (rel === '' || rel.startsWith('..') || isAbsolute(rel) || rel.includes('/') || rel === INTEGRATION_DIR)
        continue;
      if (rel.startsWith('_check-')) {
        await this.lock.run(() => removeWorktree(this.repo.root, path)); // a check's, left by a crash
        continue;
      }
      await this.tasks.shelve(rel, undefined);
    }
    await this.queue.close();
    await this.lock.run(() => this.pool.trim(this.options.keepWorktrees ?? DEFAULT_KEEP_WORKTREES));
    // A run that merged nothing leaves no branch behind in the user's repository.
    if (
      (await branchExists(this.repo.root, this.integrationBranch)) &&
      (await commitOf(this.repo.root, this.integrationBranch)) === this.baseCommit
    ) {
      await this.lock.run(() => git(this.repo.root, ['branch', '-D', this.integrationBranch]));
    }
    if (ended?.succeeded === true) removeFinishedRunFolder(this.runDir);
  }

  /** The folder a task works in inside a worktree: its `cwd`, at the same place relative to the repository. */
  private cwdIn(worktree: string, task: ResolvedTask): string {
    const wanted = resolve(this.baseDir, task.cwd ?? '.');
    const rel = relative(this.repo.root, wanted);
    if (rel.startsWith('..') || isAbsolute(rel)) {
      throw new WeftError(
        'WEFT_USAGE',
        `task "${task.id}" works in ${wanted}, outside the repository ${this.repo.root}, so it cannot run in a worktree of it`,
        {
          hint: 'set its cwd to a folder inside the repository',
        },
      );
    }
    const dir = join(worktree, rel);
    mkdirSync(dir, { recursive: true });
    return dir;
  }
}
