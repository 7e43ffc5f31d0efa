import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { needService } from '../../test/support/need-service.js';
import { compilePlan } from '../core/plan/compile.js';
import { runPlan, type EngineNotice } from '../core/run/engine.js';
import type { PlanSpec } from '../core/plan/plan-schema.js';
import type { Executor, TaskContext, TaskOutcome } from '../core/ports/executor.js';
import type { ResolvedTask } from '../core/plan/graph.js';
import { FnExecutor, type TaskFunction } from '../executors/fn/fn-executor.js';
import { catalogOf } from '../executors/index.js';
import { RedisDispatcher } from './redis-dispatcher.js';
import { RedisWorker } from './redis-worker.js';

const URL = 'redis://127.0.0.1:6379';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** What the worker's functions saw, by task id. */
const seen = new Map<string, { runs: number; aborted?: unknown; worker?: number }>();
const functions = new Map<string, TaskFunction>([
  [
    'talks',
    async (ctx) => {
      ctx.emit({ kind: 'text', message: 'half way' });
      await sleep(300);
      return { answer: 42, input: ctx.inputs.first?.output };
    },
  ],
  ['first', () => 'from first'],
  [
    'hangs',
    (ctx) =>
      new Promise((_, reject) => {
        ctx.signal.addEventListener('abort', () => {
          seen.set('hangs', { runs: 1, aborted: ctx.signal.reason });
          reject(new Error('stopped'));
        });
      }),
  ],
  [
    'never',
    () => {
      seen.set('never', { runs: (seen.get('never')?.runs ?? 0) + 1 });
      return 'ran';
    },
  ],
  [
    'slow',
    async () => {
      const s = seen.get('slow') ?? { runs: 0 };
      seen.set('slow', { ...s, runs: s.runs + 1 });
      await sleep(1_500);
      return 'slow done';
    },
  ],
]);
const local = new Map<string, Executor>([['fn', new FnExecutor(functions)]]);
const catalog = catalogOf(local);

describe('RedisDispatcher and RedisWorker on a real Redis', () => {
  const prefix = `wt-${randomBytes(4).toString('hex')}`;
  let worker: RedisWorker;
  let dispatcher: RedisDispatcher;

  beforeAll(async () => {
    needService('redis');
    const workDir = mkdtempSync(join(tmpdir(), 'weft-worker-'));
    worker = await RedisWorker.start({ url: URL, prefix, executors: local, workDir, concurrency: 4, lockMs: 2_000 });
    dispatcher = await RedisDispatcher.open({ url: URL, prefix });
  });
  afterAll(async () => {
    await dispatcher?.close();
    await worker?.close();
  });

  async function run(spec: PlanSpec, onEvent?: (e: EngineNotice) => void, signal?: AbortSignal) {
    const plan = compilePlan(spec, { executors: catalog });
    return runPlan({
      runId: `r${randomBytes(3).toString('hex')}`,
      plan,
      executors: dispatcher.executors(local),
      baseDir: tmpdir(),
      ...(onEvent === undefined ? {} : { onEvent }),
      ...(signal === undefined ? {} : { signal }),
    });
  }

  it('advertises what it can run, and the dispatcher sees it', async () => {
    const ads = await dispatcher.workers();
    expect(ads.map((a) => a.id)).toContain(worker.ad.id);
    expect(worker.ad.executors).toEqual(['fn']);
    // API keys as booleans only.
    for (const v of Object.values(worker.ad.keys)) expect(typeof v).toBe('boolean');
  });

  it("streams an attempt's progress back while it runs, and returns its result with its inputs", async () => {
    const progress: string[] = [];
    const { status, state } = await run(
      {
        name: 'talk',
        tasks: [
          { id: 'first', executor: 'fn' },
          { id: 'talks', executor: 'fn', needs: ['first'] },
        ],
      },
      (e) => {
        if (e.type === 'task.progress' && e.progress.message !== undefined) progress.push(e.progress.message);
      },
    );
    expect(status).toBe('succeeded');
    expect(progress).toContain('half way');
    expect(state.tasks.get('talks')?.result?.output).toEqual({ answer: 42, input: 'from first' });
  });

  it('a timeout on the coordinator stops the attempt on the worker', async () => {
    const { status, state } = await run({ name: 'hang', tasks: [{ id: 'hangs', executor: 'fn', timeout: '300ms' }] });
    expect(status).toBe('failed');
    expect(state.tasks.get('hangs')?.attempts[0]?.error?.message).toMatch(/timed out after 0.3s/);
    expect(seen.get('hangs')?.aborted).toEqual({ kind: 'timeout', ms: 300 });
  });

  it('an attempt stopped before any worker took it is taken out of its queue: a worker that comes later never runs it', async () => {
    const started = Date.now();
    // Stopped as Ctrl-C stops a run: its timeout would not, since that counts from when a worker takes it.
    const stop = AbortSignal.timeout(600);
    const { status, state } = await run(
      { name: 'unclaimed', tasks: [{ id: 'never', executor: 'fn', labels: ['late'], timeout: '300ms' }] },
      undefined,
      stop,
    );
    expect(status).toBe('cancelled');
    expect(state.tasks.get('never')?.attempts).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(5_000); // no wait for an answer no worker would send
    const late = await RedisWorker.start({
      url: URL,
      prefix,
      executors: local,
      workDir: mkdtempSync(join(tmpdir(), 'weft-worker-')),
      labels: ['late'],
    });
    try {
      await sleep(1_500);
    } finally {
      await late.close();
    }
    expect(seen.get('never')).toBeUndefined();
  });

  it('a second coordinator adopts an attempt still running instead of running it again', async () => {
    const runId = `r${randomBytes(3).toString('hex')}`;
    const plan = compilePlan({ name: 'adopt', tasks: [{ id: 'slow', executor: 'fn' }] }, { executors: catalog });
    const task = plan.graph.tasks[0] as ResolvedTask;
    const ctx = (): TaskContext => ({
      runId,
      task,
      attempt: 1,
      worker: 0,
      signal: new AbortController().signal,
      runDir: undefined,
      baseDir: tmpdir(),
      workdir: tmpdir(),
      inputs: {},
      emit: () => undefined,
    });
    // The first coordinator sends attempt 1 and "dies" (never waits for it).
    void (dispatcher.executors(local).get('fn') as Executor).run(ctx());
    await sleep(300);
    const second = await RedisDispatcher.open({ url: URL, prefix });
    try {
      const adopt = await second.adoptable(runId, [{ task, attempt: 1 }]);
      expect([...adopt]).toEqual([['slow', 1]]);
      const outcome: TaskOutcome = await (second.executors(local).get('fn') as Executor).run(ctx());
      expect(outcome).toMatchObject({ ok: true, result: { output: 'slow done' } });
      // And once it has finished, a third adopts its stored result.
      const third = await RedisDispatcher.open({ url: URL, prefix });
      expect((await third.adoptable(runId, [{ task, attempt: 1 }])).size).toBe(1);
      const again = await (third.executors(local).get('fn') as Executor).run(ctx());
      await third.close();
      expect(again).toMatchObject({ ok: true, result: { output: 'slow done' } });
    } finally {
      await second.close();
    }
    expect(seen.get('slow')?.runs).toBe(1);
    // Nothing to adopt for an attempt never sent.
    expect((await dispatcher.adoptable(runId, [{ task, attempt: 2 }])).size).toBe(0);
  });
});
