import { describe, expect, it } from 'vitest';
import type { RunEvent } from './events.js';
import { foldRun } from './run-state.js';
import { stallLine, stallsOf } from './stalls.js';

const stalled = {
  message: 'stalled: no progress (no output, no agent event) for 60s',
  code: 'WEFT_TASK_STALLED' as const,
};

/** The stalls of task `a` after these events (after a `run.created`). */
function stallsAfter(events: readonly RunEvent[]) {
  const state = foldRun([
    { type: 'run.created', at: 0, runId: 'r', plan: 'p', workers: 1, mode: 'parallel', tasks: ['a'] },
    ...events,
  ]);
  return stallsOf(state.tasks.get('a')?.attempts ?? []);
}

const start = (attempt: number, at: number): RunEvent => ({ type: 'task.started', at, task: 'a', attempt, worker: 0 });
const stall = (attempt: number, at: number): RunEvent => ({
  type: 'task.stalled',
  at,
  task: 'a',
  attempt,
  silentMs: 60_000,
});

describe('stallsOf: what the journal says came of each stall', () => {
  it('a shell task retried, then a second stall with no retry left', () => {
    const stalls = stallsAfter([
      start(1, 0),
      stall(1, 60_000),
      { type: 'task.retrying', at: 60_100, task: 'a', attempt: 1, error: stalled, retryAt: 61_000 },
      start(2, 61_000),
      stall(2, 121_000),
      { type: 'task.failed', at: 121_100, task: 'a', attempt: 2, error: stalled },
    ]);
    expect(stalls).toEqual([
      { attempt: 1, silentMs: 60_000, then: 'retried', next: 2 },
      { attempt: 2, silentMs: 60_000, then: 'failed' },
    ]);
    expect(stalls.map(stallLine)).toEqual([
      'attempt 1 stalled (no progress for 1m00s): retried as attempt 2',
      'attempt 2 stalled (no progress for 1m00s): failed, no retries left',
    ]);
  });

  it('an agent whose session was known: its retry resumed the session, told it stalled', () => {
    const stalls = stallsAfter([
      start(1, 0),
      { type: 'task.output', at: 10, task: 'a', attempt: 1, sessionId: 's-1' },
      stall(1, 60_000),
      { type: 'task.retrying', at: 60_100, task: 'a', attempt: 1, error: stalled, retryAt: 61_000 },
    ]);
    expect(stalls).toEqual([{ attempt: 1, silentMs: 60_000, then: 'resumed' }]);
    expect(stallLine(stalls[0] as (typeof stalls)[0])).toBe(
      'attempt 1 stalled (no progress for 1m00s): session resumed, told it stalled',
    );
  });

  it('an attempt still being stopped, and none stalled', () => {
    expect(stallsAfter([start(1, 0), stall(1, 60_000)])).toEqual([{ attempt: 1, silentMs: 60_000, then: 'stopping' }]);
    expect(stallsAfter([start(1, 0)])).toEqual([]);
  });
});
