/**
 * Every error weft raises on purpose is a {@link WeftError} with a stable `code`.
 * Codes are mapped to exit codes (CLI) and HTTP statuses (server) only at the edges.
 */
export type WeftErrorCode =
  | 'WEFT_PLAN_INVALID'
  | 'WEFT_PLAN_NOT_FOUND'
  | 'WEFT_USAGE'
  | 'WEFT_TASK_FAILED'
  | 'WEFT_TASK_TIMEOUT'
  | 'WEFT_RUN_NOT_FOUND'
  | 'WEFT_RUN_LOCKED'
  | 'WEFT_STORE'
  | 'WEFT_BUDGET_EXCEEDED'
  | 'WEFT_EXECUTOR'
  | 'WEFT_IMPORT'
  | 'WEFT_WORKSPACE'
  | 'WEFT_GIT'
  | 'WEFT_MERGE_CONFLICT'
  | 'WEFT_CHECK_FAILED'
  | 'WEFT_OUTPUT_MISSING'
  | 'WEFT_INTERNAL';

export interface WeftErrorOptions {
  readonly cause?: unknown;
  /** One line telling the user how to fix it. */
  readonly hint?: string;
}

export class WeftError extends Error {
  readonly code: WeftErrorCode;
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
  readonly line?: number;
  readonly column?: number;
  /** The task the problem belongs to, if any. */
  readonly task?: string;
  /** Dotted path of the field, e.g. `tasks[2].needs[0]`. */
  readonly field?: string;
  readonly message: string;
  readonly fix?: string;
}

/** Formats an issue as the one line a user sees: `plan.yaml:12:5 task "api" needs[0]: … — fix: …`. */
export function formatPlanIssue(issue: PlanIssue): string {
  const where = issue.line === undefined ? issue.file : `${issue.file}:${issue.line}${issue.column === undefined ? '' : `:${issue.column}`}`;
  const parts = [where];
  if (issue.task !== undefined) parts.push(`task "${issue.task}"`);
  if (issue.field !== undefined) parts.push(issue.field);
  const head = parts.join(' ');
  return `${head}: ${issue.message}${issue.fix === undefined ? '' : ` — fix: ${issue.fix}`}`;
}

export class PlanValidationError extends WeftError {
  readonly issues: readonly PlanIssue[];

  constructor(issues: readonly PlanIssue[]) {
    super('WEFT_PLAN_INVALID', issues.map(formatPlanIssue).join('\n'));
    this.name = 'PlanValidationError';
    this.issues = issues;
  }
}

/** What a failed task attempt leaves behind: the error a user needs to see. */
export interface TaskFailure {
  readonly message: string;
  readonly code?: WeftErrorCode | string;
  readonly exitCode?: number | null;
  readonly signal?: string | null;
  readonly timedOut?: boolean;
  readonly stderrTail?: string;
  /** Whether this failure is the provider's (rate limit, overload) rather than the task's own. */
  readonly transient?: boolean;
  /** Set when the work itself is done but must be fixed (merge conflict, failed check): the prompt for the fix. */
  readonly fix?: string;
  /** Milliseconds to wait before trying again, when the failure says so (e.g. retry-after). */
  readonly retryAfterMs?: number;
}

export class TaskFailedError extends WeftError {
  readonly task: string;
  readonly attempt: number;
  readonly failure: TaskFailure;

  constructor(task: string, attempt: number, failure: TaskFailure, options: WeftErrorOptions = {}) {
    super(failure.timedOut === true ? 'WEFT_TASK_TIMEOUT' : 'WEFT_TASK_FAILED', `task "${task}" attempt ${attempt}: ${failure.message}`, options);
    this.name = 'TaskFailedError';
    this.task = task;
    this.attempt = attempt;
    this.failure = failure;
  }
}

export function isWeftError(error: unknown): error is WeftError {
  return error instanceof WeftError;
}
