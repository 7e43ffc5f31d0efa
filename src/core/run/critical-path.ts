import type { RunState, TaskRecord } from './run-state.js';

/**
 * The chain of tasks that held a run up (the summary's critical path), walked back over the
 * journal's attempts — through loop iterations, waits for capacity and pauses between the run's
 * lives — and how it is written on one line.
 */

/** How much of [from, to] weft was stopped between lives of the run, ms. */
export function pausedWithin(state: RunState, from: number, to: number): number {
  return state.pauses.reduce((sum, p) => sum + Math.max(0, Math.min(p.to, to) - Math.max(p.from, from)), 0);
}

/** One stretch of a task's attempts: all of them, or — for a task a loop repeats — those of one iteration. */
interface Stretch {
  readonly r: TaskRecord;
  readonly iteration: number | undefined;
  readonly start: number;
  readonly end: number;
}

/** A task's attempts cut at each loop iteration's first attempt (`firstAttempts`), each stretch with its iteration. */
function stretchesOf(r: TaskRecord, iterationAt: ReadonlyMap<number, number> | undefined): Stretch[] {
  const out: Stretch[] = [];
  let from: { start: number; iteration: number | undefined } | undefined;
  let end = -Infinity;
  const close = (): void => {
    if (from !== undefined) out.push({ r, iteration: from.iteration, start: from.start, end });
  };
  for (const a of r.attempts) {
    const it = iterationAt?.get(a.attempt);
    if (from === undefined || it !== undefined) {
      close();
      from = { start: a.startedAt, iteration: it ?? (from === undefined ? undefined : from.iteration) };
    }
    end = a.endedAt ?? a.startedAt;
  }
  close();
  return out;
}

/**
 * Walks back from the task that ended last, each step to what it waited for: the dependency that
 * finished last before it started (through skipped ones, to what they needed), or — when it started
 * later than its dependencies allowed, waiting for a worker, a pool or a write lock, or for a loop's
 * iteration to begin — the task that ended as it started. The chain that held the run up. A task a
 * loop repeats is a step per iteration (its attempts of that iteration), so a looped run's chain
 * goes through every iteration, each step named with its iteration.
 */
export function criticalChain(
  state: RunState,
  deps: ReadonlyMap<string, readonly string[]>,
): { path: string[]; iterations: (number | null)[]; ms: number } {
  // For each repeated task (those a second iteration started again: `previous`), the attempt number
  // that began each iteration → that iteration. `firstAttempts` names every task, repeated or not.
  const iterationAt = new Map<string, Map<number, number>>();
  const repeated = state.loop?.previous ?? new Map<string, unknown>();
  for (const it of state.loop?.iterations ?? [])
    for (const [id, n] of Object.entries(it.firstAttempts))
      if (repeated.has(id))
        iterationAt.set(id, (iterationAt.get(id) ?? new Map<number, number>()).set(n, it.iteration));
  const stretches = new Map<string, Stretch[]>();
  for (const r of state.tasks.values()) stretches.set(r.id, stretchesOf(r, iterationAt.get(r.id)));
  // By end time, to find what ended as a task started without scanning every task at each step.
  const ran = [...stretches.values()].flat().sort((a, b) => a.end - b.end);
  const onPath = new Set<Stretch>();
  /**
   * A stretch not yet on the chain that ended within 1 ms of `t`, later than `after`: the one that
   * ended last, and on a tie (an instant gate ends in the millisecond the task before it did) the one
   * that started last.
   */
  const endedAround = (t: number, after: number): Stretch | undefined => {
    let lo = 0;
    let hi = ran.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((ran[mid] as Stretch).end < t - 1) lo = mid + 1;
      else hi = mid;
    }
    let best: Stretch | undefined;
    for (let i = lo; i < ran.length && (ran[i] as Stretch).end <= t + 1; i++) {
      const o = ran[i] as Stretch;
      if (onPath.has(o) || o.end <= after) continue;
      if (best === undefined || o.end > best.end || (o.end === best.end && o.start >= best.start)) best = o;
    }
    return best;
  };
  let current: Stretch | undefined;
  let latest = -Infinity;
  let latestStart = -Infinity;
  for (const o of ran) {
    // On a tie (instant tasks end in the same millisecond), the one that started last ended last.
    if (o.end > latest || (o.end === latest && o.start >= latestStart))
      [latest, latestStart, current] = [o.end, o.start, o];
  }
  /** Stretches of dependencies that ran, looking through the ones that never did (skipped) to what they needed. */
  const ranDeps = (id: string, seen = new Set<string>()): Stretch[] =>
    (deps.get(id) ?? []).flatMap((d) => {
      if (seen.has(d)) return [];
      seen.add(d);
      const own = stretches.get(d) ?? [];
      return own.length > 0 ? own : ranDeps(d, seen);
    });
  /** The stretch of iteration `n` that ended last, by `t`. */
  const lastOf = (n: number, t: number): Stretch | undefined => {
    let best: Stretch | undefined;
    for (const o of ran) if (o.iteration === n && o.end <= t + 1 && !onPath.has(o)) best = o;
    return best;
  };
  const path: Stretch[] = [];
  let ms = 0;
  while (current !== undefined && !onPath.has(current)) {
    const s: Stretch = current;
    path.push(s);
    onPath.add(s);
    ms += s.end - s.start - pausedWithin(state, s.start, s.end);
    let next: Stretch | undefined;
    let nextEnd = -Infinity;
    for (const d of ranDeps(s.r.id)) {
      if (d.end <= s.start + 1 && d.end >= nextEnd && !onPath.has(d)) [nextEnd, next] = [d.end, d];
    }
    // Started well after its dependencies ended: it waited for capacity, held by whatever ended as it started.
    if (next === undefined || nextEnd < s.start - 1) next = endedAround(s.start, nextEnd) ?? next;
    // The first of a loop's iteration that nothing ended as it started: it waited for the iteration before.
    if (next === undefined && s.iteration !== undefined && s.iteration > 1) next = lastOf(s.iteration - 1, s.start);
    current = next;
  }
  path.reverse();
  return { path: path.map((o) => o.r.id), iterations: path.map((o) => o.iteration ?? null), ms };
}

/** The critical path's steps, a looped task's named with its iteration (`code#2`): over the whole run, every iteration. */
export function criticalSteps(s: {
  readonly criticalPath: readonly string[];
  readonly criticalPathIterations?: readonly (number | null)[] | undefined;
}): string[] {
  return s.criticalPath.map((id, k) => {
    const n = s.criticalPathIterations?.[k];
    return n === undefined || n === null ? id : `${id}#${n}`;
  });
}

/** A chain of task ids on one line, `a → b → c`; a long one keeps its first and last `keep` around "… N more …". */
export function chainLine<T = string>(ids: readonly T[], render: (id: T) => string = String, keep = 4): string {
  if (ids.length <= 2 * keep + 1) return ids.map(render).join(' → ');
  return [...ids.slice(0, keep).map(render), `… ${ids.length - 2 * keep} more …`, ...ids.slice(-keep).map(render)].join(
    ' → ',
  );
}
