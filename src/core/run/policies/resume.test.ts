import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../ports/clock.js';
import { compilePlan } from '../../plan/compile.js';
import { foldRun } from '../run-state.js';
import type { RunEvent } from '../events.js';
import { restoreRun } from './resume.js';

const EXECUTORS = new Map([['shell', { requires: 'run' as const }]]);
const plan = compilePlan(
  {
    tasks: [
      { id: 'a', run: 'true' },
      { id: 'deploy', run: 'true', resume: 'never' },
      { id: 'b', run: 'true', needs: ['a'] },
    ],
  },
  { executors: EXECUTORS },
);

/** A journal cut off while `deploy` and `b` ran, then read by a resume, on the clock. */
function cutOff(): RunEvent[] {
  const clock = new VirtualClock(1000);
  const at = () => clock.now();
  const events: RunEvent[] = [
    { type: 'run.created', at: at(), runId: 'r', plan: 'p', workers: 2, mode: 'parallel', tasks: ['a', 'deploy', 'b'] },
  ];
  events.push(
    { type: 'task.started', at: at(), task: 'a', attempt: 1, worker: 0 },
    { type: 'task.started', at: at(), task: 'deploy', attempt: 1, worker: 1 },
  );
  clock.advance(500);
  events.push({ type: 'task.retrying', at: at(), task: 'a', attempt: 1, error: { message: 'x' }, retryAt: at() });
  events.push({ type: 'task.started', at: at(), task: 'a', attempt: 2, worker: 0 });
  clock.advance(500);
  events.push(
    { type: 'task.succeeded', at: at(), task: 'a', attempt: 2, result: {} },
    { type: 'task.started', at: at(), task: 'b', attempt: 1, worker: 0 },
  );
  clock.advance(60_000);
  events.push({ type: 'run.resumed', at: at(), by: 'pid:1' });
  return events;
}

describe('restoreRun', () => {
  it('keeps what succeeded, numbers attempts on, and makes a cut-off `resume: never` task wait for a person', () => {
    const r = restoreRun(foldRun(cutOff()), plan.graph);
    expect(r.tasks).toEqual([
      { task: 0, attempts: 2, succeeded: true },
      { task: 1, attempts: 1, succeeded: false },
      { task: 2, attempts: 1, succeeded: false },
    ]);
    expect(r.needsDecision).toEqual([
      {
        task: 1,
        id: 'deploy',
        attempt: 1,
        error: {
          code: 'WEFT_NEEDS_DECISION',
          message:
            'was running when weft stopped and has resume: never; check its side effects, then run it again with `weft resume --retry deploy`',
        },
      },
    ]);
  });

  it('names the P0 a task not ended since was preempted for in its last attempt, so its next attempt resumes after it', () => {
    const events = cutOff();
    const resumed = events.pop() as RunEvent;
    events.push({ type: 'task.preempted', at: 2000, task: 'b', attempt: 1, by: 'urgent', byClass: 'P0' }, resumed);
    expect(restoreRun(foldRun(events), plan.graph).tasks[2]).toEqual({
      task: 2,
      attempts: 1,
      succeeded: false,
      preemptedBy: 'urgent',
    });
    // Once it ran again (or ended), the preemption is behind it.
    events.splice(-1, 0, { type: 'task.started', at: 2500, task: 'b', attempt: 2, worker: 0 });
    expect(restoreRun(foldRun(events), plan.graph).tasks[2]).toEqual({ task: 2, attempts: 2, succeeded: false });
  });

  it('runs it again when a person said so, and keeps asking in a later resume until then', () => {
    expect(restoreRun(foldRun(cutOff()), plan.graph, new Set(['deploy'])).needsDecision).toEqual([]);
    const asked = [
      ...cutOff(),
      {
        type: 'task.failed',
        at: 62_000,
        task: 'deploy',
        attempt: 1,
        error: { message: 'm', code: 'WEFT_NEEDS_DECISION' },
      } as RunEvent,
      { type: 'run.resumed', at: 70_000, by: 'pid:2' } as RunEvent,
    ];
    expect(restoreRun(foldRun(asked), plan.graph).needsDecision.map((d) => d.id)).toEqual(['deploy']);
  });

  it('ignores tasks the current plan does not have', () => {
    const other = compilePlan({ tasks: [{ id: 'b', run: 'true' }] }, { executors: EXECUTORS });
    expect(restoreRun(foldRun(cutOff()), other.graph)).toEqual({
      tasks: [{ task: 0, attempts: 1, succeeded: false }],
      needsDecision: [],
    });
  });

  it('adopts an attempt still running elsewhere: the next attempt is that one again, and a `resume: never` task needs no decision', () => {
    const r = restoreRun(
      foldRun(cutOff()),
      plan.graph,
      undefined,
      new Map([
        ['b', 1],
        ['deploy', 1],
      ]),
    );
    expect(r.tasks).toEqual([
      { task: 0, attempts: 2, succeeded: true },
      { task: 1, attempts: 0, succeeded: false },
      { task: 2, attempts: 0, succeeded: false },
    ]);
    expect(r.needsDecision).toEqual([]);
  });

  it('adopts only the last attempt, never one that ended or a task that succeeded', () => {
    const prior = foldRun(cutOff());
    const r = restoreRun(
      prior,
      plan.graph,
      undefined,
      new Map([
        ['a', 2],
        ['b', 2],
      ]),
    );
    expect(r.tasks).toEqual([
      { task: 0, attempts: 2, succeeded: true },
      { task: 1, attempts: 1, succeeded: false },
      { task: 2, attempts: 1, succeeded: false },
    ]);
  });
});

describe('an adopted attempt in the journal', () => {
  it('is reopened by its second task.started, not counted twice', () => {
    const events = cutOff();
    const end = events.at(-1)?.at as number;
    const state = foldRun([
      ...events,
      { type: 'task.started', at: end, task: 'b', attempt: 1, worker: 1 },
      { type: 'task.succeeded', at: end + 10, task: 'b', attempt: 1, result: {} },
    ]);
    const b = state.tasks.get('b');
    expect(b?.attempts).toHaveLength(1);
    expect(b?.attempts[0]).toMatchObject({ attempt: 1, outcome: 'succeeded', endedAt: end + 10 });
    expect(b?.attempts[0]?.startedAt).toBeLessThan(end); // it has run since it first started
  });
});
