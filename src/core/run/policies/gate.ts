import { evaluateCondition } from '../../plan/condition.js';
import { explainFalse } from '../../plan/condition-explain.js';
import type { ResolvedTask } from '../../plan/graph.js';
import type { TaskOutcome } from '../../ports/executor.js';
import { resolverFor, type WhenSources } from './when.js';

/** What a gate decides: pass (its dependents may run) or block, naming the failing parts with their values. */
export type GateDecision =
  { readonly kind: 'pass' } | { readonly kind: 'block'; readonly reason: string; readonly parts: readonly string[] };

/**
 * Decides a gate (a task with `gate:`) once the tasks it reads have ended: its condition holds →
 * pass; else block, with each failing part and the values it read, e.g.
 * `tasks.ui.output.score = 4 < 6; tasks.security.output.veto = 'SQL built from input'`. Reads names
 * as `when` does ({@link whenGate}); the decision is journaled, so a resume never decides again.
 *
 * @example
 * gateDecision(task, { vars: {}, task: (id) => state.tasks.get(id) })
 * // { kind: 'block', reason: 'tasks.ui.output.score = 4 < 6', parts: ['tasks.ui.output.score = 4 < 6'] }
 */
export function gateDecision(task: ResolvedTask, sources: WhenSources): GateDecision {
  if (task.gate === undefined) return { kind: 'pass' };
  const resolve = resolverFor(sources);
  if (evaluateCondition(task.gate, resolve)) return { kind: 'pass' };
  const parts = explainFalse(task.gate, resolve);
  return { kind: 'block', reason: parts.join('; '), parts };
}

/**
 * A gate's attempt as the engine completes it: it took no time, and either passed (a success with no
 * output) or carries why it blocked. No process ran, so the outcome has no process times.
 */
export function gateEnded(
  task: ResolvedTask,
  sources: WhenSources,
): { outcome: TaskOutcome; blocked?: { reason: string; parts: readonly string[] } } {
  const d = gateDecision(task, sources);
  const outcome: TaskOutcome = { ok: true, result: {} };
  return d.kind === 'pass' ? { outcome } : { outcome, blocked: { reason: d.reason, parts: d.parts } };
}
