import type { RunStatus } from '../events.js';
import type { RunState } from '../run-state.js';

/** How a run ends. */
export type EndStatus = Exclude<RunStatus, 'running'>;

/** Why a run stopped before its tasks were done (Ctrl-C, fail-fast, budget). */
export interface StopReason {
  readonly status: 'cancelled' | 'failed';
  readonly reason: string;
}

/**
 * How a run ended once nothing runs or waits: as it was stopped, else failed when a task failed,
 * was cancelled or was skipped because something upstream failed, else blocked when a gate blocked
 * (or a person rejected a task), or the plan's loop ran out of iterations, naming each with why,
 * else succeeded.
 *
 * @example
 * runEnded(state, undefined); // → { status: 'failed', reason: '1 task(s) failed' }
 */
export function runEnded(state: RunState, stopped: StopReason | undefined): { status: EndStatus; reason?: string } {
  if (stopped !== undefined) return { status: stopped.status, reason: stopped.reason };
  const failed = [...state.tasks.values()].filter(
    (r) => r.state === 'failed' || r.state === 'cancelled' || (r.state === 'skipped' && r.skipCause === 'upstream'),
  );
  if (failed.length === 0) {
    // A loop that ran out of iterations never passed: the run is blocked by its last one's reasons.
    const last = state.loop?.iterations.at(-1);
    if (last?.outcome === 'exhausted')
      return {
        status: 'blocked',
        reason: `the loop stopped after ${last.iteration} iteration(s) (its max) without passing: ${(last.reasons ?? []).join('; ')}`,
      };
    const blocked = [...state.tasks.values()].filter((r) => r.state === 'blocked');
    if (blocked.length === 0) return { status: 'succeeded' };
    return { status: 'blocked', reason: blocked.map((r) => `${r.id} blocked: ${r.reason ?? ''}`).join('; ') };
  }
  return { status: 'failed', reason: `${failed.filter((r) => r.state === 'failed').length} task(s) failed` };
}
