import { WeftError } from '../errors.js';
import type { RunEvent, RunStatus } from '../run/events.js';

/** One stored event and its place in its run's journal. */
export interface JournalEntry {
  /** Position in the run's journal: 1 for `run.created`, then consecutive, never reused. */
  readonly seq: number;
  /** The event as it was appended. */
  readonly event: RunEvent;
}

/** What `weft runs` lists: a summary the store keeps up to date as events are appended. */
export interface RunRow {
  /** The run id. */
  readonly id: string;
  /** Plan name from `run.created`. */
  readonly plan: string;
  /** `at` of `run.created`, ms since the epoch. */
  readonly createdAt: number;
  /** `at` of the last event appended, ms since the epoch. */
  readonly lastEventAt: number;
  /** From the last `run.finished`; `running` before it, and again after a `run.resumed`. */
  readonly status: RunStatus;
  /** Tasks in `run.created` plus those added by `plan.expanded`. */
  readonly tasks: number;
  /** Seq of the last event: pass it as `afterSeq` to read only what comes next. */
  readonly lastSeq: number;
}

/**
 * The journal's storage: every state change of a run is appended here *before* it takes effect,
 * so a crashed run is replayed from it and resumed. Also holds the coordinator leases and the
 * task-result cache. Implementations: `MemoryStore`, `SqliteStore`, `PostgresStore`; all pass
 * the shared spec in `src/store/store-spec.ts`.
 *
 * Every method fails with a `WeftError`: `WEFT_RUN_NOT_FOUND` for an unknown run, `WEFT_STORE`
 * for everything else (I/O, a broken batch, a closed store), with the driver's error as `cause`.
 */
export interface Store {
  /**
   * Appends a batch of events to a run's journal, in order, giving them the next consecutive seqs.
   * Atomic: when it resolves every event is stored, when it rejects none was. In the durable
   * adapters stored means it survives a crash of this process; whether it also survives a power
   * cut is their setting (`SqliteStore`'s `synchronous`, PostgreSQL's `synchronous_commit`). A run comes
   * into being with a batch whose first event is its `run.created` (with the same `runId`);
   * `run.created` may appear nowhere else. An empty batch does nothing.
   * @throws `WEFT_RUN_NOT_FOUND` when the run does not exist and the batch does not create it;
   * `WEFT_STORE` when the run already exists, or an event cannot be stored as JSON.
   */
  append(runId: string, events: readonly RunEvent[]): Promise<void>;

  /**
   * The run's events with `seq > afterSeq`, in seq order. Events come back as JSON gave them:
   * properties that were `undefined` are absent.
   * @param afterSeq Only events after this seq. @default 0 (the whole journal)
   * @throws `WEFT_RUN_NOT_FOUND` when the run does not exist.
   */
  read(runId: string, afterSeq?: number): Promise<JournalEntry[]>;

  /** Every run, newest (`createdAt`) first; runs created at the same ms in reverse creation order. */
  listRuns(): Promise<RunRow[]>;

  /**
   * Takes the run's coordinator lease for `ttlMs`, so two coordinators never drive one run.
   * Succeeds when the lease is free, expired, or already `owner`'s (then it is extended).
   * Atomic even when several processes or machines race for it. Expiry is measured by the
   * store's own clock: the database server's for `PostgresStore` (machines' clocks may differ),
   * the local clock for the others. A lease needs no run: take it before creating one.
   * @returns whether `owner` now holds the lease.
   */
  acquireLease(runId: string, owner: string, ttlMs: number): Promise<boolean>;

  /**
   * Extends `owner`'s lease to `ttlMs` from now. Call it well within the TTL.
   * @returns `false` when `owner` no longer holds the lease (released, or taken by another after
   * it expired): the caller must stop driving the run.
   */
  renewLease(runId: string, owner: string, ttlMs: number): Promise<boolean>;

  /** Gives the lease up if `owner` holds it; does nothing otherwise. */
  releaseLease(runId: string, owner: string): Promise<void>;

  /**
   * Who holds the run's lease and until when (ms since the epoch), or `undefined` when nobody
   * does. Lets a coordinator see that the holder is a dead process on its own machine.
   */
  leaseOf(runId: string): Promise<{ readonly owner: string; readonly expiresAt: number } | undefined>;

  /**
   * A cached task result by key (a content hash of everything that decides the result).
   * @returns the value as JSON gave it back, or `undefined` when there is none.
   */
  getCache(key: string): Promise<unknown>;

  /**
   * Stores (or replaces) a cached value. It must survive `JSON.stringify`.
   * @throws `WEFT_STORE` when the value is `undefined` or cannot be stored as JSON.
   */
  putCache(key: string, value: unknown): Promise<void>;

  /**
   * The values of many keys in one read (`getCache` per key costs a round trip or a lock each: a
   * 100,000-task plan's learned durations are 200,000 keys). Keys without a value are absent.
   */
  getCacheMany(keys: readonly string[]): Promise<Map<string, unknown>>;

  /**
   * Stores (or replaces) many values at once, all or none.
   * @throws `WEFT_STORE` when a value is `undefined` or cannot be stored as JSON (then none is stored).
   */
  putCacheMany(entries: ReadonlyMap<string, unknown>): Promise<void>;

  /** Releases connections and files. Idempotent; any other call after it fails with `WEFT_STORE`. */
  close(): Promise<void>;
}

/**
 * Takes the run's lease or fails with `WEFT_RUN_LOCKED`: what `weft run` and `weft resume` call
 * before driving a run.
 * @example await requireLease(store, runId, `${hostname}:${pid}`, 30_000);
 */
export async function requireLease(store: Store, runId: string, owner: string, ttlMs: number): Promise<void> {
  if (await store.acquireLease(runId, owner, ttlMs)) return;
  throw new WeftError('WEFT_RUN_LOCKED', `run "${runId}" is being driven by another coordinator`, {
    hint: `wait for it to finish, or for its lease to expire (${Math.ceil(ttlMs / 1000)}s after it stops renewing), then resume`,
  });
}
