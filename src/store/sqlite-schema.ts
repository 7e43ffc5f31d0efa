import type Database from 'better-sqlite3';
import { storeError } from './journal-rules.js';

/** Version of the tables below, kept in `PRAGMA user_version`. Bump it and add a step to change them. */
export const SQLITE_SCHEMA_VERSION = 2;

/**
 * A batch's key is `(run num << 32) + seq of its last event`: a run's batches are one key range
 * of a rowid table, in seq order. Appending to the newest run writes at the tree's right edge,
 * usually one page, with no index to update. Measured on a 10k no-op run: an index on (run, seq)
 * beside it writes ~1.5× the pages per commit, one row per event (version 1) ~2.5×. Seqs stay
 * below 2^32 (`SqliteStore` refuses more).
 */
const JOURNAL = `
  -- One row per run for \`weft runs\`, written in the transaction of the events that change it
  -- (created, finished, resumed, expanded); its last seq and time are read from \`batches\`.
  -- AUTOINCREMENT: a num, and so a key range, is never given to a second run.
  CREATE TABLE runs (
    num        INTEGER PRIMARY KEY AUTOINCREMENT,
    id         TEXT NOT NULL UNIQUE,
    plan       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    status     TEXT NOT NULL,
    tasks      INTEGER NOT NULL
  );
  CREATE INDEX runs_created ON runs (created_at);
  -- The journal: one row per append, its events as one JSON array; \`at\` is its last event's.
  CREATE TABLE batches (
    key    INTEGER PRIMARY KEY,
    at     INTEGER NOT NULL,
    events TEXT NOT NULL
  );
  -- One row per event, as version 1 stored them: for reading by hand, not used by weft.
  CREATE VIEW events (run_id, seq, type, at, body) AS
    SELECT r.id, (b.key & 4294967295) - json_array_length(b.events) + 1 + e.key, e.value ->> 'type', e.value ->> 'at', e.value
    FROM runs r JOIN batches b ON b.key > r.num << 32 AND b.key < (r.num + 1) << 32, json_each(b.events) e;
`;

const OTHERS = `
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
 * Version 1 kept one row per event in `events (run_id, seq, type, at, body)`, and `runs` without
 * a num. Runs keep their order (num = old rowid); each run's events move in chunks of 1000, which
 * reads back the same. Leases and cache are unchanged.
 */
const FROM_V1 = `
  DROP INDEX runs_created;
  ALTER TABLE runs RENAME TO runs_v1;
  ALTER TABLE events RENAME TO events_v1;
  ${JOURNAL}
  INSERT INTO runs (num, id, plan, created_at, status, tasks)
    SELECT rowid, id, plan, created_at, status, tasks FROM runs_v1 ORDER BY rowid;
  -- With a single max(), SQLite takes the bare column e.at from the row holding the max seq.
  INSERT INTO batches (key, at, events)
    SELECT (r.num << 32) + max(e.seq), e.at, json_group_array(json(e.body) ORDER BY e.seq)
    FROM events_v1 e JOIN runs r ON r.id = e.run_id
    GROUP BY r.num, (e.seq - 1) / 1000;
`;

/**
 * Creates the tables on a new file, migrates a version 1 file, or checks an existing file's
 * version. Runs under the write lock, so two processes opening a file at once do it once; a
 * failed migration rolls back and leaves the file as it was.
 */
export function migrateSqlite(db: Database.Database, path: string): void {
  db.transaction(() => {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version === SQLITE_SCHEMA_VERSION) return;
    if (version > SQLITE_SCHEMA_VERSION) {
      throw storeError(
        `the journal at ${path} has schema version ${version}; this weft knows up to ${SQLITE_SCHEMA_VERSION}`,
        undefined,
        'upgrade weft, or point it at another journal',
      );
    }
    if (version === 0) {
      const tables = db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get() as { n: number };
      if (tables.n > 0)
        throw storeError(
          `${path} is an SQLite file but not a weft journal (it has tables and no weft schema version)`,
          undefined,
          'point weft at another file',
        );
      db.exec(JOURNAL + OTHERS);
    }
    if (version === 1) migrateFromV1(db, path);
    db.pragma(`user_version = ${SQLITE_SCHEMA_VERSION}`);
  }).immediate();
}

function migrateFromV1(db: Database.Database, path: string): void {
  db.exec(FROM_V1);
  // Every event must have moved (an event of a run with no row would not): else keep version 1.
  const count = (sql: string): number => db.prepare(sql).pluck().get() as number;
  const before = count('SELECT count(*) FROM events_v1');
  const after = count('SELECT coalesce(sum(json_array_length(events)), 0) FROM batches');
  if (after !== before) {
    throw storeError(
      `cannot migrate the journal at ${path} to schema version ${SQLITE_SCHEMA_VERSION}: ${before - after} of its ${before} events belong to no run`,
      undefined,
      'open it with the weft that wrote it, or point weft at another journal',
    );
  }
  db.exec('DROP TABLE events_v1; DROP TABLE runs_v1;');
}
