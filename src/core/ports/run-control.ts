import type { JournalEntry, RunRow } from './store.js';
import type { EngineNotice } from '../run/engine-options.js';
import type { RunSummary } from '../run/metrics.js';

/** A run as the runs list shows it: the journal's row, and whether a live coordinator drives it. */
export interface RunListItem extends RunRow {
  /** A live coordinator holds the run's lease. A `running` run nobody drives was killed: resume it. */
  readonly driven: boolean;
}

/**
 * What starts a run: `plan` (the plan file's schema, inline), `planFile` (a path, relative to
 * the project folder) or `goal` (planned first by the AI planner, as `weft plan --yes`). The rest
 * are `weft run`'s flags.
 */
export interface StartRunInput {
  readonly plan?: unknown;
  readonly planFile?: string;
  readonly goal?: string;
  /** With `goal`: who plans (`weft plan --planner`). @default config `planner`, else the first installed */
  readonly planner?: string;
  /** With `goal`: who runs the planned tasks (`weft plan --executor`). */
  readonly executor?: string;
  /** `--set name=value`, for `when` conditions and templates. */
  readonly vars?: Readonly<Record<string, string>>;
  /** `-j`: workers. @default the plan's `workers` */
  readonly workers?: number;
  /** `--sequential`. @default false */
  readonly sequential?: boolean;
  /** `--fail-fast`. @default false */
  readonly failFast?: boolean;
  /** `--no-isolation` when `false`. @default true */
  readonly isolation?: boolean;
  /** `--no-cache` when `false`. @default true */
  readonly cache?: boolean;
}

/** A slice of a task's log, from a byte offset. */
export interface LogSlice {
  readonly task: string;
  readonly attempt: number;
  readonly stream: 'stdout' | 'stderr';
  /** The text (secrets masked, terminal control sequences removed). */
  readonly text: string;
  /** Where the next read starts. */
  readonly offset: number;
  /** The attempt has ended: nothing more will be written. */
  readonly ended: boolean;
}

/**
 * Run control, as the HTTP server and the MCP server drive it: list and inspect runs, start,
 * estimate, cancel and resume them. Implemented over the journal in `src/cli/run-control.ts`;
 * handed to the servers by injection. Every method fails with a `WeftError`
 * (`WEFT_RUN_NOT_FOUND`, `WEFT_PLAN_INVALID`, `WEFT_USAGE`, …).
 */
export interface RunControl {
  /** Every run, newest first. */
  listRuns(): Promise<RunListItem[]>;
  /** A run's report (the JSON report's shape), its graph layout, budget, `driven` and `lastSeq`; live times for a running run. */
  detail(runId: string): Promise<Readonly<Record<string, unknown>>>;
  /** The run's summary (live figures for a running run). */
  summary(runId: string): Promise<RunSummary>;
  /** The run's report: a JSON object's text, Markdown or self-contained HTML. */
  report(runId: string, format: 'json' | 'md' | 'html'): Promise<string>;
  /** The journal's events after `afterSeq`, in order. */
  events(runId: string, afterSeq: number): Promise<JournalEntry[]>;
  /** A task's log from `offset` (default attempt: the latest). */
  log(
    runId: string,
    task: string,
    options: { readonly attempt?: number; readonly stream?: 'stdout' | 'stderr'; readonly offset?: number },
  ): Promise<LogSlice>;
  /**
   * Validates the plan, then starts the run; resolves once it is in the journal. With a `goal`,
   * resolves once the planner's run (`plannerRunId`) is: `runId` is the planned run, in the
   * journal when the planner has answered with a valid plan.
   */
  start(input: StartRunInput): Promise<{ readonly runId: string; readonly plannerRunId?: string }>;
  /** `weft estimate`'s figures for a plan (ms). */
  estimate(input: StartRunInput): Promise<Readonly<Record<string, unknown>>>;
  /** Asks the run's coordinator to stop (as Ctrl-C does): running tasks are cancelled; `weft resume` continues. */
  cancel(runId: string): Promise<{ readonly runId: string; readonly cancelled: boolean }>;
  /**
   * A person's decision on a task that waits for approval (`approval: required`), appended to the
   * run's journal; a rejection needs a reason. The running weft goes on within a second.
   */
  decide(
    runId: string,
    task: string,
    decision: 'approved' | 'rejected',
    reason?: string,
  ): Promise<{ readonly runId: string; readonly task: string; readonly decision: string; readonly running: boolean }>;
  /** Continues an unfinished run from its journal (a run started by the server too, after it restarts). */
  resume(runId: string, options?: { readonly retry?: readonly string[] }): Promise<{ readonly runId: string }>;
  /**
   * Calls `listener` on what this process learns of the run live, before the journal is read: its
   * events and progress notices. @returns a function that stops it.
   */
  watch(runId: string, listener: (notice: EngineNotice) => void): () => void;
  /** Stops watching the processes this control started (they go on running). */
  close(): Promise<void>;
}
