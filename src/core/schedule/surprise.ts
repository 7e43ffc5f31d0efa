import type { Graph } from '../plan/graph.js';
import { DEFAULT_PLAN_TOLERANCE } from './dispatch-plan.js';

/*
 * The policy for when reality departs from the estimates (issue #16 item 2, the schedule-noise
 * bench). `searchOrder`'s order is the best on the estimates, and it is exact when they are: it
 * packs tasks around their estimated ends. Real agent tasks do not take their estimates, and an
 * order tuned to one set of durations is brittle under others (on WfCommons traces at σ = 0.6 it
 * was worse than plain critical path). So the first time a task ends off its estimate, or runs
 * past it, the ready queue stops following the searched order and ranks tasks by their expected
 * remaining path instead: the longest path to the end of the plan, as a random variable when each
 * duration is the estimate times a lognormal factor of mean one and spread `spread`, its mean
 * taken with Clark's normal approximation of the maximum at each fork. Where paths of equal
 * estimated length meet, the one that can run long ranks higher, so long, uncertain work starts
 * early. With every task on its estimate nothing changes: the searched order (and its dispatch
 * plan) run to the end.
 */

/** How far from its estimate a task may end, or run past it, before the run is surprised, as a fraction of the estimate: the dispatch plan's tolerance. */
export const DEFAULT_SURPRISE_TOLERANCE = DEFAULT_PLAN_TOLERANCE;

/**
 * Spread assumed for real durations when nothing better is known: the σ of `estimate × exp(σZ − σ²/2)`.
 * 0.5 is about a factor of 1.6 either way for one task in three.
 */
export const DEFAULT_DURATION_SPREAD = 0.5;

/**
 * Whether a task with this estimate departs from it after `elapsed` ms: `ended`, more than
 * `tolerance` of the estimate early or late; still running, more than that past it.
 *
 * @example
 * departsFromEstimate(60_000, 64_000, true); // true: ended 6.7% late
 * departsFromEstimate(60_000, 61_000, false); // false: running, within 2% of its estimate
 */
export function departsFromEstimate(
  estimate: number,
  elapsed: number,
  ended: boolean,
  tolerance: number = DEFAULT_SURPRISE_TOLERANCE,
): boolean {
  const slack = tolerance * estimate;
  return ended ? Math.abs(elapsed - estimate) > slack : elapsed > estimate + slack;
}

/**
 * Each task's expected remaining path: the mean of the longest path from its start to the end of
 * the plan, when each task takes its estimate times an independent lognormal factor of mean one
 * and log-spread `spread` (Clark's approximation of the maximum of normal variables at each fork).
 * With `spread` 0 it is the critical-path rank. O(tasks + edges).
 */
export function expectedPathLengths(
  graph: Graph,
  spread: number = DEFAULT_DURATION_SPREAD,
  duration: ArrayLike<number> = graph.duration,
): Float64Array {
  if (!(spread >= 0)) throw new RangeError(`Expected \`spread\` to be a non-negative number, got \`${spread}\``);
  const n = graph.tasks.length;
  const mean = new Float64Array(n);
  const variance = new Float64Array(n);
  const factor = Math.expm1(spread * spread); // the variance of a lognormal factor of mean one
  for (let k = graph.topo.length - 1; k >= 0; k--) {
    const i = graph.topo[k] as number;
    let m = 0;
    let v = 0;
    let first = true;
    for (const d of graph.dependents[i] ?? []) {
      const m2 = mean[d] as number;
      const v2 = variance[d] as number;
      if (first) {
        m = m2;
        v = v2;
        first = false;
        continue;
      }
      [m, v] = clarkMax(m, v, m2, v2);
    }
    const own = duration[i] as number;
    mean[i] = own + m;
    variance[i] = own * own * factor + v;
  }
  return mean;
}

/**
 * The Scheduler's `surpriseScore`: tasks by {@link expectedPathLengths}, longest first, then
 * `priority`, then declaration order.
 */
export function expectedPathScore(graph: Graph, spread: number = DEFAULT_DURATION_SPREAD): Float64Array {
  const length = expectedPathLengths(graph, spread);
  const n = graph.tasks.length;
  const order = Array.from({ length: n }, (_, i) => i);
  order.sort(
    (a, b) =>
      (length[b] as number) - (length[a] as number) ||
      (graph.tasks[b]?.priority ?? 0) - (graph.tasks[a]?.priority ?? 0) ||
      a - b,
  );
  const score = new Float64Array(n);
  order.forEach((task, k) => (score[task] = n - k));
  return score;
}

/** Mean and variance of max(X, Y) for independent normal X, Y (Clark, 1961). */
function clarkMax(m1: number, v1: number, m2: number, v2: number): [number, number] {
  const a2 = v1 + v2;
  // Two (nearly) certain lengths: the maximum is the larger one.
  if (a2 <= 1e-12 * Math.max(1, m1 * m1, m2 * m2)) return m1 >= m2 ? [m1, v1] : [m2, v2];
  const a = Math.sqrt(a2);
  const alpha = (m1 - m2) / a;
  const p = normalCdf(alpha);
  const q = 1 - p;
  const f = normalPdf(alpha);
  const first = m1 * p + m2 * q + a * f;
  const second = (m1 * m1 + v1) * p + (m2 * m2 + v2) * q + (m1 + m2) * a * f;
  return [Math.max(first, m1, m2), Math.max(0, second - first * first)];
}

function normalPdf(x: number): number {
  return Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
}

/** Φ(x), within 1e-7 (Abramowitz and Stegun 26.2.17). */
function normalCdf(x: number): number {
  const t = 1 / (1 + 0.2316419 * Math.abs(x));
  const tail =
    normalPdf(x) * t * (0.31938153 + t * (-0.356563782 + t * (1.781477937 + t * (-1.821255978 + t * 1.330274429))));
  return x >= 0 ? 1 - tail : tail;
}
