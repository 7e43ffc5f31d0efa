import type { Transition } from '../schedule/scheduler.js';
import type { RunEvent } from './events.js';
import type { ResolvedTask } from '../plan/graph.js';
import type { EngineNotice } from './engine-options.js';
import { applyEvent, applyTaskEvent, taskRecord, type RunState, type TaskEvent, type TaskRecord } from './run-state.js';

/** The longest a run of gate-only passes keeps its events from the journal, ms. */
const HOLD_MS = 10;
/** The most events such passes keep before they are appended anyway. */
const HOLD_EVENTS = 20_000;

/**
 * A run's events on their way to the journal: each moves the in-memory state at once, and waits
 * for the next {@link flush} to be stored — one append per scheduling pass — then shown.
 */
export class RunJournal {
  /**
   * Each task's record in `state`, by task index, found once per plan: the engine folds its own
   * events into them without looking each one up by id. Undefined until the journal names the task.
   */
  records: (TaskRecord | undefined)[] = [];
  private readonly pending: RunEvent[] = [];
  /** When the first pass whose events are still {@link hold held} ran, if one did. */
  private heldSince: number | undefined;

  constructor(
    readonly state: RunState,
    private readonly append: ((events: readonly RunEvent[]) => void | Promise<void>) | undefined,
    private readonly onEvent: ((event: EngineNotice) => void) | undefined,
    /** Sees every event as it is recorded (the budget counts what ended attempts spent). */
    private readonly onRecorded: (event: RunEvent) => void,
  ) {}

  /** An event happens: the in-memory state moves now; the journal gets it at the next flush. */
  record(event: RunEvent): void {
    applyEvent(this.state, event);
    this.recorded(event);
  }

  /** {@link record} for an event of task `i`, folded into its record found by index. */
  recordTask(i: number, event: TaskEvent): void {
    applyTaskEvent((this.records[i] ??= taskRecord(this.state, event.task)), event);
    this.recorded(event);
  }

  /**
   * Journals what a scheduler transition means for task `i` (`id`): it became ready, it was
   * skipped (and why), or — while the run is `cancelling` what has not started — it was cancelled.
   */
  recordTransition(t: Transition, id: string, cancelling: boolean): void {
    const at = t.at;
    if (t.to === 'ready') this.recordTask(t.task, { type: 'task.ready', at, task: id });
    else if (t.to === 'skipped') {
      const why = { reason: t.reason ?? 'skipped', cause: t.cause ?? 'upstream' };
      this.recordTask(t.task, { type: 'task.skipped', at, task: id, ...why });
    } else if (t.to === 'cancelled' && cancelling)
      this.recordTask(t.task, { type: 'task.cancelled', at, task: id, reason: t.reason ?? 'cancelled' });
  }

  /**
   * An event another process already stored in this run's journal (a person's `weft approve`):
   * the state moves and it is shown, but it is not appended again.
   */
  adopt(event: RunEvent): void {
    applyEvent(this.state, event);
    this.announce([event]);
  }

  /** Finds the records of a plan's tasks (again after the plan grew). */
  findRecords(tasks: readonly ResolvedTask[]): void {
    this.records = tasks.map((t) => this.state.tasks.get(t.id));
  }

  private recorded(event: RunEvent): void {
    this.pending.push(event);
    this.onRecorded(event);
  }

  /**
   * Whether a pass that started only gates may leave its events for the next pass's append instead
   * of storing them now. A gate acts on nothing outside weft and ends within the pass that starts it,
   * so the next pass follows at once; what the journal loses in a crash before that append is only
   * gates, decided again on resume, and the journal stays a prefix of the run's events: a task with
   * effects starts only after an append that holds everything before it. A run of gates then costs
   * one append per {@link HOLD_MS} rather than one per pass (12,500 for 100k gates at -j 8, the most
   * of what `weft run` added to the engine). Held events are shown once stored, like all others.
   */
  hold(now: number): boolean {
    if (this.append === undefined || this.pending.length >= HOLD_EVENTS) return false;
    this.heldSince ??= now;
    return now - this.heldSince < HOLD_MS;
  }

  /**
   * One journal append per scheduling pass; nothing it describes has started before it is stored.
   * A promise only when the journal's append is one: without a journal a pass costs no promise.
   */
  flush(): Promise<void> | undefined {
    this.heldSince = undefined;
    if (this.pending.length === 0) return undefined;
    const batch = this.pending.splice(0);
    const written = this.append?.(batch);
    if (written === undefined) {
      this.announce(batch);
      return undefined;
    }
    return written.then(() => this.announce(batch));
  }

  private announce(batch: readonly RunEvent[]): void {
    const onEvent = this.onEvent;
    if (onEvent !== undefined) for (const e of batch) onEvent(e);
  }
}
