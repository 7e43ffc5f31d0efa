import type { ListSimulator } from './list-simulator.js';
import { seededRandom } from './random.js';

/** Rewrites `score` to rank the tasks by when the simulator's last run started them. */
export function rankByStart(sim: ListSimulator, score: Float64Array): void {
  for (let k = 0; k < sim.n; k++) score[sim.started[k] as number] = sim.n - k;
}

/**
 * Iterated local search over start orders, with three moves:
 * - shift: a task on the critical chain that waited for a worker goes ahead of some of the tasks
 *   that took the workers while it waited;
 * - forward-backward: schedule backwards in time, last-ending tasks first, then order the tasks by
 *   how early that packs them (the "justification" step of project scheduling);
 * - kick: perturb many priorities at random.
 * A move is kept when the makespan does not grow and no more tasks become critical, so the search
 * drifts across plateaus; after a long stall it restarts from the best order with a kick.
 */
export class LocalSearch {
  /** Orders simulated so far. */
  evaluations = 0;
  private readonly rand: () => number;
  private back: ListSimulator | undefined;
  /** The current schedule: tasks in start order, when each became ready, started, ended; keys. */
  private readonly order: Int32Array;
  private readonly readyAt: Float64Array;
  private readonly startAt: Float64Array;
  private readonly endAt: Float64Array;
  private readonly key: Float64Array;
  private chain: number[] = [];
  private makespan = Infinity;
  private critical = Infinity;

  constructor(
    private readonly sim: ListSimulator,
    seed: number,
  ) {
    this.rand = seededRandom(seed);
    const n = sim.n;
    this.order = new Int32Array(n);
    this.readyAt = new Float64Array(n);
    this.startAt = new Float64Array(n);
    this.endAt = new Float64Array(n);
    this.key = new Float64Array(n);
  }

  /** Searches from the order `start` ranks until `lowerBound` is reached, `iterations` run out or `outOfTime()`; the best order found. */
  improve(
    start: Float64Array,
    lowerBound: number,
    iterations: number,
    outOfTime: () => boolean,
  ): { score: Float64Array; makespan: number } {
    const sim = this.sim;
    const trial = new Float64Array(sim.n);
    this.adopt(sim.run(start));
    let best = { score: Float64Array.from(this.key), makespan: this.makespan };
    let stale = 0;
    for (let it = 0; it < iterations && best.makespan > lowerBound; it++) {
      if ((it & 15) === 15 && outOfTime()) break;
      trial.set(this.key);
      const r = this.rand();
      if (r < 0.3) this.forwardBackward(trial);
      else if (r < 0.35 || this.chain.length === 0) this.kick(trial, 0.02 + 0.2 * this.rand());
      else this.shift(trial);
      const value = sim.run(trial);
      this.evaluations++;
      if (value < best.makespan) {
        best = { score: Float64Array.from(trial), makespan: value };
        stale = 0;
      } else stale++;
      if (value < this.makespan || (value === this.makespan && sim.criticalCount(value) <= this.critical))
        this.adopt(value);
      else if (stale >= 300) {
        stale = 0;
        trial.set(best.score);
        this.kick(trial, 0.05 + 0.3 * this.rand());
        this.adopt(sim.run(trial));
        this.evaluations++;
      }
    }
    return best;
  }

  /** Makes the simulator's last run the current schedule, keyed by start order. */
  private adopt(makespan: number): void {
    const sim = this.sim;
    this.order.set(sim.started);
    this.readyAt.set(sim.readyAt);
    this.startAt.set(sim.startAt);
    this.endAt.set(sim.endAt);
    rankByStart(sim, this.key);
    this.chain = sim.criticalChain();
    this.makespan = makespan;
    this.critical = sim.criticalCount(makespan);
  }

  private shift(score: Float64Array): void {
    const { order, startAt } = this;
    const task = this.chain[Math.floor(this.rand() * this.chain.length)] as number;
    const readyAt = this.readyAt[task] as number;
    const k = order.length - (this.key[task] as number);
    let first = k;
    while (first > 0 && (startAt[order[first - 1] as number] as number) >= readyAt) first--;
    const to = first + Math.floor(this.rand() * (k - first));
    score[task] = (score[order[to] as number] as number) + 0.5;
  }

  private forwardBackward(score: Float64Array): void {
    const back = (this.back ??= this.sim.reversed());
    back.run(this.endAt);
    this.evaluations++;
    const { key } = this;
    const end = back.endAt;
    const order = Array.from(this.order).sort(
      (a, b) => (end[b] as number) - (end[a] as number) || (key[b] as number) - (key[a] as number),
    );
    order.forEach((task, k) => (score[task] = order.length - k));
  }

  private kick(score: Float64Array, strength: number): void {
    const n = score.length;
    for (let i = 0; i < n; i++)
      if (this.rand() < strength) score[i] = (score[i] as number) + (this.rand() - 0.5) * n * strength;
  }
}
