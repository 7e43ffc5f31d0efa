import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../ports/clock.js';
import { runOnClock, testExecutor, testPlan } from '../testing/engine-harness.js';

/** On one worker `first` runs, then `x` and `y` in the order the Scheduler picks; `first` takes `firstMs`. */
async function startOrder(firstMs: number, surpriseScore?: number[]): Promise<string[]> {
  const plan = testPlan({
    workers: 1,
    defaults: { executor: 'test' },
    tasks: [
      { id: 'first', run: 'x', estimate: '10s' },
      { id: 'x', run: 'x', estimate: '1s' },
      { id: 'y', run: 'x', estimate: '1s' },
    ],
  });
  const clock = new VirtualClock();
  const executor = testExecutor(
    (ctx) =>
      new Promise((resolve) =>
        clock.setTimeout(() => resolve({ ok: true, result: {} }), ctx.task.id === 'first' ? firstMs : 1000),
      ),
  );
  const { status, events } = await runOnClock(clock, {
    plan,
    executor,
    score: [3, 1, 2],
    ...(surpriseScore === undefined ? {} : { surpriseScore: () => surpriseScore }),
  });
  expect(status).toBe('succeeded');
  return events.flatMap((e) => (e.type === 'task.started' ? [e.task] : []));
}

describe('surpriseScore', () => {
  it('takes over from score once a task ends off its estimate', async () => {
    expect(await startOrder(10_000, [3, 2, 1])).toEqual(['first', 'y', 'x']);
    expect(await startOrder(25_000, [3, 2, 1])).toEqual(['first', 'x', 'y']);
    expect(await startOrder(25_000)).toEqual(['first', 'y', 'x']);
  });
});
