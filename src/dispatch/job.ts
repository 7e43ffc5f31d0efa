import type { ResolvedTask } from '../core/plan/graph.js';
import type { CloneAttempt } from '../core/ports/workspace.js';
import type { TaskResultData } from '../core/run/events.js';
import { attemptStem, type AbortCause, type TaskOutcome } from '../core/ports/executor.js';

/** Version of {@link AttemptJob}: a worker refuses a job whose shape it does not know. */
export const JOB_VERSION = 1;

/**
 * What a worker needs to run one attempt: the job's data. It holds the task as the plan resolved
 * it and its dependencies' results — never the coordinator's environment or secrets: a worker's
 * API keys are its own.
 */
export interface AttemptJob {
  readonly v: typeof JOB_VERSION;
  readonly runId: string;
  readonly task: ResolvedTask;
  readonly attempt: number;
  /** The coordinator's worker slot (0…M-1), as a local run would pass it. */
  readonly slot: number;
  /** Folder the plan's relative paths are resolved against, on the coordinator's machine. */
  readonly baseDir: string;
  /** Absolute folder the task works in; the worker checks it exists (and lies under its `--root`). */
  readonly workdir: string;
  readonly inputs: Readonly<Record<string, TaskResultData>>;
  readonly sessionId?: string;
  readonly feedback?: string;
  /** The iteration of the plan's loop, for a task the loop repeats (`WEFT_ITERATION`). */
  readonly iteration?: number;
  /** A check's run beyond its attempt's first: `again` or `alone-<task>` (see TaskContext.trial). */
  readonly trial?: string;
  /** When the coordinator made it ready to run (epoch ms), for dispatch latency. */
  readonly readyAt: number;
  /**
   * The trace context of the coordinator's attempt span (W3C `traceparent`, `tracestate`), so the
   * worker's span is its child and one trace covers the run; unset when the run is not traced.
   */
  readonly trace?: Readonly<Record<string, string>>;
  /**
   * Set when the task works in a git worktree and the run names a shared git remote: a worker with
   * its own clone (`--clone`) works at `base` there instead of in `workdir`, and pushes its work to `result`.
   */
  readonly clone?: CloneSpec;
}

/** Where a task's attempt starts and where its work goes, on the shared git remote (see {@link CloneAttempt}). */
export type CloneSpec = CloneAttempt;

/** A job's result: the attempt's outcome and, in clone mode, the commit the worker pushed to `clone.result`. */
export type JobResult = TaskOutcome & { readonly pushed?: string };

/** What a task needs from the worker that runs it. */
export interface Requirement {
  readonly executor: string;
  /** Sorted, without duplicates. */
  readonly labels: readonly string[];
}

/** The requirement of a task: its executor and its `labels`. */
export function requirementOf(task: Pick<ResolvedTask, 'executor' | 'labels'>): Requirement {
  return { executor: task.executor, labels: [...new Set(task.labels ?? [])].sort() };
}

/**
 * The queue a requirement's jobs go to: `shell`, `claude@gpu+big`. One queue per requirement, so
 * that any worker able to meet it — and only such a worker — takes its jobs, including workers that
 * start later. (Queue names cannot hold `:`; executor names and labels cannot either.)
 */
export function queueNameOf(r: Requirement): string {
  return r.labels.length === 0 ? r.executor : `${r.executor}@${r.labels.join('+')}`;
}

/**
 * A job's id: `run:task:attempt`. Adding a job whose id exists adds nothing, so a redelivered or
 * re-sent attempt never runs twice. BullMQ allows `:` in an id only as exactly two separators, so a
 * `:` in the run or task id is written `%3A` (and `%` as `%25`).
 */
export function jobIdOf(runId: string, taskId: string, attempt: number, trial?: string): string {
  const esc = (s: string): string => s.replaceAll('%', '%25').replaceAll(':', '%3A');
  // A check's blame trial is a job of its own: under the attempt's id it would add nothing and get the attempt's result.
  return `${esc(runId)}:${esc(taskId)}:${attemptStem(attempt, trial === undefined ? undefined : esc(trial))}`;
}

/** A message on the cancel channel: stop this job's attempt, for this reason. */
export interface CancelMessage {
  readonly jobId: string;
  readonly cause: AbortCause;
}

/** The Redis keys and channels of one queue prefix. */
export function keysOf(prefix: string): {
  readonly workers: string;
  readonly queues: string;
  readonly queuesChannel: string;
  readonly cancelChannel: string;
} {
  return {
    workers: `${prefix}:weft:workers`,
    queues: `${prefix}:weft:queues`,
    queuesChannel: `${prefix}:weft:queues:new`,
    cancelChannel: `${prefix}:weft:cancel`,
  };
}
