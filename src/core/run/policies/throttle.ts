/** A provider's pool while it is narrowed after a rate limit. */
export interface Throttled {
  /** Its capacity before the first rate limit; restored when the cool-down ends. */
  readonly original: number;
}

/** What the throttle policy looks at. */
export interface ThrottleInput {
  /** The pool's capacity now. */
  readonly capacity: number;
  /** Set while the pool is already narrowed. */
  readonly current?: Throttled | undefined;
  /** The shortest cool-down, ms (`throttleCooldownMs`). */
  readonly cooldownMs: number;
  /** How long the provider asked to wait, ms, if it said. */
  readonly retryAfterMs: number | undefined;
}

/** What to do to a provider's pool after a rate limit. */
export interface ThrottleDecision {
  /** The pool's capacity from now: half of what it is, at least 1. */
  readonly capacity: number;
  /** The capacity to restore when the cool-down ends. */
  readonly original: number;
  /** How long until it is restored, ms (a new rate limit meanwhile starts it again). */
  readonly cooldownMs: number;
}

/**
 * A provider said "slow down" (429, overload, usage limit): halve its pool for a while, so the
 * other tasks waiting on it don't all hit the same wall. The cool-down is at least twice what the
 * provider asked to wait.
 *
 * @example
 * throttle({ capacity: 4, cooldownMs: 60_000, retryAfterMs: 90_000 });
 * // → { capacity: 2, original: 4, cooldownMs: 180_000 }
 */
export function throttle(input: ThrottleInput): ThrottleDecision {
  return {
    capacity: Math.max(1, Math.floor(input.capacity / 2)),
    original: input.current?.original ?? input.capacity,
    cooldownMs: Math.max(input.cooldownMs, 2 * (input.retryAfterMs ?? 0)),
  };
}
