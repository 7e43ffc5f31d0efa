import type Database from 'better-sqlite3';
import { storeError } from './journal-rules.js';

/** Version of the tables below, kept in `PRAGMA user_version`. Bump it and add a step to change them. */
export const SQLITE_SCHEMA_VERSION = 1;

const V1 = `
  -- One row per run for \`weft runs\`, written in the transaction of the events that change it
  -- (created, finished, resumed, expanded); its last seq and time are read from \`events\`.
  CREATE TABLE runs (
    id         TEXT PRIMARY KEY,
    plan       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    status     TEXT NOT NULL,
    tasks      INTEGER NOT NULL
  );
  CREATE INDEX runs_created ON runs (created_at);
  -- The journal. Without rowid: events are stored in (run_id, seq) order, one b-tree per insert.
  CREATE TABLE events (
    run_id TEXT NOT NULL,
    seq    INTEGER NOT NULL,
    type   TEXT NOT NULL,
    at     INTEGER NOT NULL,
    body   TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)
  ) WITHOUT ROWID;
  CREATE TABLE leases (
    run_id     TEXT PRIMARY KEY,
    owner      TEXT NOT NULL,
    expires_at INTEGER NOT NULL
  );
  CREATE TABLE cache (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at INTEGER NOT NULL
  );
`;

/**
 * Creates the tables on a new file, or checks an existing file's version. Runs under the write
 * lock, so two processes opening a new file at once create the tables once.
 */
export function migrateSqlite(db: Database.Database, path: string): void {
  db.transaction(() => {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version === SQLITE_SCHEMA_VERSION) return;
    if (version > SQLITE_SCHEMA_VERSION) {
      throw storeError(`the journal at ${path} has schema version ${version}; this weft knows up to ${SQLITE_SCHEMA_VERSION}`, undefined, 'upgrade weft, or point it at another journal');
    }
    if (version === 0) {
      const tables = db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get() as { n: number };
      if (tables.n > 0) throw storeError(`${path} is an SQLite file but not a weft journal (it has tables and no weft schema version)`, undefined, 'point weft at another file');
      db.exec(V1);
    }
    db.pragma(`user_version = ${SQLITE_SCHEMA_VERSION}`);
  }).immediate();
}
