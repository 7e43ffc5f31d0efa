import { evaluateCondition } from '../../plan/condition.js';
import { explainFalse } from '../../plan/condition-explain.js';
import type { ResolvedLoop } from '../../plan/loop-check.js';
import type { SkipCause, TaskState } from '../../schedule/scheduler.js';
import type { LoopOutcome, TaskResultData } from '../events.js';
import type { PreviousResult } from '../run-state.js';
import { resolverFor, type WhenSources } from './when.js';

/** A repeated task as the loop's policy sees it at an iteration's end. */
export interface LoopTaskView {
  readonly id: string;
  readonly state: TaskState;
  readonly result?: TaskResultData;
  readonly reason?: string;
  /** Why it was skipped, if it was (`upstream`: something it needs failed). */
  readonly skipCause?: SkipCause;
}

/** Why the run stopped while the loop was open, if it did. */
export type LoopStop = 'budget' | 'failed' | 'cancelled';

/** How an iteration ended, and why it did not pass. */
export interface IterationEnd {
  readonly outcome: LoopOutcome;
  readonly reasons: readonly string[];
}

/**
 * How iteration `iteration` of a loop ended, once each repeated task did: stopped for the budget →
 * `budget`; a repeated task failed or was skipped because something it needs failed (or the run
 * stopped on a failure) → `failed`; `until` holds →
 * `passed`; else `repeat`, or `exhausted` when that was the `max`-th. `undefined` for a run
 * cancelled (Ctrl-C): the iteration did not end, and a resume goes on with it. The reasons name
 * each blocked or failed task with why (a gate's failing parts, a person's rejection), else the
 * parts of `until` that are false.
 *
 * @example
 * iterationEnded(loop, 1, tasks, sources, undefined)
 * // { outcome: 'repeat', reasons: ["approve blocked: tasks.security.output.veto = 'SQL built from input'"] }
 */
export function iterationEnded(
  loop: ResolvedLoop,
  iteration: number,
  tasks: readonly LoopTaskView[],
  sources: WhenSources,
  stopped: LoopStop | undefined,
): IterationEnd | undefined {
  if (stopped === 'cancelled') return undefined;
  const reasons: string[] = [];
  const broken = (t: LoopTaskView): boolean =>
    t.state === 'failed' || t.state === 'cancelled' || (t.state === 'skipped' && t.skipCause === 'upstream');
  for (const t of tasks)
    if (t.state === 'blocked' || broken(t)) reasons.push(`${t.id} ${t.state}: ${t.reason ?? t.state}`);
  if (stopped === 'budget') return { outcome: 'budget', reasons };
  // Nothing an iteration does mends a failure: running the group again would fail the same way.
  const failed = tasks.some(broken);
  if (stopped === 'failed' || failed) return { outcome: 'failed', reasons };
  const resolve = resolverFor(sources);
  if (evaluateCondition(loop.until, resolve)) return { outcome: 'passed', reasons: [] };
  if (reasons.length === 0) reasons.push(...explainFalse(loop.until, resolve).map((p) => `until: ${p}`));
  return { outcome: iteration >= loop.max ? 'exhausted' : 'repeat', reasons };
}

/** The longest part of one task's output that goes into the feedback, characters. */
const MAX_OUTPUT_CHARS = 4000;

/**
 * The combined feedback iteration `iteration` (from the second on) gets: why the one before did
 * not pass, and what the `feedback` tasks produced in it — for agents in the prompt, for scripts in
 * `WEFT_FEEDBACK`.
 *
 * @example
 * loopFeedback(loop, ids, 2, ['approve blocked: tasks.ui.output.score = 4 < 6'], previous)
 * // 'Iteration 1 of the loop did not pass (until: tasks.approve.passed). …'
 */
export function loopFeedback(
  loop: ResolvedLoop,
  idOf: (i: number) => string,
  iteration: number,
  reasons: readonly string[],
  previous: ReadonlyMap<string, PreviousResult>,
): string {
  const lines = [
    `Iteration ${iteration - 1} of the loop did not pass (until: ${loop.untilSource}); this is iteration ${iteration} of at most ${loop.max}.`,
  ];
  if (reasons.length > 0) lines.push('Why it did not pass:', ...reasons.map((r) => `- ${r}`));
  const outputs = loop.feedback.flatMap((i) => {
    const id = idOf(i);
    const r = previous.get(id);
    if (r === undefined) return [];
    const shown = r.result?.output !== undefined ? JSON.stringify(r.result.output, null, 2) : r.result?.text;
    const text = shown ?? `(${r.state}${r.reason === undefined ? '' : `: ${r.reason}`})`;
    return [`--- ${id} ---`, text.length > MAX_OUTPUT_CHARS ? `${text.slice(0, MAX_OUTPUT_CHARS)}…` : text];
  });
  if (outputs.length > 0) lines.push('What the feedback tasks produced in that iteration:', ...outputs);
  lines.push('Address this feedback, then finish the task.');
  return lines.join('\n');
}
