import { WeftError } from '../core/errors.js';
import type { RunEvent, RunStatus } from '../core/run/events.js';
import type { RunRow } from '../core/ports/store.js';

/** The rules every store applies to a batch, so they all accept and refuse the same things. */

/** Failure of a store operation, with the driver's error as `cause`. */
export function storeError(message: string, cause?: unknown, hint?: string): WeftError {
  return new WeftError('WEFT_STORE', message, { cause, ...(hint === undefined ? {} : { hint }) });
}

export function runNotFound(runId: string): WeftError {
  return new WeftError('WEFT_RUN_NOT_FOUND', `run "${runId}" not found in the journal`, {
    hint: 'list the runs with `weft runs`; a run exists once its run.created event is stored',
  });
}

export function closedError(store: string): WeftError {
  return storeError(`${store} is closed`);
}

/**
 * Checks where `run.created` may appear: first in the batch that creates the run, nowhere else.
 * @param exists whether the run already has events.
 */
export function checkBatch(runId: string, events: readonly RunEvent[], exists: boolean): void {
  const first = events[0];
  if (!exists) {
    if (first?.type !== 'run.created') throw runNotFound(runId);
    if (first.runId !== runId)
      throw storeError(`run.created names run "${first.runId}" but was appended to run "${runId}"`);
  } else if (first?.type === 'run.created') {
    throw storeError(`run "${runId}" already exists; its run.created cannot be appended again`);
  }
  for (let i = 1; i < events.length; i++) {
    if (events[i]?.type === 'run.created')
      throw storeError(
        `run.created must be the first event of run "${runId}", found at position ${i + 1} of the batch`,
      );
  }
  for (const event of events) {
    if (!Number.isFinite(event.at))
      throw storeError(`event ${event.type} of run "${runId}" has no finite \`at\`, got \`${String(event.at)}\``);
  }
}

/** JSON of every event, or a `WEFT_STORE` error naming the one that cannot be stored. */
export function serializeBatch(runId: string, events: readonly RunEvent[]): string[] {
  return events.map((event) => toJson(event, () => `event ${event.type} of run "${runId}"`));
}

/**
 * The batch as one JSON array (one `JSON.stringify`, cheaper than one per event), or the
 * `WEFT_STORE` error of {@link serializeBatch} naming the event that cannot be stored.
 */
export function serializeBatchArray(runId: string, events: readonly RunEvent[]): string {
  try {
    return JSON.stringify(events);
  } catch (error) {
    serializeBatch(runId, events);
    throw storeError(`a batch of run "${runId}" cannot be stored as JSON: ${(error as Error).message}`, error);
  }
}

/** JSON of a cache value; `undefined` (which JSON cannot hold) is refused. */
export function serializeCacheValue(key: string, value: unknown): string {
  return toJson(value, () => `cache value for "${key}"`);
}

/** {@link serializeCacheValue} of every entry, all before any is stored (one that cannot be refuses them all). */
export function serializeCacheEntries(entries: ReadonlyMap<string, unknown>): (readonly [string, string])[] {
  return [...entries].map(([key, value]) => [key, serializeCacheValue(key, value)] as const);
}

function toJson(value: unknown, what: () => string): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (error) {
    throw storeError(`${what()} cannot be stored as JSON: ${(error as Error).message}`, error);
  }
  if (json === undefined) throw storeError(`${what()} cannot be stored as JSON: got \`${typeof value}\``);
  return json;
}

/** The run's summary after `events` are appended to it (`prev` undefined when they create it). */
export function nextRunRow(runId: string, prev: RunRow | undefined, events: readonly RunEvent[]): RunRow {
  let row: RunRow = prev ?? {
    id: runId,
    plan: '',
    createdAt: 0,
    lastEventAt: 0,
    status: 'running',
    tasks: 0,
    lastSeq: 0,
  };
  for (const event of events) {
    row = { ...row, lastEventAt: event.at, lastSeq: row.lastSeq + 1 };
    switch (event.type) {
      case 'run.created':
        row = { ...row, plan: event.plan, createdAt: event.at, tasks: event.tasks.length };
        break;
      case 'plan.expanded':
        row = { ...row, tasks: row.tasks + event.tasks.length };
        break;
      case 'run.finished':
        row = { ...row, status: event.status };
        break;
      case 'run.resumed':
        row = { ...row, status: 'running' };
        break;
      default:
        break;
    }
  }
  return row;
}

/** Refuses an `afterSeq` that is not a seq (stores would otherwise disagree on what it means). */
export function checkAfterSeq(afterSeq: number): void {
  if (!Number.isSafeInteger(afterSeq) || afterSeq < 0)
    throw storeError(`Expected \`afterSeq\` to be a non-negative integer, got \`${afterSeq}\``);
}

/** Refuses a TTL that would make a lease meaningless. */
export function checkTtl(ttlMs: number): void {
  if (!Number.isFinite(ttlMs) || ttlMs <= 0)
    throw storeError(`Expected \`ttlMs\` to be a positive number of milliseconds, got \`${ttlMs}\``);
}

/** A run's row as both SQL stores keep it. */
export interface RunRecord {
  id: string;
  plan: string;
  created_at: number;
  last_event_at: number;
  status: string;
  tasks: number;
  last_seq: number;
}

export function runRowOf(r: RunRecord): RunRow {
  return {
    id: r.id,
    plan: r.plan,
    createdAt: r.created_at,
    lastEventAt: r.last_event_at,
    status: r.status as RunStatus,
    tasks: r.tasks,
    lastSeq: r.last_seq,
  };
}
