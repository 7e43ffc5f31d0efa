import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../ports/clock.js';
import { compilePlan } from '../../plan/compile.js';
import type { ResolvedTask } from '../../plan/graph.js';
import {
  attemptEnded,
  backoffMs,
  DEFAULT_FIX_ATTEMPTS,
  type AttemptCounts,
  type AttemptPolicy,
  type EndedAttempt,
} from './attempt-ended.js';

const EXECUTORS = new Map([['shell', { requires: 'run' as const }]]);

function task(extra: Record<string, unknown> = {}): ResolvedTask {
  const backoff = { initial: '1s', factor: 2, max: '5s', jitter: false };
  const plan = compilePlan(
    { tasks: [{ id: 't', run: 'true', retries: 2, backoff, ...extra }] },
    { executors: EXECUTORS },
  );
  return plan.graph.tasks[0] as ResolvedTask;
}

const ZERO: AttemptCounts = { fixes: 0, transient: 0, resumedAt: 0 };
const POLICY: AttemptPolicy = {
  maxTransientRetries: 3,
  failFast: false,
  random: () => 0.5,
  redact: (s) => s.replaceAll('sk-1', '***'),
};
const ended = (over: Partial<EndedAttempt>): EndedAttempt => ({
  task: task(),
  attempt: 1,
  counts: ZERO,
  stopping: false,
  ...over,
});

describe('attemptEnded', () => {
  it('a cancelled attempt is cancelled, whatever it returned', () => {
    const d = attemptEnded(
      ended({ cause: { kind: 'cancelled', reason: 'Ctrl-C' }, failure: { message: 'x' } }),
      POLICY,
    );
    expect(d).toEqual({ kind: 'cancel', reason: 'Ctrl-C' });
  });

  it('an attempt without a failure succeeded', () => {
    expect(attemptEnded(ended({}), POLICY)).toEqual({ kind: 'succeed' });
  });

  it('retries with exponential back-off while retries last, then fails; the retry time is on the clock', () => {
    const clock = new VirtualClock(10_000);
    const delays: number[] = [];
    for (const attempt of [1, 2]) {
      const d = attemptEnded(ended({ attempt, failure: { message: 'exit 1 sk-1' } }), POLICY);
      if (d.kind !== 'retry') throw new Error(`expected a retry, got ${d.kind}`);
      expect(d.error.message).toBe('exit 1 ***');
      delays.push(d.delayMs);
    }
    expect(delays).toEqual([1000, 2000]);
    expect(clock.now() + (delays[1] as number)).toBe(12_000);
    expect(attemptEnded(ended({ attempt: 3, failure: { message: 'exit 1' } }), POLICY)).toMatchObject({
      kind: 'fail',
      error: { message: 'exit 1' },
    });
  });

  it('a transient failure retries without counting, waits at least retry-after, and rate-limits the provider', () => {
    const d = attemptEnded(
      ended({ attempt: 3, failure: { message: '429', transient: true, retryAfterMs: 7000 } }),
      POLICY,
    );
    expect(d).toMatchObject({
      kind: 'retry',
      delayMs: 7000,
      counts: { transient: 1 },
      rateLimited: { retryAfterMs: 7000 },
    });
    // Past maxTransientRetries it counts again: attempt 6 with 3 transient is the 3rd counted, over retries: 2.
    const over = attemptEnded(
      ended({ attempt: 6, counts: { ...ZERO, transient: 3 }, failure: { message: '429', transient: true } }),
      POLICY,
    );
    expect(over).toMatchObject({ kind: 'fail', counts: { transient: 3 }, rateLimited: { retryAfterMs: undefined } });
  });

  it('a lost worker retries without counting, and leaves the provider alone', () => {
    const failure = { message: 'its worker was lost', code: 'WEFT_WORKER_LOST' as const, transient: true };
    const d = attemptEnded(ended({ attempt: 1, failure }), POLICY);
    expect(d).toMatchObject({ kind: 'retry', counts: { transient: 1 } });
    expect(d).not.toHaveProperty('rateLimited');
  });

  it('a timeout says so; a task over its budget fails at once', () => {
    const timeout = attemptEnded(
      ended({ attempt: 3, cause: { kind: 'timeout', ms: 1500 }, failure: { message: 'killed' } }),
      POLICY,
    );
    expect(timeout).toMatchObject({ kind: 'fail', error: { message: 'timed out after 1.5s', timedOut: true } });
    const budget = attemptEnded(
      ended({
        cause: { kind: 'budget', reason: 'task budget exceeded: 9 > 5 tokens' },
        failure: { message: 'aborted' },
      }),
      POLICY,
    );
    expect(budget).toEqual({
      kind: 'fail',
      error: { message: 'task budget exceeded: 9 > 5 tokens', code: 'WEFT_BUDGET_EXCEEDED' },
      counts: ZERO,
    });
  });

  it('routes a fix back (not a retry) up to fixAttempts, then fails and releases the worktree', () => {
    const failure = { message: 'merge conflict sk-1', code: 'WEFT_MERGE_CONFLICT' as const, fix: 'resolve a.txt' };
    const fix = attemptEnded(ended({ failure }), POLICY);
    expect(fix).toEqual({
      kind: 'fix',
      feedback: 'resolve a.txt',
      error: { message: 'merge conflict ***', code: 'WEFT_MERGE_CONFLICT' },
      counts: { fixes: 1, transient: 1, resumedAt: 0 },
      fix: { n: 1, of: DEFAULT_FIX_ATTEMPTS },
    });
    const spent = { fixes: DEFAULT_FIX_ATTEMPTS, transient: 2, resumedAt: 0 };
    const fail = attemptEnded(ended({ attempt: 3, failure, counts: spent }), POLICY);
    expect(fail).toEqual({
      kind: 'fail',
      error: { message: 'merge conflict *** (after 2 fix attempts)', code: 'WEFT_MERGE_CONFLICT' },
      counts: spent,
      releaseWorkspace: true,
    });
    expect(attemptEnded(ended({ task: task({ fixAttempts: 0 }), failure }), POLICY)).toMatchObject({
      kind: 'fail',
      error: { message: 'merge conflict ***' }, // no fix allowed: it failed at once
    });
  });

  it("a check's failure once its culprits' fixes ran out is final, whatever its retries", () => {
    const backoff = { initial: '1s', factor: 2, max: '5s', jitter: false };
    const plan = compilePlan(
      {
        tasks: [
          { id: 'backend', run: 'true' },
          { id: 'build', run: 'true', verifies: ['backend'], retries: 2, backoff },
        ],
      },
      { executors: EXECUTORS },
    );
    const check = plan.graph.tasks[1] as ResolvedTask;
    const failure = {
      message: 'check build: broken by backend (backend after 2 fix attempts)',
      code: 'WEFT_CHECK_FAILED' as const,
    };
    expect(attemptEnded(ended({ task: check, failure }), POLICY)).toMatchObject({ kind: 'fail', error: failure });
    // Its own failure on a tree it could not blame (a crash of the check) is retried as any.
    expect(attemptEnded(ended({ task: check, failure: { message: 'exit 1' } }), POLICY)).toMatchObject({
      kind: 'retry',
    });
  });

  it('a stopping run retries nothing; fail-fast stops it with the task named', () => {
    expect(attemptEnded(ended({ stopping: true, failure: { message: 'x', fix: 'y' } }), POLICY)).toMatchObject({
      kind: 'fail',
    });
    expect(attemptEnded(ended({ attempt: 3, failure: { message: 'x' } }), { ...POLICY, failFast: true })).toMatchObject(
      { kind: 'fail', stopRun: 'fail-fast: task "t" failed' },
    );
  });

  it('attempts before a resume do not count against retries', () => {
    expect(
      attemptEnded(ended({ attempt: 5, counts: { ...ZERO, resumedAt: 4 }, failure: { message: 'x' } }), POLICY),
    ).toMatchObject({ kind: 'retry', delayMs: 1000 });
  });
});

describe('backoffMs', () => {
  it('grows by factor up to max; jitter scales it by 0.5–1.5', () => {
    const b = { initialMs: 1000, factor: 2, maxMs: 5000, jitter: false };
    expect([1, 2, 3, 4].map((n) => backoffMs(b, n, () => 0))).toEqual([1000, 2000, 4000, 5000]);
    expect(backoffMs({ ...b, jitter: true }, 2, () => 0)).toBe(1000);
    expect(backoffMs({ ...b, jitter: true }, 2, () => 0.999)).toBe(2998);
  });
});
