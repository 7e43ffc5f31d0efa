import type { TaskSpec } from './plan-schema.js';
import { issueAt, type RawIssue } from './schema-issues.js';
import { closest } from '../suggest.js';

// Dependency problems: a `needs`, `after` or `verifies` entry naming no task or the task itself,
// and cycles, each reported once at the entry that closes it.

const DEPENDENCY_FIELDS = ['needs', 'after', 'verifies'] as const;

/** A task's `needs` and `after` that name itself or no task in `ids`. */
export function dependencyIssues(
  t: {
    readonly id: string;
    readonly needs?: readonly unknown[];
    readonly after?: readonly unknown[];
    readonly verifies?: readonly unknown[];
  },
  i: number,
  ids: ReadonlyMap<string, number>,
  issues: RawIssue[],
): void {
  // Loops, not forEach: this runs for every task of every plan, and most have no problem.
  for (const key of DEPENDENCY_FIELDS) {
    const list = t[key];
    if (list === undefined) continue;
    for (let k = 0; k < list.length; k++) {
      const dep = list[k];
      if (typeof dep !== 'string') continue; // the schema says so
      if (dep === t.id)
        issues.push({
          ...issueAt(i, t.id, key, [k]),
          message: `"${t.id}" depends on itself`,
          fix: `remove "${dep}" from ${key}`,
        });
      else if (!ids.has(dep)) {
        const hint = closest(dep, ids.keys());
        issues.push({
          ...issueAt(i, t.id, key, [k]),
          message: `unknown task "${dep}"`,
          fix: hint === undefined ? `use the id of a task in this plan` : `did you mean "${hint}"?`,
        });
      }
    }
  }
}

/** {@link dependencyIssues} on a document the schema rejected: every task with a string id and lists for needs/after. */
export function rawDependencyIssues(raw: unknown): RawIssue[] {
  const tasks = (raw as { tasks?: unknown } | null)?.tasks;
  if (!Array.isArray(tasks)) return [];
  const shaped = tasks.map((t: unknown) => {
    const o = (typeof t === 'object' && t !== null ? t : {}) as { id?: unknown; needs?: unknown; after?: unknown };
    const list = (v: unknown): unknown[] | undefined => (Array.isArray(v) ? v : undefined);
    return typeof o.id === 'string' ? { id: o.id, needs: list(o.needs), after: list(o.after) } : undefined;
  });
  const ids = new Map<string, number>();
  shaped.forEach((t, i) => {
    if (t !== undefined && !ids.has(t.id)) ids.set(t.id, i);
  });
  const issues: RawIssue[] = [];
  // Cycles among the tasks with an id (the others stand in as no task), reported with the rest.
  const cycles = cycleIssues(shaped.map((t) => t ?? { id: '' }) as TaskSpec[]);
  shaped.forEach((t, i) => {
    if (t !== undefined)
      dependencyIssues(
        {
          id: t.id,
          ...(t.needs === undefined ? {} : { needs: t.needs }),
          ...(t.after === undefined ? {} : { after: t.after }),
        },
        i,
        ids,
        issues,
      );
  });
  return [...issues, ...cycles];
}

/**
 * Finds dependency cycles and reports each as `a → b → c → a`, once per dependency entry that
 * closes one: one wrong entry in a dense plan closes many cycles (100,000 tasks: a dozen through
 * one `needs`), and the user needs one line that points at it — the shortest, with how many more.
 */
export function cycleIssues(tasks: readonly TaskSpec[]): RawIssue[] {
  const index = new Map(tasks.map((t, i) => [t.id, i]));
  // A task that needs itself is reported by dependencyIssues, as such. (Loops, not spreads: this
  // runs on every plan with a problem, 100k tasks too.)
  const edges = tasks.map((t, i) => {
    const out: number[] = [];
    for (const list of [t.needs, t.after, t.verifies])
      for (const d of list ?? []) {
        const j = index.get(d);
        if (j !== undefined && j !== i) out.push(j);
      }
    return out;
  });
  const state = new Uint8Array(tasks.length); // 0 new, 1 on stack, 2 done
  const stack: number[] = [];
  /** By the closing entry's path: the shortest cycle through it, and how many were found. */
  const found = new Map<string, { issue: RawIssue; length: number; count: number }>();
  const visit = (start: number): void => {
    // Iterative DFS: plans can be deep chains.
    const iters: number[] = [0];
    stack.push(start);
    state[start] = 1;
    while (stack.length > 0) {
      const v = stack[stack.length - 1] as number;
      const k = iters[iters.length - 1] as number;
      const next = edges[v]?.[k];
      if (next === undefined) {
        state[v] = 2;
        stack.pop();
        iters.pop();
        continue;
      }
      iters[iters.length - 1] = k + 1;
      if (state[next] === 1) {
        const cycle = stack.slice(stack.indexOf(next)).map((i) => tasks[i]?.id ?? '?');
        // Edges point from a task to what it needs; show the flow of work instead (needed → needer),
        // starting from the task the issue names.
        const flow = [cycle[0], ...cycle.slice(1).reverse()];
        const first = tasks[next];
        // Point at the entry that closes the cycle: the dependency of `first` on the task above it.
        const closing = cycle[1] ?? '';
        const key = (first?.needs ?? []).includes(closing)
          ? 'needs'
          : (first?.after ?? []).includes(closing)
            ? 'after'
            : 'verifies';
        const k = Math.max(0, (first?.[key] ?? []).indexOf(closing));
        const at = `${next}.${key}.${k}`;
        const seen = found.get(at);
        if (seen !== undefined) seen.count++;
        if (seen === undefined || cycle.length < seen.length) {
          const issue: RawIssue = {
            path: ['tasks', next, key, k],
            task: first?.id ?? '?',
            field: `${key}[${k}]`,
            message: `dependency cycle ${[...flow, flow[0]].join(' → ')}`,
            fix: 'remove one of these dependencies',
          };
          found.set(at, { issue, length: cycle.length, count: seen?.count ?? 1 });
        }
      } else if (state[next] === 0) {
        state[next] = 1;
        stack.push(next);
        iters.push(0);
      }
    }
  };
  for (let i = 0; i < tasks.length; i++) if (state[i] === 0) visit(i);
  return [...found.values()].map(({ issue, count }) =>
    count === 1
      ? issue
      : { ...issue, message: `${issue.message} (the shortest of ${count} found through ${issue.field})` },
  );
}
