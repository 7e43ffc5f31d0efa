import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../ports/clock.js';
import type { TaskContext, TaskOutcome } from '../ports/executor.js';
import { stalledNote } from './policies/stall.js';
import { runOnClock, testExecutor, testPlan } from '../testing/engine-harness.js';

/** Runs `tasks` on a VirtualClock; the executor is a plain function of the context and the clock. */
async function runVirtual(
  tasks: object[],
  behave: (ctx: TaskContext, clock: VirtualClock) => Promise<TaskOutcome>,
  info: { requires: 'run'; stallAfterMs?: number; queues?: boolean } = { requires: 'run' },
) {
  const clock = new VirtualClock();
  const plan = testPlan(
    { name: 't', workers: 2, defaults: { executor: 'test', backoff: { initial: '10ms', jitter: false } }, tasks },
    info,
  );
  const executor = testExecutor((ctx) => behave(ctx, clock), info);
  const { state, events } = await runOnClock(clock, { plan, executor });
  return { state, events, at: clock.now() };
}

/** Silent until aborted on its first attempt; succeeds at once on later ones, noting the feedback it got. */
const silentOnce =
  (feedback: (string | undefined)[]) =>
  (ctx: TaskContext): Promise<TaskOutcome> => {
    feedback.push(ctx.feedback);
    if (ctx.attempt > 1) return Promise.resolve({ ok: true, result: {} });
    return new Promise((resolve) =>
      ctx.signal.addEventListener('abort', () => resolve({ ok: false, failure: { message: 'killed by SIGTERM' } })),
    );
  };

describe('the watchdog (stallAfter) on the virtual clock', () => {
  it('stops a silent attempt after stallAfter, journals it and retries it with a note', async () => {
    const feedback: (string | undefined)[] = [];
    const { state, events } = await runVirtual(
      [{ id: 'quiet', run: 'x', stallAfter: '1s', retries: 1 }],
      silentOnce(feedback),
    );
    const stalled = events.find((e) => e.type === 'task.stalled');
    expect(stalled).toMatchObject({ task: 'quiet', attempt: 1, silentMs: 1000, at: 1000 });
    const retrying = events.find((e) => e.type === 'task.retrying');
    expect(retrying).toMatchObject({ error: { code: 'WEFT_TASK_STALLED' } });
    expect(state.tasks.get('quiet')?.state).toBe('succeeded');
    expect(feedback).toEqual([undefined, stalledNote(1000)]);
  });

  it('leaves alone a task that reports progress more often than stallAfter', async () => {
    const { state, events, at } = await runVirtual(
      [{ id: 'chatty', run: 'x', stallAfter: '1s' }],
      (ctx, clock) =>
        new Promise((resolve) => {
          let n = 0;
          const tick = (): void => {
            ctx.emit({ kind: 'output' });
            if (++n === 20) resolve({ ok: true, result: {} });
            else clock.setTimeout(tick, 200);
          };
          clock.setTimeout(tick, 200);
        }),
    );
    expect(events.some((e) => e.type === 'task.stalled')).toBe(false);
    expect(state.tasks.get('chatty')?.state).toBe('succeeded');
    expect(at).toBe(4000);
  });

  it('fails a task that stalls on every attempt once its retries are spent', async () => {
    const { state, events } = await runVirtual(
      [{ id: 'hung', run: 'x', stallAfter: '2s', retries: 1 }],
      (ctx) =>
        new Promise((resolve) =>
          ctx.signal.addEventListener('abort', () => resolve({ ok: false, failure: { message: 'killed' } })),
        ),
    );
    expect(events.filter((e) => e.type === 'task.stalled')).toHaveLength(2);
    expect(state.tasks.get('hung')).toMatchObject({ state: 'failed' });
    expect(state.tasks.get('hung')?.reason).toMatch(/^stalled: no progress .* for 2s$/);
  });

  it("takes the executor's default stallAfter, and stallAfter: 0 turns it off", async () => {
    const feedback: (string | undefined)[] = [];
    const defaulted = await runVirtual([{ id: 'a', run: 'x', retries: 1 }], silentOnce(feedback), {
      requires: 'run',
      stallAfterMs: 5000,
    });
    expect(defaulted.events.find((e) => e.type === 'task.stalled')).toMatchObject({ at: 5000 });
    const off = testPlan(
      { tasks: [{ id: 'a', run: 'x', executor: 'test', stallAfter: 0 }] },
      { requires: 'run', stallAfterMs: 5000 },
    );
    expect(off.graph.tasks[0]?.stallAfterMs).toBeUndefined();
  });
});

describe('an attempt that waits in a queue (an executor that queues: remote workers)', () => {
  /** Waits `queuedMs` for a worker, says so, then works `workMs` saying nothing. */
  const queued =
    (queuedMs: number, workMs: number) =>
    (ctx: TaskContext, clock: VirtualClock): Promise<TaskOutcome> =>
      new Promise((resolve) => {
        ctx.signal.addEventListener('abort', () => resolve({ ok: false, failure: { message: 'stopped' } }));
        clock.setTimeout(() => {
          ctx.emit({ kind: 'status', message: 'a worker took it' });
          clock.setTimeout(() => resolve({ ok: true, result: {} }), workMs);
        }, queuedMs);
      });

  it('counts its timeout and watchdog from when a worker takes it, not from when it was sent', async () => {
    const task = { id: 'render', run: 'x', timeout: '3s', stallAfter: '2s' };
    const { state, events, at } = await runVirtual([task], queued(60_000, 1500), { requires: 'run', queues: true });
    expect(events.filter((e) => e.type === 'task.stalled' || e.type === 'task.failed')).toEqual([]);
    expect(state.tasks.get('render')?.state).toBe('succeeded');
    expect(at).toBe(61_500);
    expect(events.find((e) => e.type === 'task.started')).toMatchObject({ at: 0, queued: true });
  });

  it('still times out once taken; and an executor that does not queue counts from the start', async () => {
    const late = await runVirtual([{ id: 'slow', run: 'x', timeout: '3s' }], queued(60_000, 5000), {
      requires: 'run',
      queues: true,
    });
    expect(late.events.find((e) => e.type === 'task.failed')).toMatchObject({ at: 63_000 });
    const local = await runVirtual([{ id: 'slow', run: 'x', timeout: '3s' }], queued(60_000, 5000));
    expect(local.events.find((e) => e.type === 'task.failed')).toMatchObject({ at: 3000 });
    expect(local.events.find((e) => e.type === 'task.started')).not.toHaveProperty('queued');
  });
});
