import type { TaskFailure } from '../../errors.js';
import type { Graph } from '../../plan/graph.js';
import type { RunState } from '../run-state.js';

/** A task an earlier life of the run knew of, by index in the current graph. */
export interface RestoredTask {
  readonly task: number;
  /** Attempts it made; the next one is numbered after them, and retries start afresh. */
  readonly attempts: number;
  /** It succeeded: it never runs again, and its dependents may start. */
  readonly succeeded: boolean;
  /** It was blocked (a gate, a rejection), with why: it stays blocked, never decided again. */
  readonly blocked?: string;
  /**
   * Its last attempt was stopped for this P0 (`task.preempted`) and it has not ended since: its
   * next attempt resumes after the preemption (an agent is told so, in its kept worktree).
   */
  readonly preemptedBy?: string;
}

/** A task with `resume: never` cut off mid-run: it fails, waiting for a person. */
export interface NeedsDecision {
  readonly task: number;
  readonly id: string;
  readonly attempt: number;
  readonly error: TaskFailure;
}

/** How a resumed run starts from the state its journal replays. */
export interface Restoration {
  readonly tasks: readonly RestoredTask[];
  readonly needsDecision: readonly NeedsDecision[];
}

/**
 * Keeps what an earlier life of this run finished; everything else runs again — except a task with
 * side effects (`resume: never`) that was cut off mid-run (by a crash or a stop: Ctrl-C, SIGTERM, a
 * cancel, --fail-fast; in this resume, or an earlier one that already asked), which waits for a
 * person unless `retryTasks` names it.
 *
 * `adopt` names attempts still running elsewhere (a remote worker's job, by task id → attempt): the
 * task's next attempt is that one again, so it is waited for rather than started anew. Only an
 * attempt that is the task's last, and never ended, can be adopted.
 *
 * @example
 * restoreRun(prior, graph, new Set(['deploy'])); // deploy runs again; other cut-off `resume: never` tasks fail
 * restoreRun(prior, graph, undefined, new Map([['build', 2]])); // build's attempt 2 is adopted, not run again
 */
export function restoreRun(
  prior: RunState,
  graph: Graph,
  retryTasks?: ReadonlySet<string>,
  adopt?: ReadonlyMap<string, number>,
): Restoration {
  const tasks: RestoredTask[] = [];
  const needsDecision: NeedsDecision[] = [];
  const adopted = new Set<string>();
  for (const r of prior.tasks.values()) {
    const task = graph.index.get(r.id);
    if (task === undefined) continue;
    const attempts = r.attempts.reduce((m, a) => Math.max(m, a.attempt), 0);
    const last = r.attempts.at(-1);
    const cutOff = last !== undefined && (last.endedAt === undefined || last.outcome === 'interrupted');
    if (r.state !== 'succeeded' && cutOff && last.attempt === attempts && adopt?.get(r.id) === attempts) {
      adopted.add(r.id);
      tasks.push({ task, attempts: attempts - 1, succeeded: false });
    } else {
      const blocked = r.state === 'blocked' ? { blocked: r.reason ?? 'blocked' } : {};
      const by = r.state === 'succeeded' || r.state === 'blocked' ? undefined : last?.preemptedBy;
      const preempted = by === undefined ? {} : { preemptedBy: by };
      tasks.push({ task, attempts, succeeded: r.state === 'succeeded', ...blocked, ...preempted });
    }
  }
  for (const r of prior.tasks.values()) {
    if (adopted.has(r.id)) continue;
    const task = graph.index.get(r.id);
    const last = r.attempts.at(-1);
    // Cut off: by a crash (interrupted), or stopped while running — Ctrl-C, SIGTERM, a cancel,
    // --fail-fast (cancelled); or an earlier resume already asked.
    const undecided =
      last?.outcome === 'interrupted' || last?.outcome === 'cancelled' || last?.error?.code === 'WEFT_NEEDS_DECISION';
    if (task === undefined || graph.tasks[task]?.resume !== 'never' || !undecided) continue;
    if (r.state === 'succeeded' || retryTasks?.has(r.id) === true) continue;
    const message =
      'was running when weft stopped and has resume: never; check its side effects, ' +
      `then run it again with \`weft resume --retry ${r.id}\``;
    needsDecision.push({ task, id: r.id, attempt: last.attempt, error: { message, code: 'WEFT_NEEDS_DECISION' } });
  }
  return { tasks, needsDecision };
}
