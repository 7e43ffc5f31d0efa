import { describe, expect, it } from 'vitest';
import { stallCheck, stalledMessage, stalledNote } from './stall.js';
import { attemptEnded, type AttemptPolicy } from './attempt-ended.js';
import { testTask } from '../../../executors/testing/task-context.js';

const policy: AttemptPolicy = { maxTransientRetries: 3, failFast: false, random: () => 0.5, redact: (s) => s };
const counts = { fixes: 0, transient: 0, resumedAt: 0 };

describe('stallCheck', () => {
  it('waits for the rest of the period while the attempt is not silent for long enough', () => {
    expect(stallCheck(30_000, 61_000, 60_000)).toEqual({ kind: 'wait', inMs: 29_000 });
    expect(stallCheck(0, 0, 1000)).toEqual({ kind: 'wait', inMs: 1000 });
  });

  it('finds an attempt silent for stallAfter or more stalled', () => {
    expect(stallCheck(1000, 61_000, 60_000)).toEqual({ kind: 'stalled', silentMs: 60_000 });
    expect(stallCheck(0, 90_000, 60_000)).toEqual({ kind: 'stalled', silentMs: 90_000 });
  });
});

describe('attemptEnded for a stalled attempt', () => {
  it('retries it with a WEFT_TASK_STALLED failure and a note for the next attempt', () => {
    const task = testTask({ id: 'a', retries: 1 });
    const d = attemptEnded(
      {
        task,
        attempt: 1,
        failure: { message: 'killed by SIGTERM', signal: 'SIGTERM' },
        cause: { kind: 'stalled', ms: 1000 },
        counts,
        stopping: false,
      },
      policy,
    );
    expect(d).toMatchObject({
      kind: 'retry',
      error: { message: stalledMessage(1000), code: 'WEFT_TASK_STALLED' },
      note: stalledNote(1000),
    });
    expect(stalledMessage(1000)).toBe('stalled: no progress (no output, no agent event) for 1s');
  });

  it('fails it once its retries are used up: a stall counts like any failure', () => {
    const task = testTask({ id: 'a', retries: 1 });
    const d = attemptEnded(
      { task, attempt: 2, failure: { message: 'x' }, cause: { kind: 'stalled', ms: 1000 }, counts, stopping: false },
      policy,
    );
    expect(d).toMatchObject({ kind: 'fail', error: { code: 'WEFT_TASK_STALLED' } });
  });
});
