import { isWeftError, WeftError } from '../core/errors.js';
import type { Store } from '../core/ports/store.js';
import type { RunEvent } from '../core/run/events.js';
import { applyEvent, emptyRunState, type RunState } from '../core/run/run-state.js';

/** A run's journal as far as it was read: its events, their fold, and the seq of the last. */
export interface JournalView {
  readonly events: readonly RunEvent[];
  /** The fold of `events`; moved in place as more are read — don't change it, copy it (`stateAt`) to adjust. */
  readonly state: RunState;
  readonly lastSeq: number;
}

/**
 * Runs' journals read incrementally: each {@link JournalCache.read} asks the store only for the
 * events after the last seq it saw and folds them into the state it keeps, so a server following a
 * run every 100–200 ms for each viewer pays for what is new, not for the whole journal again.
 * Keeps the `max` runs read most recently.
 */
export class JournalCache {
  private readonly runs = new Map<string, { events: RunEvent[]; state: RunState; lastSeq: number }>();

  /** @param max Runs kept. @default 32 */
  constructor(
    private readonly store: Store,
    private readonly max = 32,
  ) {}

  /**
   * The run's journal up to now.
   * @throws `WEFT_RUN_NOT_FOUND` (with `hint`) when the journal has no such run.
   */
  async read(runId: string, hint?: string): Promise<JournalView> {
    let view = this.runs.get(runId);
    let entries;
    try {
      entries = await this.store.read(runId, view?.lastSeq ?? 0);
    } catch (error) {
      if (isWeftError(error) && error.code === 'WEFT_RUN_NOT_FOUND')
        throw new WeftError('WEFT_RUN_NOT_FOUND', `no run "${runId}" in the journal`, {
          cause: error,
          ...(hint === undefined ? {} : { hint }),
        });
      throw error;
    }
    if (view === undefined) view = { events: [], state: emptyRunState(), lastSeq: 0 };
    this.runs.delete(runId); // most recent last
    this.runs.set(runId, view);
    for (const { seq, event } of entries) {
      view.events.push(event);
      applyEvent(view.state, event);
      view.lastSeq = seq;
    }
    for (const old of this.runs.keys()) {
      if (this.runs.size <= this.max) break;
      this.runs.delete(old);
    }
    return view;
  }
}
