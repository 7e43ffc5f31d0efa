import type { TaskFailure } from '../../errors.js';
import type { ResolvedTask } from '../../plan/graph.js';
import type { PlanSpec } from '../../plan/plan-schema.js';
import type { ResolvedEngineOptions } from '../engine-options.js';
import type { TaskResultData } from '../events.js';
import { expansionFor, type ExpansionDecision, type Rejection } from './expansion.js';
import { scoreRejection } from './score.js';

/** What weft's own checks make of a successful result. */
export type ResultVerdict =
  | { readonly kind: 'accept' }
  /** Accept, and splice the task's sub-plan in (`expands: true`). */
  | Extract<ExpansionDecision, { kind: 'grow' }>
  /** Send the task back with this (a fix attempt, while it has them). */
  | { readonly kind: 'reject'; readonly rejection: Rejection & { readonly score?: number } };

/**
 * Weft's own checks of a successful result, in order: the caller's `validateResult`, the task's
 * `minScore`, and for a task with `expands: true`, that its sub-plan joins `spec` validly.
 */
export function checkResult(
  task: ResolvedTask,
  result: TaskResultData,
  spec: PlanSpec,
  options: Pick<ResolvedEngineOptions, 'validateResult' | 'recompile'>,
): ResultVerdict {
  const rejected = options.validateResult?.(task, result);
  if (typeof rejected === 'string')
    return {
      kind: 'reject',
      rejection: { message: 'the result did not pass its check', code: 'WEFT_RESULT_INVALID', feedback: rejected },
    };
  if (rejected !== undefined) return { kind: 'reject', rejection: { code: 'WEFT_RESULT_INVALID', ...rejected } };
  const low = scoreRejection(task, result);
  if (low !== undefined) return { kind: 'reject', rejection: low };
  if (task.expands !== true) return { kind: 'accept' };
  const d = expansionFor(spec, task, result, options.recompile);
  if (d.kind === 'reject')
    return { kind: 'reject', rejection: { message: d.message, code: d.code, feedback: d.feedback } };
  return d;
}

/** The failure a rejected result is recorded with (its score kept, for the summary). */
export function rejectedFailure(r: Rejection & { readonly score?: number }): TaskFailure {
  return { message: r.message, code: r.code, fix: r.feedback, ...(r.score === undefined ? {} : { score: r.score }) };
}
