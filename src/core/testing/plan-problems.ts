import { expect } from 'vitest';
import { formatPlanIssue, PlanValidationError } from '../errors.js';
import { compilePlan, type ExecutorCatalog } from '../plan/compile.js';

/** The executors most compile tests need: a shell command and an agent prompt. */
export const SHELL_AND_CLAUDE: ExecutorCatalog = new Map([
  ['shell', { requires: 'run' as const }],
  ['claude', { requires: 'prompt' as const }],
]);

/**
 * The lines a user sees for a plan in `plan.yaml` (empty when it compiles); also checks that the
 * error's message is those lines and its code `WEFT_PLAN_INVALID`.
 */
export function planProblems(plan: unknown, executors: ExecutorCatalog = SHELL_AND_CLAUDE): string[] {
  try {
    compilePlan(plan, { file: 'plan.yaml', executors });
    return [];
  } catch (error) {
    if (!(error instanceof PlanValidationError)) throw error;
    expect(error.message).toBe(error.issues.map(formatPlanIssue).join('\n'));
    expect(error.code).toBe('WEFT_PLAN_INVALID');
    return error.issues.map(formatPlanIssue);
  }
}
