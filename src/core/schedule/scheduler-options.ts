import type { DispatchPlan } from './dispatch-plan.js';
import type { ReadyOrder } from './ready-order.js';
import type { SkipCause, Transition } from './task-state.js';

/** How a {@link Scheduler} orders and limits a graph's tasks. */
export interface SchedulerOptions {
  /** The budget M. */
  readonly workers: number;
  /** @default 'critical-path' */
  readonly order?: ReadyOrder;
  /** Custom priority: larger starts first; ties fall back to declaration order. Overrides `order`. */
  readonly score?: ArrayLike<number>;
  /** Follow this schedule while the run goes as planned (see {@link DispatchPlan}). */
  readonly plan?: DispatchPlan;
  /**
   * Priorities (larger first) that replace `score` from the first surprise on: a task with an
   * estimate ends off it, or runs past it, by more than `surpriseTolerance` of it (e.g.
   * `expectedPathScore`, which `dispatchOrder` hands on with the searched order; see `surprise.ts`).
   * Without it `score` holds to the end. A function, called at the first surprise only: a run that
   * goes as estimated (every `weft estimate` simulation) never pays for making them.
   */
  readonly surpriseScore?: () => ArrayLike<number>;
  /** How far off its estimate a task may end or run, as a fraction of it, before it is a surprise. @default 0.02 */
  readonly surpriseTolerance?: number;
  /**
   * Called when a task's dependencies are done: a string skips it with that reason (its `when`);
   * `{reason, cause}` skips it with another cause (behind a loop that never passed: `blocked`).
   */
  readonly gate?: (task: number) => string | { readonly reason: string; readonly cause: SkipCause } | undefined;
  /**
   * Whether `to` must not yet hear that its dependency `from` ended (a loop still open holds what
   * depends on its tasks); a later scheduler that {@link Scheduler.adopt}s this one tells it.
   */
  readonly heldEdge?: (from: number, to: number) => boolean;
  /** Sees every state change, in order. */
  readonly onTransition?: (t: Transition) => void;
  /**
   * Sees every task skipped, in order: all a simulation wants of the transitions, without one built
   * for each of its tasks' three or more (see `simulate`).
   */
  readonly onSkipped?: (task: number) => void;
  /**
   * A ready task that may not start yet (it waits for a person's approval, or for the P0 it was
   * preempted for to start): it stays ready, and is asked about again at each {@link Scheduler.start}.
   */
  readonly held?: (task: number) => boolean;
}
