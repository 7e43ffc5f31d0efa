import type { WeftErrorCode } from '../errors.js';
import type { TaskPlace, TaskResultData } from '../run/events.js';
import type { ResolvedTask } from '../plan/graph.js';
import type { WorkspaceSpec } from '../plan/workspace-schema.js';

/** What integrating a finished attempt gave: merged, or feedback for the task to fix. */
export type Integration =
  | {
      readonly ok: true;
      readonly files?: TaskResultData['files'];
      readonly commit?: string;
      /** Where the task ran, for the summary. */
      readonly where?: TaskPlace;
    }
  | { readonly ok: false; readonly code: WeftErrorCode; readonly message: string; readonly feedback: string };

/**
 * Which tree a check (a task with `verifies`) runs on: the integration tip, which holds every task
 * it verifies; or, to find which of them broke it, the tree before any of them was merged plus
 * only `task`'s merges.
 */
export type CheckAt =
  { readonly kind: 'tip' } | { readonly kind: 'alone'; readonly task: string; readonly among: readonly string[] };

/** A detached checkout of the run's integration branch for a check; never the user's checkout. */
export interface CheckCheckout {
  /** The folder the check runs in. */
  readonly dir: string;
  /** The git tree it holds: a check's verdict is the same on the same tree. */
  readonly tree: string;
  /** Where the check ran, for its result: the integration branch's tip (`merged result @<sha>`); none for a blame checkout. */
  readonly where?: TaskPlace;
  /** Removes the checkout. */
  release(): Promise<void>;
}

/**
 * Where tasks do their work and how their results come together. The git adapter gives each
 * isolated task its own worktree and merges finished work into the run's integration branch.
 */
export interface Workspace {
  /**
   * Where the run's combined work ends up (a git branch), for the summary to name; `undefined`
   * while no task has changed a file (there is nothing to bring in, and the branch goes at `close`).
   */
  readonly resultBranch?: string | undefined;
  /**
   * What the combined result changes against where the run started (`git diff --numstat` of the
   * integration branch), for the summary: a file several tasks changed counts once. `undefined`
   * when it cannot be told: no task worked where weft sees its changes (all ran in place).
   */
  resultChanges?(): Promise<NonNullable<TaskResultData['files']> | undefined>;
  /** The directory this attempt works in (created if needed). `fix` is set for a routed-back fix. */
  prepare(task: ResolvedTask, attempt: number, fix: boolean): Promise<string>;
  /** Folds a successful attempt into the shared result; merges happen one at a time, in order. */
  integrate(task: ResolvedTask, attempt: number, result: TaskResultData): Promise<Integration>;
  /**
   * The attempt ended without integrating (failure, cancel): keep or clean up its work. `retrying`:
   * it was paused (preempted) and the task's next attempt continues in the same folder, as it is.
   */
  release(task: ResolvedTask, attempt: number, outcome: 'failed' | 'cancelled' | 'retrying'): Promise<void>;
  /**
   * A checkout where a check runs (see {@link CheckAt}). Absent where there is no integration
   * branch (no git): checks then run where the task would.
   */
  checkout?(check: ResolvedTask, at: CheckAt): Promise<CheckCheckout>;
  /**
   * The run is over: tidy up what is left (worktrees of unfinished tasks; branches with work stay).
   * `succeeded`: nothing will resume it, so what only a resume reads can go too.
   */
  close?(ended?: { readonly succeeded: boolean }): Promise<void>;
}

/**
 * An attempt run by a worker in its own clone (`weft worker --clone`): where it starts and where its
 * work goes, on the git remote the coordinator and the workers share — refs
 * `refs/weft/<run>/<task>/<attempt>/base` and `…/result`. The coordinator's workspace makes it, the
 * dispatcher carries it in the job, the worker's clone runs it.
 */
export interface CloneAttempt {
  /** The remote, without a password (a worker reaches it with its own git credentials). */
  readonly remote: string;
  /** The ref the attempt starts from (its worktree's state on the coordinator, committed). */
  readonly base: string;
  /** The ref the worker pushes the attempt's work to. */
  readonly result: string;
  /** The task's folder inside the repository (`''` for its top folder). */
  readonly cwd: string;
  /** What the worker's commit of the work says (as a local attempt's). */
  readonly message: string;
  /**
   * The run's `workspace:` (set-up command, names of files to copy), for the worker to make its own
   * worktree ready the same way. Names only: a copied file's content (`.env`) never goes into a job.
   */
  readonly workspace?: WorkspaceSpec;
}
