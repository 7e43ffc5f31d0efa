import { describe, expect, it } from 'vitest';
import type { RunEvent } from './events.js';
import { chainLine, criticalSteps } from './critical-path.js';
import { dependencyMap, summarize } from './metrics.js';
import { foldRun } from './run-state.js';

const deps = dependencyMap([{ id: 'a' }, { id: 'b', needs: ['a'] }, { id: 'c', needs: ['a'] }]);
const created: RunEvent = {
  type: 'run.created',
  at: 0,
  runId: 'r',
  plan: 'p',
  workers: 2,
  mode: 'parallel',
  tasks: ['a', 'b', 'c'],
};
const failure = { message: 'exited with code 1' };

/** Task a's first attempt fails and is retried: its second starts at 1000. */
const aFailsOnceThenRuns: RunEvent[] = [
  { type: 'task.started', at: 0, task: 'a', attempt: 1, worker: 0 },
  { type: 'task.retrying', at: 1000, task: 'a', attempt: 1, error: failure, retryAt: 1000 },
  { type: 'task.started', at: 1000, task: 'a', attempt: 2, worker: 0 },
];

describe('summarize', () => {
  it('sums what attempts spent outside their processes (worktree, merge, checks) apart from task time', () => {
    const state = foldRun([
      created,
      { type: 'task.started', at: 0, task: 'a', attempt: 1, worker: 0 },
      {
        type: 'task.succeeded',
        at: 1000,
        task: 'a',
        attempt: 1,
        result: { exitCode: 0 },
        processStartedAt: 300,
        processEndedAt: 700,
      },
      // A function's attempt has no process: all its time is its own.
      { type: 'task.started', at: 1000, task: 'b', attempt: 1, worker: 0 },
      { type: 'task.succeeded', at: 1500, task: 'b', attempt: 1, result: {} },
      { type: 'run.finished', at: 1500, status: 'succeeded' },
    ]);
    expect(summarize(state, deps)).toMatchObject({ taskTimeMs: 900, handlingMs: 600, makespanMs: 1500 });
  });

  it("has a failed task's exit code: its last attempt's", () => {
    const state = foldRun([
      created,
      { type: 'task.started', at: 0, task: 'a', attempt: 1, worker: 0 },
      { type: 'task.failed', at: 1000, task: 'a', attempt: 1, error: { message: 'exited with code 3', exitCode: 3 } },
      { type: 'run.finished', at: 1000, status: 'failed' },
    ]);
    expect(summarize(state, deps).tasks.find((t) => t.id === 'a')).toMatchObject({ state: 'failed', exitCode: 3 });
  });

  it('does not count as retries the attempts a resume of a failed run made', () => {
    const state = foldRun([
      created,
      ...aFailsOnceThenRuns,
      { type: 'task.failed', at: 2000, task: 'a', attempt: 2, error: failure },
      { type: 'run.finished', at: 2000, status: 'failed' },
      { type: 'run.resumed', at: 5000, by: 'test' },
      { type: 'task.started', at: 5000, task: 'a', attempt: 3, worker: 0 },
      { type: 'task.retrying', at: 6000, task: 'a', attempt: 3, error: failure, retryAt: 6000 },
      { type: 'task.started', at: 6000, task: 'a', attempt: 4, worker: 0 },
      { type: 'task.failed', at: 7000, task: 'a', attempt: 4, error: failure },
      { type: 'run.finished', at: 7000, status: 'failed' },
    ]);
    expect(summarize(state, deps).retries).toBe(2); // 1 → 2 and 3 → 4; 2 → 3 is the resume
  });

  it('counts a retry after a failure, not a re-run of what a Ctrl-C cut off; the stop is not makespan', () => {
    const state = foldRun([
      created,
      ...aFailsOnceThenRuns,
      { type: 'task.succeeded', at: 3000, task: 'a', attempt: 2, result: { exitCode: 0 } },
      { type: 'task.started', at: 3000, task: 'b', attempt: 1, worker: 0 },
      { type: 'task.started', at: 3000, task: 'c', attempt: 1, worker: 1 },
      { type: 'task.cancelled', at: 3500, task: 'b', attempt: 1, reason: 'interrupted (Ctrl-C)' },
      { type: 'task.cancelled', at: 3500, task: 'c', attempt: 1, reason: 'interrupted (Ctrl-C)' },
      { type: 'run.finished', at: 3500, status: 'cancelled', reason: 'interrupted (Ctrl-C)' },
      { type: 'run.resumed', at: 4000, by: 'test' },
      { type: 'task.started', at: 4000, task: 'b', attempt: 2, worker: 0 },
      { type: 'task.started', at: 4000, task: 'c', attempt: 2, worker: 1 },
      { type: 'task.succeeded', at: 5000, task: 'c', attempt: 2, result: { exitCode: 0 } },
      { type: 'task.succeeded', at: 6000, task: 'b', attempt: 2, result: { exitCode: 0 } },
      { type: 'run.finished', at: 6000, status: 'succeeded' },
    ]);
    const s = summarize(state, deps);
    expect(s.retries).toBe(1);
    expect(s.tasks.map((t) => [t.id, t.attempts])).toEqual([
      ['a', 2],
      ['b', 2],
      ['c', 2],
    ]);
    expect(s).toMatchObject({
      status: 'succeeded',
      resumes: 1,
      counts: { succeeded: 3, total: 3 },
      makespanMs: 5500,
      pausedMs: 500,
      criticalPath: ['a', 'b'],
      criticalPathMs: 5500,
    });
  });

  it('follows the chain through a skipped task and through a wait for a pool, not just through dependencies', () => {
    // train-a and train-b share a one-unit pool; deploy (needs both) was skipped; notify comes after deploy.
    const ran = (task: string, start: number, end: number, worker = 0): RunEvent[] => [
      { type: 'task.started', at: start, task, attempt: 1, worker },
      { type: 'task.succeeded', at: end, task, attempt: 1, result: { exitCode: 0 } },
    ];
    const state = foldRun([
      {
        type: 'run.created',
        at: 0,
        runId: 'r',
        plan: 'p',
        workers: 4,
        mode: 'parallel',
        tasks: ['train-a', 'train-b', 'docs', 'deploy', 'notify'],
      },
      ...ran('train-a', 0, 300),
      ...ran('docs', 0, 100, 1),
      ...ran('train-b', 300, 600),
      { type: 'task.skipped', at: 600, task: 'deploy', reason: 'condition `vars.deploy` is false', cause: 'condition' },
      ...ran('notify', 601, 605),
    ]);
    const s = summarize(
      state,
      dependencyMap([
        { id: 'train-a' },
        { id: 'train-b' },
        { id: 'docs' },
        { id: 'deploy', needs: ['train-a', 'train-b'] },
        { id: 'notify', after: ['deploy'] },
      ]),
    );
    expect(s).toMatchObject({ criticalPath: ['train-a', 'train-b', 'notify'], criticalPathMs: 604, makespanMs: 605 });
  });

  it('counts every attempt after a failed one, however many', () => {
    const state = foldRun([
      created,
      ...[1, 2, 3].flatMap((attempt): RunEvent[] => [
        { type: 'task.started', at: attempt * 10, task: 'a', attempt, worker: 0 },
        attempt < 3
          ? {
              type: 'task.retrying',
              at: attempt * 10 + 5,
              task: 'a',
              attempt,
              error: failure,
              retryAt: attempt * 10 + 5,
            }
          : { type: 'task.failed', at: attempt * 10 + 5, task: 'a', attempt, error: failure },
      ]),
    ]);
    expect(summarize(state, deps)).toMatchObject({ retries: 2, counts: { failed: 1, pending: 2 } });
  });
});

describe('chainLine', () => {
  it('writes a short chain whole and a long one as its ends around a count (a 25,000-task chain is one line)', () => {
    const ids = (n: number) => Array.from({ length: n }, (_, i) => `t${i}`);
    expect(chainLine(ids(9))).toBe('t0 → t1 → t2 → t3 → t4 → t5 → t6 → t7 → t8');
    expect(chainLine(ids(25_000), (id) => `<${id}>`)).toBe(
      '<t0> → <t1> → <t2> → <t3> → … 24992 more … → <t24996> → <t24997> → <t24998> → <t24999>',
    );
  });
});

describe('summarize: the critical path of a looped run', () => {
  it('is over the whole run: a repeated task is a step per iteration, named with it; the wait between iterations is followed', () => {
    // code → review repeated; ship after the loop. Iteration 2 begins 50 ms after iteration 1 ended.
    const loopDeps = dependencyMap([
      { id: 'code' },
      { id: 'review', needs: ['code'] },
      { id: 'ship', needs: ['review'] },
    ]);
    const ok = { exitCode: 0 };
    const state = foldRun([
      { ...created, tasks: ['code', 'review', 'ship'] },
      { type: 'loop.iteration.started', at: 0, iteration: 1 },
      { type: 'task.started', at: 0, task: 'code', attempt: 1, worker: 0 },
      { type: 'task.succeeded', at: 1000, task: 'code', attempt: 1, result: ok },
      { type: 'task.started', at: 1000, task: 'review', attempt: 1, worker: 0 },
      { type: 'task.succeeded', at: 1200, task: 'review', attempt: 1, result: ok },
      { type: 'loop.iteration.ended', at: 1200, iteration: 1, outcome: 'repeat', reasons: ['x'], durationMs: 1200 },
      { type: 'loop.iteration.started', at: 1250, iteration: 2, tasks: ['code', 'review'] },
      { type: 'task.started', at: 1250, task: 'code', attempt: 2, worker: 0 },
      { type: 'task.succeeded', at: 3250, task: 'code', attempt: 2, result: ok },
      { type: 'task.started', at: 3250, task: 'review', attempt: 2, worker: 0 },
      { type: 'task.succeeded', at: 3500, task: 'review', attempt: 2, result: ok },
      { type: 'loop.iteration.ended', at: 3500, iteration: 2, outcome: 'passed', reasons: [], durationMs: 2250 },
      { type: 'task.started', at: 3500, task: 'ship', attempt: 1, worker: 0 },
      { type: 'task.succeeded', at: 3600, task: 'ship', attempt: 1, result: ok },
      { type: 'run.finished', at: 3600, status: 'succeeded' },
    ]);
    const s = summarize(state, loopDeps);
    expect(s.criticalPath).toEqual(['code', 'review', 'code', 'review', 'ship']);
    expect(s.criticalPathIterations).toEqual([1, 1, 2, 2, null]);
    // Each step its own iteration's time — not a task's first start to its last end.
    expect(s.criticalPathMs).toBe(1000 + 200 + 2000 + 250 + 100);
    expect(criticalSteps(s)).toEqual(['code#1', 'review#1', 'code#2', 'review#2', 'ship']);
  });

  it('an instant gate blocked in the millisecond review ended is on the chain: the next iteration waited for it, not for review', () => {
    const loopDeps = dependencyMap([
      { id: 'code' },
      { id: 'review', needs: ['code'] },
      { id: 'approve', needs: ['review'] },
    ]);
    const ok = { exitCode: 0 };
    const events: RunEvent[] = [{ ...created, tasks: ['code', 'review', 'approve'] }];
    for (const [n, t] of [
      [1, 0],
      [2, 2000],
    ] as const) {
      events.push(
        n === 1
          ? { type: 'loop.iteration.started', at: t, iteration: 1 }
          : { type: 'loop.iteration.started', at: t, iteration: n, tasks: ['code', 'review', 'approve'] },
        { type: 'task.started', at: t, task: 'code', attempt: n, worker: 0 },
        { type: 'task.succeeded', at: t + 1000, task: 'code', attempt: n, result: ok },
        { type: 'task.started', at: t + 1000, task: 'review', attempt: n, worker: 0 },
        { type: 'task.succeeded', at: t + 2000, task: 'review', attempt: n, result: ok },
        { type: 'task.started', at: t + 2000, task: 'approve', attempt: n, worker: 0 },
      );
      if (n === 1) events.push({ type: 'task.blocked', at: 2000, task: 'approve', attempt: 1, reason: 'veto' });
      else events.push({ type: 'task.succeeded', at: 4000, task: 'approve', attempt: 2, result: {} });
      events.push({
        type: 'loop.iteration.ended',
        at: t + 2000,
        iteration: n,
        outcome: n === 1 ? 'repeat' : 'passed',
        reasons: [],
        durationMs: 2000,
      });
    }
    events.push({ type: 'run.finished', at: 4000, status: 'succeeded' });
    const s = summarize(foldRun(events), loopDeps);
    expect(criticalSteps(s)).toEqual(['code#1', 'review#1', 'approve#1', 'code#2', 'review#2', 'approve#2']);
  });
});
