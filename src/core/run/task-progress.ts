import type { ResolvedTask } from '../plan/graph.js';
import type { Clock } from '../ports/clock.js';
import type { AbortCause } from '../ports/executor.js';
import type { Running } from './attempt.js';
import type { EngineNotice } from './engine-options.js';
import type { ProgressEvent, Usage } from './events.js';
import { taskBudgetExceeded } from './policies/budget.js';
import type { RunJournal } from './run-journal.js';
import type { StallWatch } from './stall-watch.js';

/** What {@link TaskProgress} reads and tells in the engine; `tasks` through a getter, since an expansion swaps it. */
export interface TaskProgressHost {
  readonly clock: Clock;
  readonly journal: RunJournal;
  readonly stalls: StallWatch;
  readonly running: ReadonlyMap<number, Running>;
  readonly redact: (text: string) => string;
  readonly notify: ((event: EngineNotice) => void) | undefined;
  tasks(): readonly ResolvedTask[];
  /** Asks for a pass (what was journaled gets stored). */
  pump(): void;
}

/**
 * Takes what a running attempt reports: a heartbeat for the watchdog, a notice to show (its secrets
 * masked), a stop when the task's usage passes its own budget, and its session and usage journaled.
 */
export class TaskProgress {
  constructor(private readonly host: TaskProgressHost) {}

  /** Attempt `attempt` of task `i` reported `progress`. */
  take(i: number, attempt: number, progress: ProgressEvent): void {
    const { host } = this;
    const slot = host.running.get(i);
    // The first word from an attempt that waited in a queue: a worker took it, its clocks start now.
    if (slot?.attempt === attempt && slot.onStart !== undefined) {
      const start = slot.onStart;
      slot.onStart = undefined;
      start();
    }
    host.stalls.progress(i, attempt);
    if (progress.kind === 'output') return; // a heartbeat for the watchdog, nothing to show
    const id = (host.tasks()[i] as ResolvedTask).id;
    const at = host.clock.now();
    // What an agent says or runs is shown live (and --json prints it): its secrets masked like the journal's.
    const shown = progress.message === undefined ? progress : { ...progress, message: host.redact(progress.message) };
    host.notify?.({ type: 'task.progress', at, task: id, attempt, progress: shown });
    if (progress.usage !== undefined) this.checkBudget(i, attempt, progress.usage);
    if (progress.kind === 'session' || progress.kind === 'usage') {
      const session = progress.sessionId === undefined ? {} : { sessionId: progress.sessionId };
      host.journal.recordTask(i, {
        type: 'task.output',
        at,
        task: id,
        attempt,
        ...session,
        ...(progress.usage === undefined ? {} : { usage: progress.usage }),
      });
      host.pump();
    }
  }

  /** A running task's usage passed its own budget: stop it (not retried). */
  private checkBudget(i: number, attempt: number, usage: Usage): void {
    const over = taskBudgetExceeded((this.host.tasks()[i] as ResolvedTask).budget, usage);
    const slot = this.host.running.get(i);
    if (over !== undefined && slot?.attempt === attempt)
      slot.abort({ kind: 'budget', reason: over } satisfies AbortCause);
  }
}
