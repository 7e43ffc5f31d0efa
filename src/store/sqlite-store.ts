import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { RunEvent } from '../core/events.js';
import type { JournalEntry, RunRow, Store } from '../core/store.js';
import { WeftError } from '../core/errors.js';
import { checkAfterSeq, checkBatch, checkTtl, closedError, nextRunRow, runNotFound, serializeBatch, serializeCacheValue, storeError, runRowOf, type RunRecord } from './journal-rules.js';
import { SQLITE_SCHEMA_VERSION, migrateSqlite } from './sqlite-schema.js';

export interface SqliteStoreOptions {
  /** The database file; its folder is created. @default '.weft/weft.db' */
  readonly path?: string;
  /**
   * When commits reach the disk. With either, the file is never corrupted, and a crash of weft
   * (`kill -9`, OOM, Ctrl-C) loses nothing that `append` resolved: the commit is in the OS.
   * - `NORMAL`: no fsync per commit (only at checkpoints). A power cut or kernel crash can lose the
   *   last commits — those the kernel had not yet written back, typically under 30 s — and the
   *   journal reads as the consistent prefix before them; the tasks they record run again.
   * - `FULL`: fsyncs the WAL on every commit, so a resolved `append` survives a power cut too,
   *   at one fsync (0.5–4 ms here) per batch: a 10k no-op-task run takes several times longer.
   * @default 'NORMAL'
   */
  readonly synchronous?: 'FULL' | 'NORMAL';
  /** How long to wait for another process's write lock before failing with `WEFT_STORE`. @default 5000 */
  readonly busyTimeoutMs?: number;
  /** Clock for lease expiry, ms. @default Date.now */
  readonly now?: () => number;
}


/** Events that change a run's row; the rest only add to its journal. */
const ROW_EVENTS: ReadonlySet<RunEvent['type']> = new Set(['run.created', 'run.finished', 'run.resumed', 'plan.expanded']);
/** Rows per INSERT statement: one statement per batch (up to this size) instead of one per event. */
const INSERT_CHUNK = 16;

/**
 * A {@link Store} in one SQLite file (WAL mode), the default journal in a project's `.weft/`.
 * Several processes may share the file: writes take SQLite's write lock (`BEGIN IMMEDIATE`) and
 * wait up to `busyTimeoutMs` for it. Calls run synchronously inside the returned promise.
 */
export class SqliteStore implements Store {
  /** Schema version written to `PRAGMA user_version`. */
  static readonly schemaVersion = SQLITE_SCHEMA_VERSION;
  readonly path: string;
  private readonly db: Database.Database;
  private readonly now: () => number;
  private readonly stmt: Statements;
  private readonly appendTx: (runId: string, events: readonly RunEvent[]) => void;
  private readonly inserts: Database.Statement[] = [];
  private closed = false;

  constructor(options: SqliteStoreOptions = {}) {
    this.path = options.path ?? '.weft/weft.db';
    this.now = options.now ?? Date.now;
    const synchronous = options.synchronous ?? 'NORMAL';
    if (synchronous !== 'FULL' && synchronous !== 'NORMAL') throw storeError(`Expected \`synchronous\` to be 'FULL' or 'NORMAL', got \`${String(synchronous)}\``);
    const busy = options.busyTimeoutMs ?? 5000;
    if (!Number.isInteger(busy) || busy < 0) throw storeError(`Expected \`busyTimeoutMs\` to be a non-negative integer, got \`${busy}\``);
    try {
      mkdirSync(dirname(this.path), { recursive: true });
      this.db = new Database(this.path);
    } catch (error) {
      throw storeError(`cannot open the journal at ${this.path}: ${(error as Error).message}`, error, 'check that the folder is writable');
    }
    try {
      this.db.pragma(`busy_timeout = ${busy}`);
      const mode = this.db.pragma('journal_mode = WAL', { simple: true }) as string;
      // Without WAL a reader blocks the writer and crash safety rests on a rollback journal.
      if (mode !== 'wal') throw storeError(`cannot put the journal at ${this.path} in WAL mode (got ${mode})`, undefined, 'keep .weft/ on a local disk, not a network share');
      this.db.pragma(`synchronous = ${synchronous}`);
      migrateSqlite(this.db, this.path);
      this.stmt = prepareStatements(this.db);
    } catch (error) {
      this.db.close();
      throw error instanceof WeftError ? error : storeError(`cannot open the journal at ${this.path}: ${(error as Error).message}`, error);
    }
    this.appendTx = this.db.transaction((runId: string, events: readonly RunEvent[]) => this.appendNow(runId, events)).immediate;
  }

  async append(runId: string, events: readonly RunEvent[]): Promise<void> {
    this.guard(`append to run "${runId}"`, () => {
      if (events.length > 0) this.appendTx(runId, events);
    });
  }

  async read(runId: string, afterSeq = 0): Promise<JournalEntry[]> {
    checkAfterSeq(afterSeq);
    return this.guard(`read run "${runId}"`, () => {
      const rows = this.stmt.read.all(runId, afterSeq) as { seq: number; body: string }[];
      if (rows.length === 0 && this.stmt.lastSeq.get(runId) === null) throw runNotFound(runId);
      return rows.map((r) => ({ seq: r.seq, event: JSON.parse(r.body) as RunEvent }));
    });
  }

  async listRuns(): Promise<RunRow[]> {
    return this.guard('list runs', () => (this.stmt.listRuns.all() as RunRecord[]).map(runRowOf));
  }

  async acquireLease(runId: string, owner: string, ttlMs: number): Promise<boolean> {
    checkTtl(ttlMs);
    return this.guard(`lease run "${runId}"`, () => {
      const now = this.now();
      return this.stmt.acquire.run({ runId, owner, expiresAt: now + ttlMs, now }).changes === 1;
    });
  }

  async renewLease(runId: string, owner: string, ttlMs: number): Promise<boolean> {
    checkTtl(ttlMs);
    return this.guard(`renew the lease of run "${runId}"`, () => this.stmt.renew.run(this.now() + ttlMs, runId, owner).changes === 1);
  }

  async releaseLease(runId: string, owner: string): Promise<void> {
    this.guard(`release the lease of run "${runId}"`, () => this.stmt.release.run(runId, owner));
  }

  async leaseOf(runId: string): Promise<{ owner: string; expiresAt: number } | undefined> {
    return this.guard(`read the lease of run "${runId}"`, () => {
      const row = this.stmt.leaseOf.get(runId, this.now()) as { owner: string; expiresAt: number } | undefined;
      return row === undefined ? undefined : { owner: row.owner, expiresAt: row.expiresAt };
    });
  }

  async getCache(key: string): Promise<unknown> {
    return this.guard('read the cache', () => {
      const row = this.stmt.getCache.get(key) as { value: string } | undefined;
      return row === undefined ? undefined : (JSON.parse(row.value) as unknown);
    });
  }

  async putCache(key: string, value: unknown): Promise<void> {
    this.guard('write the cache', () => this.stmt.putCache.run(key, serializeCacheValue(key, value), this.now()));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }

  /**
   * One transaction. The run's row is rewritten only by the events that change it (status, task
   * count); seq and time of the last event are read from the journal itself, so a typical batch
   * writes one b-tree page, not two.
   */
  private appendNow(runId: string, events: readonly RunEvent[]): void {
    const lastSeq = (this.stmt.lastSeq.get(runId) as number | null) ?? 0;
    checkBatch(runId, events, lastSeq > 0);
    const json = serializeBatch(runId, events);
    const rows: unknown[] = [];
    events.forEach((event, i) => rows.push(runId, lastSeq + i + 1, event.type, event.at, json[i]));
    for (let i = 0; i < events.length; i += INSERT_CHUNK) {
      const n = Math.min(INSERT_CHUNK, events.length - i);
      this.insertEvents(n).run(rows.slice(i * 5, (i + n) * 5));
    }
    if (!events.some((e) => ROW_EVENTS.has(e.type))) return;
    const record = lastSeq === 0 ? undefined : (this.stmt.getRun.get(runId) as RunRecord | undefined);
    const row = nextRunRow(runId, record === undefined ? undefined : runRowOf(record), events);
    this.stmt.putRun.run({ id: runId, plan: row.plan, createdAt: row.createdAt, status: row.status, tasks: row.tasks });
  }

  private insertEvents(rows: number): Database.Statement {
    let stmt = this.inserts[rows];
    if (stmt === undefined) {
      stmt = this.db.prepare(`INSERT INTO events (run_id, seq, type, at, body) VALUES ${Array.from({ length: rows }, () => '(?, ?, ?, ?, ?)').join(', ')}`);
      this.inserts[rows] = stmt;
    }
    return stmt;
  }

  /** Runs `fn`, turning driver errors into `WEFT_STORE` with the cause attached. */
  private guard<T>(what: string, fn: () => T): T {
    if (this.closed) throw closedError(`SqliteStore(${this.path})`);
    try {
      return fn();
    } catch (error) {
      if (error instanceof WeftError) throw error;
      const code = (error as { code?: unknown }).code;
      const hint = code === 'SQLITE_BUSY' ? 'another weft process holds the journal\'s write lock; try again, or raise `busyTimeoutMs`' : undefined;
      throw storeError(`cannot ${what} in ${this.path}: ${(error as Error).message}`, error, hint);
    }
  }
}


/** Seq and time of a run's last event come from the journal, not from the row. */
const RUN_COLUMNS = `r.id, r.plan, r.created_at, r.status, r.tasks, e.seq AS last_seq, e.at AS last_event_at
  FROM runs r JOIN events e ON e.run_id = r.id AND e.seq = (SELECT max(seq) FROM events WHERE run_id = r.id)`;

function prepareStatements(db: Database.Database) {
  return {
    lastSeq: db.prepare('SELECT max(seq) FROM events WHERE run_id = ?').pluck(),
    getRun: db.prepare(`SELECT ${RUN_COLUMNS} WHERE r.id = ?`),
    putRun: db.prepare(
      `INSERT INTO runs (id, plan, created_at, status, tasks) VALUES (@id, @plan, @createdAt, @status, @tasks)
       ON CONFLICT (id) DO UPDATE SET status = excluded.status, tasks = excluded.tasks`,
    ),
    read: db.prepare('SELECT seq, body FROM events WHERE run_id = ? AND seq > ? ORDER BY seq'),
    listRuns: db.prepare(`SELECT ${RUN_COLUMNS} ORDER BY r.created_at DESC, r.rowid DESC`),
    // One statement: insert a free lease, or take it over when it is ours or has expired.
    acquire: db.prepare(
      `INSERT INTO leases (run_id, owner, expires_at) VALUES (@runId, @owner, @expiresAt)
       ON CONFLICT (run_id) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
       WHERE leases.owner = excluded.owner OR leases.expires_at <= @now`,
    ),
    renew: db.prepare('UPDATE leases SET expires_at = ? WHERE run_id = ? AND owner = ?'),
    leaseOf: db.prepare('SELECT owner, expires_at AS expiresAt FROM leases WHERE run_id = ? AND expires_at > ?'),
    release: db.prepare('DELETE FROM leases WHERE run_id = ? AND owner = ?'),
    getCache: db.prepare('SELECT value FROM cache WHERE key = ?'),
    putCache: db.prepare('INSERT INTO cache (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at'),
  };
}

type Statements = ReturnType<typeof prepareStatements>;
