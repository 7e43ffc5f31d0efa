import { describe, expect, it } from 'vitest';
import { compilePlan } from '../plan/compile.js';
import type { Graph } from '../plan/graph.js';
import { TEST_EXECUTORS } from '../testing/arbitraries.js';
import { Scheduler, type SchedulerOptions } from './scheduler.js';

/**
 * On one worker `first` runs, then `x` or `y`: the searched `score` starts `y` next, the
 * `surpriseScore` `x`.
 */
const plan = (firstEstimate: string | null = '10s'): Graph =>
  compilePlan(
    {
      tasks: [
        { id: 'first', run: 'x', ...(firstEstimate === null ? {} : { estimate: firstEstimate }) },
        { id: 'x', run: 'x', estimate: '1s' },
        { id: 'y', run: 'x', estimate: '1s' },
      ],
    },
    { executors: TEST_EXECUTORS },
  ).graph;
const SCORE = [3, 1, 2];
const SURPRISE = () => [3, 2, 1];

/** Starts `first` at 0, ends it at `endsAt`, and names the task that starts next. */
function nextAfterFirst(endsAt: number, options: Partial<SchedulerOptions> = {}, graph = plan()): string[] {
  const sched = new Scheduler(graph, { workers: 1, score: SCORE, surpriseScore: SURPRISE, ...options });
  sched.begin(0);
  expect(sched.start(0).map((a) => graph.tasks[a.task]?.id)).toEqual(['first']);
  sched.finish(0, 'succeeded', endsAt);
  return [...sched.start(endsAt).map((a) => graph.tasks[a.task]?.id ?? ''), String(sched.surprised)];
}

describe('Scheduler: the first surprise switches the ready queue to surpriseScore', () => {
  it('a task ending on its estimate keeps the searched order', () => {
    expect(nextAfterFirst(10_000)).toEqual(['y', 'false']);
    expect(nextAfterFirst(10_150)).toEqual(['y', 'false']); // within the 2% tolerance
  });

  it('a task ending late, or early, switches: the ready task the searched order put last starts first', () => {
    expect(nextAfterFirst(15_000)).toEqual(['x', 'true']);
    expect(nextAfterFirst(5_000)).toEqual(['x', 'true']);
  });

  it('the tolerance is an option', () => {
    expect(nextAfterFirst(11_000, { surpriseTolerance: 0.2 })).toEqual(['y', 'false']);
    expect(nextAfterFirst(13_000, { surpriseTolerance: 0.2 })).toEqual(['x', 'true']);
  });

  it('makes the surprise order at the first surprise only, once', () => {
    let calls = 0;
    const counted = { surpriseScore: () => (calls++, SURPRISE()) };
    expect(nextAfterFirst(10_000, counted)).toEqual(['y', 'false']);
    expect(calls).toBe(0);
    expect(nextAfterFirst(15_000, counted)).toEqual(['x', 'true']);
    expect(calls).toBe(1);
  });

  it('without a surpriseScore the score holds whatever happens', () => {
    expect(nextAfterFirst(15_000, { surpriseScore: undefined })).toEqual(['y', 'false']);
  });

  it('a task without an estimate surprises no one (its duration was never known)', () => {
    expect(nextAfterFirst(15_000, {}, plan(null))).toEqual(['y', 'false']);
  });

  it('a task still running past its estimate switches the next choice', () => {
    // Two workers: `long` (5 s) and `short` (20 s) start; `short` ends on time at 20 s, when `long`
    // has overrun by 15 s: the choice between x and y is made in the surprise order.
    const graph = compilePlan(
      {
        tasks: [
          { id: 'long', run: 'x', estimate: '5s' },
          { id: 'short', run: 'x', estimate: '20s' },
          { id: 'x', run: 'x', estimate: '1s' },
          { id: 'y', run: 'x', estimate: '1s' },
        ],
      },
      { executors: TEST_EXECUTORS },
    ).graph;
    const run = (longEndsBy: number): string[] => {
      const sched = new Scheduler(graph, { workers: 2, score: [4, 3, 1, 2], surpriseScore: () => [4, 3, 2, 1] });
      sched.begin(0);
      expect(sched.start(0)).toHaveLength(2);
      sched.finish(1, 'succeeded', 20_000);
      if (longEndsBy <= 20_000) sched.finish(0, 'succeeded', longEndsBy);
      return sched.start(20_000).map((a) => graph.tasks[a.task]?.id ?? '');
    };
    expect(run(30_000)).toEqual(['x']);
  });

  it('a scheduler that adopts a surprised one keeps the surprise order', () => {
    const graph = plan();
    const options = { workers: 1, score: SCORE, surpriseScore: SURPRISE };
    const sched = new Scheduler(graph, options);
    sched.begin(0);
    sched.start(0);
    sched.finish(0, 'succeeded', 15_000);
    const next = new Scheduler(graph, options);
    next.adopt(sched, 15_000);
    expect(next.surprised).toBe(true);
    expect(next.start(15_000).map((a) => graph.tasks[a.task]?.id)).toEqual(['x']);
  });
});
