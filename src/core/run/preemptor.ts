import type { Graph, ResolvedTask } from '../plan/graph.js';
import type { Scheduler } from '../schedule/scheduler.js';
import type { Running } from './attempt.js';
import type { RunJournal } from './run-journal.js';
import type { ResolvedEngineOptions } from './engine-options.js';
import type { RestoredTask } from './policies/resume.js';
import { classRank } from '../schedule/ready-order.js';
import {
  preemptedNote,
  preemptions,
  resumesAfterPreemption,
  type BlockedTask,
  type RunningTask,
} from './policies/preempt.js';

/**
 * Applies the preemption policy ({@link preemptions}) after each scheduling pass: finds the ready
 * P0 tasks the scheduler could not start, and stops (journals `task.preempted`, aborts with cause
 * `preempted`) the running tasks the policy names. Costs nothing in a plan without a P0 task.
 */
export class Preemptor {
  private seen: Graph | undefined;
  private urgent: number[] = [];
  /** Tasks stopped for a P0 that has not started yet, with that P0: they wait for it (see {@link holds}). */
  private readonly stoppedFor = new Map<number, number>();

  /**
   * @param running the attempts running now, by task index
   * @param workers the budget M
   * @param held whether a ready task waits for a person's approval (it preempts nothing yet)
   */
  constructor(
    private readonly running: ReadonlyMap<number, Running>,
    private readonly journal: RunJournal,
    private readonly workers: number,
    private readonly held: (task: number) => boolean,
  ) {}

  /**
   * Whether ready task `i` must wait: it was stopped for a P0 that is still waiting to start. Else,
   * as soon as the first of several tasks stopped for one P0 ended, it would take back the units it
   * freed before the others had ended, and be stopped again, and again.
   */
  holds(i: number, sched: Scheduler): boolean {
    const by = this.stoppedFor.get(i);
    if (by === undefined) return false;
    if (sched.stateOf(by) === 'ready') return true;
    this.stoppedFor.delete(i);
    return false;
  }

  /** After `sched` started what it could at `now` (the graph and scheduler are passed: an expansion swaps them). */
  pass(now: number, graph: Graph, sched: Scheduler): void {
    if (graph !== this.seen) {
      this.seen = graph;
      this.urgent = graph.tasks.flatMap((t, i) => (t.class === 'P0' ? [i] : []));
    }
    if (this.urgent.length === 0) return;
    const running = this.running;
    const blocked: BlockedTask[] = [];
    for (const i of this.urgent) {
      if (sched.stateOf(i) !== 'ready' || this.held(i)) continue;
      const lockedBy = (graph.conflicts[i] ?? []).filter((t) => running.has(t));
      blocked.push({ task: i, uses: graph.uses[i] ?? [], lockedBy });
    }
    if (blocked.length === 0) return;
    // The order the scheduler would start them in: the most urgent by critical path first.
    blocked.sort((a, b) => (graph.rank[b.task] as number) - (graph.rank[a.task] as number) || a.task - b.task);
    const poolFree = graph.pools.map((p) => sched.poolCapacity(p.name) ?? p.capacity);
    const attempts: RunningTask[] = [];
    for (const [i, slot] of running) {
      const task = graph.tasks[i] as ResolvedTask;
      const uses = graph.uses[i] ?? [];
      for (const [p, units] of uses) poolFree[p] = (poolFree[p] ?? 0) - units;
      const startedAt = this.journal.records[i]?.attempts.at(-1)?.startedAt ?? now;
      attempts.push({
        task: i,
        rank: classRank(task),
        progress: (now - startedAt) / Math.max(1, graph.duration[i] as number),
        uses,
        stopping: slot.aborted !== undefined,
        // A check routes fixes while it waits, a gate takes no time, a `resume: never` task has side effects.
        preemptible: task.gate === undefined && (task.verifies?.length ?? 0) === 0 && task.resume !== 'never',
      });
    }
    const freeWorkers = this.workers - sched.running;
    for (const { victim, by } of preemptions({ freeWorkers, poolFree, blocked, running: attempts })) {
      const slot = running.get(victim) as Running;
      const byId = (graph.tasks[by] as ResolvedTask).id;
      const id = (graph.tasks[victim] as ResolvedTask).id;
      const event = {
        type: 'task.preempted',
        at: now,
        task: id,
        attempt: slot.attempt,
        by: byId,
        byClass: 'P0',
      } as const;
      this.journal.recordTask(victim, event);
      slot.abort({ kind: 'preempted', by: byId });
      this.stoppedFor.set(victim, by);
    }
  }
}

/**
 * On resume, for a task whose last attempt was preempted before weft stopped ({@link RestoredTask.preemptedBy}):
 * what that life kept only in memory is made again, so an agent resumes as it would have — its next
 * attempt gets the note in `feedback`, and its worktree is kept for it (`release(…, 'retrying')`,
 * which a workspace takes at once). A shell or function task just runs again.
 */
export function restorePreempted(
  options: ResolvedEngineOptions,
  task: ResolvedTask,
  r: RestoredTask,
  feedback: Map<number, string>,
): void {
  if (r.preemptedBy === undefined || !resumesAfterPreemption(options.executors.get(task.executor)?.info)) return;
  feedback.set(r.task, preemptedNote(r.preemptedBy));
  void options.workspace?.release(task, r.attempts, 'retrying').catch(() => undefined);
}
