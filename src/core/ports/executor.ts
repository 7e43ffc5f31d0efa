import type { Redactor } from '../redact.js';
import type { TaskFailure } from '../errors.js';
import type { ProgressEvent, TaskResultData } from '../run/events.js';
import type { ResolvedTask } from '../plan/graph.js';
import type { ExecutorInfo } from '../plan/compile.js';

/** Everything an executor gets for one attempt of one task. */
export interface TaskContext {
  /** The run this attempt belongs to. */
  readonly runId: string;
  /** The task, with the plan's defaults applied. */
  readonly task: ResolvedTask;
  /** 1 for the first attempt, then 2, 3, … (retries and fixes). */
  readonly attempt: number;
  /** Which of the M workers runs it, from 0. */
  readonly worker: number;
  /** Aborted on timeout, cancellation or Ctrl-C; `signal.reason` says which. */
  readonly signal: AbortSignal;
  /** Folder of this run (`.weft/runs/<id>`); `undefined` for in-memory runs. */
  readonly runDir: string | undefined;
  /** Folder the plan's relative paths (cwd, inputs) are resolved against. */
  readonly baseDir: string;
  /** Directory the task works in: its worktree for isolated tasks, else cwd resolved against baseDir. */
  readonly workdir: string;
  /** Results of the tasks this one needs, by id. */
  readonly inputs: Readonly<Record<string, TaskResultData>>;
  /** A previous session to continue (a retry or a routed-back fix). */
  readonly sessionId?: string;
  /** Extra text for the prompt of a routed-back fix (merge conflict, failed check), or a loop's feedback. */
  readonly feedback?: string;
  /** Which iteration of the plan's `loop:` this is (1, 2, …), for a task the loop repeats (scripts: `WEFT_ITERATION`). */
  readonly iteration?: number;
  /**
   * Set when this run of a check is not the attempt's first: `again` for the run that confirms a
   * failure on the same tree, `alone-<task>` for a blame trial (the task whose merges alone, on the
   * tree before the tasks it verifies, it checks). Its logs and its dispatch job are its own, so the
   * attempt's (the failure being confirmed or blamed) are kept.
   */
  readonly trial?: string;
  /** The run's secrets: an executor masks them in the log files it leaves (see process/scrub-file.ts). Absent when there are none. */
  readonly redact?: Redactor;
  /** Reports progress; shown live. */
  emit(event: ProgressEvent): void;
}

/** How an attempt ended: a result, or a failure (with what it produced so far, when it matters). */
export type TaskOutcome = (
  | { readonly ok: true; readonly result: TaskResultData }
  | { readonly ok: false; readonly failure: TaskFailure; readonly result?: TaskResultData }
) & {
  /**
   * When the task's process really started (epoch ms), where the executor knows it: with more
   * workers than cores a task may wait to be forked long after `task.started`, and that wait is
   * not the task's time. Durations and utilisation count from here.
   */
  readonly startedAt?: number;
  /** When that process ended (epoch ms), likewise: a busy coordinator may learn it much later. */
  readonly endedAt?: number;
};

/** Why a task's signal was aborted. */
export type AbortCause =
  | { readonly kind: 'timeout'; readonly ms: number }
  | { readonly kind: 'cancelled'; readonly reason: string }
  | { readonly kind: 'budget'; readonly reason: string }
  /** No progress for `ms` (the task's `stallAfter`): the watchdog stopped it. */
  | { readonly kind: 'stalled'; readonly ms: number }
  /** A task of a higher class (`by`) needed its worker: stopped, to run again later. */
  | { readonly kind: 'preempted'; readonly by: string };

/** Runs one attempt of a task. Expected failures are returned, not thrown. */
export interface Executor {
  /** What tasks write in `executor:` (`shell`, `claude`, …). */
  readonly name: string;
  /** Goes into the cache key: a new version of the executor invalidates cached results. */
  readonly version: string;
  /** What validation needs to know: `run` or `prompt`, its provider pool, extra checks. */
  readonly info: ExecutorInfo;
  /** Runs one attempt; a failure the task can have is returned, not thrown. */
  run(ctx: TaskContext): Promise<TaskOutcome>;
  /**
   * Called once when a run that used this executor ends (also after Ctrl-C or a failure), to let
   * go of what it keeps between tasks: processes, per-run state a finished run no longer needs.
   * It may run another task afterwards.
   */
  endRun?(end: RunEnd): Promise<void>;
  /**
   * Why none of this executor's tasks could run on this machine — an API key not set, a CLI not
   * installed — checked before a run starts, so it is refused at once rather than failing hours in.
   * `undefined` when they can (as far as can be known without running one).
   */
  checkSetup?(): Promise<string | undefined>;
  /**
   * The model an attempt of `task` asks for: the task's `model`, else the one this executor is set
   * up with (weft.config.yaml, or its own default); `undefined` when it leaves the choice to its
   * CLI. For traces (`gen_ai.request.model`).
   */
  modelFor?(task: Pick<ResolvedTask, 'model'>): string | undefined;
}

/**
 * What keeps the given tasks from running here: one line per executor they use whose
 * {@link Executor.checkSetup} found a problem, naming the tasks.
 */
export async function checkSetup(
  executors: ReadonlyMap<string, Executor>,
  tasks: readonly { readonly id: string; readonly executor: string }[],
): Promise<string[]> {
  const byExecutor = new Map<string, string[]>();
  for (const t of tasks) {
    const ids = byExecutor.get(t.executor);
    if (ids === undefined) byExecutor.set(t.executor, [t.id]);
    else ids.push(t.id);
  }
  const found = await Promise.all(
    [...byExecutor].map(async ([name, ids]) => {
      const problem = await executors.get(name)?.checkSetup?.();
      const named = ids.length <= 3 ? ids.join(', ') : `${ids.slice(0, 3).join(', ')} and ${ids.length - 3} more`;
      return problem === undefined ? [] : [`${name} (task${ids.length === 1 ? '' : 's'} ${named}): ${problem}`];
    }),
  );
  return found.flat();
}

/** How a run ended, for {@link Executor.endRun}. */
export interface RunEnd {
  /** The run that ended. */
  readonly runId: string;
  /** Every task succeeded: nothing will be resumed or retried. */
  readonly succeeded: boolean;
}

/** Calls every executor's {@link Executor.endRun}; one that fails does not stop the others. */
export async function endRun(executors: ReadonlyMap<string, Executor>, end: RunEnd): Promise<void> {
  await Promise.allSettled([...executors.values()].map((e) => e.endRun?.(end)));
}

/**
 * An attempt's name in its files and its dispatch job: `2`, `2.again` for the run of a check that
 * confirms its failure, or `2.alone-backend` for its blame trial of `backend` ({@link TaskContext.trial}),
 * so a trial's never overwrite the attempt's.
 */
export function attemptStem(attempt: number, trial?: string): string {
  return trial === undefined ? String(attempt) : `${attempt}.${trial}`;
}
