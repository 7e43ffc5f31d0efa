import { describe, expect, it } from 'vitest';
import { WeftError } from '../errors.js';
import { compilePlan } from '../plan/compile.js';
import { ENGINE_DEFAULTS, resolveEngineOptions, runPlan, type EngineOptions } from './engine.js';
import type { Executor } from '../ports/executor.js';

const plan = compilePlan(
  { workers: 3, tasks: [{ id: 'a', run: 'true' }] },
  { executors: new Map([['shell', { requires: 'run' as const }]]) },
);
const ok: Executor = {
  name: 'shell',
  version: '1',
  info: { requires: 'run' },
  run: async () => ({ ok: true, result: {} }),
};
const base: EngineOptions = { runId: 'r', plan, executors: new Map([['shell', ok]]), baseDir: '/tmp' };

/** The error runPlan rejects with, for options a caller got wrong. */
async function rejection(options: Record<string, unknown>): Promise<WeftError> {
  const error = await runPlan({ ...base, ...options } as EngineOptions).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof WeftError)) throw new Error(`expected a WeftError, got ${String(error)}`);
  return error;
}

describe('engine options', () => {
  it('fill in the documented defaults; the plan decides workers and budget', () => {
    const o = resolveEngineOptions(base);
    expect(o).toMatchObject({
      mode: 'parallel',
      failFast: false,
      throttleCooldownMs: 60_000,
      maxTransientRetries: 20,
      workers: 3,
      budget: undefined,
    });
    expect(o.clock).toBe(ENGINE_DEFAULTS.clock);
    expect(o.redact('sk-1')).toBe('sk-1');
    expect(resolveEngineOptions({ ...base, mode: 'sequential', workers: 8 }).workers).toBe(1);
    // Given as undefined is not given.
    expect(resolveEngineOptions({ ...base, workers: undefined } as unknown as EngineOptions).workers).toBe(3);
  });

  it('are checked on entry: the error names the field, what was expected and what came', async () => {
    const workers = await rejection({ workers: 0 });
    expect(workers.code).toBe('WEFT_USAGE');
    expect(workers.message).toBe('runPlan: Expected `workers` to be a positive integer, got `0`');
    expect((await rejection({ workers: 1.5 })).message).toContain('`workers` to be a positive integer, got `1.5`');
    expect((await rejection({ mode: 'fast' })).message).toBe(
      "runPlan: Expected `mode` to be 'parallel' or 'sequential', got `fast`",
    );
    expect((await rejection({ maxTransientRetries: -1 })).message).toContain(
      '`maxTransientRetries` to be a non-negative integer, got `-1`',
    );
    expect((await rejection({ throttleCooldownMs: Number.NaN })).message).toContain(
      '`throttleCooldownMs` to be a non-negative number of ms, got `NaN`',
    );
    expect((await rejection({ failFast: 'yes' })).message).toContain('`failFast` to be a boolean, got `yes`');
    expect((await rejection({ random: 0.5 })).message).toContain('`random` to be a function, got `0.5`');
    expect((await rejection({ executors: {} })).message).toContain(
      '`executors` to be a Map of executors by name, got `an object`',
    );
    expect((await rejection({ runId: '' })).message).toContain('`runId` to be a non-empty string, got ``');
    expect((await rejection({ budget: { usd: -1 } })).message).toContain(
      '`budget.usd` to be a non-negative number, got `-1`',
    );
  });

  it('check the ports and signals too: a wrong one is refused before a task starts, not a failed task or a TypeError', async () => {
    expect((await rejection({ signal: 'stop' })).message).toContain('`signal` to be an AbortSignal, got `stop`');
    expect((await rejection({ runDir: 5 })).message).toContain('`runDir` to be a folder path, got `5`');
    expect((await rejection({ workspace: {} })).message).toContain(
      '`workspace` to be a Workspace (prepare, integrate, release), got `an object`',
    );
    expect((await rejection({ cache: {} })).message).toContain('`cache` to be a TaskCache (probe, restore, save)');
    expect((await rejection({ prior: 5 })).message).toContain('`prior` to be an object, got `5`');
    expect((await rejection({ env: 'x' })).message).toContain('`env` to be an object, got `x`');
    expect((await rejection({ score: 5 })).message).toContain('`score` to be an array of numbers, got `5`');
    expect((await rejection({ retryTasks: ['a'] })).message).toContain('`retryTasks` to be a Set of task ids');
    expect((await rejection({ adopt: {} })).message).toContain('`adopt` to be a Map of task id to attempt');
  });

  it('a valid run still runs', async () => {
    expect((await runPlan(base)).status).toBe('succeeded');
  });
});
