import type { Clock } from '../ports/clock.js';
import type { Scheduler } from '../schedule/scheduler.js';
import { throttle } from './policies/throttle.js';

/**
 * Applies the throttle policy: narrows a provider's pool after a rate limit and restores it when
 * the cool-down ends (a new rate limit meanwhile starts the cool-down again).
 */
export class ProviderThrottles {
  private readonly narrowed = new Map<string, { original: number; timer: unknown }>();

  /** `scheduler` is read each time: the run swaps it when its plan grows. */
  constructor(
    private readonly clock: Clock,
    private readonly cooldownMs: number,
    private readonly scheduler: () => Scheduler,
    private readonly restored: () => void,
    /** The run's workers: a pool wider than them (a provider's the plan does not declare) is narrowed from them. */
    private readonly workers: number = Number.MAX_SAFE_INTEGER,
  ) {}

  /** A task of `provider` was rate-limited; nothing happens for a provider without a pool. */
  rateLimited(provider: string | undefined, retryAfterMs: number | undefined): void {
    const pool = provider === undefined ? undefined : this.scheduler().poolCapacity(provider);
    if (provider === undefined || pool === undefined) return;
    const capacity = Math.min(pool, this.workers);
    const current = this.narrowed.get(provider);
    const d = throttle({ capacity, current, cooldownMs: this.cooldownMs, retryAfterMs });
    if (current !== undefined) this.clock.clearTimeout(current.timer);
    this.scheduler().setPoolCapacity(provider, d.capacity);
    const timer = this.clock.setTimeout(() => {
      this.narrowed.delete(provider);
      this.scheduler().setPoolCapacity(provider, d.original);
      this.restored();
    }, d.cooldownMs);
    this.narrowed.set(provider, { original: d.original, timer });
  }

  /** The run ended: no timer is left behind. */
  dispose(): void {
    for (const t of this.narrowed.values()) this.clock.clearTimeout(t.timer);
  }
}
