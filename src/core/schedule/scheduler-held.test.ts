import { describe, expect, it } from 'vitest';
import { compilePlan } from '../plan/compile.js';
import { Scheduler, type Transition } from './scheduler.js';

const graph = compilePlan(
  {
    tasks: [
      { id: 'a', run: 'x' },
      { id: 'b', run: 'x' },
      { id: 'c', run: 'x', needs: ['b'] },
    ],
  },
  { executors: new Map([['shell', { requires: 'run' as const }]]) },
).graph;

describe('Scheduler: held and blocked tasks', () => {
  it('a held ready task stays ready while others start; it starts once no longer held', () => {
    const held = new Set([1]);
    const s = new Scheduler(graph, { workers: 2, held: (i) => held.has(i) });
    s.begin(0);
    expect(s.start(0).map((a) => a.task)).toEqual([0]);
    expect(s.stateOf(1)).toBe('ready');
    expect(s.start(1)).toEqual([]);
    held.clear();
    expect(s.start(2).map((a) => a.task)).toEqual([1]);
  });

  it('a blocked task (a gate, a rejection) ends; its dependents are skipped as blocked, not failed', () => {
    const seen: Transition[] = [];
    const s = new Scheduler(graph, { workers: 2, held: (i) => i === 1, onTransition: (t) => seen.push(t) });
    s.begin(0);
    s.start(0);
    s.finish(1, 'blocked', 5, 'rejected'); // from ready: a person said no
    expect(s.stateOf(1)).toBe('blocked');
    expect(s.stateOf(2)).toBe('skipped');
    expect(s.skipCauseOf(2)).toBe('blocked');
    expect(seen.find((t) => t.task === 2)).toMatchObject({ reason: 'dependency "b" was blocked', cause: 'blocked' });
    s.finish(0, 'succeeded', 6);
    expect(s.finished).toBe(true);
  });
});
