import pg from 'pg';
import { WeftError } from '../core/errors.js';
import { checkNumbers, withDefaults } from '../core/options.js';
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
  storeError,
  runRowOf,
  type RunRecord,
} from './journal-rules.js';
import { POSTGRES_SCHEMA_VERSION, migratePostgres, quoteSchema } from './postgres-schema.js';

/** The values of {@link PostgresStoreOptions} left out. */
export const POSTGRES_STORE_DEFAULTS = { schema: 'weft', maxConnections: 10 } as const;

/** Options of {@link PostgresStore.open}; `maxConnections` is checked on entry. */
export interface PostgresStoreOptions {
  /** `postgres://user:password@host:port/database`. */
  readonly url: string;
  /** Schema holding weft's tables; created on open. One database can hold several. @default 'weft' */
  readonly schema?: string;
  /** Connections in the pool. @default 10 */
  readonly maxConnections?: number;
}

/**
 * A {@link Store} in PostgreSQL, for several machines sharing runs. Each `append` is one
 * transaction (durable at COMMIT with the server's default `synchronous_commit = on`); the run's
 * row is locked while its events are numbered, so concurrent appends to one run never share a seq.
 * Lease expiry uses the database server's clock, so machines with skewed clocks agree on it.
 */
export class PostgresStore implements Store {
  /** Schema version kept in `<schema>.meta`. */
  static readonly schemaVersion = POSTGRES_SCHEMA_VERSION;
  private closed = false;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly s: string,
    private readonly where: string,
  ) {}

  /** Connects, then creates (or checks) the schema; fails with `WEFT_STORE` naming the server. */
  static async open(given: PostgresStoreOptions): Promise<PostgresStore> {
    const options = withDefaults(POSTGRES_STORE_DEFAULTS, given);
    checkNumbers('PostgresStore', options, { maxConnections: 'a positive integer' }, 'WEFT_STORE');
    const { schema } = options;
    const s = quoteSchema(schema);
    const where = redact(options.url);
    const pool = new pg.Pool({ connectionString: options.url, max: options.maxConnections });
    // An idle connection dropped by the server must not crash the process; the next query reports it.
    pool.on('error', () => undefined);
    try {
      const client = await pool.connect();
      try {
        await migratePostgres(client, schema);
      } finally {
        client.release();
      }
    } catch (error) {
      await pool.end().catch(() => undefined);
      if (error instanceof WeftError) throw error;
      throw storeError(
        `cannot open the journal at ${where}: ${(error as Error).message}`,
        error,
        'check that PostgreSQL is running and the URL (or WEFT_DATABASE_URL) is right',
      );
    }
    return new PostgresStore(pool, s, where);
  }

  async append(runId: string, events: readonly RunEvent[]): Promise<void> {
    this.check();
    if (events.length === 0) return;
    const json = serializeBatch(runId, events);
    await this.tx(`append to run "${runId}"`, async (c) => {
      const found = await c.query<RunRecord>(`SELECT * FROM ${this.s}.runs WHERE id = $1 FOR UPDATE`, [runId]);
      const prev = found.rows[0] === undefined ? undefined : runRowOf(found.rows[0]);
      checkBatch(runId, events, prev !== undefined);
      const row = nextRunRow(runId, prev, events);
      if (prev === undefined) {
        const created = await c.query(
          `INSERT INTO ${this.s}.runs (id, plan, created_at, last_event_at, status, tasks, last_seq) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING`,
          [runId, row.plan, row.createdAt, row.lastEventAt, row.status, row.tasks, row.lastSeq],
        );
        if (created.rowCount !== 1)
          throw storeError(`run "${runId}" already exists; its run.created cannot be appended again`);
      } else {
        await c.query(
          `UPDATE ${this.s}.runs SET last_event_at = $2, status = $3, tasks = $4, last_seq = $5 WHERE id = $1`,
          [runId, row.lastEventAt, row.status, row.tasks, row.lastSeq],
        );
      }
      // Type and time go in beside the JSON: reading them out of it would de-escape every string, and fail on \u0000.
      await c.query(
        `INSERT INTO ${this.s}.events (run_id, seq, type, at, body)
         SELECT $1, $2::int + e.n::int, e.type, e.at, e.body::json
         FROM unnest($3::text[], $4::float8[], $5::text[]) WITH ORDINALITY AS e(type, at, body, n)`,
        [runId, prev?.lastSeq ?? 0, events.map((e) => e.type), events.map((e) => e.at), json],
      );
    });
  }

  async read(runId: string, afterSeq = 0): Promise<JournalEntry[]> {
    checkAfterSeq(afterSeq);
    return this.run(`read run "${runId}"`, async () => {
      const { rows } = await this.pool.query<{ seq: number; body: RunEvent }>(
        `SELECT seq, body FROM ${this.s}.events WHERE run_id = $1 AND seq > $2 ORDER BY seq`,
        [runId, afterSeq],
      );
      if (rows.length === 0) {
        const run = await this.pool.query(`SELECT 1 FROM ${this.s}.runs WHERE id = $1`, [runId]);
        if (run.rowCount === 0) throw runNotFound(runId);
      }
      return rows.map((r) => ({ seq: r.seq, event: r.body }));
    });
  }

  async listRuns(): Promise<RunRow[]> {
    return this.run('list runs', async () =>
      (await this.pool.query<RunRecord>(`SELECT * FROM ${this.s}.runs ORDER BY created_at DESC, ord DESC`)).rows.map(
        runRowOf,
      ),
    );
  }

  async acquireLease(runId: string, owner: string, ttlMs: number): Promise<boolean> {
    checkTtl(ttlMs);
    // One statement, so two machines racing for a lease are serialized by the row (or its key).
    const sql = `INSERT INTO ${this.s}.leases AS l (run_id, owner, expires_at) VALUES ($1, $2, clock_timestamp() + $3 * interval '1 millisecond')
      ON CONFLICT (run_id) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
      WHERE l.owner = excluded.owner OR l.expires_at <= clock_timestamp()`;
    return this.run(
      `lease run "${runId}"`,
      async () => (await this.pool.query(sql, [runId, owner, ttlMs])).rowCount === 1,
    );
  }

  async renewLease(runId: string, owner: string, ttlMs: number): Promise<boolean> {
    checkTtl(ttlMs);
    const sql = `UPDATE ${this.s}.leases SET expires_at = clock_timestamp() + $3 * interval '1 millisecond' WHERE run_id = $1 AND owner = $2`;
    return this.run(
      `renew the lease of run "${runId}"`,
      async () => (await this.pool.query(sql, [runId, owner, ttlMs])).rowCount === 1,
    );
  }

  async releaseLease(runId: string, owner: string): Promise<void> {
    await this.run(`release the lease of run "${runId}"`, () =>
      this.pool.query(`DELETE FROM ${this.s}.leases WHERE run_id = $1 AND owner = $2`, [runId, owner]),
    );
  }

  async leaseOf(runId: string): Promise<{ owner: string; expiresAt: number } | undefined> {
    const sql = `SELECT owner, (extract(epoch from expires_at) * 1000)::float8 AS "expiresAt" FROM ${this.s}.leases WHERE run_id = $1 AND expires_at > clock_timestamp()`;
    return this.run(`read the lease of run "${runId}"`, async () => {
      const row = (await this.pool.query<{ owner: string; expiresAt: number }>(sql, [runId])).rows[0];
      return row === undefined ? undefined : { owner: row.owner, expiresAt: Number(row.expiresAt) };
    });
  }

  async getCache(key: string): Promise<unknown> {
    return this.run(
      'read the cache',
      async () =>
        (await this.pool.query<{ value: unknown }>(`SELECT value FROM ${this.s}.cache WHERE key = $1`, [key])).rows[0]
          ?.value,
    );
  }

  async putCache(key: string, value: unknown): Promise<void> {
    const json = serializeCacheValue(key, value);
    const sql = `INSERT INTO ${this.s}.cache (key, value) VALUES ($1, $2::json) ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = now()`;
    await this.run('write the cache', () => this.pool.query(sql, [key, json]));
  }

  async getCacheMany(keys: readonly string[]): Promise<Map<string, unknown>> {
    const sql = `SELECT key, value FROM ${this.s}.cache WHERE key = ANY($1::text[])`;
    return this.run('read the cache', async () => {
      const rows = (await this.pool.query<{ key: string; value: unknown }>(sql, [keys])).rows;
      return new Map(rows.map((r) => [r.key, r.value]));
    });
  }

  async putCacheMany(entries: ReadonlyMap<string, unknown>): Promise<void> {
    const rows = serializeCacheEntries(entries);
    if (rows.length === 0) return;
    const sql = `INSERT INTO ${this.s}.cache (key, value) SELECT k, v::json FROM unnest($1::text[], $2::text[]) AS t(k, v) ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = now()`;
    await this.run('write the cache', () => this.pool.query(sql, [rows.map(([k]) => k), rows.map(([, v]) => v)]));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }

  private check(): void {
    if (this.closed) throw closedError(`PostgresStore(${this.where})`);
  }

  /** Runs `fn`, turning driver errors into `WEFT_STORE` with the cause attached. */
  private async run<T>(what: string, fn: () => Promise<T>): Promise<T> {
    this.check();
    try {
      return await fn();
    } catch (error) {
      if (error instanceof WeftError) throw error;
      throw storeError(`cannot ${what} in ${this.where}: ${(error as Error).message}`, error);
    }
  }

  /** Runs `fn` in one transaction on one connection; rolls back on any error. */
  private async tx(what: string, fn: (client: pg.PoolClient) => Promise<void>): Promise<void> {
    await this.run(what, async () => {
      const client = await this.pool.connect();
      let broken: Error | undefined;
      try {
        await client.query('BEGIN');
        await fn(client);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch((e: Error) => (broken = e));
        throw error;
      } finally {
        // A connection that cannot even roll back is thrown away rather than reused.
        client.release(broken);
      }
    });
  }
}

/** The URL without its password, for messages. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://<unparsable URL>';
  }
}
