import type { WeftErrorCode } from '../errors.js';
import type { TaskPlace, TaskResultData } from '../run/events.js';
import type { ResolvedTask } from '../plan/graph.js';

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
 * Where tasks do their work and how their results come together. The git adapter gives each
 * isolated task its own worktree and merges finished work into the run's integration branch.
 */
export interface Workspace {
  /**
   * Where the run's combined work ends up (a git branch), for the summary to name; `undefined`
   * while no task has changed a file (there is nothing to bring in, and the branch goes at `close`).
   */
  readonly resultBranch?: string | undefined;
  /** The directory this attempt works in (created if needed). `fix` is set for a routed-back fix. */
  prepare(task: ResolvedTask, attempt: number, fix: boolean): Promise<string>;
  /** Folds a successful attempt into the shared result; merges happen one at a time, in order. */
  integrate(task: ResolvedTask, attempt: number, result: TaskResultData): Promise<Integration>;
  /** The attempt ended without integrating (failure, cancel): keep or clean up its work. */
  release(task: ResolvedTask, attempt: number, outcome: 'failed' | 'cancelled' | 'retrying'): Promise<void>;
  /** The run is over: tidy up what is left (worktrees of unfinished tasks; branches with work stay). */
  close?(): Promise<void>;
}
