import { WeftError } from '../core/errors.js';
import type { Integration } from '../core/ports/workspace.js';
import { conflictFeedback, parseConflicts, type ConflictedFile } from './conflicts.js';
import { git, gitText, lines } from './git.js';
import { formatArgv, runChecks } from './merge-checks.js';
import { mergeTrees, type TreeMerge } from './merge-tree.js';
import { Serial } from './serial.js';
import { clearStaleDir, commitOf, diffStats, isWorktree, mergeInProgress, removeWorktree } from './worktrees.js';

export interface MergeQueueOptions {
  readonly runId: string;
  /** Top folder of the repository. */
  readonly root: string;
  /** The integration branch, e.g. `weft/<run>`. */
  readonly branch: string;
  /** Folder of the integration worktree, where `checks` run (created on the first merge that has checks). */
  readonly dir: string;
  /** The repository lock, for adding and removing the integration worktree. */
  readonly lock: Serial;
  /** Commands run after each merge; one that fails reverts it. @default [] */
  readonly checks?: readonly (readonly string[])[];
  /** @default 600000 */
  readonly checkTimeoutMs?: number;
  /** Makes the integration worktree ready before the checks run (the workspace's set-up and copies). */
  readonly prepare?: (dir: string) => Promise<void>;
}

/**
 * What a merge waits for before its turn: an answer instead of merging (an {@link Integration}),
 * the commit the task branch is at (so git need not be asked), or nothing.
 */
export type BeforeMerge = Integration | string | undefined;

/**
 * What a task may bring into the integration branch: given the paths its work changes (from the
 * repository's top folder, each once: a rename is its two paths), an answer when some may not be
 * merged (see `stray-writes.ts`), else `undefined`.
 */
export type MergeScope = (changed: readonly string[]) => Integration | undefined;

/** A merge's outcome in the queue; when it moved the branch, the files it changed are counted after. */
interface Merged {
  readonly result: Integration;
  readonly moved?: { readonly from: string; readonly to: string };
}

/**
 * Merges task branches into the integration branch one at a time, in the order they were
 * queued. Each merge is made in the object database (`git merge-tree --write-tree`, then
 * `commit-tree`), with no checkout, so it costs what the task changed whatever the size of the
 * repository; only when there are `checks` is the merge checked out, in an integration worktree
 * of its own kept between merges. The branch moves (compare-and-swap) only once the merge
 * succeeded and every check passed, so nobody ever starts from a merge that is later reverted —
 * and the user's checkout is never touched.
 */
export class MergeQueue {
  private readonly serial = new Serial();
  private ready = false;
  /**
   * The integration branch's commit and tree as this queue last moved it, so a merge or a task's
   * start need not ask git. Nothing else moves the branch while the run is open; if something
   * did, the next merge's compare-and-swap fails and the branch is read again.
   */
  private known: { readonly commit: string; readonly tree: string } | undefined;

  constructor(private readonly options: MergeQueueOptions) {}

  /** The integration branch's current commit. */
  async tip(): Promise<string> {
    return this.known?.commit ?? commitOf(this.options.root, `refs/heads/${this.options.branch}`);
  }

  /**
   * Takes a place in the queue now; when its turn comes, waits for `before` (e.g. the task's
   * commit, which may run meanwhile) and merges `taskBranch` unless `before` gave an answer, or
   * `scope` refused what the branch changes against where it meets the integration branch.
   */
  async merge(
    taskId: string,
    taskBranch: string,
    before: Promise<BeforeMerge>,
    scope?: MergeScope,
  ): Promise<Integration> {
    before.catch(() => undefined); // it is awaited in its turn; until then a rejection is not "unhandled"
    const done = await this.serial.run(async (): Promise<Merged> => {
      const answer = await before;
      if (answer === undefined || typeof answer === 'string')
        return this.mergeNow(taskId, taskBranch, answer, false, scope);
      return { result: answer };
    });
    if (done.moved === undefined || !done.result.ok) return done.result;
    // Counted once the queue has moved on: the next merge does not wait for it.
    return { ...done.result, files: await diffStats(this.options.root, done.moved.from, done.moved.to) };
  }

  /** Removes the integration worktree (the branch stays). */
  async close(): Promise<void> {
    await this.serial.run(() =>
      this.options.lock.run(async () => {
        await removeWorktree(this.options.root, this.options.dir);
        await git(this.options.root, ['worktree', 'prune']);
        this.ready = false;
      }),
    );
  }

  private async mergeNow(
    taskId: string,
    taskBranch: string,
    at: string | undefined,
    again = false,
    scope?: MergeScope,
  ): Promise<Merged> {
    const { root, runId, branch, checks = [] } = this.options;
    const known = this.known;
    const refs = at === undefined ? [`refs/heads/${taskBranch}^{commit}`] : [];
    if (known === undefined) refs.push(`refs/heads/${branch}^{commit}`, `refs/heads/${branch}^{tree}`);
    const asked = refs.length === 0 ? [] : lines(await gitText(root, ['rev-parse', ...refs]));
    if (at !== undefined) asked.unshift(at);
    const [theirs = '', before = known?.commit ?? '', beforeTree = known?.tree] = asked;
    if (scope !== undefined) {
      // What the merge would bring: the branch's changes since it last met the integration branch.
      const diff = ['diff', '--name-only', '-z', '--no-renames', `${before}...${theirs}`];
      const refused = scope((await git(root, diff)).stdout.split('\0').filter((path) => path !== ''));
      if (refused !== undefined) return { result: refused };
    }
    // In the object database: no checkout, so the cost follows the change, not the repository's size.
    const merged = await mergeTrees(root, before, theirs);
    if (!merged.clean) {
      if (merged.conflicts.length > 0) return { result: await this.conflict(taskId, before, theirs, merged) };
      const what = 'git merge-tree reported a conflict without naming a file';
      throw new WeftError('WEFT_INTERNAL', `could not merge task "${taskId}" into ${branch}: ${what}`);
    }
    if (merged.tree === beforeTree) {
      return { result: { ok: true, files: { changed: 0, added: 0, removed: 0 }, commit: before } }; // nothing new
    }
    const message = `weft: merge task ${taskId} (run ${runId})`;
    const after = await gitText(root, ['commit-tree', merged.tree, '-p', before, '-p', theirs, '-m', message]);
    if (checks.length > 0) {
      const failed = await this.check(taskId, before, after);
      if (failed !== undefined) return { result: failed };
    }
    const move = ['update-ref', '-m', `weft: merge task ${taskId}`, `refs/heads/${branch}`, after, before];
    const moved = await git(root, move, { okCodes: known === undefined || again ? [0] : [0, 128] });
    this.known = undefined;
    if (moved.exitCode !== 0) return this.mergeNow(taskId, taskBranch, theirs, true); // moved by someone else: read it again
    this.known = { commit: after, tree: merged.tree };
    return { result: { ok: true, commit: after }, moved: { from: before, to: after } };
  }

  /**
   * Runs the checks on the merge `after` in the integration worktree (kept between merges, so
   * moving it changes only what the merge changed); on a failure puts it back at `before`.
   */
  private async check(taskId: string, before: string, after: string): Promise<Integration | undefined> {
    const { runId, branch, checks = [] } = this.options;
    const dir = await this.worktree();
    try {
      await this.reset(dir, after);
      await this.options.prepare?.(dir);
      const timeout = this.options.checkTimeoutMs === undefined ? {} : { timeoutMs: this.options.checkTimeoutMs };
      const env = { WEFT_RUN_ID: runId, WEFT_TASK_ID: taskId };
      const failure = await runChecks(checks, { cwd: dir, ...timeout, env });
      if (failure === undefined) return undefined;
      await this.reset(dir, before);
      const command = formatArgv(failure.argv);
      const exited = `exited with code ${failure.exitCode}`;
      const how = failure.timedOut ? 'timed out' : failure.exitCode === undefined ? 'could not run' : exited;
      return {
        ok: false,
        code: 'WEFT_CHECK_FAILED',
        message: `check \`${command}\` ${how} after merging task "${taskId}"; the merge was reverted`,
        feedback: [
          `Your work on task "${taskId}" merged cleanly into ${branch}, but the check \`${command}\` ${how} on the merged result, so the merge was reverted.`,
          `Your fix attempt continues in the same worktree, with ${branch} merged in. Make the check pass; weft commits and merges the result.`,
          '',
          `Output of \`${command}\` (end):`,
          failure.outputTail === '' ? '(no output)' : failure.outputTail,
        ].join('\n'),
      };
    } catch (error) {
      await this.reset(dir, before).catch(() => undefined);
      throw error;
    }
  }

  /** A conflicted merge: the files with their hunks, read from the tree merge-tree wrote. */
  private async conflict(taskId: string, before: string, theirs: string, merged: TreeMerge): Promise<Integration> {
    const { root, branch } = this.options;
    const files: ConflictedFile[] = [];
    for (const { path, status } of merged.conflicts) {
      const blob = await git(root, ['cat-file', 'blob', `${merged.tree}:${path}`], { okCodes: [0, 128] });
      files.push({ path, status, hunks: blob.exitCode === 0 ? parseConflicts(blob.stdout) : [] });
    }
    const forkPoint = await gitText(root, ['merge-base', before, theirs]);
    const meanwhile = lines(
      await gitText(root, [
        'log',
        '--first-parent',
        '--format=%s',
        `${forkPoint}..${before}`,
        '--',
        ...files.map((f) => f.path),
      ]),
    ).slice(0, 10);
    return {
      ok: false,
      code: 'WEFT_MERGE_CONFLICT',
      message: `merging task "${taskId}" into ${branch} conflicts in ${files.map((f) => f.path).join(', ')}`,
      feedback: conflictFeedback({ taskId, integration: branch, files, mergedMeanwhile: meanwhile }),
    };
  }

  /** Puts the integration worktree at `commit`, clean (aborting a merge, dropping a reverted one). */
  private async reset(dir: string, commit: string): Promise<void> {
    if (await mergeInProgress(dir)) await git(dir, ['merge', '--abort'], { okCodes: [0, 128] });
    await git(dir, ['reset', '-q', '--hard', commit]);
    await git(dir, ['clean', '-fdq']); // ignored files (a check's node_modules) stay for the next check
  }

  private async worktree(): Promise<string> {
    const { root, dir, lock } = this.options;
    if (this.ready && (await isWorktree(root, dir))) return dir;
    await lock.run(async () => {
      if (await isWorktree(root, dir)) return;
      await clearStaleDir(root, dir);
      await git(root, ['worktree', 'add', '-q', '--detach', dir, await this.tip()]);
    });
    this.ready = true;
    return dir;
  }
}
