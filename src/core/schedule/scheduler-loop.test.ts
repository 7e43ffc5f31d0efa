import { describe, expect, it } from 'vitest';
import { compilePlan } from '../plan/compile.js';
import { Scheduler } from './scheduler.js';

/** code → review → gate, and deploy after the gate: the group is code, review, gate. */
const graph = compilePlan(
  {
    tasks: [
      { id: 'code', run: 'x' },
      { id: 'review', run: 'x', needs: ['code'] },
      { id: 'gate', run: 'x', needs: ['review'] },
      { id: 'deploy', run: 'x', needs: ['gate'] },
    ],
  },
  { executors: new Map([['shell', { requires: 'run' as const }]]) },
).graph;
const GROUP = new Set([0, 1, 2]);

describe('Scheduler: what a loop needs', () => {
  it('a held edge keeps the dependent waiting, even when the task blocked; a scheduler that adopts it without the hold releases it', () => {
    let open = true;
    const options = { workers: 1, heldEdge: (from: number, to: number) => open && GROUP.has(from) && !GROUP.has(to) };
    const s = new Scheduler(graph, options);
    s.begin(0);
    for (const i of [0, 1]) {
      expect(s.start(i).map((a) => a.task)).toEqual([i]);
      s.finish(i, 'succeeded', i + 1);
    }
    s.start(2);
    s.finish(2, 'blocked', 3, 'vetoed'); // held: deploy is not skipped while another iteration may pass
    expect(s.stateOf(3)).toBe('pending');
    expect(s.finished).toBe(false);

    // The next iteration: the group starts over as pending, code ready again; deploy still waits.
    const next = new Scheduler(graph, options);
    next.adopt(s, 4, GROUP);
    expect([0, 1, 2, 3].map((i) => next.stateOf(i))).toEqual(['ready', 'pending', 'pending', 'pending']);
    for (const i of [0, 1, 2]) {
      expect(next.start(10 + i).map((a) => a.task)).toEqual([i]);
      next.finish(i, 'succeeded', 11 + i);
    }
    expect(next.stateOf(3)).toBe('pending');
    // The loop passed: a scheduler without the hold lets deploy go.
    open = false;
    const after = new Scheduler(graph, options);
    after.adopt(next, 20);
    expect(after.stateOf(3)).toBe('ready');
  });

  it('restoring a succeeded task (a resume) respects a held edge', () => {
    const s = new Scheduler(graph, { workers: 1, heldEdge: (from, to) => GROUP.has(from) && !GROUP.has(to) });
    for (const i of [0, 1, 2]) s.restoreSucceeded(i);
    s.begin(0);
    expect(s.stateOf(3)).toBe('pending');
  });

  it('a gate answer with a cause skips the task with that cause', () => {
    const s = new Scheduler(graph, {
      workers: 1,
      gate: (i) => (i === 3 ? { reason: 'the loop never passed', cause: 'blocked' } : undefined),
    });
    s.begin(0);
    for (const i of [0, 1, 2]) {
      s.start(i);
      s.finish(i, 'succeeded', i + 1);
    }
    expect(s.stateOf(3)).toBe('skipped');
    expect(s.skipCauseOf(3)).toBe('blocked');
  });
});
