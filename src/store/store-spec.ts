import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RunEvent } from '../core/run/events.js';
import type { JournalEntry, Store } from '../core/ports/store.js';

/** One fresh, empty storage for one test, and how to reach it again. */
export interface StoreUnderTest {
  readonly store: Store;
  /** Opens the same storage again after `store` was closed; durable stores only. */
  readonly reopen?: () => Promise<Store>;
  /** Opens a second handle on the same storage, as another process or machine would. */
  readonly peer?: () => Promise<Store>;
  /** Removes the storage; runs after every store the test opened is closed. */
  readonly cleanup?: () => Promise<void>;
}

export interface StoreSpecOptions {
  /** The store keeps data across close and reopen: adds the persistence test (needs `reopen`). @default false */
  readonly durable?: boolean;
}

const created = (runId: string, at = 1000, tasks = ['a', 'b']): RunEvent => ({
  type: 'run.created',
  at,
  runId,
  plan: `plan-${runId}`,
  workers: 2,
  mode: 'parallel',
  tasks,
});
const ready = (task: string, at = 1001): RunEvent => ({ type: 'task.ready', at, task });
const started = (task: string, at = 1002, attempt = 1): RunEvent => ({
  type: 'task.started',
  at,
  task,
  attempt,
  worker: 0,
});
const finished = (status: 'succeeded' | 'failed', at = 2000): RunEvent => ({ type: 'run.finished', at, status });
const tasksOf = (entries: JournalEntry[]): string[] =>
  entries.map((e) => ('task' in e.event ? e.event.task : e.event.type));
const seqsOf = (entries: JournalEntry[]): number[] => entries.map((e) => e.seq);
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * The contract every {@link Store} keeps. Call it from an adapter's test file with a function that
 * opens a fresh, empty storage for each test.
 * @example storeSpec('MemoryStore', async () => ({ store: new MemoryStore() }));
 */
export function storeSpec(name: string, open: () => Promise<StoreUnderTest>, options: StoreSpecOptions = {}): void {
  describe(`Store spec: ${name}`, () => {
    let h: StoreUnderTest;
    let store: Store;
    const opened: Store[] = [];
    const track = async (s: Promise<Store>): Promise<Store> => {
      const st = await s;
      opened.push(st);
      return st;
    };

    beforeEach(async () => {
      h = await open();
      store = h.store;
      opened.push(store);
    });
    afterEach(async () => {
      for (const s of opened.splice(0)) await s.close();
      await h.cleanup?.();
    });

    it('appends batches in order with consecutive seqs from 1, and reads back what was written', async () => {
      await store.append('r1', [created('r1'), ready('a'), ready('b')]);
      await store.append('r1', [started('a')]);
      const entries = await store.read('r1');
      expect(seqsOf(entries)).toEqual([1, 2, 3, 4]);
      expect(entries.map((e) => e.event)).toEqual([created('r1'), ready('a'), ready('b'), started('a')]);
    });

    it('gives events back as JSON does: undefined dropped, NULs, unicode and nesting kept', async () => {
      const odd = 'nul\u0000 tab\t quote" backslash\\ é 漢 🎉';
      const failed: RunEvent = {
        type: 'task.failed',
        at: 1003.5,
        task: 'a',
        attempt: 1,
        error: { message: odd, stderrTail: odd, exitCode: null, signal: undefined },
      };
      await store.append('r1', [created('r1'), failed]);
      const [, entry] = await store.read('r1');
      expect(entry?.event).toEqual({
        type: 'task.failed',
        at: 1003.5,
        task: 'a',
        attempt: 1,
        error: { message: odd, stderrTail: odd, exitCode: null },
      });
      expect(entry?.event).not.toHaveProperty('error.signal');
    });

    it('reads only the events after `afterSeq`', async () => {
      await store.append('r1', [created('r1'), ready('a'), ready('b'), started('a')]);
      expect(seqsOf(await store.read('r1', 2))).toEqual([3, 4]);
      expect(tasksOf(await store.read('r1', 2))).toEqual(['b', 'a']);
      expect(await store.read('r1', 4)).toEqual([]);
      expect(await store.read('r1', 99)).toEqual([]);
      await expect(store.read('r1', 1.5)).rejects.toMatchObject({
        code: 'WEFT_STORE',
        message: expect.stringContaining('afterSeq'),
      });
      await expect(store.read('r1', -1)).rejects.toMatchObject({ code: 'WEFT_STORE' });
    });

    it('reads from any `afterSeq`, inside a batch or at its edges, as the whole journal has it', async () => {
      await store.append('r1', [created('r1')]);
      for (const size of [3, 1, 4, 2])
        await store.append(
          'r1',
          range(1, size).map((i) => ready(`s${size}.${i}`)),
        );
      const all = await store.read('r1');
      expect(seqsOf(all)).toEqual(range(1, 11));
      for (let after = 0; after <= 11; after++)
        expect(await store.read('r1', after), `afterSeq ${after}`).toEqual(all.slice(after));
    });

    it('fails with WEFT_RUN_NOT_FOUND for a run that was never created', async () => {
      await expect(store.read('ghost')).rejects.toMatchObject({
        code: 'WEFT_RUN_NOT_FOUND',
        message: expect.stringContaining('ghost'),
      });
      await expect(store.append('ghost', [ready('a')])).rejects.toMatchObject({ code: 'WEFT_RUN_NOT_FOUND' });
      await expect(store.read('ghost')).rejects.toMatchObject({ code: 'WEFT_RUN_NOT_FOUND' });
      await store.append('ghost', []);
      expect(await store.listRuns()).toEqual([]);
    });

    it('refuses run.created anywhere but first, twice, or for another run', async () => {
      await expect(store.append('r1', [created('other')])).rejects.toMatchObject({ code: 'WEFT_STORE' });
      await store.append('r1', [created('r1')]);
      await expect(store.append('r1', [created('r1')])).rejects.toMatchObject({
        code: 'WEFT_STORE',
        message: expect.stringContaining('already exists'),
      });
      await expect(store.append('r1', [ready('a'), created('r1')])).rejects.toMatchObject({ code: 'WEFT_STORE' });
      expect(seqsOf(await store.read('r1'))).toEqual([1]);
    });

    it('stores a batch whole or not at all', async () => {
      const bad = {
        type: 'task.output',
        at: 5,
        task: 'a',
        attempt: 1,
        text: 'x',
        usage: { costUsd: 1n },
      } as unknown as RunEvent;
      await expect(store.append('r1', [created('r1'), bad])).rejects.toMatchObject({
        code: 'WEFT_STORE',
        cause: expect.any(Error),
      });
      await expect(store.read('r1')).rejects.toMatchObject({ code: 'WEFT_RUN_NOT_FOUND' });
      expect(await store.listRuns()).toEqual([]);
      await store.append('r1', [created('r1'), ready('a')]);
      await expect(store.append('r1', [ready('b'), started('a'), bad])).rejects.toMatchObject({ code: 'WEFT_STORE' });
      await store.append('r1', [started('b')]);
      const entries = await store.read('r1');
      expect(seqsOf(entries)).toEqual([1, 2, 3]);
      expect(tasksOf(entries)).toEqual(['run.created', 'a', 'b']);
      expect((await store.listRuns())[0]?.lastSeq).toBe(3);
    });

    it('lists runs newest first, with plan, times, task count and status', async () => {
      await store.append('old', [created('old', 1000, ['a'])]);
      await store.append('new', [created('new', 3000, ['a', 'b', 'c'])]);
      await store.append('tie', [created('tie', 3000)]);
      await store.append('old', [
        { type: 'plan.expanded', at: 1500, by: 'a', tasks: [{ id: 'x' }, { id: 'y' }] },
        finished('failed', 4000),
      ]);
      expect(await store.listRuns()).toEqual([
        { id: 'tie', plan: 'plan-tie', createdAt: 3000, lastEventAt: 3000, status: 'running', tasks: 2, lastSeq: 1 },
        { id: 'new', plan: 'plan-new', createdAt: 3000, lastEventAt: 3000, status: 'running', tasks: 3, lastSeq: 1 },
        { id: 'old', plan: 'plan-old', createdAt: 1000, lastEventAt: 4000, status: 'failed', tasks: 3, lastSeq: 3 },
      ]);
      await store.append('old', [{ type: 'run.resumed', at: 5000, by: 'me' }]);
      expect((await store.listRuns()).find((r) => r.id === 'old')).toMatchObject({
        status: 'running',
        lastEventAt: 5000,
      });
      await store.append('old', [finished('succeeded', 6000)]);
      expect((await store.listRuns()).find((r) => r.id === 'old')).toMatchObject({ status: 'succeeded', lastSeq: 5 });
    });

    it('gives a lease to one owner at a time, extends it for its owner, and frees it on release', async () => {
      expect(await store.leaseOf('r1')).toBeUndefined();
      const before = Date.now();
      expect(await store.acquireLease('r1', 'alice', 60_000)).toBe(true);
      const lease = await store.leaseOf('r1');
      expect(lease?.owner).toBe('alice');
      expect(lease?.expiresAt).toBeGreaterThan(before + 50_000);
      expect(await store.acquireLease('r1', 'bob', 60_000)).toBe(false);
      expect(await store.acquireLease('r1', 'alice', 60_000)).toBe(true);
      expect(await store.acquireLease('r2', 'bob', 60_000)).toBe(true);
      await store.releaseLease('r1', 'bob');
      expect(await store.acquireLease('r1', 'bob', 60_000)).toBe(false);
      expect(await store.renewLease('r1', 'bob', 60_000)).toBe(false);
      await store.releaseLease('r1', 'alice');
      expect(await store.renewLease('r1', 'alice', 60_000)).toBe(false);
      expect(await store.acquireLease('r1', 'bob', 60_000)).toBe(true);
      await expect(store.acquireLease('r1', 'bob', 0)).rejects.toMatchObject({ code: 'WEFT_STORE' });
    });

    it('lets another owner take an expired lease, after which the old owner cannot renew it', async () => {
      expect(await store.acquireLease('r1', 'alice', 150)).toBe(true);
      expect(await store.acquireLease('r1', 'bob', 150)).toBe(false);
      await sleep(300);
      expect(await store.acquireLease('r1', 'bob', 60_000)).toBe(true);
      expect(await store.renewLease('r1', 'alice', 60_000)).toBe(false);
      expect(await store.acquireLease('r1', 'alice', 60_000)).toBe(false);
    });

    it('keeps a renewed lease past its first expiry', async () => {
      expect(await store.acquireLease('r1', 'alice', 400)).toBe(true);
      await sleep(250);
      expect(await store.renewLease('r1', 'alice', 400)).toBe(true);
      await sleep(250);
      expect(await store.acquireLease('r1', 'bob', 400)).toBe(false);
    });

    it('grants a contended lease to exactly one of many racing owners', async () => {
      const peer = h.peer === undefined ? store : await track(h.peer());
      const owners = range(1, 12).map((i) => `owner-${i}`);
      const won = await Promise.all(owners.map((o, i) => (i % 2 === 0 ? store : peer).acquireLease('race', o, 60_000)));
      expect(won.filter(Boolean)).toHaveLength(1);
    });

    it('caches values by key: missing is undefined, put overwrites, JSON values round-trip', async () => {
      expect(await store.getCache('k1')).toBeUndefined();
      await store.putCache('k1', { exitCode: 0, output: { files: ['a.ts'], ok: true }, text: 'é\u0000' });
      expect(await store.getCache('k1')).toEqual({
        exitCode: 0,
        output: { files: ['a.ts'], ok: true },
        text: 'é\u0000',
      });
      await store.putCache('k1', 'second');
      expect(await store.getCache('k1')).toBe('second');
      await store.putCache('k2', null);
      expect(await store.getCache('k2')).toBeNull();
      await expect(store.putCache('k3', undefined)).rejects.toMatchObject({ code: 'WEFT_STORE' });
      expect(await store.getCache('k3')).toBeUndefined();
    });

    it('reads and writes many cache keys at once, all or none', async () => {
      await store.putCache('m0', 'before');
      const entries = new Map<string, unknown>(range(1, 1500).map((i) => [`m${i}`, [`t${i}`, i]]));
      entries.set('m0', { replaced: true, text: 'é\u0000' });
      await store.putCacheMany(entries);
      const found = await store.getCacheMany(['m0', 'm7', 'm1500', 'missing']);
      expect(Object.fromEntries(found)).toEqual({
        m0: { replaced: true, text: 'é\u0000' },
        m7: ['t7', 7],
        m1500: ['t1500', 1500],
      });
      expect((await store.getCacheMany([...entries.keys()])).size).toBe(1501);
      expect(await store.getCacheMany([])).toEqual(new Map());
      await expect(
        store.putCacheMany(
          new Map<string, unknown>([
            ['m1', 'changed'],
            ['m2', undefined],
          ]),
        ),
      ).rejects.toMatchObject({
        code: 'WEFT_STORE',
      });
      expect(await store.getCache('m1')).toEqual(['t1', 1]);
    });

    it('keeps thousands of events in order', async () => {
      await store.append('big', [created('big')]);
      for (let b = 0; b < 50; b++)
        await store.append(
          'big',
          range(1, 100).map((i) => ready(`t${b * 100 + i}`, 2000 + b)),
        );
      const all = await store.read('big');
      expect(seqsOf(all)).toEqual(range(1, 5001));
      expect(tasksOf(all).slice(1)).toEqual(range(1, 5000).map((i) => `t${i}`));
      expect(seqsOf(await store.read('big', 4000))).toEqual(range(4001, 5001));
    });

    it('keeps each run in order when many runs append at once', async () => {
      const runs = range(1, 10).map((i) => `run-${i}`);
      await Promise.all(
        runs.map(async (id) => {
          await store.append(id, [created(id)]);
          for (let k = 1; k <= 30; k++)
            await store.append(
              id,
              range(1, (k % 3) + 1).map((j) => ready(`${id}.${k}.${j}`)),
            );
        }),
      );
      for (const id of runs) {
        const entries = await store.read(id);
        const expected = range(1, 30).flatMap((k) => range(1, (k % 3) + 1).map((j) => `${id}.${k}.${j}`));
        expect(tasksOf(entries).slice(1)).toEqual(expected);
        expect(seqsOf(entries)).toEqual(range(1, expected.length + 1));
      }
      expect(await store.listRuns()).toHaveLength(10);
    });

    it('never interleaves or renumbers batches appended to one run at once', async () => {
      await store.append('r1', [created('r1')]);
      const peer = h.peer === undefined ? store : await track(h.peer());
      await Promise.all(
        range(1, 20).map((b) =>
          (b % 2 === 0 ? store : peer).append(
            'r1',
            range(1, 3).map((j) => ready(`b${b}.${j}`)),
          ),
        ),
      );
      const entries = await store.read('r1');
      expect(seqsOf(entries)).toEqual(range(1, 61));
      const tasks = tasksOf(entries).slice(1);
      for (let i = 0; i < tasks.length; i += 3) {
        const batch = tasks[i]?.split('.')[0];
        expect(tasks.slice(i, i + 3)).toEqual([1, 2, 3].map((j) => `${batch}.${j}`));
      }
    });

    it('fails with WEFT_STORE once closed, and closes twice quietly', async () => {
      await store.close();
      await store.close();
      await expect(store.read('r1')).rejects.toMatchObject({ code: 'WEFT_STORE' });
      await expect(store.append('r1', [created('r1')])).rejects.toMatchObject({ code: 'WEFT_STORE' });
      await expect(store.getCache('k')).rejects.toMatchObject({ code: 'WEFT_STORE' });
    });

    // Registered only for durable stores, so a memory store's run shows no skipped test.
    if (options.durable === true) {
      it('keeps journal, run list, cache and leases when reopened', async () => {
        if (h.reopen === undefined) throw new Error(`${name} is durable, so its spec needs \`reopen\``);
        await store.append('r1', [created('r1'), ready('a')]);
        await store.append('r1', [started('a'), finished('succeeded')]);
        await store.putCache('k', { n: 1 });
        await store.acquireLease('r1', 'alice', 60_000);
        const before = { runs: await store.listRuns(), events: await store.read('r1') };
        await store.close();
        const again = await track((h.reopen as () => Promise<Store>)());
        expect({ runs: await again.listRuns(), events: await again.read('r1') }).toEqual(before);
        expect(await again.getCache('k')).toEqual({ n: 1 });
        expect(await again.acquireLease('r1', 'bob', 60_000)).toBe(false);
        await again.append('r1', [{ type: 'run.resumed', at: 3000, by: 'again' }]);
        expect(seqsOf(await again.read('r1', 3))).toEqual([4, 5]);
      });
    }
  });
}
