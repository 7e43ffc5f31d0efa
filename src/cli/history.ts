import type { RunState } from '../core/run/run-state.js';
import type { Store } from '../core/ports/store.js';
import { compilePlan, type CompileOptions, type CompiledPlan } from '../core/plan/compile.js';

/** How many recent durations a key keeps; the median of them is the learned estimate. */
const WINDOW = 15;

/** `review-3` and `review_12` are the same kind of task as `review`. */
export function taskKind(id: string): string {
  return id.replace(/[-_.]?\d+$/, '') || id;
}

const taskKey = (plan: string, id: string): string => `duration:task:${plan}:${id}`;
const kindKey = (executor: string, id: string): string => `duration:kind:${executor}:${taskKind(id)}`;

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** After a run: each succeeded, really-run task's duration joins its task's and its kind's history. */
export async function recordDurations(store: Store, plan: string, state: RunState, executorOf: (id: string) => string | undefined): Promise<void> {
  for (const r of state.tasks.values()) {
    const a = r.attempts.at(-1);
    const executor = executorOf(r.id);
    if (r.state !== 'succeeded' || r.result?.cached === true || a?.endedAt === undefined || executor === undefined) continue;
    const ms = a.endedAt - a.startedAt;
    for (const key of [taskKey(plan, r.id), kindKey(executor, r.id)]) {
      const previous = ((await store.getCache(key)) as number[] | undefined) ?? [];
      await store.putCache(key, [...previous, ms].slice(-WINDOW));
    }
  }
}

/**
 * Learned durations for a plan's tasks: the running median of the same task in earlier runs of
 * the plan, else of tasks of the same kind on the same executor. Tasks never measured are absent.
 */
export async function loadHistory(store: Store, plan: string, tasks: readonly { readonly id: string; readonly executor: string }[]): Promise<Map<string, number>> {
  const history = new Map<string, number>();
  for (const t of tasks) {
    const samples = ((await store.getCache(taskKey(plan, t.id))) as number[] | undefined) ?? ((await store.getCache(kindKey(t.executor, t.id))) as number[] | undefined);
    if (samples !== undefined && samples.length > 0) history.set(t.id, Math.round(median(samples)));
  }
  return history;
}

/** The plan again, with durations measured in earlier runs in place of estimates. */
export async function withHistory(store: Store, compiled: CompiledPlan, options: CompileOptions): Promise<CompiledPlan> {
  const history = await loadHistory(store, compiled.name, compiled.graph.tasks);
  return history.size === 0 ? compiled : compilePlan(compiled.spec, { ...options, history });
}
