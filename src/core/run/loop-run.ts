import type { ResolvedTask } from '../plan/graph.js';
import type { ResolvedLoop } from '../plan/loop-check.js';
import { TERMINAL_STATES, type Scheduler, type SkipCause } from '../schedule/scheduler.js';
import type { LoopOutcome } from './events.js';
import type { RunJournal } from './run-journal.js';
import type { IterationRecord, RunState } from './run-state.js';
import { iterationEnded, loopFeedback, type LoopStop, type LoopTaskView } from './policies/loop.js';
import type { WhenSources } from './policies/when.js';

/** What {@link LoopRun} needs of the run. */
export interface LoopHost {
  readonly state: RunState;
  readonly journal: RunJournal;
  readonly tasks: () => readonly ResolvedTask[];
  readonly sched: () => Scheduler;
  readonly when: WhenSources;
  /** A new iteration: retries, fixes and transient failures count afresh for task `i`. */
  readonly restartCounts: (i: number) => void;
  /** Why the run stopped, if it did. */
  readonly stopped: () => LoopStop | undefined;
  /** Swaps in a scheduler that adopts the current one's state, with `reset` tasks pending again. */
  readonly reschedule: (reset?: ReadonlySet<number>) => void;
}

/**
 * The plan's `loop:` during a run: holds what depends on the repeated tasks while the loop is open,
 * and, once every repeated task of an iteration ended, asks the loop policy how it ended and
 * journals it — then starts the next iteration (the tasks pending again, with the combined
 * feedback) or closes the loop (what depends on it may go on, or is skipped when it never passed).
 */
export class LoopRun {
  private readonly inGroup: Set<number>;
  private open = true;
  private closedWith: LoopOutcome | undefined;
  /** The current iteration's combined feedback (none in the first). */
  private feedback: string | undefined;

  constructor(
    private readonly loop: ResolvedLoop,
    private readonly host: LoopHost,
  ) {
    this.inGroup = new Set(loop.repeat);
    // A resumed run whose loop had ended: what depends on it hears of its tasks from the start (restore).
    // One stopped by the budget or a failure goes on with the same iteration: what failed runs again.
    const last = this.current();
    if (last?.outcome === 'passed' || last?.outcome === 'exhausted') {
      this.open = false;
      this.closedWith = last.outcome;
    }
  }

  /** Whether `to` must wait to hear of `from`: the loop is open and `from` is repeated, `to` not. */
  holds(from: number, to: number): boolean {
    return this.open && this.inGroup.has(from) && !this.inGroup.has(to);
  }

  /** The iteration task `i` runs in, when the loop repeats it. */
  iterationOf(i: number): number | undefined {
    return this.inGroup.has(i) ? this.current()?.iteration : undefined;
  }

  /**
   * Skips a task behind a loop that ended without passing: `blocked` when it ran out of
   * iterations, `upstream` when a repeated task failed. Else undefined: ask its `when`.
   */
  gate(i: number): { reason: string; cause: SkipCause } | undefined {
    const outcome = this.closedWith;
    if (outcome === undefined || outcome === 'passed' || this.inGroup.has(i)) return undefined;
    const graph = this.host.sched().graph;
    const behind = [...(graph.deps[i] ?? []), ...(graph.softDeps[i] ?? [])].some((d) => this.inGroup.has(d));
    if (!behind) return undefined;
    const n = this.current()?.iteration ?? 0;
    return outcome === 'exhausted'
      ? { reason: `the loop ended after ${n} iteration(s) without \`${this.loop.untilSource}\``, cause: 'blocked' }
      : {
          reason: `the loop's iteration ${n} ${outcome === 'budget' ? 'ran out of budget' : 'failed'}`,
          cause: 'upstream',
        };
  }

  /** At the run's start: journal the first iteration, or (a resume) go on with the journaled one. */
  begin(now: number): void {
    const it = this.current();
    if (it === undefined) {
      this.host.journal.record({ type: 'loop.iteration.started', at: now, iteration: 1 });
      return;
    }
    if (!this.open) return; // it had ended (see the constructor)
    // Cut off mid-iteration: the tasks that had not ended yet still get the last iteration's feedback.
    if (it.iteration > 1) this.giveFeedback(it.iteration);
  }

  /** Call in each pass, after completions: ends the iteration once every repeated task has ended. */
  settle(now: number): void {
    if (!this.open) return;
    const sched = this.host.sched();
    if (this.loop.repeat.some((i) => !TERMINAL_STATES.has(sched.stateOf(i)))) return;
    const it = this.current() as IterationRecord;
    const tasks = this.host.tasks();
    const views: LoopTaskView[] = this.loop.repeat.map((i) => {
      const id = (tasks[i] as ResolvedTask).id;
      const r = this.host.state.tasks.get(id);
      return {
        id,
        state: sched.stateOf(i),
        ...(r?.result === undefined ? {} : { result: r.result }),
        ...(r?.reason === undefined ? {} : { reason: r.reason }),
        ...(r?.skipCause === undefined ? {} : { skipCause: r.skipCause }),
      };
    });
    const end = iterationEnded(this.loop, it.iteration, views, this.host.when, this.host.stopped());
    if (end === undefined) {
      // Cancelled: the iteration did not end; a resume goes on with it.
      this.open = false;
      return;
    }
    const cost = this.costOf(it);
    this.host.journal.record({
      type: 'loop.iteration.ended',
      at: now,
      iteration: it.iteration,
      outcome: end.outcome,
      reasons: end.reasons,
      durationMs: now - it.startedAt,
      ...(cost === undefined ? {} : { costUsd: cost }),
    });
    if (end.outcome === 'repeat') {
      const ids = this.loop.repeat.map((i) => (tasks[i] as ResolvedTask).id);
      this.host.journal.record({ type: 'loop.iteration.started', at: now, iteration: it.iteration + 1, tasks: ids });
      for (const i of this.loop.repeat) this.host.restartCounts(i);
      this.giveFeedback(it.iteration + 1);
      this.host.reschedule(this.inGroup);
      return;
    }
    this.open = false;
    this.closedWith = end.outcome;
    // What depends on the loop hears of its tasks now (a stopped run has cancelled it already).
    if (this.host.stopped() === undefined) this.host.reschedule();
  }

  private current(): IterationRecord | undefined {
    return this.host.state.loop?.iterations.at(-1);
  }

  /**
   * The combined feedback of the current iteration (from the second on) for task `i`, when the loop
   * repeats it: every attempt of the iteration gets it (a retry too), unless a fix's feedback comes first.
   */
  feedbackOf(i: number): string | undefined {
    return this.inGroup.has(i) ? this.feedback : undefined;
  }

  /** Makes the combined feedback for iteration `n`. */
  private giveFeedback(n: number): void {
    const loop = this.host.state.loop;
    if (loop === undefined) return;
    const tasks = this.host.tasks();
    const before = loop.iterations.find((x) => x.iteration === n - 1);
    this.feedback = loopFeedback(
      this.loop,
      (i) => (tasks[i] as ResolvedTask).id,
      n,
      before?.reasons ?? [],
      loop.previous,
    );
  }

  /** What the iteration's attempts cost, when any reported a cost. */
  private costOf(it: IterationRecord): number | undefined {
    let cost: number | undefined;
    const tasks = this.host.tasks();
    for (const i of this.loop.repeat) {
      const id = (tasks[i] as ResolvedTask).id;
      const first = it.firstAttempts[id] ?? 1;
      for (const a of this.host.state.tasks.get(id)?.attempts ?? [])
        if (a.attempt >= first && a.usage?.costUsd !== undefined) cost = (cost ?? 0) + a.usage.costUsd;
    }
    return cost;
  }
}
