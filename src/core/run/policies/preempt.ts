/**
 * Preemption (`class: P0`): a P0 task that is ready but cannot start — no worker free, or the pool
 * units or write locks it needs held by running tasks — stops running tasks of lower classes to take
 * their place. The engine asks after each scheduling pass and applies the answer: journal
 * `task.preempted`, abort the attempt with cause `preempted`; the stopped task goes back to the
 * queue (not a failure, no retry spent) and the P0 starts as soon as what it needs is free.
 */

import type { ExecutorInfo } from '../../plan/compile.js';

/** Units of pools, as [pool index, units] pairs (the graph's `uses`). */
export type PoolUnits = readonly (readonly [number, number])[];

/** A ready P0 task the scheduler could not start. */
export interface BlockedTask {
  readonly task: number;
  /** The pool units it needs. */
  readonly uses: PoolUnits;
  /** The running tasks whose write scopes overlap its own: each must stop before it may start. */
  readonly lockedBy: readonly number[];
}

/** A running attempt, as preemption sees it. */
export interface RunningTask {
  readonly task: number;
  /** Its class's rank: 0 for P0 … 3 for P3. Only ranks above 0 are ever stopped. */
  readonly rank: number;
  /** How far along it is: time run ÷ its estimate. The least progressed loses least when stopped. */
  readonly progress: number;
  /** The pool units it holds. */
  readonly uses: PoolUnits;
  /** Already being stopped (preempted, timed out, cancelled): its worker and units are about to come free. */
  readonly stopping: boolean;
  /** Whether it may be stopped at all (not a check, a gate or a `resume: never` task). */
  readonly preemptible: boolean;
}

/** What the engine knows after a pass. */
export interface PreemptionInput {
  readonly freeWorkers: number;
  /** Free units of each pool, by pool index (negative while a narrowed pool is over its capacity). */
  readonly poolFree: readonly number[];
  /** The blocked P0 tasks, in the order they would start. */
  readonly blocked: readonly BlockedTask[];
  readonly running: readonly RunningTask[];
}

/** Stop `victim` so that `by` can start. */
export interface Preemption {
  readonly victim: number;
  readonly by: number;
}

/**
 * Which running tasks to stop for the blocked P0 tasks, first blocked first. For each, what is
 * already coming free (attempts being stopped, and those chosen for an earlier P0 beyond what that
 * one takes) is counted first; then the tasks that lock it, then, while it still lacks a worker or
 * pool units, the running task of the lowest class that frees some of what it lacks (among equals
 * the least progressed). A P0 never stops another P0; a P0 that cannot get all it needs stops
 * nothing. P1–P3 never preempt.
 *
 * @example
 * preemptions({ freeWorkers: 0, poolFree: [], blocked: [{ task: 2, uses: [], lockedBy: [] }], running: [
 *   { task: 0, rank: 2, progress: 0.9, uses: [], stopping: false, preemptible: true },
 *   { task: 1, rank: 2, progress: 0.1, uses: [], stopping: false, preemptible: true },
 * ] }); // → [{ victim: 1, by: 2 }]
 */
export function preemptions(input: PreemptionInput): Preemption[] {
  const byTask = new Map(input.running.map((r) => [r.task, r]));
  let workers = input.freeWorkers;
  const pools = [...input.poolFree];
  const free = (r: RunningTask, sign: 1 | -1): void => {
    for (const [p, units] of r.uses) pools[p] = (pools[p] ?? 0) + sign * units;
  };
  for (const r of input.running)
    if (r.stopping) {
      workers++;
      free(r, 1);
    }
  const available = new Set(input.running.filter((r) => !r.stopping && r.preemptible && r.rank > 0));
  const out: Preemption[] = [];
  for (const b of input.blocked) {
    const chosen: RunningTask[] = [];
    const take = (r: RunningTask): void => {
      chosen.push(r);
      workers++;
      free(r, 1);
    };
    let ok = true;
    for (const t of b.lockedBy) {
      const r = byTask.get(t);
      if (r === undefined || r.stopping) continue;
      if (!available.has(r)) ok = false;
      else take(r);
    }
    const short = (): number[] => b.uses.filter(([p, units]) => (pools[p] ?? 0) < units).map(([p]) => p);
    while (ok && (workers < 1 || short().length > 0)) {
      const lacking = new Set(short());
      const next = [...available]
        .filter((r) => !chosen.includes(r) && (lacking.size === 0 || r.uses.some(([p]) => lacking.has(p))))
        .sort((x, y) => y.rank - x.rank || x.progress - y.progress || x.task - y.task)[0];
      if (next === undefined) ok = false;
      else take(next);
    }
    if (!ok) {
      // It cannot get everything: leave everything running rather than stop tasks for nothing.
      for (const r of chosen) {
        workers--;
        free(r, -1);
      }
      continue;
    }
    workers--;
    for (const [p, units] of b.uses) pools[p] = (pools[p] ?? 0) - units;
    for (const r of chosen) {
      available.delete(r);
      out.push({ victim: r.task, by: b.task });
    }
  }
  return out;
}

/** What a preempted agent is told when its session resumes (as the next attempt's feedback). */
export function preemptedNote(by: string): string {
  return `You were paused for an urgent task ("${by}"); continue where you left off. Check the files as they are now (your work so far is still there), then carry on and finish the task.`;
}

/**
 * Whether a preempted task of this executor continues where it stopped: an agent (or LLM) resumes
 * its session, told it was paused, in its kept worktree; a shell or function task runs again from
 * the start in a fresh one.
 */
export function resumesAfterPreemption(info: Pick<ExecutorInfo, 'requires'> | undefined): boolean {
  return info?.requires === 'prompt';
}
