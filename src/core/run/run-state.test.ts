import { describe, expect, it } from 'vitest';
import type { RunEvent } from './events.js';
import { foldRun, mayRunAgain } from './run-state.js';

describe('foldRun', () => {
  it('skips an event of a kind it does not know that names no task (a newer weft wrote it)', () => {
    const state = foldRun([
      { type: 'run.created', at: 1, runId: 'r', plan: 'p', workers: 1, mode: 'parallel', tasks: ['a'] },
      { type: 'loop.iteration.started', at: 2, iteration: 1 } as unknown as RunEvent,
      { type: 'task.ready', at: 3, task: 'a' },
      { type: 'loop.iteration.ended', at: 4, iteration: 1, outcome: 'passed', reasons: [] } as unknown as RunEvent,
    ]);
    expect([...state.tasks.keys()]).toEqual(['a']);
    expect(state.tasks.get('a')?.state).toBe('ready');
  });
});

describe('mayRunAgain: whether a task that ended may start another attempt (a log follower keeps following it)', () => {
  const created: RunEvent = {
    type: 'run.created',
    at: 0,
    runId: 'r',
    plan: 'p',
    workers: 1,
    mode: 'parallel',
    tasks: ['code', 'deploy'],
  };
  const code: RunEvent[] = [
    { type: 'loop.iteration.started', at: 1, iteration: 1 },
    { type: 'task.started', at: 1, task: 'code', attempt: 1, worker: 0 },
    { type: 'task.succeeded', at: 2, task: 'code', attempt: 1, result: {} },
  ];
  const ended = (outcome: 'repeat' | 'passed'): RunEvent => ({
    type: 'loop.iteration.ended',
    at: 3,
    iteration: 1,
    outcome,
    reasons: [],
    durationMs: 2,
  });
  it('a repeated task: while its iteration goes on or repeats, not once the loop passed or the run ended', () => {
    expect(mayRunAgain(foldRun([created, ...code]), 'code', ['code'])).toBe(true);
    expect(mayRunAgain(foldRun([created, ...code, ended('repeat')]), 'code', ['code'])).toBe(true);
    expect(mayRunAgain(foldRun([created, ...code, ended('passed')]), 'code', ['code'])).toBe(false);
    const finished: RunEvent = { type: 'run.finished', at: 4, status: 'failed' };
    expect(mayRunAgain(foldRun([created, ...code, ended('repeat'), finished]), 'code', ['code'])).toBe(false);
  });
  it('a task the loop does not repeat, or a run without a loop: never', () => {
    expect(mayRunAgain(foldRun([created, ...code]), 'deploy', ['code'])).toBe(false);
    expect(mayRunAgain(foldRun([created, ...code]), 'code', [])).toBe(false);
  });
});
