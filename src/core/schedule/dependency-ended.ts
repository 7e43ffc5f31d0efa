import type { Graph } from '../plan/graph.js';
import { S_BLOCKED, S_CANCELLED, S_FAILED, S_SKIPPED, S_SUCCEEDED } from './state-codes.js';
import type { SkipCause } from './task-state.js';

/**
 * What a pending task makes of one dependency's end: `done` counts it as met; `doomed` counts it
 * too, but the task is skipped once all have ended (a hard dependency skipped by a condition);
 * `{reason, cause}` skips the task now.
 */
export type DependencyEnd = 'done' | 'doomed' | { readonly reason: string; readonly cause: SkipCause };

/**
 * How task `to` takes the end of its dependency `from`, which ended in state code `state` (skip
 * code `skip`): a condition's skip passes down as a condition (to a hard dependent: doomed), a
 * blocked gate's as blocked, a failure, cancellation or other skip as upstream — except for a
 * check that `to` waits on only for its verdict (see Graph.verdictDeps), which lets it go however it ends.
 */
export function dependencyEnded(graph: Graph, from: number, to: number, state: number, skip: number): DependencyEnd {
  if (state === S_SKIPPED && skip === 1) return (graph.deps[to] ?? []).includes(from) ? 'doomed' : 'done';
  if (state === S_SUCCEEDED || (graph.verdictDeps[to]?.includes(from) ?? false)) return 'done';
  const id = graph.tasks[from]?.id;
  if (state === S_BLOCKED || (state === S_SKIPPED && skip === 3)) {
    // Behind a blocked gate: not a failure, the run ends blocked.
    return { reason: `dependency "${id}" was ${state === S_BLOCKED ? 'blocked' : 'skipped'}`, cause: 'blocked' };
  }
  const what = state === S_FAILED ? 'failed' : state === S_CANCELLED ? 'was cancelled' : 'was skipped';
  return { reason: `dependency "${id}" ${what}`, cause: 'upstream' };
}
