import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../ports/clock.js';
import { runOnClock, testExecutor, testPlan } from '../testing/engine-harness.js';
import { parseSize } from '../plan/size.js';

describe('profiles cap how many tasks of each profile run at once, on top of workers', () => {
  it('runs at most profiles.cpu cpu tasks and profiles.io io tasks together; unprofiled tasks fill the rest', async () => {
    const clock = new VirtualClock();
    const tasks = [
      ...['c1', 'c2', 'c3', 'c4'].map((id) => ({ id, run: 'x', profile: 'cpu', estimate: '10s' })),
      ...['i1', 'i2'].map((id) => ({ id, run: 'x', profile: 'io', estimate: '10s' })),
      { id: 'm1', run: 'x', profile: 'memory', estimate: '10s' },
      { id: 'free', run: 'x', profile: undefined, estimate: '10s' },
    ];
    const plan = testPlan({ workers: 8, profiles: { cpu: 2, io: 1 }, defaults: { executor: 'test' }, tasks });
    const running = new Map<string, number>();
    const peak = new Map<string, number>();
    const profileOf = (id: string) => tasks.find((t) => t.id === id)?.profile ?? 'none';
    const executor = testExecutor(
      (ctx) =>
        new Promise((resolve) => {
          const p = profileOf(ctx.task.id);
          running.set(p, (running.get(p) ?? 0) + 1);
          peak.set(p, Math.max(peak.get(p) ?? 0, running.get(p) as number));
          clock.setTimeout(() => {
            running.set(p, (running.get(p) as number) - 1);
            resolve({ ok: true, result: {} });
          }, 10_000);
        }),
    );
    const { status } = await runOnClock(clock, { plan, executor });
    expect(status).toBe('succeeded');
    expect(Object.fromEntries(peak)).toEqual({ cpu: 2, io: 1, memory: 1, none: 1 });
    expect(clock.now()).toBe(20_000); // four cpu tasks, two at a time
  });

  it('reads sizes in powers of 1024 and refuses what is not one', () => {
    expect(parseSize('100MB')).toBe(100 * 1024 * 1024);
    expect(parseSize('2GB')).toBe(2 * 1024 ** 3);
    expect(parseSize('1.5G')).toBe(1.5 * 1024 ** 3);
    expect(parseSize('512k')).toBe(512 * 1024);
    expect(parseSize(4096)).toBe(4096);
    expect(parseSize('lots')).toBeUndefined();
    expect(parseSize('0MB')).toBeUndefined();
  });
});
