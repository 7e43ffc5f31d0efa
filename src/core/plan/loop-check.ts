import { ConditionSyntaxError, parseCondition, referencedTasks, type Expr } from './condition.js';
import { checkCondition, type ConditionNames } from './condition-check.js';
import type { Graph } from './graph.js';
import type { LoopSpec, PlanSpec } from './plan-schema.js';
import type { RawIssue } from './schema-issues.js';
import { closest } from '../suggest.js';

/** A plan's `loop:` resolved against its graph: task indices instead of ids. */
export interface ResolvedLoop {
  /** The tasks each iteration runs again, by index, in the order `repeat` names them. */
  readonly repeat: readonly number[];
  /** The parsed `until` condition. */
  readonly until: Expr;
  /** `until` as written, for messages. */
  readonly untilSource: string;
  /** Most iterations. */
  readonly max: number;
  /** The tasks whose outputs become the next iteration's feedback, by index. */
  readonly feedback: readonly number[];
}

/**
 * Checks a plan's `loop:` before its graph is built: `repeat` and `feedback` name tasks of the plan
 * (did-you-mean), `feedback` ⊆ `repeat`, no task that expands the plan is repeated, and `until`
 * parses and reads only known names of tasks in `repeat`.
 *
 * @example
 * loopIssues({ repeat: ['code', 'aprove'], until: 'tasks.approve.passed', max: 3 }, ids, names)
 * // [{ field: 'loop.repeat[1]', message: 'loop.repeat names no task "aprove"', fix: 'did you mean "approve"?' }]
 */
export function loopIssues(
  loop: LoopSpec,
  spec: PlanSpec,
  ids: ReadonlyMap<string, number>,
  names: ConditionNames,
): RawIssue[] {
  const issues: RawIssue[] = [];
  const at = (field: 'repeat' | 'feedback' | 'until', k?: number) => ({
    path: k === undefined ? ['loop', field] : ['loop', field, k],
    field: k === undefined ? `loop.${field}` : `loop.${field}[${k}]`,
  });
  const unknown = (field: 'repeat' | 'feedback', id: string, k: number): void => {
    const hint = closest(id, ids.keys());
    issues.push({
      ...at(field, k),
      message: `loop.${field} names no task "${id}"`,
      fix: hint === undefined ? 'use the id of a task in this plan' : `did you mean "${hint}"?`,
    });
  };
  const repeat = new Set(loop.repeat);
  loop.repeat.forEach((id, k) => {
    const i = ids.get(id);
    if (i === undefined) return unknown('repeat', id, k);
    if (spec.tasks[i]?.expands === true)
      issues.push({
        ...at('repeat', k),
        message: `task "${id}" expands the plan, so it cannot be repeated`,
        fix: `take "${id}" out of loop.repeat, or make it a task that does not expand`,
      });
  });
  (loop.feedback ?? []).forEach((id, k) => {
    if (!ids.has(id)) return unknown('feedback', id, k);
    if (!repeat.has(id))
      issues.push({
        ...at('feedback', k),
        message: `loop.feedback names "${id}", which is not in loop.repeat`,
        fix: `add "${id}" to loop.repeat, or take it out of loop.feedback (feedback comes from the repeated tasks)`,
      });
  });
  let until: Expr;
  try {
    until = parseCondition(loop.until);
  } catch (error) {
    if (!(error instanceof ConditionSyntaxError)) throw error;
    issues.push({
      ...at('until'),
      message: `bad condition at character ${error.position + 1}: ${error.message}`,
      fix: 'write e.g. tasks.approve.passed',
    });
    return issues;
  }
  for (const p of checkCondition(until, names)) issues.push({ ...at('until'), ...p });
  for (const id of new Set(referencedTasks(until)))
    if (ids.has(id) && !repeat.has(id))
      issues.push({
        ...at('until'),
        message: `loop.until reads task "${id}", which is not in loop.repeat`,
        fix: `read a task the loop repeats (e.g. its gate), or add "${id}" to loop.repeat`,
      });
  return issues;
}

/**
 * Resolves a checked `loop:` against the built graph, and refuses a group that is not closed: a
 * task outside `repeat` that depends on a repeated task while a repeated task depends on it would
 * have to run again each iteration too.
 */
export function resolveLoop(loop: LoopSpec, graph: Graph): { loop?: ResolvedLoop; issues: RawIssue[] } {
  const repeat = loop.repeat.map((id) => graph.index.get(id) as number);
  const inGroup = new Set(repeat);
  const reach = (next: (i: number) => readonly number[]): Set<number> => {
    const seen = new Set<number>();
    const stack = [...repeat];
    while (stack.length > 0)
      for (const n of next(stack.pop() as number))
        if (!seen.has(n)) {
          seen.add(n);
          stack.push(n);
        }
    return seen;
  };
  const after = reach((i) => graph.dependents[i] ?? []);
  const before = reach((i) => [...(graph.deps[i] ?? []), ...(graph.softDeps[i] ?? [])]);
  const issues: RawIssue[] = [];
  for (const i of after) {
    if (inGroup.has(i) || !before.has(i)) continue;
    const id = graph.tasks[i]?.id ?? '';
    issues.push({
      path: ['loop', 'repeat'],
      field: 'loop.repeat',
      message: `task "${id}" runs between repeated tasks (it depends on one, and one depends on it) but is not repeated`,
      fix: `add "${id}" to loop.repeat`,
    });
  }
  if (issues.length > 0) return { issues };
  const until = parseCondition(loop.until);
  const feedback = (loop.feedback ?? []).map((id) => graph.index.get(id) as number);
  return { loop: { repeat, until, untilSource: loop.until, max: loop.max, feedback }, issues };
}

/**
 * How long one iteration of a loop takes at the least: the longest chain of estimates through its
 * repeated tasks (what `weft estimate` adds for each further iteration), ms.
 */
export function iterationMs(loop: ResolvedLoop, graph: Graph): number {
  const group = new Set(loop.repeat);
  const ends = new Map<number, number>();
  for (const i of graph.topo) {
    if (!group.has(i)) continue;
    const before = [...(graph.deps[i] ?? []), ...(graph.softDeps[i] ?? [])].filter((d) => group.has(d));
    const start = Math.max(0, ...before.map((d) => ends.get(d) ?? 0));
    ends.set(i, start + (graph.duration[i] ?? 0)); // the estimate, or the default the schedule assumes
  }
  return Math.max(0, ...ends.values());
}
