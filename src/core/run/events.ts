import type { TaskFailure } from '../errors.js';
import type { SkipCause } from '../schedule/scheduler.js';

/** Tokens and money one attempt used. */
export interface Usage {
  readonly inputTokens?: number;
  readonly outputTokens?: number;
  readonly cacheReadTokens?: number;
  readonly cacheWriteTokens?: number;
  readonly costUsd?: number;
  readonly model?: string;
}

/** What a successful attempt produced, as stored in the journal. */
export interface TaskResultData {
  readonly exitCode?: number | null;
  readonly signal?: string | null;
  /** Structured output (e.g. an agent's JSON), or the parsed stdout of a function. */
  readonly output?: unknown;
  /** Final text of an agent or LLM. */
  readonly text?: string;
  readonly usage?: Usage;
  readonly sessionId?: string;
  readonly cacheKey?: string;
  readonly cached?: boolean;
  readonly files?: { readonly changed: number; readonly added: number; readonly removed: number };
  /** The contracts a provider's output was verified against (see `contract-check.ts`). */
  readonly contracts?: readonly string[];
  /** The number under the task's `score:` key of its output, when it has one. */
  readonly score?: number;
  /** Where the task ran (see {@link TaskPlace}); set when the run had a workspace. */
  readonly where?: TaskPlace;
  /**
   * Set on a check (a task with `verifies`) that failed, then passed when run again on the same
   * tree: how its failed run ended (`exited with code 1 after 0.2s: <last line it wrote>`). No task
   * was told; the check counts as passed.
   */
  readonly flaky?: string;
}

/**
 * Where a task ran: the user's checkout (`in place`), its own worktree whose work was merged
 * (`worktree`), or a worktree of the integration branch at the commit holding its dependencies'
 * work (`merged result @<short sha>`).
 */
export type TaskPlace = 'in place' | 'worktree' | `merged result @${string}`;

/** `parallel`: up to M tasks at once; `sequential`: one at a time, in declaration order. */
export type RunMode = 'parallel' | 'sequential';
/** Where a run stands; `interrupted` is a run whose coordinator died (see `weft resume`). */
/** `blocked`: nothing failed, but a gate blocked or a person rejected a task (see `gate:` and `approval:`). */
export type RunStatus = 'running' | 'succeeded' | 'failed' | 'cancelled' | 'interrupted' | 'blocked';

interface Base {
  /** Milliseconds since the epoch (or virtual ms in a simulation). */
  readonly at: number;
}

/** On an attempt's end: when its process really started and ended, where the executor knows (see TaskOutcome.startedAt). */
interface Ran {
  readonly processStartedAt?: number;
  readonly processEndedAt?: number;
}

/**
 * Every state change of a run. The journal stores them in order; run state is a fold over them
 * (see `foldRun`), so a crashed run can be replayed and resumed.
 */
export type RunEvent =
  | (Base & {
      readonly type: 'run.created';
      readonly runId: string;
      readonly plan: string;
      readonly workers: number;
      readonly mode: RunMode;
      readonly tasks: readonly string[];
      readonly options?: Readonly<Record<string, unknown>>;
    })
  | (Base & { readonly type: 'run.resumed'; readonly by: string })
  | (Base & { readonly type: 'task.ready'; readonly task: string })
  | (Base & {
      readonly type: 'task.started';
      readonly task: string;
      readonly attempt: number;
      readonly worker: number;
      /** Sent to a queue remote workers take from (`--dispatch`): it runs once one takes it. */
      readonly queued?: true;
    })
  | (Base & {
      readonly type: 'task.output';
      readonly task: string;
      readonly attempt: number;
      readonly usage?: Usage;
      readonly sessionId?: string;
      readonly text?: string;
    })
  | (Base &
      Ran & {
        readonly type: 'task.succeeded';
        readonly task: string;
        readonly attempt: number;
        readonly result: TaskResultData;
      })
  | (Base &
      Ran & {
        readonly type: 'task.retrying';
        readonly task: string;
        readonly attempt: number;
        readonly error: TaskFailure;
        readonly retryAt: number;
        /**
         * Sent back to the task to fix (a merge conflict, a failed check, missing outputs, files
         * outside its writes…), not retried: the next attempt is fix `n` of the `of` it may have.
         */
        readonly fix?: { readonly n: number; readonly of: number };
        /**
         * A check whose failure was sent to these tasks to fix: its next attempt runs once their
         * fixes are merged. Waiting for them, not a retry of the check.
         */
        readonly waitsFor?: readonly string[];
      })
  | (Base &
      Ran & {
        readonly type: 'task.failed';
        readonly task: string;
        readonly attempt: number;
        readonly error: TaskFailure;
      })
  | (Base & {
      readonly type: 'task.skipped';
      readonly task: string;
      readonly reason: string;
      readonly cause: SkipCause;
    })
  | (Base & {
      readonly type: 'task.cancelled';
      readonly task: string;
      readonly reason: string;
      readonly attempt?: number;
    })
  /** The watchdog found the attempt silent for `silentMs` (its `stallAfter`): it is being stopped. */
  | (Base & {
      readonly type: 'task.stalled';
      readonly task: string;
      readonly attempt: number;
      readonly silentMs: number;
    })
  /** The attempt is being stopped so that task `by` (of class `byClass`) gets its worker; it runs again later. */
  | (Base & {
      readonly type: 'task.preempted';
      readonly task: string;
      readonly attempt: number;
      readonly by: string;
      readonly byClass: string;
    })
  | (Base & {
      /** A gate's condition was false, or a person rejected the task: it ends blocked, its dependents are skipped. */
      readonly type: 'task.blocked';
      readonly task: string;
      /** The gate's attempt; none for a task rejected before it started. */
      readonly attempt?: number;
      /** Why, in one line: the failing parts joined with "; ", or the rejection's reason. */
      readonly reason: string;
      /** The failing parts of the gate's condition with their values, e.g. `tasks.ui.output.score = 4 < 6`. */
      readonly parts?: readonly string[];
    })
  | (Base & {
      /** A task with `approval: required` is ready and waits for a person; `at` is since when. */
      readonly type: 'approval.waiting';
      readonly task: string;
    })
  | (Base & {
      /** A person decided (`weft approve` / `weft reject`); written by that command into the run's journal. */
      readonly type: 'approval.decided';
      readonly task: string;
      readonly decision: 'approved' | 'rejected';
      readonly reason?: string;
      /** Who decided (user@host), when known. */
      readonly by?: string;
    })
  | (Base & {
      /**
       * An iteration of the plan's `loop:` began. From the second on, `tasks` (the loop's `repeat`)
       * start again: their records go back to pending, their last results kept as the loop's `previous`.
       */
      readonly type: 'loop.iteration.started';
      readonly iteration: number;
      readonly tasks?: readonly string[];
    })
  | (Base & {
      /**
       * An iteration ended once every repeated task had: `passed` (`until` holds; what depends on the
       * loop runs), `repeat` (another iteration follows), `exhausted` (that was the `max`-th: the run
       * ends blocked), `budget` (the run's budget ran out), `failed` (a repeated task failed).
       */
      readonly type: 'loop.iteration.ended';
      readonly iteration: number;
      readonly outcome: LoopOutcome;
      /** Why it did not pass: each blocked or failed task with its reason, else `until`'s failing parts. */
      readonly reasons: readonly string[];
      readonly durationMs: number;
      /** What its attempts cost, when any reported a cost. */
      readonly costUsd?: number;
    })
  | (Base & { readonly type: 'plan.expanded'; readonly by: string; readonly tasks: readonly unknown[] })
  | (Base & {
      readonly type: 'run.finished';
      readonly status: Exclude<RunStatus, 'running'>;
      readonly reason?: string;
      /**
       * What the run's result (its integration branch) changes against the commit it started
       * from, as `weft apply` would bring it: a file two tasks changed counts once.
       */
      readonly files?: TaskResultData['files'];
    });

/** How an iteration of a loop ended (see `loop.iteration.ended`). */
export type LoopOutcome = 'passed' | 'repeat' | 'exhausted' | 'budget' | 'failed';

/** Progress an executor reports while a task runs; shown live, not all journaled. */
export interface ProgressEvent {
  /** `output`: the process wrote something (the watchdog counts it as progress; not shown). */
  readonly kind: 'text' | 'tool' | 'status' | 'usage' | 'session' | 'output';
  readonly message?: string;
  readonly usage?: Usage;
  readonly sessionId?: string;
}
