import { describe, expect, it } from 'vitest';
import { preemptions, type RunningTask } from './preempt.js';

const running = (task: number, rank: number, progress = 0.5, extra: Partial<RunningTask> = {}): RunningTask => ({
  task,
  rank,
  progress,
  uses: [],
  stopping: false,
  preemptible: true,
  ...extra,
});

describe('preemptions', () => {
  it('stops the running task of the lowest class, then the least progressed, for a P0 with no worker', () => {
    const blocked = [{ task: 9, uses: [], lockedBy: [] }];
    const low = [running(0, 1, 0.1), running(1, 3, 0.9), running(2, 3, 0.2), running(3, 2, 0)];
    expect(preemptions({ freeWorkers: 0, poolFree: [], blocked, running: low })).toEqual([{ victim: 2, by: 9 }]);
  });

  it('never stops a P0, nor a task that may not be stopped', () => {
    const blocked = [{ task: 9, uses: [], lockedBy: [] }];
    const r = [running(0, 0), running(1, 2, 0.5, { preemptible: false })];
    expect(preemptions({ freeWorkers: 0, poolFree: [], blocked, running: r })).toEqual([]);
  });

  it('counts an attempt already being stopped as a worker coming free: nothing more is stopped', () => {
    const blocked = [{ task: 9, uses: [], lockedBy: [] }];
    const r = [running(0, 2, 0.5, { stopping: true }), running(1, 3)];
    expect(preemptions({ freeWorkers: 0, poolFree: [], blocked, running: r })).toEqual([]);
  });

  it('frees the pool units a P0 needs from the lower class that holds them, though a worker is free', () => {
    // pool 0 (gpu: 1) held by task 1 (P2); task 0 (P3) holds none: stopping it would free nothing needed.
    const blocked = [{ task: 9, uses: [[0, 1]] as const, lockedBy: [] }];
    const r = [running(0, 3, 0), running(1, 2, 0.5, { uses: [[0, 1]] })];
    expect(preemptions({ freeWorkers: 1, poolFree: [0], blocked, running: r })).toEqual([{ victim: 1, by: 9 }]);
  });

  it('stops several when one does not free enough units, and none when all together would not', () => {
    const blocked = [{ task: 9, uses: [[0, 2]] as const, lockedBy: [] }];
    const two = [running(0, 2, 0.1, { uses: [[0, 1]] }), running(1, 2, 0.2, { uses: [[0, 1]] }), running(2, 3)];
    expect(preemptions({ freeWorkers: 0, poolFree: [0], blocked, running: two })).toEqual([
      { victim: 0, by: 9 },
      { victim: 1, by: 9 },
    ]);
    const oneP0 = [running(0, 2, 0.1, { uses: [[0, 1]] }), running(1, 0, 0.2, { uses: [[0, 1]] })];
    expect(preemptions({ freeWorkers: 1, poolFree: [0], blocked, running: oneP0 })).toEqual([]);
  });

  it('stops the tasks holding write locks on the P0', () => {
    const blocked = [{ task: 9, uses: [], lockedBy: [1] }];
    const r = [running(0, 3, 0), running(1, 1, 0.9)];
    expect(preemptions({ freeWorkers: 1, poolFree: [], blocked, running: r })).toEqual([{ victim: 1, by: 9 }]);
  });

  it('gives two blocked P0s one victim each', () => {
    const blocked = [
      { task: 8, uses: [], lockedBy: [] },
      { task: 9, uses: [], lockedBy: [] },
    ];
    const r = [running(0, 2, 0.3), running(1, 2, 0.1), running(2, 1, 0)];
    expect(preemptions({ freeWorkers: 0, poolFree: [], blocked, running: r })).toEqual([
      { victim: 1, by: 8 },
      { victim: 0, by: 9 },
    ]);
  });
});
