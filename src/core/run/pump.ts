import type { Clock } from '../ports/clock.js';

/** The longest the engine runs passes back to back without letting the event loop turn, ms. */
const TURN_MS = 10;

/** What the {@link Pump} drives: the engine's passes, and what it needs to know between them. */
export interface PumpHost {
  /** One scheduling pass; a promise while its journal append is being stored. */
  pass(): Promise<void> | undefined;
  /** Completions not yet handed to a pass. */
  pendingCompletions(): number;
  /** Attempts still running. */
  running(): number;
  /** Whether the scheduler has nothing left to start or wait for. */
  finished(): boolean;
  /** Ends the run (once). */
  finish(): Promise<void>;
  /** When the scheduler next has something to do without an event (a retry's back-off), if ever. */
  nextWakeAt(): number | undefined;
  /** A pass threw: the run must stop with this error. */
  failed(error: unknown): void;
}

/**
 * Runs the engine's passes: never two at once (one asked for during a pass runs right after it),
 * batched per turn of the event loop, and woken by a timer when the scheduler has a time to wake
 * at. Holds no state of the run itself.
 */
export class Pump {
  private pumping = false;
  private scheduled = false;
  /** When the event loop last had a turn (a deferred pass ran). */
  private turnAt = -Infinity;
  private again = false;
  private wakeTimer: unknown;
  private wakeAt = Infinity;

  constructor(
    private readonly clock: Clock,
    private readonly host: PumpHost,
  ) {}

  /**
   * Completions of short tasks arrive one promise-hop apart; waiting for the current turn of the
   * event loop to end lets one scheduling pass (and one journal append) take them all. Once every
   * running attempt has ended there is nothing left to wait for (a chain, M = 1, or all M tasks
   * done at once) and the pass runs now, unless the event loop has had no turn for
   * {@link TURN_MS}: timers, I/O and Ctrl-C must not wait behind a long run of instant tasks.
   */
  soon(): void {
    if (this.host.pendingCompletions() === this.host.running() && this.clock.now() - this.turnAt < TURN_MS) {
      void this.run();
      return;
    }
    this.defer();
  }

  private defer(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    this.clock.defer(this.deferred);
  }

  private readonly deferred = (): void => {
    this.scheduled = false;
    this.turnAt = this.clock.now();
    void this.run();
  };

  /** Runs passes until nothing is left to take; then ends the run, or arms the wake timer. */
  async run(): Promise<void> {
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.again = false;
        const stored = this.host.pass();
        if (stored !== undefined) await stored;
        // Gates end within the pass that starts them, and a journal's append resolves in a
        // microtask: completions that never wait for the event loop must not keep it from turning.
        if ((this.again || this.host.pendingCompletions() > 0) && this.clock.now() - this.turnAt >= TURN_MS) {
          this.defer();
          return;
        }
      } while (this.again || this.host.pendingCompletions() > 0);
      if (this.host.finished() && this.host.running() === 0) await this.host.finish();
      else this.armWakeTimer();
    } catch (error) {
      this.host.failed(error);
    } finally {
      this.pumping = false;
    }
  }

  /** Clears the wake timer (the run ended). */
  dispose(): void {
    if (this.wakeTimer !== undefined) this.clock.clearTimeout(this.wakeTimer);
  }

  private armWakeTimer(): void {
    const at = this.host.nextWakeAt();
    if (at === undefined || at >= this.wakeAt) return;
    if (this.wakeTimer !== undefined) this.clock.clearTimeout(this.wakeTimer);
    this.wakeAt = at;
    this.wakeTimer = this.clock.setTimeout(
      () => {
        this.wakeTimer = undefined;
        this.wakeAt = Infinity;
        void this.run();
      },
      Math.max(0, at - this.clock.now()),
    );
  }
}
