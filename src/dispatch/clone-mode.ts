import type { TaskContext } from '../core/ports/executor.js';
import type { CloneSpec } from './job.js';

/**
 * The coordinator's side of clone mode (implemented over the run's git workspace, wired by the CLI):
 * a task that works in a worktree has its start pushed to the shared remote before its job goes
 * out, and the work its worker pushed back brought into that worktree, so it merges exactly as
 * if it had run here.
 */
export interface WorktreeSender {
  /**
   * Pushes where this attempt starts; the job's `clone`. `undefined` for a task that works in place.
   * @throws WeftError when the remote cannot be written to, or the worktree's state cannot be sent
   */
  send(ctx: TaskContext): Promise<CloneSpec | undefined>;
  /**
   * Brings the commit the worker pushed into the attempt's worktree.
   * @throws WeftError when it cannot be fetched
   */
  receive(ctx: TaskContext, spec: CloneSpec, commit: string): Promise<void>;
}

/** A worker's own worktree of an attempt, in its clone. */
export interface CloneWorktree {
  /** The folder the task works in (its `cwd` inside the worktree). */
  readonly workdir: string;
  /**
   * Commits what the task changed, pushes it to the spec's `result` and removes the worktree.
   * @returns the commit pushed
   */
  finish(): Promise<string>;
  /** Removes the worktree without pushing. */
  discard(): Promise<void>;
}

/** The worker's side of clone mode (`weft worker --clone <dir>`): its own clone, worktrees in it. */
export interface CloneWorktrees {
  /** The folder the clones and worktrees are kept in. */
  readonly dir: string;
  /**
   * Fetches the attempt's start and makes a worktree at it.
   * @throws WeftError when the remote cannot be reached
   */
  open(
    spec: CloneSpec,
    at: { readonly runId: string; readonly taskId: string; readonly attempt: number },
  ): Promise<CloneWorktree>;
}
