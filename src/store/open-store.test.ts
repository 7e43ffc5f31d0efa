import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryStore } from './memory-store.js';
import { openStore } from './open-store.js';
import { SqliteStore } from './sqlite-store.js';

describe('openStore', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'weft-open-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('opens SQLite at <dir>/weft.db when no URL is configured', async () => {
    const store = await openStore({ dir: join(dir, '.weft'), env: { WEFT_DATABASE_URL: '  ' } });
    expect(store).toBeInstanceOf(SqliteStore);
    expect((store as SqliteStore).path).toBe(join(dir, '.weft', 'weft.db'));
    await store.close();
    expect(existsSync(join(dir, '.weft', 'weft.db'))).toBe(true);
  });

  it('opens memory for memory:, from the option or WEFT_DATABASE_URL, the option first', async () => {
    expect(await openStore({ url: 'memory:', dir, env: {} })).toBeInstanceOf(MemoryStore);
    expect(await openStore({ dir, env: { WEFT_DATABASE_URL: 'memory:' } })).toBeInstanceOf(MemoryStore);
    const store = await openStore({ url: `sqlite:${join(dir, 'x.db')}`, dir, env: { WEFT_DATABASE_URL: 'memory:' } });
    expect((store as SqliteStore).path).toBe(join(dir, 'x.db'));
    await store.close();
  });

  it('refuses a URL it does not know, without echoing its password', async () => {
    const error = await openStore({ url: 'mysql://me:s3cret@db/weft', dir }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'WEFT_CONFIG_INVALID', hint: expect.stringContaining('postgres://') });
    expect((error as Error).message).not.toContain('s3cret');
  });
});
