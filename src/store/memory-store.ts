import type { RunEvent } from '../core/run/events.js';
import type { JournalEntry, RunRow, Store } from '../core/ports/store.js';
import {
  checkAfterSeq,
  checkBatch,
  checkTtl,
  closedError,
  nextRunRow,
  runNotFound,
  serializeBatch,
  serializeCacheEntries,
  serializeCacheValue,
} from './journal-rules.js';

export interface MemoryStoreOptions {
  /** Clock for lease expiry, ms. @default Date.now */
  readonly now?: () => number;
}

interface MemoryRun {
  row: RunRow;
  /** Events as JSON, so reads give back what a durable store would (and callers cannot alias them). */
  readonly events: string[];
  readonly order: number;
}

/**
 * A {@link Store} that keeps everything in this process: for tests, `weft estimate` and
 * `--store memory:`. Nothing survives the process. Values go through JSON like in the durable
 * stores, so code tested against it behaves the same on SQLite and PostgreSQL.
 */
export class MemoryStore implements Store {
  private readonly runs = new Map<string, MemoryRun>();
  private readonly leases = new Map<string, { owner: string; expiresAt: number }>();
  private readonly cache = new Map<string, string>();
  private readonly now: () => number;
  private created = 0;
  private closed = false;

  constructor(options: MemoryStoreOptions = {}) {
    this.now = options.now ?? Date.now;
  }

  async append(runId: string, events: readonly RunEvent[]): Promise<void> {
    this.open();
    if (events.length === 0) return;
    const run = this.runs.get(runId);
    checkBatch(runId, events, run !== undefined);
    const json = serializeBatch(runId, events);
    const row = nextRunRow(runId, run?.row, events);
    if (run === undefined) this.runs.set(runId, { row, events: json, order: this.created++ });
    else {
      run.row = row;
      for (const e of json) run.events.push(e);
    }
  }

  async read(runId: string, afterSeq = 0): Promise<JournalEntry[]> {
    this.open();
    checkAfterSeq(afterSeq);
    const run = this.runs.get(runId);
    if (run === undefined) throw runNotFound(runId);
    const out: JournalEntry[] = [];
    for (let i = afterSeq; i < run.events.length; i++) {
      out.push({ seq: i + 1, event: JSON.parse(run.events[i] as string) as RunEvent });
    }
    return out;
  }

  async listRuns(): Promise<RunRow[]> {
    this.open();
    return [...this.runs.values()]
      .sort((a, b) => b.row.createdAt - a.row.createdAt || b.order - a.order)
      .map((r) => r.row);
  }

  async acquireLease(runId: string, owner: string, ttlMs: number): Promise<boolean> {
    this.open();
    checkTtl(ttlMs);
    const now = this.now();
    const lease = this.leases.get(runId);
    if (lease !== undefined && lease.owner !== owner && lease.expiresAt > now) return false;
    this.leases.set(runId, { owner, expiresAt: now + ttlMs });
    return true;
  }

  async renewLease(runId: string, owner: string, ttlMs: number): Promise<boolean> {
    this.open();
    checkTtl(ttlMs);
    const lease = this.leases.get(runId);
    if (lease?.owner !== owner) return false;
    lease.expiresAt = this.now() + ttlMs;
    return true;
  }

  async releaseLease(runId: string, owner: string): Promise<void> {
    this.open();
    if (this.leases.get(runId)?.owner === owner) this.leases.delete(runId);
  }

  async leaseOf(runId: string): Promise<{ owner: string; expiresAt: number } | undefined> {
    this.open();
    const lease = this.leases.get(runId);
    return lease === undefined || lease.expiresAt <= this.now()
      ? undefined
      : { owner: lease.owner, expiresAt: lease.expiresAt };
  }

  async getCache(key: string): Promise<unknown> {
    this.open();
    const json = this.cache.get(key);
    return json === undefined ? undefined : (JSON.parse(json) as unknown);
  }

  async putCache(key: string, value: unknown): Promise<void> {
    this.open();
    this.cache.set(key, serializeCacheValue(key, value));
  }

  async getCacheMany(keys: readonly string[]): Promise<Map<string, unknown>> {
    this.open();
    const found = new Map<string, unknown>();
    for (const key of keys) {
      const json = this.cache.get(key);
      if (json !== undefined) found.set(key, JSON.parse(json) as unknown);
    }
    return found;
  }

  async putCacheMany(entries: ReadonlyMap<string, unknown>): Promise<void> {
    this.open();
    const rows = serializeCacheEntries(entries);
    for (const [key, json] of rows) this.cache.set(key, json);
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private open(): void {
    if (this.closed) throw closedError('MemoryStore');
  }
}
