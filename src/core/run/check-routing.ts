import type { TaskFailure } from '../errors.js';
import type { Executor, TaskOutcome } from '../ports/executor.js';
import type { ResolvedTask } from '../plan/graph.js';
import { runAttempt, Running, type AttemptHost } from './attempt.js';
import { runCheckAttempt, type CheckRoutes } from './check-attempt.js';
import type { RunJournal } from './run-journal.js';
import { redactResult } from '../redact.js';
import { DEFAULT_FIX_ATTEMPTS } from './policies/attempt-ended.js';

/** What routing a check's failure needs from the engine: its journal and its per-task counters. */
export interface RoutingHost extends AttemptHost {
  readonly journal: RunJournal;
  /** The engine's counters by task index (replaced when the plan grows, so asked for each time). */
  counters(): { readonly attempts: Int32Array; readonly fixes: Int32Array; readonly transient: Int32Array };
  /** Masks secrets in text bound for the journal. */
  readonly redact: (text: string) => string;
}

/**
 * The engine's side of checks (see check-attempt.ts): a verified task's fix runs as an attempt of
 * its own, recorded in the journal like any — `task.retrying` with the check's verdict, then
 * `task.started` and its end — on the check's worker while the check waits for it; the check's
 * next attempt is journaled as started once the fixes have run, when it really runs again.
 */
export class CheckRouting implements CheckRoutes {
  readonly checkVerdicts = new Map<string, TaskOutcome>();
  /** Verified tasks that failed since the engine last asked (see {@link CheckRouting.takeFailed}). */
  private failed: { readonly task: number; readonly reason: string }[] = [];

  constructor(private readonly host: RoutingHost) {}

  /** Runs an attempt of check `i`. */
  run(i: number, worker: number, slot: Running, executor: Executor): Promise<TaskOutcome> {
    return runCheckAttempt(this.host, this, i, worker, slot, executor);
  }

  fixesOf(i: number): number {
    return this.host.counters().fixes[i] as number;
  }

  againCheck(i: number, worker: number, slot: Running, error: TaskFailure, culprits: readonly string[]): number {
    const { journal } = this.host;
    const now = this.host.options.clock.now();
    const id = this.idOf(i);
    journal.recordTask(i, {
      type: 'task.retrying',
      at: now,
      task: id,
      attempt: slot.attempt,
      error: this.masked(error),
      retryAt: now,
      waitsFor: culprits,
    });
    const counters = this.host.counters();
    const attempt = (counters.attempts[i] = (counters.attempts[i] as number) + 1);
    counters.transient[i] = (counters.transient[i] as number) + 1; // waiting for a fix is not a retry of the check
    slot.attempt = attempt;
    return attempt;
  }

  startAgain(i: number, worker: number, slot: Running): void {
    const { journal } = this.host;
    const at = this.host.options.clock.now();
    journal.recordTask(i, { type: 'task.started', at, task: this.idOf(i), attempt: slot.attempt, worker });
    void journal.flush();
  }

  async fixVerified(
    i: number,
    worker: number,
    check: Running,
    feedback: string,
    error: TaskFailure,
  ): Promise<TaskOutcome> {
    const { journal } = this.host;
    const counters = this.host.counters();
    const id = this.idOf(i);
    const at = this.host.options.clock.now();
    const last = counters.attempts[i] as number;
    const task = this.host.graph.tasks[i] as ResolvedTask;
    const fix = { n: (counters.fixes[i] as number) + 1, of: task.fixAttempts ?? DEFAULT_FIX_ATTEMPTS };
    journal.recordTask(i, {
      type: 'task.retrying',
      at,
      task: id,
      attempt: last,
      error: this.masked(error),
      retryAt: at,
      fix,
    });
    counters.fixes[i] = (counters.fixes[i] as number) + 1;
    counters.transient[i] = (counters.transient[i] as number) + 1;
    const attempt = (counters.attempts[i] = last + 1);
    journal.recordTask(i, { type: 'task.started', at, task: id, attempt, worker });
    await journal.flush(); // recorded before it takes effect
    const slot = new Running(attempt);
    const abort = (): void => slot.abort(check.aborted ?? { kind: 'cancelled', reason: 'cancelled' });
    if (check.aborted !== undefined) abort();
    else check.signal.addEventListener('abort', abort, { once: true });
    this.host.feedback.set(i, feedback);
    let outcome: TaskOutcome;
    try {
      outcome = await runAttempt(this.host, i, worker, slot);
    } catch (e) {
      outcome = { ok: false, failure: { message: e instanceof Error ? e.message : String(e), code: 'WEFT_EXECUTOR' } };
    }
    check.signal.removeEventListener('abort', abort);
    const end = this.host.options.clock.now();
    const cut = slot.aborted;
    if (cut?.kind === 'cancelled') {
      // Stopped with its check (Ctrl-C, SIGTERM, --fail-fast): cancelled, as any task cut off so, not
      // a failure to retry (the run counted it as running for ever); `weft resume` runs it again.
      journal.recordTask(i, { type: 'task.cancelled', at: end, task: id, attempt, reason: cut.reason });
    } else if (outcome.ok) {
      const result = redactResult(outcome.result, this.host.redact);
      journal.recordTask(i, { type: 'task.succeeded', at: end, task: id, attempt, result });
    } else {
      // The check decides: it runs again (and may route again) or fails the task with its reason.
      journal.recordTask(i, {
        type: 'task.retrying',
        at: end,
        task: id,
        attempt,
        error: this.masked(outcome.failure),
        retryAt: end,
      });
    }
    await journal.flush();
    return outcome;
  }

  failVerified(i: number, reason: string): void {
    const now = this.host.options.clock.now();
    const attempt = this.host.counters().attempts[i] as number;
    this.host.journal.recordTask(i, {
      type: 'task.failed',
      at: now,
      task: this.idOf(i),
      attempt,
      error: { message: this.host.redact(reason), code: 'WEFT_CHECK_FAILED' },
    });
    this.failed.push({ task: i, reason });
  }

  /**
   * The verified tasks that failed (their fixes for a check ran out) since the last call. The
   * scheduler had them as succeeded: the engine fails them there before it ends their check, so
   * their dependents, which waited for the check's verdict, are skipped.
   */
  takeFailed(): readonly { readonly task: number; readonly reason: string }[] {
    const failed = this.failed;
    this.failed = [];
    return failed;
  }

  private idOf(i: number): string {
    return (this.host.graph.tasks[i] as ResolvedTask).id;
  }

  private masked(error: TaskFailure): TaskFailure {
    const { fix: _fix, ...rest } = error;
    return { ...rest, message: this.host.redact(rest.message) };
  }
}
