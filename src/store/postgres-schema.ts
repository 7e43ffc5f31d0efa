import type pg from 'pg';
import { storeError } from './journal-rules.js';

/** Version of the tables below, kept in `<schema>.meta`. Bump it and add a step to change them. */
export const POSTGRES_SCHEMA_VERSION = 1;

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Checks a schema name and quotes it for SQL (names come from config, never from users' data). */
export function quoteSchema(schema: string): string {
  if (!SCHEMA_NAME.test(schema))
    throw storeError(`Expected \`schema\` to be a lower-case SQL name (letters, digits, _), got \`${schema}\``);
  return `"${schema}"`;
}

const v1 = (s: string): string => `
  CREATE TABLE ${s}.runs (
    id            text PRIMARY KEY,
    ord           bigserial NOT NULL,
    plan          text NOT NULL,
    created_at    double precision NOT NULL,
    last_event_at double precision NOT NULL,
    status        text NOT NULL,
    tasks         integer NOT NULL,
    last_seq      integer NOT NULL
  );
  CREATE INDEX runs_created ON ${s}.runs (created_at DESC, ord DESC);
  -- json, not jsonb: it keeps the text as written and accepts \\u0000 (stderr tails can hold NULs).
  CREATE TABLE ${s}.events (
    run_id text NOT NULL,
    seq    integer NOT NULL,
    type   text NOT NULL,
    at     double precision NOT NULL,
    body   json NOT NULL,
    PRIMARY KEY (run_id, seq)
  );
  CREATE TABLE ${s}.leases (
    run_id     text PRIMARY KEY,
    owner      text NOT NULL,
    expires_at timestamptz NOT NULL
  );
  CREATE TABLE ${s}.cache (
    key        text PRIMARY KEY,
    value      json NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
  );
`;

/**
 * Creates the schema and tables, or checks their version. An advisory lock makes machines that
 * open a new database at the same moment create the tables once.
 */
export async function migratePostgres(client: pg.PoolClient, schema: string): Promise<void> {
  const s = quoteSchema(schema);
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`weft.schema:${schema}`]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
    await client.query(`CREATE TABLE IF NOT EXISTS ${s}.meta (key text PRIMARY KEY, value text NOT NULL)`);
    const found = await client.query<{ value: string }>(`SELECT value FROM ${s}.meta WHERE key = 'schema_version'`);
    const version = Number(found.rows[0]?.value ?? 0);
    if (version > POSTGRES_SCHEMA_VERSION) {
      throw storeError(
        `schema "${schema}" has weft schema version ${version}; this weft knows up to ${POSTGRES_SCHEMA_VERSION}`,
        undefined,
        'upgrade weft, or use another schema',
      );
    }
    if (version === 0) {
      await client.query(v1(s));
      await client.query(`INSERT INTO ${s}.meta (key, value) VALUES ('schema_version', $1)`, [
        String(POSTGRES_SCHEMA_VERSION),
      ]);
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}
