import type { PlanSpec, TaskSpec } from './plan-schema.js';
import type { RawIssue } from './schema-issues.js';
import type { IssueAt } from './task-field-checks.js';

/** The fields that act on a task's OS process, which only executors that run one can apply. */
const PROCESS_FIELDS = ['limits', 'sandbox'] as const;

/** Where `limits` and `sandbox` do something, named in the fixes. */
const WHERE = 'only shell tasks and agent CLI tasks (claude, codex, gemini) run a process';

/**
 * `limits` and `sandbox` on a task whose executor runs no process of its own (an LLM API call, a
 * function, a gate): refused, since they would do nothing. `defaults` may still set them: they
 * apply to the tasks that run a process and pass the others by.
 */
export function processFieldIssues(t: TaskSpec, executor: string, at: IssueAt, issues: RawIssue[]): void {
  const what = executor === 'gate' ? 'a gate runs nothing' : `executor "${executor}" runs no process of its own`;
  for (const field of PROCESS_FIELDS) {
    if (t[field] === undefined || t[field] === false) continue;
    issues.push({
      ...at(field),
      message: `${what}, so ${field} would do nothing`,
      fix: `remove ${field} from this task: ${WHERE}`,
    });
  }
}

/** `defaults.limits`/`defaults.sandbox` in a plan where no task runs a process: they would do nothing. */
export function defaultsProcessIssues(defaults: NonNullable<PlanSpec['defaults']>): RawIssue[] {
  return PROCESS_FIELDS.filter((field) => defaults[field] !== undefined && defaults[field] !== false).map((field) => ({
    path: ['defaults', field],
    field: `defaults.${field}`,
    message: `no task of this plan runs a process, so ${field} would do nothing`,
    fix: `remove defaults.${field}: ${WHERE}`,
  }));
}
