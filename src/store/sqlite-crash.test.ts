import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { JournalEntry } from '../core/ports/store.js';
import { SqliteStore } from './sqlite-store.js';

const fixture = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'append-loop.ts');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Checks the journal is a clean prefix of what the fixture wrote: seqs 1.., whole batches 1..k. */
function expectConsistentPrefix(entries: JournalEntry[]): number {
  expect(entries[0]?.event.type).toBe('run.created');
  expect(entries.map((e) => e.seq)).toEqual(entries.map((_, i) => i + 1));
  let batch = 0;
  for (let k = 1; k < entries.length;) {
    batch++;
    const size = (batch % 5) + 1;
    const names = entries.slice(k, k + size).map((e) => ('task' in e.event ? e.event.task : e.event.type));
    expect(names, `batch ${batch} at seq ${k + 1}`).toEqual(
      Array.from({ length: size }, (_, i) => `b${batch}.${i + 1}of${size}`),
    );
    k += size;
  }
  return batch;
}

describe('SqliteStore after a crash', () => {
  it.each(['NORMAL', 'FULL'])(
    'reads a consistent prefix from files copied mid-write, and appends on (synchronous=%s)',
    async (synchronous) => {
      dir = mkdtempSync(join(tmpdir(), 'weft-crash-'));
      const db = join(dir, 'live', 'weft.db');
      mkdirSync(dirname(db));
      const child = spawn(process.execPath, ['--import', 'tsx', fixture, db, synchronous], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const exited = new Promise<NodeJS.Signals | null>((resolve) =>
        child.once('exit', (_code, signal) => resolve(signal)),
      );
      const snapshots: string[] = [];
      try {
        await new Promise<void>((resolve, reject) => {
          child.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
          child.once('exit', (code) => reject(new Error(`fixture exited with ${code} before it was ready`)));
        });
        // Freezing the writer makes the copy what a crash at that instant would leave on disk
        // (-shm is not copied: it is rebuilt from the WAL, as after a reboot).
        for (let i = 0; i < 4; i++) {
          await sleep(40 + i * 35);
          process.kill(child.pid as number, 'SIGSTOP');
          const copy = join(dir, `snap-${i}`, 'weft.db');
          mkdirSync(dirname(copy));
          copyFileSync(db, copy);
          if (existsSync(`${db}-wal`)) copyFileSync(`${db}-wal`, `${copy}-wal`);
          process.kill(child.pid as number, 'SIGCONT');
          snapshots.push(copy);
        }
      } finally {
        child.kill('SIGKILL');
      }
      expect(await exited).toBe('SIGKILL');
      snapshots.push(db);

      let walSeen = false;
      const batches: number[] = [];
      for (const path of snapshots) {
        walSeen ||= existsSync(`${path}-wal`) && statSync(`${path}-wal`).size > 0;
        const store = new SqliteStore({ path }); // the first to open it: SQLite recovers from the WAL here
        const entries = await store.read('crash');
        const whole = expectConsistentPrefix(entries);
        expect(whole).toBeGreaterThanOrEqual(50);
        batches.push(whole);
        await store.append('crash', [{ type: 'run.resumed', at: Date.now(), by: 'crash-test' }]);
        expect((await store.read('crash', entries.length)).map((e) => e.seq)).toEqual([entries.length + 1]);
        expect((await store.listRuns())[0]).toMatchObject({ id: 'crash', lastSeq: entries.length + 1 });
        const check = new Database(path, { readonly: true });
        expect(check.pragma('integrity_check', { simple: true }), path).toBe('ok');
        check.close();
        await store.close();
      }
      expect(walSeen).toBe(true);
      expect(batches).toEqual([...batches].sort((a, b) => a - b));
    },
  );
});
