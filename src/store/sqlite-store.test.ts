import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStore } from './sqlite-store.js';
import { storeSpec } from './store-spec.js';
import type { RunEvent } from '../core/run/events.js';

const created = (runId: string, at = 1000): RunEvent => ({
  type: 'run.created',
  at,
  runId,
  plan: `plan-${runId}`,
  workers: 2,
  mode: 'parallel',
  tasks: ['a'],
});
const ready = (task: string, at = 1001): RunEvent => ({ type: 'task.ready', at, task });
const output = (text: string): RunEvent => ({ type: 'task.output', at: 1002, task: 'a', attempt: 1, text });
const finished = (status: 'succeeded' | 'failed', at: number): RunEvent => ({ type: 'run.finished', at, status });

/** A journal as weft wrote it before schema version 2 (one row per event), with a lease and a cache entry. */
function writeV1(path: string, runs: { id: string; events: RunEvent[]; status?: string }[]): void {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.exec(`
    CREATE TABLE runs (id TEXT PRIMARY KEY, plan TEXT NOT NULL, created_at INTEGER NOT NULL, status TEXT NOT NULL, tasks INTEGER NOT NULL);
    CREATE INDEX runs_created ON runs (created_at);
    CREATE TABLE events (run_id TEXT NOT NULL, seq INTEGER NOT NULL, type TEXT NOT NULL, at INTEGER NOT NULL, body TEXT NOT NULL, PRIMARY KEY (run_id, seq)) WITHOUT ROWID;
    CREATE TABLE leases (run_id TEXT PRIMARY KEY, owner TEXT NOT NULL, expires_at INTEGER NOT NULL);
    CREATE TABLE cache (key TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at INTEGER NOT NULL);
    PRAGMA user_version = 1;
  `);
  const run = db.prepare('INSERT INTO runs (id, plan, created_at, status, tasks) VALUES (?, ?, ?, ?, 1)');
  const event = db.prepare('INSERT INTO events (run_id, seq, type, at, body) VALUES (?, ?, ?, ?, ?)');
  db.transaction(() => {
    for (const r of runs) {
      run.run(r.id, `plan-${r.id}`, r.events[0]?.at, r.status ?? 'running');
      r.events.forEach((e, i) => event.run(r.id, i + 1, e.type, e.at, JSON.stringify(e)));
    }
    db.prepare('INSERT INTO leases VALUES (?, ?, ?)').run('old', 'alice', Date.now() + 60_000);
    db.prepare('INSERT INTO cache VALUES (?, ?, 0)').run('k', '{"n":1}');
  })();
  db.close();
}

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

  it("puts a new journal in place whole: no draft is left, and a killed creator's draft is removed", async () => {
    const dir = tempDir();
    const dead = spawnSync('true').pid; // exited: its id names no process now
    writeFileSync(join(dir, `weft.db.init-${dead}`), ''); // what a creator killed mid-way leaves
    writeFileSync(join(dir, `weft.db.init-${process.ppid}`), ''); // a creator still at work
    await new SqliteStore({ path: join(dir, 'weft.db') }).close();
    expect(readdirSync(dir).sort()).toEqual(['weft.db', `weft.db.init-${process.ppid}`]);
    // Killed after putting its journal in place: the draft is a second name of the journal.
    writeFileSync(join(dir, `weft.db.init-${dead}`), '');
    await new SqliteStore({ path: join(dir, 'weft.db') }).close();
    expect(readdirSync(dir).sort()).toEqual(['weft.db', `weft.db.init-${process.ppid}`]);
  });

  it('is created by several processes at once without any failing, and they share one journal', async () => {
    const path = join(tempDir(), 'sub', 'weft.db');
    const module = join(dirname(fileURLToPath(import.meta.url)), 'sqlite-store.ts');
    const script = `const { SqliteStore } = await import(${JSON.stringify(module)});
      const store = new SqliteStore({ path: ${JSON.stringify(path)} });
      const runId = 'r' + process.pid;
      await store.append(runId, [{ type: 'run.created', at: 1, runId, plan: 'p', workers: 1, mode: 'parallel', tasks: ['a'] }]);
      await store.close();`;
    const exits = await Promise.all(
      Array.from({ length: 6 }, () => {
        const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        let stderr = '';
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        return new Promise<string>((resolve) => child.once('exit', (code) => resolve(`${code} ${stderr}`.trim())));
      }),
    );
    expect(exits).toEqual(Array.from({ length: 6 }, () => '0'));
    const store = new SqliteStore({ path });
    expect(await store.listRuns()).toHaveLength(6);
    await store.close();
    expect(readdirSync(dirname(path)).filter((name) => name.includes('.init-'))).toEqual([]);
  }, 30_000);

  it('refuses a journal written by a newer weft, naming the versions', () => {
    const path = join(tempDir(), 'weft.db');
    new SqliteStore({ path }).close();
    const db = new Database(path);
    db.pragma('user_version = 99');
    db.close();
    expect(() => new SqliteStore({ path })).toThrow(
      expect.objectContaining({ code: 'WEFT_STORE', message: expect.stringContaining('schema version 99') }),
    );
  });

  it('refuses an SQLite file that is not a weft journal, and a file that is not SQLite', () => {
    const dir = tempDir();
    const other = new Database(join(dir, 'app.db'));
    other.exec('CREATE TABLE users (id INTEGER)');
    other.close();
    expect(() => new SqliteStore({ path: join(dir, 'app.db') })).toThrow(
      expect.objectContaining({ code: 'WEFT_STORE', message: expect.stringContaining('not a weft journal') }),
    );
    writeFileSync(join(dir, 'notes.txt'), 'x'.repeat(4096));
    expect(() => new SqliteStore({ path: join(dir, 'notes.txt') })).toThrow(
      expect.objectContaining({ code: 'WEFT_STORE', cause: expect.any(Error) }),
    );
  });

  it('fails with WEFT_STORE when its folder cannot be created', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'file'), '');
    expect(() => new SqliteStore({ path: join(dir, 'file', 'weft.db') })).toThrow(
      expect.objectContaining({ code: 'WEFT_STORE', hint: expect.any(String) }),
    );
  });

  it("keeps a run's events in one row per append, readable one per event through the `events` view", async () => {
    const path = join(tempDir(), 'weft.db');
    const store = new SqliteStore({ path });
    await store.append('r1', [created('r1'), output('é\u0000"')]);
    await store.append('r2', [created('r2')]);
    await store.append('r1', [ready('b'), ready('c'), ready('d')]);
    await store.close();
    const db = new Database(path, { readonly: true });
    try {
      expect(db.prepare('SELECT count(*) FROM batches').pluck().get()).toBe(3);
      const rows = db.prepare("SELECT seq, type, at, body FROM events WHERE run_id = 'r1' ORDER BY seq").all() as {
        seq: number;
        type: string;
        at: number;
        body: string;
      }[];
      expect(rows.map((r) => [r.seq, r.type, r.at])).toEqual([
        [1, 'run.created', 1000],
        [2, 'task.output', 1002],
        [3, 'task.ready', 1001],
        [4, 'task.ready', 1001],
        [5, 'task.ready', 1001],
      ]);
      expect(rows.map((r) => JSON.parse(r.body) as unknown)).toEqual([
        created('r1'),
        output('é\u0000"'),
        ready('b'),
        ready('c'),
        ready('d'),
      ]);
    } finally {
      db.close();
    }
  });

  it('migrates a version 1 journal on open, keeping runs, their order, events, leases and cache', async () => {
    const path = join(tempDir(), 'weft.db');
    const big = Array.from({ length: 2500 }, (_, i) => ready(`t${i}`, 2000 + i));
    writeV1(path, [
      {
        id: 'old',
        events: [
          created('old', 1000),
          output('é\u0000"'),
          { type: 'task.failed', at: 1003.5, task: 'a', attempt: 1, error: { message: 'x', exitCode: null } },
          finished('failed', 4000),
        ],
        status: 'failed',
      },
      { id: 'tie-1', events: [created('tie-1', 3000)] },
      { id: 'tie-2', events: [created('tie-2', 3000)] },
      { id: 'big', events: [created('big', 500), ...big] },
    ]);
    const store = new SqliteStore({ path });
    try {
      expect(await store.listRuns()).toEqual([
        {
          id: 'tie-2',
          plan: 'plan-tie-2',
          createdAt: 3000,
          lastEventAt: 3000,
          status: 'running',
          tasks: 1,
          lastSeq: 1,
        },
        {
          id: 'tie-1',
          plan: 'plan-tie-1',
          createdAt: 3000,
          lastEventAt: 3000,
          status: 'running',
          tasks: 1,
          lastSeq: 1,
        },
        { id: 'old', plan: 'plan-old', createdAt: 1000, lastEventAt: 4000, status: 'failed', tasks: 1, lastSeq: 4 },
        { id: 'big', plan: 'plan-big', createdAt: 500, lastEventAt: 4499, status: 'running', tasks: 1, lastSeq: 2501 },
      ]);
      expect((await store.read('old')).map((e) => e.event)).toEqual([
        created('old', 1000),
        output('é\u0000"'),
        { type: 'task.failed', at: 1003.5, task: 'a', attempt: 1, error: { message: 'x', exitCode: null } },
        finished('failed', 4000),
      ]);
      const all = await store.read('big');
      expect(all.map((e) => e.seq)).toEqual(Array.from({ length: 2501 }, (_, i) => i + 1));
      expect(all.slice(1).map((e) => e.event)).toEqual(big);
      expect((await store.read('big', 1999)).map((e) => e.seq)).toEqual(
        Array.from({ length: 502 }, (_, i) => i + 2000),
      );
      expect(await store.getCache('k')).toEqual({ n: 1 });
      expect(await store.acquireLease('old', 'bob', 60_000)).toBe(false);
      await store.append('old', [{ type: 'run.resumed', at: 5000, by: 'me' }]);
      expect((await store.read('old', 4)).map((e) => e.seq)).toEqual([5]);
      await store.append('new', [created('new', 6000)]);
      expect((await store.listRuns()).map((r) => r.id)).toEqual(['new', 'tie-2', 'tie-1', 'old', 'big']);
    } finally {
      await store.close();
    }
    const db = new Database(path, { readonly: true });
    try {
      expect(db.pragma('user_version', { simple: true })).toBe(SqliteStore.schemaVersion);
      expect(db.prepare("SELECT name FROM sqlite_master WHERE name LIKE '%_v1'").pluck().all()).toEqual([]);
    } finally {
      db.close();
    }
  });

  it('refuses to migrate a version 1 journal that would lose events, and leaves it as it was', () => {
    const path = join(tempDir(), 'weft.db');
    writeV1(path, [{ id: 'r1', events: [created('r1'), ready('a')] }]);
    const db = new Database(path);
    db.prepare('INSERT INTO events (run_id, seq, type, at, body) VALUES (?, 1, ?, 1, ?)').run(
      'orphan',
      'task.ready',
      JSON.stringify(ready('x')),
    );
    db.close();
    expect(() => new SqliteStore({ path })).toThrow(
      expect.objectContaining({
        code: 'WEFT_STORE',
        message: expect.stringContaining('1 of its 3 events belong to no run'),
      }),
    );
    const check = new Database(path, { readonly: true });
    try {
      expect(check.pragma('user_version', { simple: true })).toBe(1);
      expect(check.prepare('SELECT count(*) FROM events').pluck().get()).toBe(3);
    } finally {
      check.close();
    }
  });

  it('refuses a batch whose seqs would pass 2^32 - 1, storing none of it', async () => {
    const path = join(tempDir(), 'weft.db');
    const store = new SqliteStore({ path });
    try {
      await store.append('r1', [created('r1')]);
      const db = new Database(path);
      db.prepare('UPDATE batches SET key = key + ? WHERE key = (1 << 32) + 1').run(2 ** 32 - 4);
      db.close();
      await store.append('r1', [ready('a'), ready('b')]);
      await expect(store.append('r1', [ready('c')])).rejects.toMatchObject({
        code: 'WEFT_STORE',
        message: expect.stringContaining('more than 4294967295 events'),
      });
      expect((await store.read('r1', 2 ** 32 - 3)).map((e) => e.seq)).toEqual([2 ** 32 - 2, 2 ** 32 - 1]);
    } finally {
      await store.close();
    }
  });

  it('checks its options', () => {
    const path = join(tempDir(), 'weft.db');
    expect(() => new SqliteStore({ path, busyTimeoutMs: -1 })).toThrow(/busyTimeoutMs/);
    expect(() => new SqliteStore({ path, synchronous: 'OFF' as 'FULL' })).toThrow(/synchronous/);
  });
});
