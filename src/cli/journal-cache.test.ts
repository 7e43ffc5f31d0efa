import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../core/ports/store.js';
import type { RunEvent } from '../core/run/events.js';
import { openStore } from '../store/open-store.js';
import { JournalCache } from './journal-cache.js';

const RUN = '20261205-130000-cafe';
const T0 = Date.UTC(2026, 11, 5, 13);

let dir: string;
let store: Store;
/** The `afterSeq` of each read the cache made of the real store. */
const reads: number[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'weft-journal-cache-'));
  const real = await openStore({ dir: join(dir, '.weft') });
  store = new Proxy(real, {
    get: (target, key) =>
      key === 'read'
        ? (runId: string, afterSeq = 0) => {
            reads.push(afterSeq);
            return target.read(runId, afterSeq);
          }
        : (Reflect.get(target, key) as unknown as (...a: unknown[]) => unknown).bind(target),
  });
});

afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('JournalCache', () => {
  it('reads only what was appended since its last read, and folds it into the state it keeps', async () => {
    const events: RunEvent[] = [
      { type: 'run.created', at: T0, runId: RUN, plan: 'p', workers: 1, mode: 'parallel', tasks: ['a', 'b'] },
      { type: 'task.ready', at: T0, task: 'a' },
      { type: 'task.started', at: T0 + 1, task: 'a', attempt: 1, worker: 0 },
    ];
    await store.append(RUN, events);
    const cache = new JournalCache(store);
    const first = await cache.read(RUN);
    expect(first.lastSeq).toBe(3);
    expect(first.state.tasks.get('a')?.state).toBe('running');

    await store.append(RUN, [
      { type: 'task.succeeded', at: T0 + 50, task: 'a', attempt: 1, result: { exitCode: 0 } },
      { type: 'task.ready', at: T0 + 50, task: 'b' },
    ]);
    const second = await cache.read(RUN);
    const third = await cache.read(RUN);
    expect(reads).toEqual([0, 3, 5]);
    expect(third.lastSeq).toBe(5);
    expect(second.events.map((e) => e.type)).toEqual([
      'run.created',
      'task.ready',
      'task.started',
      'task.succeeded',
      'task.ready',
    ]);
    expect(third.state.tasks.get('a')?.state).toBe('succeeded');
    expect(third.state.tasks.get('b')?.state).toBe('ready');
  });

  it('a run the journal does not hold: WEFT_RUN_NOT_FOUND with the hint given', async () => {
    await expect(new JournalCache(store).read('no-such-run', 'GET /api/runs lists them')).rejects.toMatchObject({
      code: 'WEFT_RUN_NOT_FOUND',
      message: 'no run "no-such-run" in the journal',
      hint: 'GET /api/runs lists them',
    });
  });

  it('keeps the runs read most recently, and reads a dropped one again from the start', async () => {
    const other = `${RUN}-2`;
    await store.append(other, [
      { type: 'run.created', at: T0, runId: other, plan: 'q', workers: 1, mode: 'parallel', tasks: ['x'] },
    ]);
    const cache = new JournalCache(store, 1);
    reads.length = 0;
    await cache.read(RUN);
    await cache.read(other);
    await cache.read(RUN);
    expect(reads).toEqual([0, 0, 0]);
  });
});
