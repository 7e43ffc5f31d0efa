import { describe, expect, it } from 'vitest';
import type { RunEvent } from './events.js';
import { foldRun } from './run-state.js';

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
