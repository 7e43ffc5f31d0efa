import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { applyEvent, emptyRunState, type RunState } from '../core/run/run-state.js';
import { taskProcesses } from '../executors/process/task-processes.js';
import { killTaskLikeProcesses, spawnTaskLike } from '../executors/testing/task-like-process.js';
import { stopOrphans } from './orphans.js';

afterEach(killTaskLikeProcesses);

/** A `sleep` carrying attempt `attempt` of `task` of run `runId`. */
const sleeper = (runId: string, task: string, attempt: number): unknown =>
  spawnTaskLike('sleep', ['30'], { runId, task, attempt });

/** A run whose coordinator died with `a#1` and `b#1` running and `done#1` ended. */
function deadRun(runId: string): RunState {
  const state = emptyRunState();
  const at = Date.now();
  applyEvent(state, {
    type: 'run.created',
    at,
    runId,
    plan: 'p',
    workers: 2,
    mode: 'parallel',
    tasks: ['a', 'b', 'done'],
  });
  for (const task of ['a', 'b', 'done']) applyEvent(state, { type: 'task.started', at, task, attempt: 1, worker: 0 });
  applyEvent(state, { type: 'task.succeeded', at, task: 'done', attempt: 1, result: {} });
  return state;
}

describe.runIf(process.platform === 'linux')('stopOrphans', () => {
  it('stops the processes of attempts the dead coordinator never saw end, not those a dispatch worker still runs', async () => {
    const runId = `run-${randomUUID()}`;
    sleeper(runId, 'a', 1);
    sleeper(runId, 'b', 1); // on a worker: adopted by the resume
    sleeper(runId, 'done', 1); // its attempt ended: not the resume's to stop
    for (let i = 0; i < 100 && taskProcesses(runId).length < 3; i++) await new Promise((r) => setTimeout(r, 10));

    expect(await stopOrphans(deadRun(runId), new Map([['b', 1]]))).toEqual(['a#1']);
    const left = taskProcesses(runId).map((p) => p.task);
    expect(left.sort()).toEqual(['b', 'done']);
  });
});
