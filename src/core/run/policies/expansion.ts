import { PlanValidationError, formatPlanIssue, type PlanIssue, type WeftErrorCode } from '../../errors.js';
import { expansionOf, spliceExpansion } from '../../plan/expansion.js';
import type { CompiledPlan } from '../../plan/compile.js';
import type { ResolvedTask } from '../../plan/graph.js';
import type { PlanSpec, TaskSpec } from '../../plan/plan-schema.js';
import type { TaskResultData } from '../events.js';

/** A result weft sends back to its task: what went wrong and what the task is told to fix. */
export interface Rejection {
  readonly message: string;
  readonly code: WeftErrorCode;
  readonly feedback: string;
}

/** What the result of a task with `expands: true` leads to. */
export type ExpansionDecision =
  /** Splice: the grown plan, compiled, and the tasks it added. */
  | {
      readonly kind: 'grow';
      readonly spec: PlanSpec;
      readonly compiled: CompiledPlan;
      readonly added: readonly TaskSpec[];
    }
  /** Send the task back to fix its sub-plan. */
  | ({ readonly kind: 'reject' } & Rejection);

const SHAPE =
  'Your output must be JSON of the form {"tasks": [{"id": …, "title": …, "prompt" or "run": …, "needs": […]}]}.';

/**
 * Whether an expanding task's result joins the plan validly: its sub-plan is spliced in after the
 * task and the whole compiled again (`recompile` throws {@link PlanValidationError} when it is not
 * valid). Any other error from `recompile` is thrown.
 *
 * @example
 * expansionFor(spec, task, { output: { tasks: [{ id: 'x', run: 'true' }] } }, recompile);
 * // → { kind: 'grow', spec: …, compiled: …, added: [{ id: 'x', … }] }
 */
export function expansionFor(
  spec: PlanSpec,
  task: ResolvedTask,
  result: TaskResultData,
  recompile: ((spec: PlanSpec) => CompiledPlan) | undefined,
): ExpansionDecision {
  const added = expansionOf(result.output, result.text);
  if (added === undefined || recompile === undefined) {
    const message = 'an expanding task must output a sub-plan';
    return { kind: 'reject', message, code: 'WEFT_PLAN_INVALID', feedback: SHAPE };
  }
  const grown = spliceExpansion(spec, task.id, added as TaskSpec[]);
  try {
    return { kind: 'grow', spec: grown, compiled: recompile(grown), added: added as TaskSpec[] };
  } catch (error) {
    if (!(error instanceof PlanValidationError)) throw error;
    const lines = error.issues.map(formatPlanIssue).join('\n');
    const first = formatPlanIssue(error.issues[0] as PlanIssue);
    const more = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more)` : '';
    const feedback = `The tasks you returned cannot be added to the plan:\n${lines}\nReturn the whole corrected list.`;
    const message = `its sub-plan is not valid: ${first}${more}`;
    return { kind: 'reject', message, code: 'WEFT_PLAN_INVALID', feedback };
  }
}
