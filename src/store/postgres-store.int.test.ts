import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { needService } from '../../test/support/need-service.js';
import { TEST_DATABASE_URL } from '../../test/support/services.js';
import { openStore } from './open-store.js';
import { PostgresStore } from './postgres-store.js';
import { storeSpec } from './store-spec.js';

/**
 * Runs against a real PostgreSQL (WEFT_TEST_DATABASE_URL, default the local test database), which the
 * suite starts if it is down. If it cannot, every test here fails saying why: an integration test that
 * skips itself hides a broken CI.
 */
const url = TEST_DATABASE_URL;
const prefix = `weft_test_${process.pid}_${Date.now().toString(36)}`;
let admin: pg.Pool;
let n = 0;

beforeAll(async () => {
  needService('postgres');
  admin = new pg.Pool({ connectionString: url, max: 2 });
  admin.on('error', () => undefined);
  await admin.query('SELECT 1').catch((error: unknown) => {
    throw new Error(`PostgreSQL is not reachable at ${url}; start it or set WEFT_TEST_DATABASE_URL`, { cause: error });
  });
});
afterAll(async () => {
  if (admin === undefined) return;
  // Drops every schema this run made, even those of tests that failed before their cleanup.
  const { rows } = await admin.query<{ name: string }>(
    'SELECT nspname AS name FROM pg_namespace WHERE nspname LIKE $1',
    [`${prefix}%`],
  );
  for (const { name } of rows) await admin.query(`DROP SCHEMA "${name}" CASCADE`);
  await admin.end();
});

const dropSchema = async (schema: string): Promise<void> => {
  await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
};

storeSpec(
  'PostgresStore',
  async () => {
    const schema = `${prefix}_${++n}`;
    const open = (): Promise<PostgresStore> => PostgresStore.open({ url, schema });
    return { store: await open(), reopen: open, peer: open, cleanup: () => dropSchema(schema) };
  },
  { durable: true },
);

describe('PostgresStore', () => {
  it('creates its schema once when several machines open a new database together', async () => {
    const schema = `${prefix}_race`;
    const stores = await Promise.all([1, 2, 3, 4].map(() => PostgresStore.open({ url, schema })));
    await Promise.all(stores.map((s) => s.close()));
    const { rows } = await admin.query<{ value: string }>(
      `SELECT value FROM "${schema}".meta WHERE key = 'schema_version'`,
    );
    expect(rows).toEqual([{ value: String(PostgresStore.schemaVersion) }]);
    await dropSchema(schema);
  });

  it('refuses a schema written by a newer weft', async () => {
    const schema = `${prefix}_newer`;
    await (await PostgresStore.open({ url, schema })).close();
    await admin.query(`UPDATE "${schema}".meta SET value = '99' WHERE key = 'schema_version'`);
    await expect(PostgresStore.open({ url, schema })).rejects.toMatchObject({
      code: 'WEFT_STORE',
      message: expect.stringContaining('version 99'),
    });
    await dropSchema(schema);
  });

  it('fails with WEFT_STORE naming the server, without its password, when it cannot connect', async () => {
    const error = await PostgresStore.open({ url: 'postgres://weft:s3cret@127.0.0.1:1/none' }).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'WEFT_STORE',
      hint: expect.stringContaining('WEFT_DATABASE_URL'),
      cause: expect.any(Error),
    });
    expect((error as Error).message).toContain('127.0.0.1:1');
    expect((error as Error).message).not.toContain('s3cret');
  });

  it('refuses a schema name that is not a plain SQL name', async () => {
    await expect(PostgresStore.open({ url, schema: 'x"; DROP TABLE y; --' })).rejects.toMatchObject({
      code: 'WEFT_STORE',
    });
  });

  it('is what openStore gives for postgres:// and postgresql:// URLs and for WEFT_DATABASE_URL', async () => {
    const withSchema = (schema: string): string => `${url}${url.includes('?') ? '&' : '?'}schema=${schema}`;
    const fromUrl = await openStore({
      url: withSchema(`${prefix}_url`).replace(/^postgres:/, 'postgresql:'),
      dir: '/nonexistent',
    });
    const fromEnv = await openStore({ dir: '/nonexistent', env: { WEFT_DATABASE_URL: withSchema(`${prefix}_env`) } });
    expect(fromUrl).toBeInstanceOf(PostgresStore);
    expect(fromEnv).toBeInstanceOf(PostgresStore);
    await fromEnv.append('r1', [
      { type: 'run.created', at: 1, runId: 'r1', plan: 'p', workers: 1, mode: 'parallel', tasks: [] },
    ]);
    await Promise.all([fromUrl.close(), fromEnv.close()]);
    const { rows } = await admin.query(`SELECT id FROM "${prefix}_env".runs`);
    expect(rows).toEqual([{ id: 'r1' }]);
  });
});
