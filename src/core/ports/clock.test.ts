import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from './clock.js';

describe('VirtualClock', () => {
  it('stands still until told to move', () => {
    const clock = new VirtualClock(1_000);
    expect(clock.now()).toBe(1_000);
    clock.advance(250);
    expect(clock.now()).toBe(1_250);
    expect(clock.nextTimerAt()).toBeUndefined();
  });

  it('fires due timers in time order, each seeing its own time, and leaves later ones', () => {
    const clock = new VirtualClock();
    const fired: string[] = [];
    const at = (name: string) => () => fired.push(`${name}@${clock.now()}`);
    clock.setTimeout(at('c'), 30);
    clock.setTimeout(at('a'), 10);
    clock.setTimeout(at('b'), 10);
    clock.setTimeout(at('late'), 100);
    clock.advance(50);
    expect(fired).toEqual(['a@10', 'b@10', 'c@30']);
    expect(clock.now()).toBe(50);
    expect(clock.nextTimerAt()).toBe(100);
  });

  it('fires a timer set by a timer when it falls due within the same advance', () => {
    const clock = new VirtualClock();
    const fired: number[] = [];
    clock.setTimeout(() => {
      fired.push(clock.now());
      clock.setTimeout(() => fired.push(clock.now()), 5);
      clock.setTimeout(() => fired.push(clock.now()), 50);
    }, 10);
    clock.advance(20);
    expect(fired).toEqual([10, 15]);
    clock.advance(100);
    expect(fired).toEqual([10, 15, 60]);
  });

  it('does not fire a cleared timer, and treats a negative delay as now', () => {
    const clock = new VirtualClock();
    const fired: string[] = [];
    const handle = clock.setTimeout(() => fired.push('cleared'), 10);
    clock.setTimeout(() => fired.push('negative'), -5);
    clock.clearTimeout(handle);
    clock.advance(0);
    expect(fired).toEqual(['negative']);
    clock.advance(100);
    expect(fired).toEqual(['negative']);
  });

  it('fires every timer exactly once, in (time, creation) order, whatever the steps', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 100 }), { maxLength: 40 }),
        fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 20 }),
        (delays, steps) => {
          const clock = new VirtualClock();
          const fired: { id: number; at: number; now: number }[] = [];
          delays.forEach((d, id) => clock.setTimeout(() => fired.push({ id, at: d, now: clock.now() }), d));
          for (const s of [...steps, 100]) clock.advance(s);
          const expected = delays.map((d, id) => ({ id, at: d, now: d })).sort((x, y) => x.at - y.at || x.id - y.id);
          expect(fired).toEqual(expected);
          expect(clock.nextTimerAt()).toBeUndefined();
        },
      ),
    );
  });
});
