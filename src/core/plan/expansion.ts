import type { PlanSpec, TaskSpec } from './plan-schema.js';

/**
 * Splices tasks a running task produced (its output is a sub-plan) into the plan: the new tasks
 * are appended (existing tasks keep their positions), and whatever depended on the expanding task
 * now also waits for the new tasks nothing else in the sub-plan waits for (its sinks).
 */
export function spliceExpansion(spec: PlanSpec, by: string, added: readonly TaskSpec[]): PlanSpec {
  const addedIds = new Set(added.map((t) => t.id));
  const inner = new Set(
    added.flatMap((t) => [...(t.needs ?? []), ...(t.after ?? [])]).filter((id) => addedIds.has(id)),
  );
  const sinks = added.map((t) => t.id).filter((id) => !inner.has(id));
  const tasks = spec.tasks.map((t) =>
    (t.needs ?? []).includes(by)
      ? { ...t, needs: [...(t.needs ?? []), ...sinks.filter((s) => !(t.needs ?? []).includes(s))] }
      : (t.after ?? []).includes(by)
        ? { ...t, after: [...(t.after ?? []), ...sinks] }
        : t,
  );
  return { ...spec, tasks: [...tasks, ...added] };
}

/**
 * Reads a sub-plan out of a task's result: `{ tasks: [...] }` or a bare task list, from its
 * structured output or, when it has none (an agent or LLM task without an `outputSchema`), from its
 * text if that is JSON (a code fence around it is fine).
 */
export function expansionOf(output: unknown, text?: string): unknown[] | undefined {
  const value = output ?? (text === undefined ? undefined : jsonText(text));
  if (Array.isArray(value)) return value;
  const tasks = (value as { tasks?: unknown } | null | undefined)?.tasks;
  return Array.isArray(tasks) ? tasks : undefined;
}

/** Parses JSON an agent wrote as text (a ```json fence allowed); `undefined` when it is not JSON. */
export function jsonText(text: string): unknown {
  try {
    return JSON.parse(text.trim().replace(/^```(?:json)?\s*|\s*```$/g, ''));
  } catch {
    return undefined;
  }
}
