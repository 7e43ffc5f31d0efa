import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../ports/clock.js';
import { throttle } from './throttle.js';

describe('throttle policy', () => {
  it('halves the pool (at least 1) and restores the first capacity after the cool-down, on the clock', () => {
    const clock = new VirtualClock();
    let capacity = 4;
    const first = throttle({ capacity, cooldownMs: 60_000, retryAfterMs: undefined });
    expect(first).toEqual({ capacity: 2, original: 4, cooldownMs: 60_000 });
    capacity = first.capacity;
    // A second rate limit narrows it again but remembers the capacity before the first.
    const second = throttle({
      capacity,
      current: { original: first.original },
      cooldownMs: 60_000,
      retryAfterMs: 45_000,
    });
    expect(second).toEqual({ capacity: 1, original: 4, cooldownMs: 90_000 });
    capacity = second.capacity;
    clock.setTimeout(() => (capacity = second.original), second.cooldownMs);
    clock.advance(89_999);
    expect(capacity).toBe(1);
    clock.advance(1);
    expect(capacity).toBe(4);
    expect(throttle({ capacity: 1, cooldownMs: 0, retryAfterMs: undefined })).toEqual({
      capacity: 1,
      original: 1,
      cooldownMs: 0,
    });
  });
});
