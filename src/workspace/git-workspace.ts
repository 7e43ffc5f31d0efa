import { existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { WeftError } from '../core/errors.js';
import { checkNumbers } from '../core/options.js';
import type { TaskPlace, TaskResultData } from '../core/run/events.js';
import type { ResolvedTask } from '../core/plan/graph.js';
import type { CheckAt, CheckCheckout, Integration, Workspace } from '../core/ports/workspace.js';
import { checkCheckout } from './check-checkouts.js';
import { assertRunId, attemptBranch, integrationBranch, taskBranch } from './branch-names.js';
import { conflictFeedback, parseConflicts, type ConflictedFile, type ConflictHunk } from './conflicts.js';
import { git, gitText, type GitIdentity } from './git.js';
import { isIsolated, Placement, type PlacedTask } from './isolation.js';
import { MergeQueue } from './merge-queue.js';
import { missingOutputs, missingOutputsVerdict } from './outputs.js';
import { WorktreePool } from './worktree-pool.js';
import { WorktreeSetup } from './worktree-setup.js';
import type { WorkspaceSpec } from '../core/plan/workspace-schema.js';
import { excludeFromCheckout, openRepository, type Repository } from './repository.js';
import { repositoryLock, type Serial } from './serial.js';
import {
  branchExists,
  changedPaths,
  clearStaleDir,
  commitAll,
  commitOf,
  isWorktree,
  listWorktrees,
  mergeInProgress,
  removeWorktree,
  unmergedFiles,
} from './worktrees.js';

export interface GitWorkspaceOptions {
  readonly runId: string;
  /** The user's project folder; anywhere inside the repository. */
  readonly projectDir: string;
  /** Folder a task's relative `cwd` resolves against (the plan file's folder). @default projectDir */
  readonly baseDir?: string;
  /** Where the run's worktrees go (`<worktreesDir>/<run-id>/<task-id>`). @default <projectDir>/.weft/worktrees */
  readonly worktreesDir?: string;
  /**
   * How many worktrees `close()` leaves parked in `<worktreesDir>/_pool` (detached, clean; git
   * lists them) for the next run to take up: a full checkout each, so that run writes only the
   * files that differ instead of whole checkouts, and this one deletes none. 0 leaves no worktree.
   * @default 4
   */
  readonly keepWorktrees?: number;
  /**
   * Commands (argv, no shell) run in the integration worktree after each merge, e.g.
   * `[['npm', 'test']]`. One that fails reverts the merge and goes back to the task to fix.
   * @default []
   */
  readonly checks?: readonly (readonly string[])[];
  /** How long one check may run. @default 600000 (10 minutes) */
  readonly checkTimeoutMs?: number;
  /** Author and committer of weft's commits and merges. @default weft <weft@localhost> */
  readonly identity?: GitIdentity;
  /**
   * The plan's tasks, to tell which run on the merged result (see {@link Placement}): a task that
   * is not isolated but waits on isolated ones. Tasks not listed are learnt when prepared.
   * @default []
   */
  readonly tasks?: readonly PlacedTask[];
  /**
   * How each worktree is made ready (see {@link WorktreeSetup}): a set-up run once per content of
   * its key files and shared, and files git does not track copied in. @default {}
   */
  readonly workspace?: WorkspaceSpec;
  /** Where finished set-ups are kept between runs. @default <worktreesDir>/../setup (.weft/setup) */
  readonly setupDir?: string;
}

const INTEGRATION_DIR = '_integration'; // task ids start with a letter or digit, so no task is called this
const POOL_DIR = '_pool'; // shared by the runs (run ids start with a letter or digit)
const DEFAULT_KEEP_WORKTREES = 4;

/**
 * Writes the files of a worktree added with `--no-checkout` — outside the repository lock, so
 * worktrees fill in parallel (`git worktree add` alone would write them all while holding it).
 */
function checkOut(dir: string): Promise<unknown> {
  return git(dir, ['reset', '-q', '--hard']);
}
const RUN_FILE = '_run.json';
/** Characters of a commit's name in `merged result @<sha>`, as `git log --oneline` shows it. */
const SHORT_SHA = 7;

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
 *   task as feedback, unmerged), commits everything the task changed (author weft), merges its branch
 *   into the tip without a checkout (a merge commit made by `git merge-tree` and `commit-tree`; see
 *   {@link MergeQueue}), runs the `checks` on it in an integration worktree when there are any, and
 *   only then moves `weft/<run>` — so no task ever branches from a merge that a check later
 *   reverts. A conflict or a failed check returns feedback for the task's fix attempt; on success
 *   the worktree is parked for reuse and the task branch (now merged) deleted.
 * - **release** (an attempt ended without merging: failed, timed out, cancelled): its changes are
 *   committed, its worktree parked, and if it changed anything the branch is kept as
 *   `weft/<run>--<task>--attempt-<n>` for inspection. A retry starts fresh from the integration tip.
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
  /** Files the last fix merge left conflicted, per task: checked for leftover markers on integrate. */
  private readonly conflicted = new Map<string, readonly string[]>();
  private readonly placement: Placement;
  private readonly setup: WorktreeSetup | undefined;
  /** What weft put into worktrees itself (shared folders, copies): never committed. */
  private readonly excluded: readonly string[];
  /** The integration commit each task running on the merged result was given. */
  private readonly mergedAt = new Map<string, string>();

  private constructor(
    private readonly repo: Repository,
    private readonly options: GitWorkspaceOptions,
    runDir: string,
    baseCommit: string,
    warnings: readonly string[],
    changed: boolean,
  ) {
    this.changed = changed;
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
    const worktreesDir = resolve(options.worktreesDir ?? join(options.projectDir, '.weft', 'worktrees'));
    const cacheDir = resolve(options.setupDir ?? join(dirname(worktreesDir), 'setup'));
    const wanted = spec.setup !== undefined || (spec.copy?.length ?? 0) > 0;
    const setupOptions = { root: repo.root, cacheDir, scratchDir: runDir, spec, lock: this.lock };
    this.setup = wanted ? new WorktreeSetup(setupOptions) : undefined;
    this.excluded = this.setup?.excluded ?? [];
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
  }

  /**
   * Opens the workspace of a run on the repository that holds `projectDir`: creates the
   * integration branch from the current HEAD, or picks it up again when the run is resumed.
   * @throws WeftError `WEFT_USAGE` when the folder is not in a git repository or it has no commit, or an
   *   option is malformed (`checks`, `checkTimeoutMs`)
   */
  static async open(options: GitWorkspaceOptions): Promise<GitWorkspace> {
    assertRunId(options.runId);
    checkNumbers('GitWorkspace', options, {
      checkTimeoutMs: 'a positive integer',
      keepWorktrees: 'a non-negative integer',
    });
    for (const check of options.checks ?? []) {
      if (!Array.isArray(check) || check.length === 0 || check.some((a) => typeof a !== 'string')) {
        throw new WeftError(
          'WEFT_USAGE',
          `Expected \`checks\` to be a list of argv lists like [["npm", "test"]], got ${JSON.stringify(check)}`,
        );
      }
    }
    const repo = await openRepository(options.projectDir);
    const worktreesDir = resolve(options.worktreesDir ?? join(options.projectDir, '.weft', 'worktrees'));
    mkdirSync(join(worktreesDir, options.runId), { recursive: true });
    const runDir = realpathSync(join(worktreesDir, options.runId));
    const branch = integrationBranch(options.runId);
    const runFile = join(runDir, RUN_FILE);
    const warnings: string[] = [];
    let base!: string;
    let changed = false;
    const lock = repositoryLock(repo.commonDir);
    await lock.run(async () => {
      await excludeFromCheckout(repo, realpathSync(worktreesDir));
      if (await branchExists(repo.root, branch)) {
        // A resumed run: keep what was merged so far.
        const recorded = existsSync(runFile)
          ? (JSON.parse(readFileSync(runFile, 'utf8')) as { base?: string }).base
          : undefined;
        base = recorded ?? (await gitText(repo.root, ['merge-base', 'HEAD', branch]));
        changed = (await commitOf(repo.root, branch)) !== base;
      } else {
        base = await commitOf(repo.root, 'HEAD');
        await git(repo.root, ['branch', '--no-track', branch, base]);
        const dirty = await changedPaths(repo.root, false);
        if (dirty.length > 0)
          warnings.push(
            `${dirty.length} uncommitted change(s) in ${repo.root} are not part of the run: isolated tasks start from the last commit (${base.slice(0, 10)})`,
          );
      }
      writeFileSync(runFile, `${JSON.stringify({ runId: options.runId, branch, base }, null, 2)}\n`);
    });
    const workspace = new GitWorkspace(repo, options, runDir, base, warnings, changed);
    await lock.run(() => workspace.pool.adopt()); // worktrees parked before a crash
    return workspace;
  }

  /** The worktree folder of a task (whether or not it exists right now). */
  worktreeOf(taskId: string): string {
    return join(this.runDir, taskId);
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
    if (place === 'merged') return this.prepareMerged(task);
    if (place === 'in place') return resolve(this.baseDir, task.cwd ?? '.');
    const dir = this.worktreeOf(task.id);
    const branch = taskBranch(this.runId, task.id);
    if (fix && (await this.reopen(dir, branch))) {
      await this.bringIntegrationIn(task, dir);
      await this.setup?.provision(dir);
      return this.cwdIn(dir, task);
    }
    // A first attempt or a retry: put aside whatever an earlier attempt left, start from the tip.
    await this.shelve(task.id, Math.max(1, attempt - 1));
    const reused = await this.lock.run(async () => {
      await clearStaleDir(this.repo.root, dir);
      const tip = await this.queue.tip();
      if (await this.pool.take(dir)) {
        await git(this.repo.root, ['branch', '--no-track', branch, tip]);
        return true;
      }
      await git(this.repo.root, ['worktree', 'add', '-q', '--no-checkout', '-b', branch, dir, tip]);
      return false;
    });
    await (reused ? this.pool.switchTo(dir, branch) : checkOut(dir));
    await this.setup?.provision(dir);
    return this.cwdIn(dir, task);
  }

  /**
   * Runs the workspace's set-up (`workspace.setup`) for the commit tasks start from, unless an
   * earlier run ran it for the same key files: call before any task starts, so a failing set-up
   * fails the run before any work is done.
   * @throws WeftError `WEFT_SETUP_FAILED` when the set-up command fails
   */
  async setUp(): Promise<void> {
    if (this.setup === undefined) return;
    await this.setup.ready(await this.queue.tip());
  }

  async integrate(task: ResolvedTask, attempt: number, _result: TaskResultData): Promise<Integration> {
    const place = this.placeOf(task);
    if (place === 'merged') return this.endMerged(task);
    if (place === 'in place') return { ok: true, where: 'in place' };
    const dir = this.worktreeOf(task.id);
    if (!(await isWorktree(this.repo.root, dir)))
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
      this.commitWork(task, attempt, dir),
    );
    if (merged.ok) await this.retire(task.id);
    if (merged.ok && (merged.files?.changed ?? 0) > 0) this.changed = true;
    return merged.ok ? { ...merged, where: 'worktree' } : merged;
  }

  async release(task: ResolvedTask, attempt: number, _outcome: 'failed' | 'cancelled' | 'retrying'): Promise<void> {
    const place = this.placeOf(task);
    if (place === 'merged') return this.parkMerged(task.id);
    if (place === 'in place') return;
    await this.shelve(task.id, attempt);
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

  /**
   * Ends the run's use of git: commits and parks every worktree still open (a task whose fixes
   * ran out keeps its branch `weft/<run>--<task>`), removes the integration worktree and the parked
   * ones beyond `keepWorktrees` (which stay, detached and clean, for the next run). Branches stay.
   */
  async close(): Promise<void> {
    const open = await listWorktrees(this.repo.root);
    for (const path of open) {
      const rel = relative(this.runDir, path);
      if (rel === '' || rel.startsWith('..') || isAbsolute(rel) || rel.includes('/') || rel === INTEGRATION_DIR)
        continue;
      if (rel.startsWith('_check-')) {
        await this.lock.run(() => removeWorktree(this.repo.root, path)); // a check's, left by a crash
        continue;
      }
      await this.shelve(rel, undefined);
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
  }

  // ── prepare ───────────────────────────────────────────────────────────────────────────────────

  /**
   * A worktree of the integration branch, detached at its tip — which holds the work of every
   * isolated task this one waits on, since a task starts only after its dependencies merged. It is
   * read-mostly: what the task writes there is not merged (a task that writes declares `writes`).
   */
  private async prepareMerged(task: ResolvedTask): Promise<string> {
    const dir = this.worktreeOf(task.id);
    const { tip, reused } = await this.lock.run(async () => {
      if (await isWorktree(this.repo.root, dir)) await this.pool.park(dir); // an earlier attempt's
      await clearStaleDir(this.repo.root, dir);
      const at = await this.queue.tip();
      if (await this.pool.take(dir)) return { tip: at, reused: true };
      await git(this.repo.root, ['worktree', 'add', '-q', '--no-checkout', '--detach', dir, at]);
      return { tip: at, reused: false };
    });
    await (reused ? this.pool.switchTo(dir, tip) : checkOut(dir));
    await this.setup?.provision(dir);
    this.mergedAt.set(task.id, tip);
    return this.cwdIn(dir, task);
  }

  /** A task on the merged result succeeded: its declared outputs are checked there, then the worktree is parked. */
  private async endMerged(task: ResolvedTask): Promise<Integration> {
    const missing = missingOutputs(this.cwdIn(this.worktreeOf(task.id), task), task.outputs ?? []);
    if (missing.length > 0) {
      return { ok: false, code: 'WEFT_OUTPUT_MISSING', ...missingOutputsVerdict(task.id, missing) };
    }
    const tip = this.mergedAt.get(task.id) ?? (await this.queue.tip());
    await this.parkMerged(task.id);
    const where: TaskPlace = `merged result @${tip.slice(0, SHORT_SHA)}`;
    return { ok: true, where };
  }

  private async parkMerged(taskId: string): Promise<void> {
    this.mergedAt.delete(taskId);
    const dir = this.worktreeOf(taskId);
    await this.lock.run(() => this.pool.park(dir));
  }

  /** Makes sure the task's worktree is there for a fix; false when its branch is gone too. */
  private async reopen(dir: string, branch: string): Promise<boolean> {
    if (await isWorktree(this.repo.root, dir)) return true;
    if (!(await branchExists(this.repo.root, branch))) return false;
    const reused = await this.lock.run(async () => {
      await clearStaleDir(this.repo.root, dir);
      if (await this.pool.take(dir)) return true;
      await git(this.repo.root, ['worktree', 'add', '-q', '--no-checkout', dir, branch]);
      return false;
    });
    await (reused ? this.pool.switchTo(dir, branch) : checkOut(dir));
    return true;
  }

  /** Merges the integration tip into a task's worktree, leaving any conflicts marked in the files. */
  private async bringIntegrationIn(task: ResolvedTask, dir: string): Promise<void> {
    if (await mergeInProgress(dir)) return; // the last fix left conflicts unresolved: carry on from there
    await commitAll(dir, `weft: uncommitted work of task ${task.id} before its fix (run ${this.runId})`, this.excluded);
    const r = await git(
      dir,
      [
        'merge',
        '--no-ff',
        '--no-edit',
        '-m',
        `weft: bring ${this.integrationBranch} into task ${task.id} to fix it (run ${this.runId})`,
        this.integrationBranch,
      ],
      { okCodes: [0, 1] },
    );
    if (r.exitCode === 0) return;
    const files = await unmergedFiles(dir);
    if (files.length === 0)
      throw new WeftError(
        'WEFT_INTERNAL',
        `could not merge ${this.integrationBranch} into the worktree of task "${task.id}": ${(r.stderr || r.stdout).trim()}`,
      );
    this.conflicted.set(
      task.id,
      files.map((f) => f.path),
    );
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

  // ── integrate ─────────────────────────────────────────────────────────────────────────────────

  /** Commits the task's work; returns feedback instead when a fix left conflict markers. */
  private async commitWork(task: ResolvedTask, attempt: number, dir: string): Promise<Integration | undefined> {
    if (await mergeInProgress(dir)) {
      const suspects = new Set([
        ...(this.conflicted.get(task.id) ?? []),
        ...(await unmergedFiles(dir)).map((f) => f.path),
      ]);
      const left: ConflictedFile[] = [];
      for (const path of suspects) {
        const file = join(dir, path);
        if (!existsSync(file)) continue;
        // In the task's worktree "ours" is the task; swap so the feedback reads like a merge conflict.
        const hunks = parseConflicts(readFileSync(file, 'utf8')).map((h): ConflictHunk => ({
          ...h,
          ours: h.theirs,
          theirs: h.ours,
        }));
        if (hunks.length > 0) left.push({ path, status: 'UU', hunks });
      }
      if (left.length > 0) {
        const names = left.map((f) => f.path).join(', ');
        return {
          ok: false,
          code: 'WEFT_MERGE_CONFLICT',
          message: `task "${task.id}" left conflict markers in ${names}`,
          feedback: conflictFeedback({
            taskId: task.id,
            integration: this.integrationBranch,
            files: left,
            mergedMeanwhile: [],
            lead: `Your fix of task "${task.id}" still has unresolved conflict markers, so it was not merged into ${this.integrationBranch}.`,
          }),
        };
      }
    }
    await commitAll(dir, `weft: task ${task.id} (run ${this.runId}, attempt ${attempt})`, this.excluded);
    this.conflicted.delete(task.id);
    return undefined;
  }

  /** After a merge: the worktree goes, and so does the branch (its work is in the integration branch). */
  private async retire(taskId: string): Promise<void> {
    const dir = this.worktreeOf(taskId);
    const branch = taskBranch(this.runId, taskId);
    this.conflicted.delete(taskId);
    await this.lock.run(async () => {
      await this.pool.park(dir);
      if ((await branchExists(this.repo.root, branch)) && (await this.merged(branch)))
        await git(this.repo.root, ['branch', '-q', '-D', branch]);
    });
  }

  // ── release ───────────────────────────────────────────────────────────────────────────────────

  /**
   * Puts aside an attempt that will not be merged: commits what it changed, removes its worktree,
   * and keeps its branch only if it holds anything not merged — renamed to `…--attempt-<n>` when
   * `attempt` is given, so the next attempt can start fresh on the task branch.
   */
  private async shelve(taskId: string, attempt: number | undefined): Promise<void> {
    const dir = this.worktreeOf(taskId);
    const branch = taskBranch(this.runId, taskId);
    this.conflicted.delete(taskId);
    const open = await isWorktree(this.repo.root, dir);
    const message = `weft: work of task ${taskId}, attempt ${attempt ?? '?'}, which did not merge (run ${this.runId})`;
    if (open) await commitAll(dir, message, this.excluded);
    else if (!existsSync(dir) && !(await branchExists(this.repo.root, branch))) return; // nothing to put aside
    await this.lock.run(async () => {
      await (open ? this.pool.park(dir) : removeWorktree(this.repo.root, dir));
      if (!(await branchExists(this.repo.root, branch))) return;
      if (await this.merged(branch)) {
        await git(this.repo.root, ['branch', '-q', '-D', branch]); // nothing on it that is not merged
        return;
      }
      if (attempt === undefined) return;
      let keep = attemptBranch(this.runId, taskId, attempt);
      for (let k = 2; await branchExists(this.repo.root, keep); k++)
        keep = `${attemptBranch(this.runId, taskId, attempt)}.${k}`;
      await git(this.repo.root, ['branch', '-q', '-m', branch, keep]);
    });
  }

  // ── small helpers ─────────────────────────────────────────────────────────────────────────────

  /** Whether every commit of `branch` is in the integration branch. */
  private async merged(branch: string): Promise<boolean> {
    const ahead = await gitText(this.repo.root, [
      'rev-list',
      '--count',
      `refs/heads/${this.integrationBranch}..refs/heads/${branch}`,
    ]);
    return ahead === '0';
  }
}
