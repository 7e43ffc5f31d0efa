/**
 * What the MCP server needs from weft to drive runs: the port `src/cli/` implements (over the
 * journal, the planner and detached `weft run` processes) and injects into
 * {@link createMcpServer}. Every method throws a `WeftError` for a caller's mistake; the server
 * turns it into a tool error.
 */
import type { RunSummary } from '../core/run/metrics.js';

/** A plan to run or estimate: inline (the plan file schema) or the path of a plan file, exactly one. */
export interface PlanRef {
  /** A plan in the file schema (`weft schema`), as an object. */
  readonly plan?: Readonly<Record<string, unknown>>;
  /** A plan file (YAML or JSON), relative to the project folder. */
  readonly planFile?: string;
}

/** Which project: a folder holding (or to hold) `.weft/`; relative to the server's root. @default the root */
export interface ProjectRef {
  readonly project?: string;
}

/** `plan`: a goal in words. */
export interface PlanRequest extends ProjectRef {
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
  /** The plan, in the file schema: run it with `run` ({plan}) or by its file. */
  readonly plan: Readonly<Record<string, unknown>>;
  readonly complexity: string;
  readonly reasons: readonly string[];
  /** The planner's own run (its journal holds what it was told). */
  readonly plannerRunId: string;
}

/** `run`: start a plan. */
export interface StartRequest extends PlanRef, ProjectRef {
  /** Workers M. @default the plan's `workers` */
  readonly workers?: number;
  /** One task at a time, in declaration order. @default false */
  readonly sequential?: boolean;
  /** Stop at the first failed task. @default false */
  readonly failFast?: boolean;
  /** Plan variables for `when` conditions. */
  readonly vars?: Readonly<Record<string, string>>;
}

/** `estimate`. */
export interface EstimateRequest extends PlanRef, ProjectRef {
  readonly workers?: number;
}

/** A run, by id (a unique prefix is enough). */
export interface RunRef extends ProjectRef {
  readonly runId: string;
}

/** `logs`: a task's log tail. */
export interface LogsRequest extends RunRef {
  readonly task: string;
  /** @default the latest */
  readonly attempt?: number;
  /** @default 'stdout' */
  readonly stream?: 'stdout' | 'stderr';
  /** The most bytes of the log's end to answer. @default 65536 */
  readonly maxBytes?: number;
}

/** One event of a run (a journal event or a progress notice), as `weft run --json` prints it. */
export interface RunEventView {
  readonly type: string;
  readonly task?: string;
  readonly [key: string]: unknown;
}

/** The port the MCP server drives weft through. */
export interface RunControl {
  /** Asks the AI planner for a plan and checks it like a hand-written one; saves it. */
  plan(request: PlanRequest): Promise<PlannedAnswer>;
  /** The predicted makespan on M workers, critical path and best M (as `weft estimate --json`). */
  estimate(request: EstimateRequest): Promise<Readonly<Record<string, unknown>>>;
  /**
   * Checks the plan and starts it in the background; answers at once with the run's id and the
   * plan file it runs (an inline plan is saved under `.weft/mcp/plans/`). Tasks run in the project
   * folder.
   */
  start(request: StartRequest): Promise<{ readonly runId: string; readonly planFile: string }>;
  /** Where a run stands; `driven: false` for a run nobody drives any more. */
  status(ref: RunRef): Promise<{ readonly summary: RunSummary; readonly driven?: boolean }>;
  /** The end of a task's log, secrets masked, terminal control sequences removed. */
  logs(request: LogsRequest): Promise<{
    readonly attempt: number;
    readonly text: string;
    readonly bytes: number;
    readonly truncated: boolean;
    readonly exists: boolean;
  }>;
  /** The summary and the Markdown report. */
  result(ref: RunRef): Promise<{ readonly summary: RunSummary; readonly report: string }>;
  /** Stops a running run (its tasks are cancelled; `weft resume` continues it). */
  cancel(ref: RunRef): Promise<{
    readonly runId: string;
    readonly status: string;
    /** Whether a stop was sent to the process driving it. */
    readonly stopping: boolean;
    readonly note?: string;
  }>;
  /**
   * A person's decision on a task that waits for approval (`approval: required`): `approved` lets
   * it start, `rejected` (with a reason) ends it blocked. The running weft goes on within a second.
   */
  approve(
    ref: RunRef & { readonly task: string; readonly decision: 'approved' | 'rejected'; readonly reason?: string },
  ): Promise<{ readonly runId: string; readonly task: string; readonly decision: string; readonly running: boolean }>;
  /**
   * Calls `onEvent` with each event of a run this control started, from the first, until the run
   * ends (then resolves) or `signal` aborts.
   */
  follow(ref: RunRef, onEvent: (event: RunEventView) => void, signal: AbortSignal): Promise<void>;
}
