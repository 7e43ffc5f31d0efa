/**
 * Every error weft raises on purpose is a {@link WeftError} with a stable `code` from this closed
 * list; a failed attempt's {@link TaskFailure} uses the same codes. The list is closed so the
 * compiler refuses a code that is not documented here. Codes are mapped to exit codes only at the
 * edge (src/cli/exit-codes.ts).
 */
export type WeftErrorCode =
  /** A plan (file, code, template or a task's sub-plan) has problems; {@link PlanValidationError} lists them. */
  | 'WEFT_PLAN_INVALID'
  /** The plan file cannot be read (missing, unreadable). */
  | 'WEFT_PLAN_NOT_FOUND'
  /** `weft.config.yaml` has problems; {@link ConfigValidationError} lists them. */
  | 'WEFT_CONFIG_INVALID'
  /** A command, flag, option or argument was used wrongly (bad value, wrong combination, not a repository). */
  | 'WEFT_USAGE'
  /** An STG or WfCommons file to import is malformed. */
  | 'WEFT_IMPORT'
  /** No run in the journal matches the id or prefix given. */
  | 'WEFT_RUN_NOT_FOUND'
  /** Another live coordinator holds the run's lease. */
  | 'WEFT_RUN_LOCKED'
  /**
   * The run or task is not in a state that allows the request: cancelling a run that is not running,
   * resuming one that succeeded, approving a task that does not wait, retrying one that succeeded.
   */
  | 'WEFT_RUN_STATE'
  /** The journal store refused or failed (bad arguments, a broken database, a lost connection). */
  | 'WEFT_STORE'
  /** An executor could not run the task (binary or API key missing, no such workdir, no such executor). */
  | 'WEFT_EXECUTOR'
  /** An agent CLI was refused by its provider: not logged in, bad or missing API key. */
  | 'WEFT_AGENT_AUTH'
  /** An agent CLI stopped at its turn limit (`maxTurns`) before finishing. */
  | 'WEFT_AGENT_MAX_TURNS'
  /** The provider rate-limited or was overloaded: transient, backed off, not the task's own failure. */
  | 'WEFT_RATE_LIMITED'
  /** A task's answer is not JSON, or does not match its `outputSchema`. */
  | 'WEFT_OUTPUT_SCHEMA'
  /** A contract's provider produced output that does not satisfy the contract; routed back to it to fix. */
  | 'WEFT_CONTRACT_BROKEN'
  /** A result did not pass the caller's `validateResult` check. */
  | 'WEFT_RESULT_INVALID'
  /** A task's budget (USD or tokens) is spent. */
  | 'WEFT_BUDGET_EXCEEDED'
  /** A task with `resume: never` was cut off by a stop; a person must decide (`weft resume --retry`). */
  | 'WEFT_NEEDS_DECISION'
  /** A task's work conflicts with the integration branch; routed back to the task to fix. */
  | 'WEFT_MERGE_CONFLICT'
  /** A merge check failed on the merged result; routed back to the task to fix. */
  | 'WEFT_CHECK_FAILED'
  /** A task finished without a file its `outputs` declares; routed back to the task to fix. */
  | 'WEFT_OUTPUT_MISSING'
  /** A task with `writes` changed files outside them; none of its work is merged, and it is routed back to the task to fix. */
  | 'WEFT_OUTSIDE_WRITES'
  /** The workspace's set-up command (`workspace.setup`) failed: no task ran. */
  | 'WEFT_SETUP_FAILED'
  /** Remote dispatch could not start or reach its queue (a bad or unreachable `--dispatch`/`--redis` URL). */
  | 'WEFT_DISPATCH'
  /** The remote worker running an attempt stopped answering (killed, lost): the attempt is tried again elsewhere. */
  | 'WEFT_WORKER_LOST'
  /** A request to `weft serve` without the right token, or addressed to a foreign `Host` (HTTP 401/403). */
  | 'WEFT_UNAUTHORIZED'
  /** A task showed no progress (no output, no agent event) for its `stallAfter`: stopped, and retried while it has retries. */
  | 'WEFT_TASK_STALLED'
  /** A P0 task needed the worker (or pool units) of this running task: the attempt was stopped and the task runs again; not a failure. */
  | 'WEFT_PREEMPTED'
  /** A task went over its `limits` (memory): the OS stopped it. */
  | 'WEFT_LIMIT_EXCEEDED'
  /** A sandboxed task could not run as asked: bubblewrap missing, or a write outside its folder refused. */
  | 'WEFT_SANDBOX'
  /** A scored task's output stayed below its `minScore` (or had no numeric score). */
  | 'WEFT_SCORE_TOO_LOW'
  /** Something weft relies on broke (a git command, a template, an installation file): a bug to report. */
  | 'WEFT_INTERNAL';

/** What a {@link WeftError} carries besides its code and message. */
export interface WeftErrorOptions {
  /** The error that led to this one, kept as the standard `cause`. */
  readonly cause?: unknown;
  /** One line telling the user how to fix it. */
  readonly hint?: string;
}

/**
 * An error weft raises on purpose: a stable `code`, a message for the user, and a one-line `hint`.
 *
 * @example
 * throw new WeftError('WEFT_USAGE', 'weft run needs a plan file', { hint: 'e.g. `weft run examples/app.yaml`' });
 */
export class WeftError extends Error {
  /** What went wrong, from the closed list {@link WeftErrorCode}. */
  readonly code: WeftErrorCode;
  /** One line telling the user how to fix it, if there is one. */
  readonly hint: string | undefined;

  constructor(code: WeftErrorCode, message: string, options: WeftErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'WeftError';
    this.code = code;
    this.hint = options.hint;
  }
}

/** One problem found in a plan: where it is, what is wrong, how to fix it. */
export interface PlanIssue {
  /** The plan file, or `<plan>` for a plan built in code. */
  readonly file: string;
  /** 1-based line of the problem in the file, when it is known. */
  readonly line?: number;
  /** 1-based column of the problem in the file, when it is known. */
  readonly column?: number;
  /** The task the problem belongs to, if any. */
  readonly task?: string;
  /** Dotted path of the field, e.g. `tasks[2].needs[0]`. */
  readonly field?: string;
  /** What is wrong. */
  readonly message: string;
  /** How to fix it. */
  readonly fix?: string;
}

/** Formats an issue as the one line a user sees: `plan.yaml:12:5 task "api" needs[0]: … — fix: …`. */
export function formatPlanIssue(issue: PlanIssue): string {
  const where =
    issue.line === undefined
      ? issue.file
      : `${issue.file}:${issue.line}${issue.column === undefined ? '' : `:${issue.column}`}`;
  const parts = [where];
  if (issue.task !== undefined) parts.push(`task "${shorten(issue.task)}"`);
  if (issue.field !== undefined) parts.push(shorten(issue.field));
  const head = parts.join(' ');
  const message = issue.message.replace(/"([^"]{61,})"/g, (_, value: string) => `"${shorten(value)}"`);
  // A value from the plan (an id with a newline or NUL) is shown escaped: one issue stays one line.
  return `${head}: ${message}${issue.fix === undefined ? '' : ` — fix: ${issue.fix}`}`.replace(
    // eslint-disable-next-line no-control-regex -- control characters are what it looks for
    /[\u0000-\u001f\u007f]/g,
    escapeControl,
  );
}

/** A value from the plan cut to 60 characters: a 5 MB id must not make a 5 MB line. */
function shorten(value: string): string {
  return value.length > 60 ? `${value.slice(0, 59)}…` : value;
}

function escapeControl(c: string): string {
  return JSON.stringify(c).slice(1, -1);
}

/** Every problem found in a plan, one {@link PlanIssue} each; the message is one formatted line per issue. */
export class PlanValidationError extends WeftError {
  /** The problems, in the order they are in the file. */
  readonly issues: readonly PlanIssue[];

  constructor(issues: readonly PlanIssue[]) {
    super('WEFT_PLAN_INVALID', issues.map(formatPlanIssue).join('\n'));
    this.name = 'PlanValidationError';
    this.issues = issues;
  }
}

/**
 * Every problem found in `weft.config.yaml`, one issue each (file, line, column, field, fix). Not a
 * plan error: the plan may be fine, and a planner must not be asked to fix the config.
 */
export class ConfigValidationError extends WeftError {
  /** The problems, in the order they are in the file. */
  readonly issues: readonly PlanIssue[];

  constructor(issues: readonly PlanIssue[], options: WeftErrorOptions = {}) {
    super('WEFT_CONFIG_INVALID', issues.map(formatPlanIssue).join('\n'), options);
    this.name = 'ConfigValidationError';
    this.issues = issues;
  }
}

/** What a failed task attempt leaves behind: the error a user needs to see. */
export interface TaskFailure {
  /** What went wrong, in one line. */
  readonly message: string;
  /** Which kind of failure, when weft knows (a plain non-zero exit has none). */
  readonly code?: WeftErrorCode;
  /** The process's exit code; `null` when it died by a signal. */
  readonly exitCode?: number | null;
  /** The signal that ended the process (`SIGKILL`, …), if one did. */
  readonly signal?: string | null;
  /** Whether the task ran past its `timeout` and was killed. */
  readonly timedOut?: boolean;
  /** The last lines of its stderr. */
  readonly stderrTail?: string;
  /** Whether this failure is the provider's (rate limit, overload) rather than the task's own. */
  readonly transient?: boolean;
  /** Set when the work itself is done but must be fixed (merge conflict, failed check): the prompt for the fix. */
  readonly fix?: string;
  /** Milliseconds to wait before trying again, when the failure says so (e.g. retry-after). */
  readonly retryAfterMs?: number;
  /** The attempt's score (`score:`), when its output had one and it was too low. */
  readonly score?: number;
}

/** Whether `error` is a {@link WeftError} (any subclass included). */
export function isWeftError(error: unknown): error is WeftError {
  return error instanceof WeftError;
}
