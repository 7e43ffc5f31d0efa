import type { Clock } from '../ports/clock.js';
import type { AbortCause } from '../ports/executor.js';
import type { Scheduler } from '../schedule/scheduler.js';
import type { Running } from './attempt.js';
import type { RunOutcome } from './engine-options.js';
import { runEnded, type StopReason } from './policies/run-ended.js';
import type { RunJournal } from './run-journal.js';
import type { RunState } from './run-state.js';
import type { TaskResultData } from './events.js';

/** What {@link RunEnd} reads and stops in the engine; the scheduler through a getter, since an expansion swaps it. */
export interface RunEndHost {
  readonly clock: Clock;
  readonly state: RunState;
  readonly journal: RunJournal;
  readonly running: ReadonlyMap<number, Running>;
  sched(): Scheduler;
  /** Asks for a pass. */
  pump(): void;
  /** What the run's result changes against its base, where there is a workspace that knows. */
  resultChanges?(): Promise<NonNullable<TaskResultData['files']> | undefined>;
}

/**
 * How a run ends: stopped early (Ctrl-C, fail-fast, the run's budget) — what never started is
 * cancelled, what runs is aborted, and why is kept — and finished once, journaling `run.finished`.
 */
export class RunEnd {
  /** Why the run was stopped early, if it was; the first stop wins. */
  stopReason: StopReason | undefined;
  /** Set while the scheduler cancels tasks that never started; those get their event here. */
  cancellingPending = false;
  private finished = false;

  constructor(private readonly host: RunEndHost) {}

  /** Stops the run: nothing more starts; running attempts are aborted unless `abortRunning` is false. */
  stop(status: 'cancelled' | 'failed', reason: string, abortRunning = true): void {
    if (this.stopReason !== undefined) return;
    this.stopReason = { status, reason };
    this.cancellingPending = true;
    this.host.sched().cancelPending(reason, this.host.clock.now());
    this.cancellingPending = false;
    if (abortRunning) this.abortAll({ kind: 'cancelled', reason });
    this.host.pump();
  }

  /** Aborts every running attempt with `cause`. */
  abortAll(cause: AbortCause): void {
    for (const r of this.host.running.values()) r.abort(cause);
  }

  /** Journals how the run ended and stores it; `undefined` when it already finished. */
  async finish(): Promise<RunOutcome | undefined> {
    if (this.finished) return undefined;
    this.finished = true;
    const { state, journal, clock } = this.host;
    const { status, reason } = runEnded(state, this.stopReason);
    // Not knowing it (git failed) is no reason to lose how the run ended: the tasks' figures stand.
    const files = await this.host.resultChanges?.().catch(() => undefined);
    journal.record({
      type: 'run.finished',
      at: clock.now(),
      status,
      ...(reason === undefined ? {} : { reason }),
      ...(files === undefined ? {} : { files }),
    });
    await journal.flush();
    return { status, state };
  }
}
