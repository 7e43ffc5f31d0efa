import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStore } from './sqlite-store.js';
import { storeSpec } from './store-spec.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'weft-sqlite-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

storeSpec(
  'SqliteStore',
  async () => {
    const path = join(tempDir(), 'nested', 'weft.db');
    return {
      store: new SqliteStore({ path }),
      reopen: async () => new SqliteStore({ path }),
      peer: async () => new SqliteStore({ path }),
    };
  },
  { durable: true },
);

describe('SqliteStore', () => {
  it('writes the file in WAL mode with its schema version, and reopens it with NORMAL sync', async () => {
    const path = join(tempDir(), 'weft.db');
    await new SqliteStore({ path, busyTimeoutMs: 1234 }).close();
    const db = new Database(path);
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('user_version', { simple: true })).toBe(SqliteStore.schemaVersion);
    } finally {
      db.close();
    }
    const store = new SqliteStore({ path, busyTimeoutMs: 1234, synchronous: 'NORMAL' });
    await store.close();
  });

  it('refuses a journal written by a newer weft, naming the versions', () => {
    const path = join(tempDir(), 'weft.db');
    new SqliteStore({ path }).close();
    const db = new Database(path);
    db.pragma('user_version = 99');
    db.close();
    expect(() => new SqliteStore({ path })).toThrow(expect.objectContaining({ code: 'WEFT_STORE', message: expect.stringContaining('schema version 99') }));
  });

  it('refuses an SQLite file that is not a weft journal, and a file that is not SQLite', () => {
    const dir = tempDir();
    const other = new Database(join(dir, 'app.db'));
    other.exec('CREATE TABLE users (id INTEGER)');
    other.close();
    expect(() => new SqliteStore({ path: join(dir, 'app.db') })).toThrow(expect.objectContaining({ code: 'WEFT_STORE', message: expect.stringContaining('not a weft journal') }));
    writeFileSync(join(dir, 'notes.txt'), 'x'.repeat(4096));
    expect(() => new SqliteStore({ path: join(dir, 'notes.txt') })).toThrow(expect.objectContaining({ code: 'WEFT_STORE', cause: expect.any(Error) }));
  });

  it('fails with WEFT_STORE when its folder cannot be created', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'file'), '');
    expect(() => new SqliteStore({ path: join(dir, 'file', 'weft.db') })).toThrow(expect.objectContaining({ code: 'WEFT_STORE', hint: expect.any(String) }));
  });

  it('checks its options', () => {
    const path = join(tempDir(), 'weft.db');
    expect(() => new SqliteStore({ path, busyTimeoutMs: -1 })).toThrow(/busyTimeoutMs/);
    expect(() => new SqliteStore({ path, synchronous: 'OFF' as 'FULL' })).toThrow(/synchronous/);
  });
});
