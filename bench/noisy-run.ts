import type { Graph } from '../src/core/plan/graph.js';
import { buildGraph } from '../src/core/plan/graph.js';
import { searchOrder, type SearchOptions, type SearchResult } from '../src/core/schedule/search/index.js';
import { IndexHeap } from '../src/core/schedule/heap.js';
import { Scheduler, type ReadyOrder } from '../src/index.js';
import { lcgRandom } from './random-dag.js';

/** Standard normal draws, one per task (Box–Muller on a seeded LCG): the same for the same seed. */
export function normals(count: number, seed: number): Float64Array {
  const rand = lcgRandom(seed);
  const out = new Float64Array(count);
  for (let i = 0; i < count; i += 2) {
    const u = 1 - rand(); // (0, 1]: log(u) is finite
    const v = rand();
    const r = Math.sqrt(-2 * Math.log(u));
    out[i] = r * Math.cos(2 * Math.PI * v);
    if (i + 1 < count) out[i + 1] = r * Math.sin(2 * Math.PI * v);
  }
  return out;
}

/**
 * What each task really takes: its estimate × exp(σZ − σ²/2), a lognormal factor with mean one
 * (the estimate is right on average; the median task finishes a little early, a few run far over).
 */
export function realDurations(graph: Graph, z: ArrayLike<number>, sigma: number): Float64Array {
  return Float64Array.from(graph.duration, (d, i) => d * Math.exp(sigma * (z[i] as number) - (sigma * sigma) / 2));
}

/**
 * PROTOTYPE, not weft's policy: when a task has overrun its estimate (ended, or still running,
 * more than 2% past it) since the last search, the next time tasks end with more ready than
 * workers free, search the order again for what is left — the tasks not started, with their
 * estimates, and the running ones with what their estimates still expect of them (at least 0) —
 * and carry on with that order (a new Scheduler that adopts the old one's state).
 */
export interface Research {
  /** The search's budget per decision. */
  readonly options: SearchOptions;
}

/** How far past its estimate a task counts as overrunning, as a fraction of it: the dispatch plan's default tolerance. */
const OVERRUN = 0.02;

export interface RunOptions {
  readonly score?: ArrayLike<number>;
  readonly order?: ReadyOrder;
  readonly plan?: SearchResult['plan'];
  /** The Scheduler's `surpriseScore`: the order from the first task off its estimate on. */
  readonly surpriseScore?: () => ArrayLike<number>;
  readonly research?: Research;
}

export interface RealizedRun {
  readonly makespan: number;
  /** Searches the {@link Research} prototype made. */
  readonly searches: number;
  /** Whether the dispatch plan was still followed at the end (the run went as planned). */
  readonly planHeld: boolean;
  /** Whether the Scheduler switched to its `surpriseScore` (a task ended off, or ran past, its estimate). */
  readonly surprised: boolean;
}

/**
 * Runs the real Scheduler on a virtual clock where each task takes `duration` (not its estimate),
 * as `weft run`'s engine drives it: it starts what the Scheduler hands out, reports each end, and
 * wakes at `nextWakeAt()` (when a task following a dispatch plan overruns it, so the plan is dropped
 * then rather than at the next end). The Scheduler only ever sees the graph's estimates.
 */
export function runOnClock(
  graph: Graph,
  workers: number,
  duration: ArrayLike<number>,
  options: RunOptions = {},
): RealizedRun {
  const n = graph.tasks.length;
  const state = new Uint8Array(n); // 0 pending, 1 ready, 2 running, 3 done
  const started = new Float64Array(n);
  let readyCount = 0;
  const onTransition = (t: { task: number; to: string }): void => {
    if (state[t.task] === 1) readyCount--;
    const s = t.to === 'ready' ? 1 : t.to === 'running' ? 2 : t.to === 'pending' ? 0 : 3;
    if (s === 1) readyCount++;
    state[t.task] = s;
  };
  let sched = new Scheduler(graph, {
    workers,
    onTransition,
    ...(options.order === undefined ? {} : { order: options.order }),
    ...(options.score === undefined ? {} : { score: options.score }),
    ...(options.plan === undefined ? {} : { plan: options.plan }),
    ...(options.surpriseScore === undefined ? {} : { surpriseScore: options.surpriseScore }),
  });
  const end = new Float64Array(n);
  const running = new IndexHeap((a, b) => (end[a] as number) < (end[b] as number) || (end[a] === end[b] && a < b));
  let now = 0;
  let searches = 0;
  // Tasks whose overrun a search has already taken into account.
  const overrunSeen = new Uint8Array(n);
  const begun: number[] = [];
  const overran = (i: number): boolean =>
    state[i] !== 0 &&
    state[i] !== 1 &&
    overrunSeen[i] === 0 &&
    Math.min(end[i] as number, now) - (started[i] as number) > (graph.duration[i] as number) * (1 + OVERRUN);
  sched.begin(now);
  for (;;) {
    if (options.research !== undefined && readyCount > workers - sched.running && begun.some(overran)) {
      for (const i of begun) if (overran(i)) overrunSeen[i] = 1;
      const score = researchScore(graph, state, started, now, workers, options.research.options);
      const next = new Scheduler(graph, { workers, onTransition, score });
      next.adopt(sched, now);
      sched = next;
      searches++;
    }
    for (const { task } of sched.start(now)) {
      begun.push(task);
      started[task] = now;
      end[task] = now + (duration[task] as number);
      running.push(task);
    }
    const first = running.peek();
    const wake = sched.nextWakeAt();
    if (first === undefined && wake === undefined) break;
    if (wake !== undefined && wake > now && (first === undefined || wake < (end[first] as number))) {
      now = wake;
      continue;
    }
    if (first === undefined) throw new Error('runOnClock: woken with nothing running');
    now = end[first] as number;
    // Everything that ends at this instant ends before anything new starts.
    while (running.size > 0 && end[running.peek() as number] === now)
      sched.finish(running.pop() as number, 'succeeded', now);
  }
  if (!sched.finished) throw new Error('runOnClock: tasks left unscheduled');
  return { makespan: now, searches, planHeld: sched.planned, surprised: sched.surprised };
}

/** The {@link Research} prototype's order: a search on what is left, mapped back to the graph's tasks. */
function researchScore(
  graph: Graph,
  state: Uint8Array,
  started: Float64Array,
  now: number,
  workers: number,
  options: SearchOptions,
): Float64Array {
  const left: number[] = [];
  for (let i = 0; i < graph.tasks.length; i++) if (state[i] !== 3) left.push(i);
  const at = new Map(left.map((i, k) => [i, k]));
  const idOf = (i: number): string => graph.tasks[i]?.id ?? String(i);
  const tasks = left.map((i) => {
    const t = graph.tasks[i];
    if (t === undefined) throw new Error(`runOnClock: no task ${i}`);
    const estimate = graph.duration[i] as number;
    const remaining = state[i] === 2 ? Math.max(0, estimate - (now - (started[i] as number))) : estimate;
    const needs = (graph.deps[i] ?? []).filter((d) => at.has(d)).map(idOf);
    const after = (graph.softDeps[i] ?? []).filter((d) => at.has(d)).map(idOf);
    return { ...t, needs, after, estimateMs: remaining };
  });
  const residual = buildGraph({ name: graph.name, tasks, pools: graph.pools });
  const found = searchOrder(residual, workers, options);
  const score = new Float64Array(graph.tasks.length).fill(-Infinity);
  left.forEach((i, k) => (score[i] = found.score[k] as number));
  return score;
}

/**
 * PROTOTYPE, not weft's policy: of some candidate orders (e.g. the searched one and plain critical
 * path), the one with the shortest mean realized makespan over `draws` noise samples of an assumed
 * σ (its own seeds, not the ones it is then measured on). Ties keep the first candidate.
 */
export function robustChoice(
  graph: Graph,
  workers: number,
  candidates: readonly RunOptions[],
  assumed: { readonly sigma: number; readonly draws: number; readonly seed: number },
): number {
  const total = candidates.map(() => 0);
  for (let k = 0; k < assumed.draws; k++) {
    const real = realDurations(graph, normals(graph.tasks.length, assumed.seed + k), assumed.sigma);
    candidates.forEach((c, j) => (total[j] = (total[j] as number) + runOnClock(graph, workers, real, c).makespan));
  }
  let best = 0;
  for (let j = 1; j < total.length; j++) if ((total[j] as number) < (total[best] as number)) best = j;
  return best;
}
