import { searchDelayPlan } from './delay-search.js';
import type { Graph, ResolvedTask } from '../../plan/graph.js';
import { branchAndBound } from './list-branch-and-bound.js';
import { bottomLevels, ListSimulator, topLevels } from './list-simulator.js';
import { makespanLowerBound } from './makespan-lower-bound.js';
import { LocalSearch, rankByStart } from './local-search.js';
import { seededRandom } from './random.js';
import type { DispatchPlan } from '../scheduler.js';

/*
 * Why search: critical-path list scheduling is within a few percent of optimal on most graphs but
 * can be 20% off on some (Graham's anomalies: starting the longest chain first can starve the
 * workers later). Agent tasks run for minutes, so weft can afford to simulate thousands of orders
 * on the virtual clock before it starts anything.
 *
 * Any schedule the Scheduler can produce (one that never leaves a worker idle while a task it
 * could run is ready) is reproduced exactly when its tasks are ranked by start time. So the search
 * works on start orders and hands the winner to the Scheduler as `score`.
 *
 * Some graphs have no list schedule as short as the optimum: a worker has to idle on purpose. So,
 * where the best list schedule is not proven optimal, a second search looks for a schedule that
 * starts the tasks in a planned order and waits for the next one even with a worker free
 * (`delay-search.ts`); only one strictly shorter than the best list schedule is handed on, as a
 * `plan` the Scheduler follows until the run departs from it (then `score` takes over).
 */

export interface SearchOptions {
  /**
   * How many orders to simulate; the result is deterministic for a given `seed` and budget.
   * @default 500,000 / (tasks + edges + 100), between 50 and 1,000 (see {@link defaultIterations})
   */
  readonly iterations?: number;
  /** Seed of the random moves. @default 1 */
  readonly seed?: number;
  /**
   * Also stop after this many ms of `clock()`. Needs `clock`: the core never reads the wall clock.
   * With it, the result depends on the machine's speed.
   */
  readonly budgetMs?: number;
  /** A clock in ms, e.g. `performance.now`, for `budgetMs`. */
  readonly clock?: () => number;
  /** Plans with more tasks than this skip the search and keep plain critical-path order. @default 5000 */
  readonly maxTasks?: number;
  /** Durations to use instead of the graph's, ms. */
  readonly duration?: ArrayLike<number>;
  /**
   * Search states the exhaustive search of list schedules may visit after the local search, for
   * plans of up to 300 tasks without pools or write scopes. 0 turns it off.
   * @default 5,000
   */
  readonly exhaustiveNodes?: number;
  /**
   * Start orders the search for schedules that idle a worker on purpose may try, for plans
   * without pools or write scopes. 0 turns it off.
   * @default twice the default `iterations` up to 300 tasks (cheap there), else the same: about
   * as long again as the list search, ~18 ms of CPU for 1,000 tasks
   */
  readonly delayIterations?: number;
}

/** The order `searchOrder` found for a graph and M. */
export interface SearchResult {
  /** Priority per task for the Scheduler's (or `simulate`'s) `score` option: larger starts first. */
  readonly score: Float64Array;
  /**
   * A schedule that idles a worker on purpose and beats every list schedule found, for the
   * Scheduler's (or `simulate`'s) `plan` option, along with `score` for when the run departs from it.
   */
  readonly plan?: DispatchPlan;
  /** Makespan the Scheduler reaches with `score` (and `plan`, if any) on the virtual clock, ms. */
  readonly makespan: number;
  /** Which order won: `critical-path`, `fifo`, a list-scheduling rule's name, `search`, `exhaustive` or `planned`. */
  readonly strategy: string;
  /**
   * Whether no order can do better: `optimal` when the makespan equals the lower bound (no
   * schedule at all is shorter), `best-list-schedule` when the exhaustive search finished (no
   * schedule that keeps every worker busy while tasks are ready is shorter; only deliberately
   * idling a worker could be — and a `planned` result is such a schedule, shorter still), otherwise
   * `unproven`.
   */
  readonly proof: 'optimal' | 'best-list-schedule' | 'unproven';
  /** Orders simulated. */
  readonly evaluations: number;
  /** No order can finish sooner (see {@link makespanLowerBound}), ms. */
  readonly lowerBound: number;
  /** Makespans of the plain orders, ms; `fifo` is absent when critical path was already optimal or the plan too big to search. */
  readonly baseline: { readonly criticalPath: number; readonly fifo?: number };
}

/** Plans with more tasks than this keep plain critical-path order unless `maxTasks` says otherwise. */
export const DEFAULT_MAX_SEARCH_TASKS = 5000;
const DEFAULT_EXHAUSTIVE_NODES = 5000;
const EXHAUSTIVE_MAX_TASKS = 300;

/**
 * Finds a priority order that lets the Scheduler finish `graph` on `workers` workers sooner.
 * Tries critical path, FIFO and other list-scheduling rules, improves the best by iterated local
 * search on the virtual clock, then (up to 300 tasks, without pools or write scopes) searches the
 * list schedules exhaustively within a node budget, which may prove the result the best the
 * Scheduler can do. Never returns an order worse than critical path or FIFO; stops early when the
 * makespan meets {@link makespanLowerBound}. Plans over `maxTasks` get plain critical-path order.
 * Pure; deterministic for a given seed and budget (unless `budgetMs` cuts it short).
 *
 * @example
 * const { score } = searchOrder(graph, 4, { seed: 1 });
 * simulate(graph, { workers: 4, score }).makespan; // ≤ the critical-path and FIFO makespans
 */
export function searchOrder(graph: Graph, workers: number, options: SearchOptions = {}): SearchResult {
  if (!Number.isInteger(workers) || workers < 1)
    throw new RangeError(`Expected \`workers\` to be a positive integer, got \`${workers}\``);
  const n = graph.tasks.length;
  const duration = Float64Array.from(options.duration ?? graph.duration);
  const cp = criticalPathScore(graph, duration);
  const sim = new ListSimulator(graph, workers, duration);
  const cpMakespan = sim.run(cp);
  const maxTasks = options.maxTasks ?? DEFAULT_MAX_SEARCH_TASKS;
  const lowerBound = n > maxTasks ? 0 : makespanLowerBound(graph, workers, duration);
  if (n > maxTasks || cpMakespan <= lowerBound) {
    const proof = cpMakespan <= lowerBound ? 'optimal' : 'unproven';
    return {
      score: cp,
      makespan: cpMakespan,
      strategy: 'critical-path',
      proof,
      evaluations: 1,
      lowerBound,
      baseline: { criticalPath: cpMakespan },
    };
  }

  const fifo = new Float64Array(n);
  const fifoMakespan = sim.run(fifo, true);
  rankByStart(sim, fifo);
  let evaluations = 2;
  let best: { score: Float64Array; makespan: number; strategy: string; plan?: DispatchPlan } = {
    score: cp,
    makespan: cpMakespan,
    strategy: 'critical-path',
  };
  const candidates: [string, () => Float64Array][] = [['fifo', () => fifo], ...ruleScores(graph, duration, workers)];
  for (const [strategy, make] of candidates) {
    if (best.makespan <= lowerBound) break;
    const score = make();
    const makespan = sim.run(score);
    evaluations++;
    if (makespan < best.makespan) best = { score, makespan, strategy };
  }

  const { clock, budgetMs } = options;
  const deadline = clock !== undefined && budgetMs !== undefined ? clock() + budgetMs : undefined;
  const outOfTime = deadline === undefined || clock === undefined ? () => false : () => clock() >= deadline;
  let edges = 0;
  for (let i = 0; i < n; i++) edges += (graph.deps[i]?.length ?? 0) + (graph.softDeps[i]?.length ?? 0);
  if (best.makespan > lowerBound) {
    const iterations = options.iterations ?? defaultIterations(n, edges);
    const search = new LocalSearch(sim, options.seed ?? 1);
    const found = search.improve(best.score, lowerBound, iterations, outOfTime);
    evaluations += search.evaluations;
    if (found.makespan < best.makespan) best = { ...found, strategy: 'search' };
  }

  let proof: SearchResult['proof'] = best.makespan <= lowerBound ? 'optimal' : 'unproven';
  const nodes = options.exhaustiveNodes ?? DEFAULT_EXHAUSTIVE_NODES;
  const resources = graph.uses.some((u) => u.length > 0) || graph.conflicts.some((c) => c.length > 0);
  if (proof === 'unproven' && nodes > 0 && n <= EXHAUSTIVE_MAX_TASKS && !resources && !outOfTime()) {
    const exact = branchAndBound(graph, workers, duration, best.score, best.makespan, lowerBound, nodes, outOfTime);
    evaluations += exact.nodes;
    if (exact.startAt !== undefined) {
      const start = exact.startAt;
      const score = lexScore(n, [start.map((t) => -t), best.score]);
      const makespan = sim.run(score);
      // The simulator has the last word: the Scheduler must reproduce what the search found.
      if (makespan < best.makespan) best = { score, makespan, strategy: 'exhaustive' };
    }
    if (best.makespan <= lowerBound) proof = 'optimal';
    else if (exact.complete && best.makespan <= exact.makespan) proof = 'best-list-schedule';
  }

  // Pools and write locks are not modelled by the planned order, so such plans stay list-scheduled;
  // and a worker is never left idle on a guess: every task needs an estimate (declared or learned).
  const listIterations = defaultIterations(n, edges);
  const delayIterations =
    options.delayIterations ?? (n <= EXHAUSTIVE_MAX_TASKS ? 2 * listIterations : Math.ceil(listIterations / 2));
  const estimated = options.duration !== undefined || graph.tasks.every((t) => t.estimateMs !== undefined);
  if (proof !== 'optimal' && delayIterations > 0 && !resources && estimated && !outOfTime()) {
    sim.run(best.score);
    const rand = seededRandom((options.seed ?? 1) ^ 0x5bd1e995);
    const delayed = searchDelayPlan(
      graph,
      workers,
      duration,
      sim.started,
      best.makespan,
      lowerBound,
      delayIterations,
      rand,
      outOfTime,
    );
    evaluations += delayed.evaluations;
    if (delayed.plan !== undefined) {
      const plan = delayed.plan;
      best = { ...best, makespan: delayed.makespan, strategy: 'planned', plan };
      // Shorter than the best list schedule: what was proven of list schedules still holds.
      if (delayed.makespan <= lowerBound) proof = 'optimal';
    }
  }
  return { ...best, proof, evaluations, lowerBound, baseline: { criticalPath: cpMakespan, fifo: fifoMakespan } };
}

/**
 * The default search budget: orders to simulate, fewer for bigger plans, so that one decision
 * costs about the same at any size (the bench prints it: ~25 ms of CPU for 1,000 tasks).
 */
export function defaultIterations(tasks: number, edges: number): number {
  return Math.min(1000, Math.max(50, Math.round(500_000 / (tasks + edges + 100))));
}

/** The Scheduler's `critical-path` order as a score: rank, then `priority`, then declaration order. */
export function criticalPathScore(graph: Graph, duration: ArrayLike<number> = graph.duration): Float64Array {
  // The graph's own durations' bottom levels are its `rank` (buildGraph works them out the same way).
  const rank = duration === graph.duration ? graph.rank : bottomLevels(graph, duration);
  const n = graph.tasks.length;
  const priority = new Float64Array(n);
  for (let i = 0; i < n; i++) priority[i] = (graph.tasks[i] as ResolvedTask).priority;
  return lexScore(n, [rank, priority]);
}

/**
 * Scores that order tasks by the keys, largest first, then by declaration order. Index loops: the
 * sort calls its comparator ~n log n times (1.7 million for a 100,000-task plan's `weft estimate`
 * or `weft run`), and a `for…of` iterator in each call was most of its cost.
 */
function lexScore(n: number, keys: readonly ArrayLike<number>[]): Float64Array {
  const order = Array.from({ length: n }, (_, i) => i);
  order.sort((a, b) => {
    for (let k = 0; k < keys.length; k++) {
      const key = keys[k] as ArrayLike<number>;
      const d = (key[b] as number) - (key[a] as number);
      if (d !== 0) return d;
    }
    return a - b;
  });
  const score = new Float64Array(n);
  for (let k = 0; k < n; k++) score[order[k] as number] = n - k;
  return score;
}

/** Classic list-scheduling rules, each a different guess at what matters; built on demand. */
function ruleScores(graph: Graph, duration: Float64Array, workers: number): [string, () => Float64Array][] {
  const n = graph.tasks.length;
  const rank = bottomLevels(graph, duration);
  let below: Float64Array | undefined;
  const work = (): Float64Array => (below ??= descendantWork(graph, duration));
  let top = 0;
  for (const r of rank) top = Math.max(top, r);
  const blend = (weight: number): Float64Array =>
    Float64Array.from(rank, (r, i) => r + (weight * (work()[i] as number)) / workers);
  return [
    // CP/MISF (Kasahara & Narita): critical path, then most immediate successors first.
    ['cp-misf', () => lexScore(n, [rank, Float64Array.from(graph.dependents, (d) => d.length)])],
    ['cp-most-work-below', () => lexScore(n, [rank, work()])],
    ['cp-longest-first', () => lexScore(n, [rank, duration])],
    ['cp-shortest-first', () => lexScore(n, [rank, duration.map((d) => -d)])],
    ['most-work-below', () => lexScore(n, [work(), rank])],
    ['cp+work/4M', () => blend(0.25)],
    ['cp+work/M', () => blend(1)],
    // Latest start first is critical path measured from the end; it differs once ties are broken by earliest start.
    ['alap-then-asap', () => lexScore(n, [rank, topLevels(graph, duration).map((h) => top - h)])],
  ];
}

/** Work of each task and everything downstream of it (an over-count past 3,000 tasks, to stay linear). */
function descendantWork(graph: Graph, duration: Float64Array): Float64Array {
  const n = graph.tasks.length;
  const out = new Float64Array(n);
  if (n > 3000) {
    for (let k = graph.topo.length - 1; k >= 0; k--) {
      const i = graph.topo[k] as number;
      let s = duration[i] as number;
      for (const d of graph.dependents[i] ?? []) s += out[d] as number;
      out[i] = s;
    }
    return out;
  }
  const words = (n + 31) >>> 5;
  const sets = new Uint32Array(n * words);
  for (let k = graph.topo.length - 1; k >= 0; k--) {
    const i = graph.topo[k] as number;
    const base = i * words;
    sets[base + (i >>> 5)] = (sets[base + (i >>> 5)] as number) | (1 << (i & 31));
    for (const d of graph.dependents[i] ?? []) {
      const other = d * words;
      for (let w = 0; w < words; w++) sets[base + w] = (sets[base + w] as number) | (sets[other + w] as number);
    }
    let s = 0;
    for (let w = 0; w < words; w++) {
      for (let bits = sets[base + w] as number; bits !== 0; bits &= bits - 1)
        s += duration[(w << 5) + 31 - Math.clz32(bits & -bits)] as number;
    }
    out[i] = s;
  }
  return out;
}
