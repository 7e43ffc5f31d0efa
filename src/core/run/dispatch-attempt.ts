import type { ResolvedTask } from '../plan/graph.js';
import type { Clock } from '../ports/clock.js';
import type { TaskOutcome } from '../ports/executor.js';
import type { Completion } from './apply-decision.js';
import { runAttempt, type AttemptHost, type Running } from './attempt.js';
import { gateEnded } from './policies/gate.js';
import type { WhenSources } from './policies/when.js';
import type { StallWatch } from './stall-watch.js';

/** What {@link dispatchAttempt} needs from the engine. */
export interface DispatchHost {
  readonly clock: Clock;
  /** Whether `task`'s attempts wait in a queue before they start (its executor `queues`). */
  queues(task: ResolvedTask): boolean;
  readonly when: WhenSources;
  readonly stalls: StallWatch;
  /** What the attempt itself reads and reports to. */
  readonly attempts: AttemptHost;
  /** Hands an ended attempt to the next pass. */
  complete(c: Completion): void;
}

/**
 * Starts a dispatched attempt of `task` (index `i`) on `worker`: a gate is decided at once, from what
 * the tasks it reads ended with; anything else runs with its timeout armed and the watchdog on it —
 * once a worker takes it, for an attempt that waits in a queue (a task no connected worker can run
 * may wait there for hours). Whatever happens, it ends as one completion handed to the host.
 */
export function dispatchAttempt(
  host: DispatchHost,
  task: ResolvedTask,
  i: number,
  worker: number,
  slot: Running,
): void {
  if (task.gate !== undefined) {
    host.complete({ task: i, attempt: slot.attempt, ...gateEnded(task, host.when) });
    return;
  }
  const arm = (): void => {
    if (task.timeoutMs !== undefined) {
      const ms = task.timeoutMs;
      slot.timer = host.clock.setTimeout(() => slot.abort({ kind: 'timeout', ms }), ms);
    }
    host.stalls.watch(i, slot.attempt, task.stallAfterMs);
  };
  if (host.queues(task)) slot.onStart = arm;
  else arm();
  void attempt(host, i, worker, slot);
}

/** One attempt, start to end; never throws: whatever happens becomes a completion. */
async function attempt(host: DispatchHost, i: number, worker: number, slot: Running): Promise<void> {
  let outcome: TaskOutcome;
  try {
    outcome = await runAttempt(host.attempts, i, worker, slot);
  } catch (error) {
    outcome = {
      ok: false,
      failure: { message: error instanceof Error ? error.message : String(error), code: 'WEFT_EXECUTOR' },
    };
  }
  if (slot.timer !== undefined) host.clock.clearTimeout(slot.timer);
  const { attempt } = slot; // read at the end: a check moves on to new attempts while it waits for fixes
  const reason = slot.aborted;
  host.complete(reason === undefined ? { task: i, attempt, outcome } : { task: i, attempt, outcome, cause: reason });
}
