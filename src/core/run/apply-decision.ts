import type { AbortCause, TaskOutcome } from '../ports/executor.js';
import type { ResolvedTask } from '../plan/graph.js';
import type { Scheduler } from '../schedule/scheduler.js';
import type { AttemptDecision } from './policies/attempt-ended.js';
import type { RunJournal } from './run-journal.js';
import { redactResult } from '../redact.js';
import { scoreOf } from './policies/score.js';

/** Why a task ends blocked: one line, and a gate's failing parts. */
export interface Blocked {
  readonly reason: string;
  readonly parts?: readonly string[];
}

/** An attempt that ended, as the engine's next pass takes it. */
export interface Completion {
  readonly task: number;
  readonly attempt: number;
  readonly outcome: TaskOutcome;
  readonly cause?: AbortCause;
  /** A gate that blocked (or an approval rejected): the task ends blocked. */
  readonly blocked?: Blocked;
}

/** What applying a decision touches in the engine: read through getters, since an expansion swaps them. */
export interface DecisionHost {
  readonly journal: RunJournal;
  readonly sched: Scheduler;
  readonly redact: (text: string) => string;
  /** Feedback for each task's next attempt (a fix's, a retry's note). */
  readonly feedback: Map<number, string>;
  readonly fixes: Int32Array;
  readonly transient: Int32Array;
  /** The task's provider rate-limited it: throttle the provider's pool. */
  rateLimited(task: ResolvedTask, retryAfterMs: number | undefined): void;
  /** The task failed for good: its worktree goes (its branch stays). */
  release(task: ResolvedTask, attempt: number): void;
  stop(status: 'failed', reason: string): void;
  /** Why the run is stopping, once it is (a budget spent by the attempt just recorded, Ctrl-C). */
  readonly stopping: string | undefined;
}

/**
 * Applies what the attempt-ended policy decided for attempt `c` of task `i`: journal the outcome,
 * and tell the scheduler (finish, retry at a time, or send back as a fix with feedback).
 */
export function applyDecision(
  host: DecisionHost,
  task: ResolvedTask,
  i: number,
  c: Completion,
  d: AttemptDecision,
  now: number,
): void {
  const base = { at: now, task: task.id, attempt: c.attempt };
  if (d.kind === 'cancel') {
    host.journal.recordTask(i, { type: 'task.cancelled', ...base, reason: d.reason });
    host.sched.finish(i, 'cancelled', now, d.reason);
    return;
  }
  // When the process really ran (the executor knows): durations count from there, not from the queue.
  const { startedAt, endedAt } = c.outcome;
  const at = {
    ...base,
    ...(startedAt === undefined ? {} : { processStartedAt: startedAt }),
    ...(endedAt === undefined ? {} : { processEndedAt: endedAt }),
  };
  if (d.kind === 'succeed') {
    const ran = (c.outcome as Extract<TaskOutcome, { ok: true }>).result;
    const score = scoreOf(task, ran);
    const result = score === undefined ? ran : { ...ran, score };
    host.journal.recordTask(i, { type: 'task.succeeded', ...at, result: redactResult(result, host.redact) });
    host.sched.finish(i, 'succeeded', now);
    return;
  }
  host.fixes[i] = d.counts.fixes;
  host.transient[i] = d.counts.transient;
  if (d.kind !== 'fix' && d.rateLimited !== undefined) {
    host.rateLimited(task, d.rateLimited.retryAfterMs);
  }
  if (d.kind === 'fix' || d.kind === 'retry') {
    const note = d.kind === 'fix' ? d.feedback : d.note;
    if (note !== undefined) host.feedback.set(i, note);
    const retryAt = d.kind === 'fix' ? now : now + d.delayMs;
    const fix = d.kind === 'fix' ? { fix: d.fix } : {};
    host.journal.recordTask(i, { type: 'task.retrying', ...at, error: d.error, retryAt, ...fix });
    // Recording it may have stopped the run (its usage spent the budget): then it is not tried
    // again — queued after the stop cancelled what waited, it would wait for ever.
    const stopping = host.stopping;
    if (stopping === undefined) host.sched.retryAt(i, retryAt, now);
    else {
      host.journal.recordTask(i, { type: 'task.cancelled', at: now, task: task.id, reason: stopping });
      host.sched.finish(i, 'cancelled', now, stopping);
    }
  } else {
    host.journal.recordTask(i, { type: 'task.failed', ...at, error: d.error });
    // Its worktree goes; its branch, which holds the unmerged work, stays for a person to look at.
    if (d.releaseWorkspace === true) host.release(task, c.attempt);
    host.sched.finish(i, 'failed', now, d.error.message);
    if (d.stopRun !== undefined) host.stop('failed', d.stopRun);
  }
}
