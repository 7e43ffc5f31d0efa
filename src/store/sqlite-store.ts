import { linkSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import type { RunEvent } from '../core/run/events.js';
import type { JournalEntry, RunRow, Store } from '../core/ports/store.js';
import { WeftError } from '../core/errors.js';
import {
  checkAfterSeq,
  checkBatch,
  checkTtl,
  closedError,
  nextRunRow,
  runNotFound,
  serializeBatchArray,
  serializeCacheEntries,
  serializeCacheValue,
  storeError,
  runRowOf,
  type RunRecord,
} from './journal-rules.js';
import { SQLITE_SCHEMA_VERSION, migrateSqlite } from './sqlite-schema.js';

export interface SqliteStoreOptions {
  /** The database file; its folder is created. @default '.weft/weft.db' */
  readonly path?: string;
  /**
   * When commits reach the disk. With either, the file is never corrupted, and a crash of weft
   * (`kill -9`, OOM, Ctrl-C) loses nothing that `append` resolved: the commit is in the OS.
   * - `NORMAL`: no fsync per commit (only at checkpoints, every ~40 MB of WAL). A power cut or
   *   kernel crash can lose the last commits — those the kernel had not yet written back,
   *   typically under 30 s — and the journal reads as the consistent prefix before them; the
   *   tasks they record run again.
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

/** WAL pages (4 KiB) between automatic checkpoints: ~40 MB, ~4,500 typical batches. */
const CHECKPOINT_PAGES = 10_000;
/** Events that change a run's row; the rest only add to its journal. */
const ROW_EVENTS: ReadonlySet<RunEvent['type']> = new Set([
  'run.created',
  'run.finished',
  'run.resumed',
  'plan.expanded',
]);

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
  /** Each run's num (see sqlite-schema.ts), once known: it never changes, and runs are never deleted. */
  private readonly nums = new Map<string, number>();
  private closed = false;

  constructor(options: SqliteStoreOptions = {}) {
    this.path = options.path ?? '.weft/weft.db';
    this.now = options.now ?? Date.now;
    const synchronous = options.synchronous ?? 'NORMAL';
    if (synchronous !== 'FULL' && synchronous !== 'NORMAL')
      throw storeError(`Expected \`synchronous\` to be 'FULL' or 'NORMAL', got \`${String(synchronous)}\``);
    const busy = options.busyTimeoutMs ?? 5000;
    if (!Number.isInteger(busy) || busy < 0)
      throw storeError(`Expected \`busyTimeoutMs\` to be a non-negative integer, got \`${busy}\``);
    refuseEmptyJournal(this.path);
    try {
      mkdirSync(dirname(this.path), { recursive: true });
      removeDrafts(this.path);
      if (sizeOf(this.path) === undefined) createJournal(this.path);
      this.db = new Database(this.path);
    } catch (error) {
      if (error instanceof WeftError) throw error;
      throw storeError(
        `cannot open the journal at ${this.path}: ${(error as Error).message}`,
        error,
        'check that the folder is writable',
      );
    }
    try {
      this.db.pragma(`busy_timeout = ${busy}`);
      enterWal(this.db, this.path);
      this.db.pragma(`synchronous = ${synchronous}`);
      // A checkpoint costs two fsyncs (WAL, then database) on the appending thread; at SQLite's
      // default of 1000 pages that was one every ~450 batches. Crash safety does not depend on it.
      this.db.pragma(`wal_autocheckpoint = ${CHECKPOINT_PAGES}`);
      migrateSqlite(this.db, this.path);
      this.stmt = prepareStatements(this.db);
    } catch (error) {
      this.db.close();
      throw error instanceof WeftError
        ? error
        : storeError(`cannot open the journal at ${this.path}: ${(error as Error).message}`, error);
    }
    this.appendTx = this.db.transaction((runId: string, events: readonly RunEvent[]) =>
      this.appendNow(runId, events),
    ).immediate;
  }

  async append(runId: string, events: readonly RunEvent[]): Promise<void> {
    this.guard(`append to run "${runId}"`, () => {
      if (events.length === 0) return;
      const num = this.numOf(runId);
      // Most batches change no run row. Then the append is one INSERT: atomic by itself, and it
      // takes the write lock before it reads the run's last key; BEGIN/COMMIT would only cost ~2 µs.
      if (num === undefined || events.some((e) => ROW_EVENTS.has(e.type))) this.appendTx(runId, events);
      else {
        checkBatch(runId, events, true);
        this.insertBatch(runId, num, events);
      }
    });
  }

  async read(runId: string, afterSeq = 0): Promise<JournalEntry[]> {
    checkAfterSeq(afterSeq);
    return this.guard(`read run "${runId}"`, () => {
      const num = this.numOf(runId);
      if (num === undefined) throw runNotFound(runId);
      // Past 2^32 there are no seqs; the clamp keeps the key arithmetic in range.
      const rows = this.stmt.read.all({ num, afterSeq: Math.min(afterSeq, SEQ_LIMIT) }) as {
        last: number;
        events: string;
      }[];
      const out: JournalEntry[] = [];
      for (const row of rows) {
        const events = JSON.parse(row.events) as RunEvent[];
        const first = row.last - events.length + 1;
        for (let i = Math.max(0, afterSeq + 1 - first); i < events.length; i++)
          out.push({ seq: first + i, event: events[i] as RunEvent });
      }
      return out;
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
    return this.guard(
      `renew the lease of run "${runId}"`,
      () => this.stmt.renew.run(this.now() + ttlMs, runId, owner).changes === 1,
    );
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

  async getCacheMany(keys: readonly string[]): Promise<Map<string, unknown>> {
    // One read transaction: a statement outside one takes and drops the file's read lock each time.
    return this.guard('read the cache', () =>
      this.db.transaction(() => {
        const found = new Map<string, unknown>();
        for (const key of keys) {
          const row = this.stmt.getCache.get(key) as { value: string } | undefined;
          if (row !== undefined) found.set(key, JSON.parse(row.value) as unknown);
        }
        return found;
      })(),
    );
  }

  async putCacheMany(entries: ReadonlyMap<string, unknown>): Promise<void> {
    const rows = serializeCacheEntries(entries);
    const now = this.now();
    this.guard('write the cache', () =>
      this.db.transaction(() => {
        for (const [key, json] of rows) this.stmt.putCache.run(key, json, now);
      })(),
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }

  /**
   * A batch that creates the run or changes its row (status, task count), in one transaction with
   * that row. Seq and time of the run's last event are not in the row: they come from the journal.
   */
  private appendNow(runId: string, events: readonly RunEvent[]): void {
    let num = this.numOf(runId);
    checkBatch(runId, events, num !== undefined);
    const record = num === undefined ? undefined : (this.stmt.getRun.get(runId) as RunRecord);
    const row = nextRunRow(runId, record === undefined ? undefined : runRowOf(record), events);
    // Not cached here: this transaction may still roll back, and the num go to another run.
    if (num === undefined)
      num = Number(this.stmt.createRun.run(runId, row.plan, row.createdAt, row.status, row.tasks).lastInsertRowid);
    else this.stmt.updateRun.run(row.status, row.tasks, num);
    this.insertBatch(runId, num, events);
  }

  /**
   * The batch as one row (one JSON array), its key numbered by the INSERT itself from the run's
   * last key under the write lock, so concurrent writers never share or skip a seq.
   */
  private insertBatch(runId: string, num: number, events: readonly RunEvent[]): void {
    const json = serializeBatchArray(runId, events);
    const at = (events[events.length - 1] as RunEvent).at;
    if (this.stmt.insertBatch.run({ num, n: events.length, at, events: json }).changes !== 1) {
      throw storeError(`run "${runId}" cannot hold more than ${SEQ_LIMIT - 1} events`);
    }
  }

  /** The run's num, or undefined when it does not exist (yet). */
  private numOf(runId: string): number | undefined {
    let num = this.nums.get(runId);
    if (num === undefined) {
      num = this.stmt.numOf.get(runId) as number | undefined;
      if (num !== undefined) this.nums.set(runId, num);
    }
    return num;
  }

  /** Runs `fn`, turning driver errors into `WEFT_STORE` with the cause attached. */
  private guard<T>(what: string, fn: () => T): T {
    if (this.closed) throw closedError(`SqliteStore(${this.path})`);
    try {
      return fn();
    } catch (error) {
      if (error instanceof WeftError) throw error;
      const code = (error as { code?: unknown }).code;
      const hint =
        code === 'SQLITE_BUSY'
          ? "another weft process holds the journal's write lock; try again, or raise `busyTimeoutMs`"
          : code === 'SQLITE_FULL'
            ? `free space on the disk that holds ${this.path}, then \`weft resume\` continues the run`
            : undefined;
      throw storeError(`cannot ${what} in ${this.path}: ${(error as Error).message}`, error, hint);
    }
  }
}

/** Seqs of a run are below this: a batch's key is `(run num << 32) + last seq` (sqlite-schema.ts). */
const SEQ_LIMIT = 2 ** 32;
/** The keys of run `@num`'s batches. */
const RUN_KEYS = 'key > @num << 32 AND key < (@num + 1) << 32';

/** Seq and time of a run's last event come from its last batch, not from the row. */
const RUN_COLUMNS = `r.id, r.plan, r.created_at, r.status, r.tasks, b.key & 4294967295 AS last_seq, b.at AS last_event_at
  FROM runs r JOIN batches b ON b.key = (SELECT max(key) FROM batches WHERE key > r.num << 32 AND key < (r.num + 1) << 32)`;

function prepareStatements(db: Database.Database) {
  return {
    numOf: db.prepare('SELECT num FROM runs WHERE id = ?').pluck(),
    getRun: db.prepare(`SELECT ${RUN_COLUMNS} WHERE r.id = ?`),
    createRun: db.prepare('INSERT INTO runs (id, plan, created_at, status, tasks) VALUES (?, ?, ?, ?, ?)'),
    updateRun: db.prepare('UPDATE runs SET status = ?, tasks = ? WHERE num = ?'),
    // Numbers the batch (@n events) after the run's last one; inserts nothing (changes = 0) when
    // its seqs would run out of the run's key range. The max() stays a scalar subquery: that is
    // one seek to the range's end, where an aggregate filtered by HAVING reads the whole range.
    insertBatch: db.prepare(
      `INSERT INTO batches (key, at, events)
       SELECT last + @n, @at, @events FROM (SELECT coalesce((SELECT max(key) FROM batches WHERE ${RUN_KEYS}), @num << 32) AS last)
       WHERE last + @n < (@num + 1) << 32`,
    ),
    // The batch holding seq afterSeq + 1 is the first whose last seq is past afterSeq.
    read: db.prepare(
      `SELECT key & 4294967295 AS last, events FROM batches WHERE ${RUN_KEYS} AND key > (@num << 32) + @afterSeq ORDER BY key`,
    ),
    listRuns: db.prepare(`SELECT ${RUN_COLUMNS} ORDER BY r.created_at DESC, r.num DESC`),
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
    putCache: db.prepare(
      'INSERT INTO cache (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at',
    ),
  };
}

type Statements = ReturnType<typeof prepareStatements>;

/** Without WAL a reader blocks the writer and crash safety rests on a rollback journal. */
function enterWal(db: Database.Database, path: string): void {
  const mode = db.pragma('journal_mode = WAL', { simple: true }) as string;
  if (mode !== 'wal')
    throw storeError(
      `cannot put the journal at ${path} in WAL mode (got ${mode})`,
      undefined,
      'keep .weft/ on a local disk, not a network share',
    );
}

const draftOf = (path: string, pid: number): string => `${path}.init-${pid}`;

/**
 * Makes a new journal whole, then puts it in place: built (WAL mode, tables) under a name of its
 * own and linked to `path`, which never replaces a file there. SQLite would create `path` at 0
 * bytes and write it a moment later, so a `kill -9` in between left a file that
 * {@link refuseEmptyJournal} rightly takes for a wiped journal. Two processes creating at once
 * both link; the second finds the first's and uses it.
 */
function createJournal(path: string): void {
  const draft = draftOf(path, process.pid);
  try {
    const db = new Database(draft);
    try {
      enterWal(db, path);
      migrateSqlite(db, path);
    } finally {
      db.close(); // the last connection checkpoints and removes the draft's -wal and -shm
    }
    linkSync(draft, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    rmSync(draft, { force: true });
  }
}

/** Removes the drafts of creators killed before they removed their own (see {@link createJournal}). */
function removeDrafts(path: string): void {
  const prefix = basename(draftOf(path, 0)).slice(0, -1);
  for (const name of readdirSync(dirname(path)))
    if (name.startsWith(prefix) && !isAlive(Number(name.slice(prefix.length))))
      rmSync(join(dirname(path), name), { force: true });
}

/** Whether a process with this id runs (signal 0 checks without sending; EPERM: it runs, not ours). */
function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A journal file of 0 bytes (and no write-ahead log to rebuild it from) was truncated or wiped:
 * SQLite would take it for a new, empty journal, and every run it held would silently be gone.
 * @throws WeftError WEFT_STORE naming the file and what to do.
 */
function refuseEmptyJournal(path: string): void {
  if (sizeOf(path) !== 0 || (sizeOf(`${path}-wal`) ?? 0) > 0) return;
  throw storeError(
    `the journal ${path} is empty (0 bytes): it was truncated or wiped, and the runs it held are not in it`,
    undefined,
    `restore it from a backup, or move it away (mv ${path} ${path}.empty) to start a new journal`,
  );
}

/** A file's size; `undefined` when it cannot be seen (missing, or its folder is not one: opening says why). */
function sizeOf(path: string): number | undefined {
  try {
    return statSync(path).size;
  } catch {
    return undefined;
  }
}
