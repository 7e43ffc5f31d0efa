import type { Graph } from '../core/plan/graph.js';
import type { Executor } from '../core/ports/executor.js';
import type { TracedTaskInfo } from './run-tracer.js';

/**
 * Each task's executor, title and model by id, for a run's spans. The model is the one an attempt
 * asks for: the task's `model`, else the one its executor is set up with (`modelFor`: a model set
 * in weft.config.yaml, or an API's default), so a task without `model:` is traced with it too.
 */
export function tracedTaskInfo(
  graph: Graph,
  executors?: ReadonlyMap<string, Executor>,
): (id: string) => TracedTaskInfo | undefined {
  // A task a check verifies may be sent back a fix after it succeeded.
  const reopenable = new Set(graph.tasks.flatMap((t) => t.verifies ?? []));
  return (id) => {
    const t = graph.tasks[graph.index.get(id) ?? -1];
    if (t === undefined) return undefined;
    const model = t.model ?? executors?.get(t.executor)?.modelFor?.(t);
    return {
      executor: t.executor,
      title: t.title,
      ...(model === undefined ? {} : { model }),
      ...(reopenable.has(id) ? { reopenable: true } : {}),
    };
  };
}
