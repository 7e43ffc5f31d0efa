import { evaluateCondition, resolverOf, type TaskFacts, type Value } from '../../plan/condition.js';
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

/** What a condition sees of a task (see {@link resolverOf}): its state and, once it ended, its result. */
export function taskFacts(r: TaskView): TaskFacts {
  const result = r.result;
  return {
    state: r.state,
    exitCode: result?.exitCode ?? null,
    ...(result?.text === undefined ? {} : { text: result.text }),
    output: result?.output,
  };
}

/** How `when`, `gate` and a loop's `until` look names up in `sources` (see {@link resolverOf}). */
export function resolverFor(sources: WhenSources): ReturnType<typeof resolverOf> {
  return resolverOf({
    vars: sources.vars,
    ...(sources.env === undefined ? {} : { env: sources.env }),
    task: (id) => {
      const r = sources.task(id);
      return r === undefined ? undefined : taskFacts(r);
    },
  });
}

/**
 * The gate on a task whose dependencies are done: `undefined` lets it run, a string skips it with
 * that reason (its `when` is false). The engine asks it with the run's state; `weft estimate`
 * with {@link assumedSuccess} — one function, so a plan is gated the same way in both. Names are
 * looked up by condition.ts ({@link resolverOf}): own properties only, outputs as data.
 *
 * @example
 * whenGate(task, { vars: plan.vars, env: process.env, task: (id) => state.tasks.get(id) });
 */
export function whenGate(task: ResolvedTask, sources: WhenSources): string | undefined {
  if (task.when === undefined) return undefined;
  const resolve = resolverFor(sources);
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
