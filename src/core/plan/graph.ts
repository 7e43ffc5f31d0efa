import type { Expr } from './condition.js';
import { writeScopesOverlap, writesFromPlanFolder } from './glob-overlap.js';
import type { BackoffSpec, PriorityClass, TaskSpec } from './plan-schema.js';
import type { TaskContract } from './contracts.js';

/** A task with the plan's defaults applied and durations in milliseconds. */
export interface ResolvedTask extends Omit<
  TaskSpec,
  'estimate' | 'timeout' | 'stallAfter' | 'backoff' | 'when' | 'needs' | 'after' | 'writes' | 'env' | 'uses' | 'gate'
> {
  /** The executor that runs it (`defaults.executor`, else `shell`, when the task names none). */
  readonly executor: string;
  /** Title shown in progress and reports (the id when none is given). */
  readonly title: string;
  /** Tasks that must succeed before it starts. */
  readonly needs: readonly string[];
  /** Tasks it waits for if they run; one skipped does not skip it. */
  readonly after: readonly string[];
  /** Higher starts first among ready tasks with equal critical path. */
  readonly priority: number;
  /** Its priority class (`class:`): ready tasks start by class first; a P0 preempts lower classes. */
  readonly class: PriorityClass;
  /** Further attempts after a failure. */
  readonly retries: number;
  /** Estimate in ms; `undefined` when neither the task, the defaults nor history gave one. */
  readonly estimateMs: number | undefined;
  /** How long an attempt may run, ms; `undefined`: no limit. */
  readonly timeoutMs: number | undefined;
  /** Watchdog: no progress for this long, ms, and the attempt is stopped as stalled; `undefined`: not watched. */
  readonly stallAfterMs?: number | undefined;
  /** Delays between attempts, ms. */
  readonly backoff: Required<Pick<BackoffSpec, 'factor' | 'jitter'>> & {
    readonly initialMs: number;
    readonly maxMs: number;
  };
  /** The parsed `when` condition; `undefined`: it always runs. */
  readonly when: Expr | undefined;
  /** The `when` condition as written, for messages. */
  readonly whenSource: string | undefined;
  /** A gate's parsed condition (`gate:`): the task runs nothing, it passes or blocks. */
  readonly gate?: Expr | undefined;
  /** The gate's condition as written, for messages. */
  readonly gateSource?: string | undefined;
  /** Pool units it holds while it runs. */
  readonly uses: Readonly<Record<string, number>>;
  /** Globs of the files it may write; overlapping scopes never run at once. */
  readonly writes: readonly string[];
  /** Environment variables added for it. */
  readonly env: Readonly<Record<string, string>>;
  /** The plan's contracts it provides or consumes; absent when it is on no side of any. */
  readonly contracts?: readonly TaskContract[];
}

/** A named capacity from the plan's `pools`, e.g. `gpu: 1`. */
export interface Pool {
  /** The pool's name, as tasks' `uses` name it. */
  readonly name: string;
  /** Units tasks may hold at once. */
  readonly capacity: number;
}

/**
 * The validated, indexed task graph the scheduler works on. Arrays are indexed by task index
 * (declaration order), so the hot paths never touch strings.
 */
export interface Graph {
  /** The plan's name. */
  readonly name: string;
  /** The tasks, in declaration order. */
  readonly tasks: readonly ResolvedTask[];
  /** Task id → task index. */
  readonly index: ReadonlyMap<string, number>;
  /** Hard dependencies (`needs`) per task. */
  readonly deps: readonly (readonly number[])[];
  /**
   * Soft dependencies per task: its `after`, and the checks it waits for the verdict of
   * ({@link Graph.verdictDeps}).
   */
  readonly softDeps: readonly (readonly number[])[];
  /**
   * Per task: the checks (tasks with `verifies`) it waits for although it does not need them,
   * because it needs a task they verify: it starts only once they have ended, so a task whose fixes
   * for a check run out fails before its dependents start (they are then skipped). How a check
   * ends does not decide whether it runs; how the task it needs ends does. A subset of `softDeps`.
   */
  readonly verdictDeps: readonly (readonly number[])[];
  /** Tasks that depend (hard or soft) on each task. */
  readonly dependents: readonly (readonly number[])[];
  /** Duration used for ordering and simulation, ms (the estimate, or the default). */
  readonly duration: Float64Array;
  /** Longest path from the start of each task to the end of the graph, ms (its "bottom level"). */
  readonly rank: Float64Array;
  /** The plan's pools; `uses` refers to them by index. */
  readonly pools: readonly Pool[];
  /** Per task: [pool index, units] pairs. */
  readonly uses: readonly (readonly (readonly [number, number])[])[];
  /** Per task: the tasks whose write scopes overlap its own. */
  readonly conflicts: readonly (readonly number[])[];
  /** A topological order of all tasks. */
  readonly topo: readonly number[];
  /** The longest chain of dependencies, first task first. */
  readonly criticalPath: readonly number[];
  /** Its length, ms: no schedule can end sooner. */
  readonly criticalPathMs: number;
  /** The sum of all durations, ms. */
  readonly totalWorkMs: number;
}

/** Duration assumed for a task with no estimate, for ordering only. */
export const DEFAULT_ESTIMATE_MS = 60_000;

/** What {@link buildGraph} builds the graph from: the plan's resolved tasks and its pools. */
export interface GraphInput {
  /** The plan's name. */
  readonly name: string;
  /** The resolved tasks, in declaration order. */
  readonly tasks: readonly ResolvedTask[];
  /** The plan's pools. */
  readonly pools: readonly Pool[];
  /** Task id → index, when the caller has it already (`compilePlan`). @default made here */
  readonly index?: ReadonlyMap<string, number>;
}

/**
 * Builds the indexed graph. Expects a validated plan (known ids, no cycles); see `compilePlan`.
 */
export function buildGraph(input: GraphInput): Graph {
  const graph = tryBuildGraph(input);
  if (graph === undefined) throw new Error('buildGraph: the graph has a cycle (validate the plan first)');
  return graph;
}

/** Like {@link buildGraph}, but `undefined` when the dependencies form a cycle. */
export function tryBuildGraph(input: GraphInput): Graph | undefined {
  const { tasks } = input;
  const n = tasks.length;
  const index = input.index ?? idIndex(tasks);
  const lookup = (id: string): number => {
    const i = index.get(id);
    if (i === undefined) throw new Error(`buildGraph: unknown task "${id}" (validate the plan first)`);
    return i;
  };
  const deps = tasks.map((t) => distinct(t.needs.map(lookup)));
  const softDeps = tasks.map((t, i) =>
    t.after.length === 0 ? [] : distinct(t.after.map(lookup)).filter((d) => !(deps[i] ?? []).includes(d)),
  );
  const dependents: number[][] = tasks.map(() => []);
  for (let i = 0; i < n; i++) {
    for (const d of deps[i] ?? []) dependents[d]?.push(i);
    for (const d of softDeps[i] ?? []) dependents[d]?.push(i);
  }
  const verdictDeps = verdictWaits(tasks, index, deps, softDeps, dependents);
  const poolIndex = new Map(input.pools.map((p, i) => [p.name, i]));
  const uses = tasks.map((t) =>
    Object.entries(t.uses).map(([name, units]) => {
      const p = poolIndex.get(name);
      if (p === undefined) throw new Error(`buildGraph: unknown pool "${name}" (validate the plan first)`);
      return [p, units] as const;
    }),
  );
  const duration = new Float64Array(n);
  tasks.forEach((t, i) => (duration[i] = t.estimateMs ?? DEFAULT_ESTIMATE_MS));

  const topo = topologicalOrder(n, deps, softDeps, dependents);
  if (topo === undefined) return undefined;
  const rank = new Float64Array(n);
  const next = new Int32Array(n).fill(-1);
  for (let k = topo.length - 1; k >= 0; k--) {
    const i = topo[k] as number;
    let best = 0;
    for (const d of dependents[i] ?? []) {
      const r = rank[d] as number;
      if (r > best) {
        best = r;
        next[i] = d;
      }
    }
    rank[i] = (duration[i] as number) + best;
  }
  let start = -1;
  let criticalPathMs = 0;
  for (let i = 0; i < n; i++) {
    if ((deps[i]?.length ?? 0) + (softDeps[i]?.length ?? 0) === 0 && (rank[i] as number) > criticalPathMs) {
      criticalPathMs = rank[i] as number;
      start = i;
    }
  }
  const criticalPath: number[] = [];
  for (let i = start; i >= 0; i = next[i] as number) criticalPath.push(i);
  let totalWorkMs = 0;
  for (let i = 0; i < n; i++) totalWorkMs += duration[i] as number;

  return {
    name: input.name,
    tasks,
    index,
    deps,
    softDeps,
    verdictDeps,
    dependents,
    duration,
    rank,
    pools: input.pools,
    uses,
    conflicts: writeConflicts(tasks),
    topo,
    criticalPath,
    criticalPathMs,
    totalWorkMs,
  };
}

/**
 * `list` without repeats, first ones kept, in order: `list` itself when it has none. A task lists a
 * few dependencies, seldom twice: a Set per task (100,000 of them in a large plan) would be spent
 * on finding nothing.
 */
export function distinct(list: number[]): number[] {
  if (list.length > 16) return [...new Set(list)];
  for (let k = 1; k < list.length; k++)
    if (list.lastIndexOf(list[k] as number, k - 1) !== -1) return [...new Set(list)];
  return list;
}

/** The indices of the tasks that `is` holds for (not a flatMap: that makes a list per task). */
function indicesWhere(tasks: readonly ResolvedTask[], is: (t: ResolvedTask) => boolean): number[] {
  const out: number[] = [];
  for (let i = 0; i < tasks.length; i++) if (is(tasks[i] as ResolvedTask)) out.push(i);
  return out;
}

function idIndex(tasks: readonly ResolvedTask[]): Map<string, number> {
  const index = new Map<string, number>();
  tasks.forEach((t, i) => index.set(t.id, i));
  return index;
}

/**
 * Adds, for every check C verifying a task V, the wait "D after C" for each other task D that
 * needs (or comes `after`) V — unless D is a check of V too, or C already waits on D (D comes
 * before C, so it cannot wait for C's verdict). Returns the added waits per task; `softDeps` and
 * `dependents` get them too, so ordering, simulation and the scheduler see them like any edge.
 */
function verdictWaits(
  tasks: readonly ResolvedTask[],
  index: ReadonlyMap<string, number>,
  deps: readonly (readonly number[])[],
  softDeps: number[][],
  dependents: number[][],
): number[][] {
  const waits: number[][] = tasks.map(() => []);
  const checks = indicesWhere(tasks, (t) => (t.verifies?.length ?? 0) > 0);
  if (checks.length === 0) return waits;
  /** Whether `to` can be reached from `from` along the edges so far (a wait to it would close a cycle). */
  const reaches = (from: number, to: number): boolean => {
    const seen = new Uint8Array(tasks.length);
    const stack = [from];
    for (let x = stack.pop(); x !== undefined; x = stack.pop()) {
      if (x === to) return true;
      for (const y of dependents[x] ?? [])
        if (seen[y] === 0) {
          seen[y] = 1;
          stack.push(y);
        }
    }
    return false;
  };
  for (const c of checks) {
    const verifies = tasks[c]?.verifies ?? [];
    for (const v of verifies.map((id) => index.get(id))) {
      if (v === undefined) continue;
      for (const d of [...(dependents[v] ?? [])]) {
        const own = deps[d]?.includes(c) === true || softDeps[d]?.includes(c) === true;
        if (d === c || own || tasks[d]?.verifies?.includes(tasks[v]?.id ?? '') === true || reaches(d, c)) continue;
        waits[d]?.push(c);
        softDeps[d]?.push(c);
        dependents[c]?.push(d);
      }
    }
  }
  return waits;
}

function topologicalOrder(
  n: number,
  deps: readonly (readonly number[])[],
  softDeps: readonly (readonly number[])[],
  dependents: readonly (readonly number[])[],
): number[] | undefined {
  const indegree = new Int32Array(n);
  for (let i = 0; i < n; i++) indegree[i] = (deps[i]?.length ?? 0) + (softDeps[i]?.length ?? 0);
  const order: number[] = [];
  for (let i = 0; i < n; i++) if (indegree[i] === 0) order.push(i);
  for (let k = 0; k < order.length; k++) {
    for (const d of dependents[order[k] as number] ?? []) {
      indegree[d] = (indegree[d] as number) - 1;
      if (indegree[d] === 0) order.push(d);
    }
  }
  return order.length === n ? order : undefined;
}

function writeConflicts(tasks: readonly ResolvedTask[]): number[][] {
  const conflicts: number[][] = tasks.map(() => []);
  const writers = indicesWhere(tasks, (t) => t.writes.length > 0);
  // Each writer's globs from the plan's folder once, not once per pair.
  const scopes = writers.map((i) => writesFromPlanFolder(tasks[i]?.writes ?? [], tasks[i]?.cwd));
  for (let a = 0; a < writers.length; a++) {
    for (let b = a + 1; b < writers.length; b++) {
      const i = writers[a] as number;
      const j = writers[b] as number;
      if (writeScopesOverlap(scopes[a] ?? [], scopes[b] ?? [])) {
        conflicts[i]?.push(j);
        conflicts[j]?.push(i);
      }
    }
  }
  return conflicts;
}

/** Ids of the tasks on a path of indices. */
export function pathIds(graph: Graph, path: readonly number[]): string[] {
  return path.map((i) => graph.tasks[i]?.id ?? String(i));
}
