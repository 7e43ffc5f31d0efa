import { evaluateCondition, type Value } from '../../plan/condition.js';
import type { ResolvedTask } from '../../plan/graph.js';
import type { CompiledPlan } from '../../plan/compile.js';
import type { TaskRecord } from '../run-state.js';

/** What a `when` condition may read of another task: its state and, once it ended, its result. */
export type TaskView = Pick<TaskRecord, 'state'> & Partial<Pick<TaskRecord, 'result'>>;

/** Where a `when` condition's references come from. */
export interface WhenSources {
  /** The plan's variables (`vars.NAME`). */
  readonly vars: Readonly<Record<string, Value>>;
  /** The environment (`env.NAME`). */
  readonly env?: Readonly<Record<string, string | undefined>> | undefined;
  /** Another task as it stands (`tasks.ID.field`), `undefined` when it has no record. */
  readonly task: (id: string) => TaskView | undefined;
}

/** A task's field as a condition sees it (`status`, `succeeded`, …, `exitCode`, `text`, `output`). */
export function taskField(r: TaskView, field: string | undefined): Value {
  switch (field ?? 'status') {
    case 'status':
      return r.state;
    case 'succeeded':
    case 'failed':
    case 'skipped':
    case 'cancelled':
      return r.state === field;
    case 'exitCode':
      return r.result?.exitCode ?? null;
    case 'text':
      return r.result?.text;
    case 'output': {
      const out = r.result?.output;
      return typeof out === 'object' && out !== null ? JSON.stringify(out) : (out as Value);
    }
    default:
      return undefined;
  }
}

/**
 * The gate on a task whose dependencies are done: `undefined` lets it run, a string skips it with
 * that reason (its `when` is false). The engine asks it with the run's state; `weft estimate`
 * with {@link assumedSuccess} — one function, so a plan is gated the same way in both.
 *
 * @example
 * whenGate(task, { vars: plan.vars, env: process.env, task: (id) => state.tasks.get(id) });
 */
export function whenGate(task: ResolvedTask, sources: WhenSources): string | undefined {
  if (task.when === undefined) return undefined;
  const resolve = (path: readonly string[]): Value => {
    const [root, name, field] = path;
    if (root === 'vars') return sources.vars[name ?? ''];
    if (root === 'env') return sources.env?.[name ?? ''];
    const r = sources.task(name ?? '');
    return r === undefined ? undefined : taskField(r, field);
  };
  return evaluateCondition(task.when, resolve) ? undefined : `condition \`${task.whenSource}\` is false`;
}

const SUCCEEDED: TaskView = { state: 'succeeded' };

/** Before a run: every task is assumed to succeed (with no result yet). */
export const assumedSuccess = (): TaskView => SUCCEEDED;

/**
 * The gate `weft estimate` (and the set-up check before a run) applies: vars and `env` are known,
 * every other task is assumed to succeed.
 */
export function staticGate(
  plan: CompiledPlan,
  env?: Readonly<Record<string, string | undefined>>,
): (task: number) => string | undefined {
  const sources: WhenSources = { vars: plan.vars, env, task: assumedSuccess };
  return (i) => {
    const task = plan.graph.tasks[i];
    return task === undefined ? undefined : whenGate(task, sources);
  };
}
