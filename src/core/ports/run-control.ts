import type { JournalEntry, RunRow } from './store.js';
import type { EngineNotice } from '../run/engine-options.js';
import type { RunSummary } from '../run/metrics.js';

/** A run as the runs list shows it: the journal's row, and whether a live coordinator drives it. */
export interface RunListItem extends RunRow {
  /** A live coordinator holds the run's lease. A `running` run nobody drives was killed: resume it. */
  readonly driven: boolean;
}

/** A plan, inline or by file: exactly one of the two. */
export interface PlanRef {
  /** The plan itself, in the plan file's schema (`weft schema`). */
  readonly plan?: unknown;
  /** A plan file (YAML or JSON), relative to the project folder and inside it. */
  readonly planFile?: string;
}

/**
 * What starts a run: `plan` (the plan file's schema, inline), `planFile` (a path, relative to
 * the project folder) or `goal` (planned first by the AI planner, as `weft plan --yes`). The rest
 * are `weft run`'s flags.
 */
export interface StartRunInput extends PlanRef {
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

/** A run started: its id, the plan file it runs (an inline plan is saved first), and the planner's run for a goal. */
export interface StartedRun {
  readonly runId: string;
  /** The plan file the run reads (absolute); none for a goal, whose plan is not made yet. */
  readonly planFile?: string;
  /** With `goal`: the planner's own run. */
  readonly plannerRunId?: string;
}

/** `plan`: a goal in words, planned in this process (`weft plan`). */
export interface PlanRequest {
  readonly goal: string;
  /** The worker budget M the plan is made for. @default 4 */
  readonly workers?: number;
  /** Who plans (an executor name). @default config `planner`, else the first agent CLI installed */
  readonly planner?: string;
  /** Who runs the planned tasks. @default the planner when it is an agent CLI */
  readonly executor?: string;
}

/** A plan the planner made and weft checked. */
export interface PlannedAnswer {
  /** Where it was saved (absolute). */
  readonly planFile: string;
  /** The plan, in the file schema. */
  readonly plan: Readonly<Record<string, unknown>>;
  readonly complexity: string;
  readonly reasons: readonly string[];
  /** The planner's own run (its journal holds what it was told). */
  readonly plannerRunId: string;
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

/** The end of a task's log. */
export interface LogTail {
  readonly attempt: number;
  /** The text (secrets masked, terminal control sequences removed). */
  readonly text: string;
  /** The log's size in bytes. */
  readonly bytes: number;
  /** The start of the log was left out (it is longer than asked for). */
  readonly truncated: boolean;
  /** False when the attempt has written no such log (yet). */
  readonly exists: boolean;
}

/** Which log of a task. */
export interface LogOptions {
  /** @default the latest attempt */
  readonly attempt?: number;
  /** @default 'stdout' */
  readonly stream?: 'stdout' | 'stderr';
}

/** What {@link RunControl.cancel} did. */
export interface CancelAnswer {
  readonly runId: string;
  /** The run's status when asked. */
  readonly status: string;
  /** A stop was sent to the process driving the run. */
  readonly stopping: boolean;
  /** Why nothing was sent, when nothing was. */
  readonly note?: string;
}

/**
 * Run control, as the HTTP server (`weft serve`) and the MCP server (`weft mcp`, and `/mcp` on
 * `weft serve`) drive weft: list and inspect runs, plan, estimate, start, follow, cancel, resume
 * and decide approvals. One project per control; {@link RunControl.within} gives the control of a
 * project folder inside it. Implemented over the journal in `src/cli/run-control.ts` and handed to
 * the servers by injection. Every method fails with a `WeftError` (`WEFT_RUN_NOT_FOUND`,
 * `WEFT_PLAN_INVALID`, `WEFT_USAGE`, …).
 */
export interface RunControl {
  /** Every run, newest first. */
  listRuns(): Promise<RunListItem[]>;
  /**
   * The id of a run given by its id or a unique prefix of it. A run this control started that
   * ended before reaching the journal is explained (its own error).
   */
  resolve(given: string): Promise<string>;
  /** A run's report (the JSON report's shape), its graph layout, budget, checks, `driven` and `lastSeq`; live times for a running run. */
  detail(runId: string): Promise<Readonly<Record<string, unknown>>>;
  /** The run's summary (live figures for a running run), and for a running run whether a live coordinator drives it. */
  status(runId: string): Promise<{ readonly summary: RunSummary; readonly driven?: boolean }>;
  /** The run's report: a JSON object's text, Markdown or self-contained HTML. */
  report(runId: string, format: 'json' | 'md' | 'html'): Promise<string>;
  /**
   * The journal's events after `afterSeq`, in order. Read after what the run printed before them
   * has reached its {@link watch}ers: a progress notice never comes after the event that followed it.
   */
  events(runId: string, afterSeq: number): Promise<JournalEntry[]>;
  /** A task's log from `offset`. */
  log(runId: string, task: string, options: LogOptions & { readonly offset?: number }): Promise<LogSlice>;
  /** The last `maxBytes` of a task's log. */
  logTail(runId: string, task: string, options: LogOptions & { readonly maxBytes?: number }): Promise<LogTail>;
  /** Asks the AI planner for a plan (in this process) and checks it like a hand-written one; saves it under `.weft/plans/`. */
  plan(request: PlanRequest): Promise<PlannedAnswer>;
  /** `weft estimate --json`'s figures for a plan (with durations measured in earlier runs). */
  estimate(input: StartRunInput): Promise<Readonly<Record<string, unknown>>>;
  /**
   * Validates the plan (and that its executors are set up), then starts the run as a process of
   * its own that outlives this one; resolves once it is in the journal. With a `goal`, resolves
   * once the planner's run (`plannerRunId`) is: `runId` is the planned run, in the journal when
   * the planner has answered with a valid plan.
   */
  start(input: StartRunInput): Promise<StartedRun>;
  /**
   * Calls `onEvent` with each journal event of the run after `afterSeq` (default: from the first),
   * and with what this process learns of it live, until the run finishes (then resolves) or
   * `signal` aborts. A resumed run is followed from the last event before its resume.
   */
  follow(runId: string, onEvent: (event: EngineNotice) => void, signal: AbortSignal, afterSeq?: number): Promise<void>;
  /**
   * Asks the run's coordinator to stop, as Ctrl-C does: running tasks are cancelled and the run
   * ends `cancelled` (resume continues it). A run that is not running is left as it is (`stopping: false`).
   */
  cancel(runId: string): Promise<CancelAnswer>;
  /**
   * A person's decision on a task that waits for approval (`approval: required`), appended to the
   * run's journal; a rejection needs a reason. `via` names the channel in who decided, e.g. `weft
   * serve`. The running weft goes on within a second.
   */
  decide(
    runId: string,
    task: string,
    decision: 'approved' | 'rejected',
    options?: { readonly reason?: string | undefined; readonly via?: string },
  ): Promise<{ readonly runId: string; readonly task: string; readonly decision: string; readonly running: boolean }>;
  /** Continues an unfinished run from its journal (a run started by the server too, after it restarts). */
  resume(
    runId: string,
    options?: { readonly retry?: readonly string[]; readonly vars?: Readonly<Record<string, string>> },
  ): Promise<{ readonly runId: string }>;
  /**
   * Calls `listener` on what this process learns of the run live, before the journal is read: its
   * events and progress notices. @returns a function that stops it.
   */
  watch(runId: string, listener: (notice: EngineNotice) => void): () => void;
  /**
   * The control of a project folder inside this one (`undefined`: this one), e.g. MCP's
   * `working_directory`. @throws `WEFT_USAGE` for a folder outside this project.
   */
  within(folder: string | undefined): Promise<RunControl>;
  /** Closes what this control opened (journals of other folders); the processes it started go on. */
  close(): Promise<void>;
}
