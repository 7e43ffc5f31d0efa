import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../ports/clock.js';
import { runPlan, type EngineOptions } from './engine.js';
import type { RunEvent } from './events.js';
import type { Executor, TaskContext, TaskOutcome } from '../ports/executor.js';
import { searchOrder } from '../schedule/search/index.js';
import { foldRun } from './run-state.js';
import { compilePlan, UNDECLARED_PROVIDER_POOL, type CompiledPlan } from '../plan/compile.js';
import type { PlanSpec } from '../plan/plan-schema.js';
import { runOnClock } from '../testing/engine-harness.js';

type Behaviour = (ctx: TaskContext) => TaskOutcome | Promise<TaskOutcome>;

/** An executor whose behaviour per task is a plain function: the port, not a mock of weft. */
function scripted(behaviours: Record<string, Behaviour>, log: string[] = []): Executor {
  return {
    name: 'test',
    version: '1',
    info: { requires: 'run' },
    async run(ctx) {
      log.push(`run ${ctx.task.id}#${ctx.attempt}`);
      const b = behaviours[ctx.task.id];
      return b === undefined ? { ok: true, result: { text: ctx.task.id } } : b(ctx);
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const waitForAbort = (ctx: TaskContext): Promise<TaskOutcome> =>
  new Promise((resolve) => {
    const done = () => resolve({ ok: false, failure: { message: 'aborted' } });
    if (ctx.signal.aborted) done();
    else ctx.signal.addEventListener('abort', done, { once: true });
  });

function plan(tasks: object[], extra: object = {}): CompiledPlan {
  return compilePlan(
    {
      name: 't',
      workers: 2,
      defaults: { executor: 'test', backoff: { initial: '10ms', jitter: false } },
      tasks: tasks.map((t) => ({ run: 'x', ...t })),
      ...extra,
    },
    { executors: new Map([['test', { requires: 'run' as const }]]) },
  );
}

async function run(p: CompiledPlan, executor: Executor, options: Partial<EngineOptions> = {}) {
  const events: RunEvent[] = [];
  const outcome = await runPlan({
    runId: 'r',
    plan: p,
    executors: new Map([['test', executor]]),
    baseDir: '/tmp',
    journal: (batch) => void events.push(...batch),
    ...options,
  });
  const states = Object.fromEntries([...outcome.state.tasks.values()].map((r) => [r.id, r.state]));
  return { ...outcome, events, states };
}

describe('runPlan', () => {
  it('runs tasks in dependency order and journals each start before the task runs', async () => {
    const log: string[] = [];
    const events: RunEvent[] = [];
    const p = plan([{ id: 'a' }, { id: 'b', needs: ['a'] }, { id: 'c', needs: ['a'] }, { id: 'd', needs: ['b', 'c'] }]);
    const outcome = await runPlan({
      runId: 'r',
      plan: p,
      baseDir: '/tmp',
      executors: new Map([['test', scripted({}, log)]]),
      journal: (batch) => {
        for (const e of batch) log.push(`journal ${e.type}${'task' in e ? ` ${e.task}` : ''}`);
        events.push(...batch);
      },
    });
    expect(outcome.status).toBe('succeeded');
    for (const id of ['a', 'b', 'c', 'd'])
      expect(log.indexOf(`journal task.started ${id}`)).toBeLessThan(log.indexOf(`run ${id}#1`));
    expect(log.indexOf('journal task.succeeded a')).toBeLessThan(log.indexOf('run b#1'));
    expect(log.indexOf('run d#1')).toBeGreaterThan(
      Math.max(log.indexOf('journal task.succeeded b'), log.indexOf('journal task.succeeded c')),
    );
    // The journal alone rebuilds the state.
    expect([...foldRun(events).tasks.values()].map((r) => r.state)).toEqual([
      'succeeded',
      'succeeded',
      'succeeded',
      'succeeded',
    ]);
    expect(events.at(-1)).toMatchObject({ type: 'run.finished', status: 'succeeded' });
  });

  it('passes that start only gates share one append; a task with effects starts only once all before it is stored', async () => {
    const batches: RunEvent[][] = [];
    const storedWhenXRan: RunEvent[] = [];
    const gates = (from: number, n: number, first: string) =>
      Array.from({ length: n }, (_, k) => {
        const dep = k === 0 ? first : `g${from + k - 1}`;
        return { id: `g${from + k}`, needs: [dep], gate: `tasks.${dep}.succeeded`, run: undefined };
      });
    const p = plan([{ id: 'a' }, ...gates(0, 200, 'a'), { id: 'x', needs: ['g199'] }, ...gates(200, 50, 'x')]);
    const outcome = await runPlan({
      runId: 'r',
      plan: p,
      baseDir: '/tmp',
      executors: new Map([
        [
          'test',
          scripted({
            x: () => {
              storedWhenXRan.push(...batches.flat());
              return { ok: true, result: {} };
            },
          }),
        ],
      ]),
      journal: (batch) => void batches.push([...batch]),
    });
    expect(outcome.status).toBe('succeeded');
    // A chain of gates is a pass per gate; each pass used to be its own append (250 and more).
    expect(batches.length).toBeLessThan(30);
    const stored = storedWhenXRan.map((e) => `${e.type} ${'task' in e ? e.task : ''}`);
    expect(stored).toContain('task.started x');
    for (let k = 0; k < 200; k++) expect(stored).toContain(`task.succeeded g${k}`);
    const events = batches.flat();
    expect([...foldRun(events).tasks.values()].every((r) => r.state === 'succeeded')).toBe(true);
    // A gate runs no process: its success carries no process times.
    expect(events.find((e) => e.type === 'task.succeeded' && e.task === 'g7')).not.toHaveProperty('processStartedAt');
  });

  it('never runs more than M tasks at once', async () => {
    let now = 0;
    let peak = 0;
    const slow: Behaviour = async () => {
      peak = Math.max(peak, ++now);
      await sleep(15);
      now--;
      return { ok: true, result: {} };
    };
    const ids = Array.from({ length: 9 }, (_, i) => `t${i}`);
    const r = await run(plan(ids.map((id) => ({ id }))), scripted(Object.fromEntries(ids.map((id) => [id, slow]))), {
      workers: 3,
    });
    expect(r.status).toBe('succeeded');
    expect(peak).toBe(3);
  });

  it('retries with backoff and succeeds on a later attempt', async () => {
    const r = await run(
      plan([{ id: 'flaky', retries: 2 }]),
      scripted({
        flaky: (ctx) =>
          ctx.attempt < 3 ? { ok: false, failure: { message: `boom ${ctx.attempt}` } } : { ok: true, result: {} },
      }),
    );
    expect(r.status).toBe('succeeded');
    const retrying = r.events.filter((e) => e.type === 'task.retrying');
    expect(retrying.map((e) => e.type === 'task.retrying' && e.retryAt - e.at)).toEqual([10, 20]);
    expect(r.state.tasks.get('flaky')?.attempts.map((a) => a.outcome)).toEqual(['retrying', 'retrying', 'succeeded']);
  });

  it('does not count rate-limit (transient) failures against retries', async () => {
    const r = await run(
      plan([{ id: 'limited', retries: 0 }]),
      scripted({
        limited: (ctx) =>
          ctx.attempt <= 3
            ? { ok: false, failure: { message: '429', transient: true, retryAfterMs: 5 } }
            : { ok: true, result: {} },
      }),
    );
    expect(r.status).toBe('succeeded');
    expect(r.state.tasks.get('limited')?.attempts).toHaveLength(4);
  });

  it('a failure skips only its dependents; everything else goes on', async () => {
    const r = await run(
      plan([
        { id: 'bad' },
        { id: 'child', needs: ['bad'] },
        { id: 'grandchild', needs: ['child'] },
        { id: 'other' },
        { id: 'other2', needs: ['other'] },
      ]),
      scripted({ bad: () => ({ ok: false, failure: { message: 'exited with code 1', exitCode: 1 } }) }),
    );
    expect(r.status).toBe('failed');
    expect(r.states).toEqual({
      bad: 'failed',
      child: 'skipped',
      grandchild: 'skipped',
      other: 'succeeded',
      other2: 'succeeded',
    });
    expect(r.state.tasks.get('child')?.reason).toBe('dependency "bad" failed');
    expect(r.state.tasks.get('grandchild')?.reason).toBe('dependency "child" was skipped');
  });

  it('--fail-fast cancels what is running and everything not started', async () => {
    const r = await run(
      plan([{ id: 'bad' }, { id: 'long' }, { id: 'later', needs: ['long'] }]),
      scripted({ bad: async () => (await sleep(10), { ok: false, failure: { message: 'no' } }), long: waitForAbort }),
      { failFast: true },
    );
    expect(r.status).toBe('failed');
    expect(r.states).toEqual({ bad: 'failed', long: 'cancelled', later: 'cancelled' });
    expect(r.events.at(-1)).toMatchObject({
      type: 'run.finished',
      status: 'failed',
      reason: 'fail-fast: task "bad" failed',
    });
  });

  it('when conditions skip a task and its dependents, with the reason; `after` tolerates the skip', async () => {
    const p = plan(
      [
        { id: 'a' },
        { id: 'perf', needs: ['a'], when: 'vars.perf' },
        { id: 'perf-report', needs: ['perf'] },
        { id: 'stats', needs: ['a'], after: ['perf'] },
        { id: 'only-if-a', needs: ['a'], when: 'tasks.a.succeeded && tasks.a.text == "a"' },
      ],
      { vars: { perf: false } },
    );
    const r = await run(p, scripted({}));
    expect(r.status).toBe('succeeded');
    expect(r.states).toEqual({
      a: 'succeeded',
      perf: 'skipped',
      'perf-report': 'skipped',
      stats: 'succeeded',
      'only-if-a': 'succeeded',
    });
    expect(r.state.tasks.get('perf')?.reason).toBe('condition `vars.perf` is false');
  });

  it('a timeout aborts the attempt and records it', async () => {
    const r = await run(plan([{ id: 'slow', timeout: '50ms' }]), scripted({ slow: waitForAbort }));
    expect(r.status).toBe('failed');
    expect(r.events.find((e) => e.type === 'task.failed')).toMatchObject({
      error: { timedOut: true, message: 'timed out after 0.05s' },
    });
  });

  it('Ctrl-C (the signal) cancels running and pending tasks and records it', async () => {
    const controller = new AbortController();
    const seen: string[] = [];
    const pending = run(
      plan([{ id: 'a' }, { id: 'b', needs: ['a'] }]),
      scripted({ a: (ctx) => (seen.push('a'), waitForAbort(ctx)) }),
      { signal: controller.signal },
    );
    await sleep(20);
    controller.abort();
    const r = await pending;
    expect(seen).toEqual(['a']);
    expect(r.status).toBe('cancelled');
    expect(r.states).toEqual({ a: 'cancelled', b: 'cancelled' });
    expect(r.events.at(-1)).toMatchObject({
      type: 'run.finished',
      status: 'cancelled',
      reason: 'interrupted (Ctrl-C)',
    });
  });

  it('resumes from a journal: succeeded tasks never run again, interrupted ones run as a new attempt', async () => {
    const p = plan([{ id: 'a' }, { id: 'b', needs: ['a'] }, { id: 'c', needs: ['b'] }]);
    const journal: RunEvent[] = [
      { type: 'run.created', at: 1, runId: 'r', plan: 't', workers: 2, mode: 'parallel', tasks: ['a', 'b', 'c'] },
      { type: 'task.started', at: 2, task: 'a', attempt: 1, worker: 0 },
      { type: 'task.succeeded', at: 3, task: 'a', attempt: 1, result: { text: 'from before' } },
      { type: 'task.started', at: 4, task: 'b', attempt: 1, worker: 0 },
    ];
    const prior = foldRun(journal);
    prior.tasks.forEach(() => undefined);
    const log: string[] = [];
    const r = await run(p, scripted({}, log), {
      prior: foldRun([...journal, { type: 'run.resumed', at: 5, by: 'test' }]),
    });
    expect(log).toEqual(['run b#2', 'run c#1']);
    expect(r.status).toBe('succeeded');
    expect(r.state.tasks.get('a')?.result?.text).toBe('from before');
    expect(r.state.tasks.get('b')?.attempts.map((a) => a.outcome)).toEqual(['interrupted', 'succeeded']);
  });

  it('resume: never — an interrupted task with side effects waits for a person', async () => {
    const p = plan([
      { id: 'deploy', resume: 'never' },
      { id: 'notify', needs: ['deploy'] },
    ]);
    const journal: RunEvent[] = [
      { type: 'run.created', at: 1, runId: 'r', plan: 't', workers: 2, mode: 'parallel', tasks: ['deploy', 'notify'] },
      { type: 'task.started', at: 2, task: 'deploy', attempt: 1, worker: 0 },
      { type: 'run.resumed', at: 3, by: 'test' },
    ];
    const log: string[] = [];
    const r = await run(p, scripted({}, log), { prior: foldRun(journal) });
    expect(log).toEqual([]);
    expect(r.states).toEqual({ deploy: 'failed', notify: 'skipped' });
    expect(r.state.tasks.get('deploy')?.reason).toMatch(/resume: never/);
  });

  it('masks secrets in what an executor shows live', async () => {
    const shown: string[] = [];
    const leaky = scripted({
      a: (ctx) => (ctx.emit({ kind: 'tool', message: 'Bash echo sk-live-123456' }), { ok: true, result: {} }),
    });
    await run(plan([{ id: 'a' }]), leaky, {
      redact: (s) => s.replaceAll('sk-live-123456', '***'),
      onEvent: (e) => void (e.type === 'task.progress' && shown.push(e.progress.message ?? '')),
    });
    expect(shown).toEqual(['Bash echo ***']);
  });

  it('masks secrets before they reach the journal', async () => {
    const r = await run(
      plan([{ id: 'leaky' }]),
      scripted({
        leaky: () => ({
          ok: false,
          failure: { message: 'auth failed for sk-live-123456', stderrTail: 'key=sk-live-123456' },
        }),
      }),
      { redact: (s) => s.replaceAll('sk-live-123456', '***') },
    );
    expect(JSON.stringify(r.events)).not.toContain('sk-live-123456');
    expect(r.events.find((e) => e.type === 'task.failed')).toMatchObject({
      error: { message: 'auth failed for ***', stderrTail: 'key=***' },
    });
  });

  it("masks secrets in a task's structured output: the journal, gates and dependents see the mask", async () => {
    const seen: unknown[] = [];
    const r = await run(
      plan([{ id: 'token' }, { id: 'use', needs: ['token'] }]),
      scripted({
        token: () => ({ ok: true, result: { output: { key: 'sk-live-123456', nested: ['x sk-live-123456 y'] } } }),
        use: (ctx) => (seen.push(ctx.inputs), { ok: true, result: {} }),
      }),
      { redact: (s) => s.replaceAll('sk-live-123456', '***') },
    );
    expect(JSON.stringify(r.events)).not.toContain('sk-live-123456');
    expect(r.state.tasks.get('token')?.result?.output).toEqual({ key: '***', nested: ['x *** y'] });
    expect(JSON.stringify(seen)).not.toContain('sk-live-123456');
    expect(JSON.stringify(seen)).toContain('***');
  });

  it('a run budget stops new tasks once spent, and says why', async () => {
    const costly: Behaviour = () => ({
      ok: true,
      result: { usage: { inputTokens: 100, outputTokens: 50, costUsd: 0.6 } },
    });
    const ids = ['a', 'b', 'c', 'd'];
    const r = await run(
      plan(
        ids.map((id) => ({ id })),
        { budget: { usd: 1 } },
      ),
      scripted(Object.fromEntries(ids.map((id) => [id, costly]))),
      { workers: 1 },
    );
    expect(r.status).toBe('failed');
    expect(r.states).toEqual({ a: 'succeeded', b: 'succeeded', c: 'cancelled', d: 'cancelled' });
    expect(r.events.at(-1)).toMatchObject({
      type: 'run.finished',
      status: 'failed',
      reason: 'budget exceeded: spent $1.2000 of $1',
    });
  });

  it('a task over its own budget is stopped and not retried', async () => {
    const spender: Behaviour = (ctx) => {
      ctx.emit({ kind: 'usage', usage: { inputTokens: 5000, outputTokens: 10 } });
      return waitForAbort(ctx);
    };
    const r = await run(plan([{ id: 'spender', retries: 3, budget: { tokens: 1000 } }]), scripted({ spender }));
    expect(r.states).toEqual({ spender: 'failed' });
    expect(r.state.tasks.get('spender')?.attempts).toHaveLength(1);
    expect(r.events.find((e) => e.type === 'task.failed')).toMatchObject({
      error: { code: 'WEFT_BUDGET_EXCEEDED', message: 'task budget exceeded: 5010 > 1000 tokens' },
    });
  });

  it('a task whose one call costs more than its own budget fails, though the call answered (an API task)', async () => {
    const oneCall: Behaviour = (ctx) => {
      ctx.emit({ kind: 'usage', usage: { inputTokens: 100, outputTokens: 20, costUsd: 1.2 } });
      return { ok: true, result: { text: 'done', usage: { inputTokens: 100, outputTokens: 20, costUsd: 1.2 } } };
    };
    const r = await run(
      plan([
        { id: 'd', retries: 2, budget: { usd: 0.5 } },
        { id: 'e', needs: ['d'] },
      ]),
      scripted({ d: oneCall }),
    );
    expect(r.states).toEqual({ d: 'failed', e: 'skipped' });
    expect(r.state.tasks.get('d')?.attempts).toHaveLength(1);
    expect(r.events.find((e) => e.type === 'task.failed')).toMatchObject({
      error: { code: 'WEFT_BUDGET_EXCEEDED', message: 'task budget exceeded: $1.2 > $0.5' },
    });
  });

  it('a run budget in dollars stops the run at usage it cannot price, saying which model lacks a price', async () => {
    const unpriced: Behaviour = () => ({
      ok: true,
      result: { usage: { model: 'llama3.1', inputTokens: 1_000_000, outputTokens: 1_000_000 } },
    });
    const r = await run(
      plan([{ id: 'a' }, { id: 'b', needs: ['a'] }], { budget: { usd: 0.0001 } }),
      scripted({ a: unpriced, b: unpriced }),
    );
    expect(r.states).toEqual({ a: 'succeeded', b: 'cancelled' });
    expect(r.events.at(-1)).toMatchObject({
      type: 'run.finished',
      status: 'failed',
      reason:
        'budget of $0.0001 cannot be kept: model "llama3.1" has no price (add it under pricing: in weft.config.yaml)',
    });
  });

  it('a run budget spent by an attempt sent back as a fix ends the run (it hung with the fix queued)', async () => {
    // As an API task: the usage reported, then an answer that is not what the schema wants.
    const big: Behaviour = (ctx) => {
      ctx.emit({ kind: 'usage', usage: { inputTokens: 1000, outputTokens: 1000 } });
      return {
        ok: false,
        failure: { message: 'not JSON', code: 'WEFT_OUTPUT_SCHEMA', fix: 'answer in JSON' },
        result: { usage: { inputTokens: 1000, outputTokens: 1000 } },
      };
    };
    const r = await run(plan([{ id: 'fix', fixAttempts: 5 }], { budget: { tokens: 3000 } }), scripted({ fix: big }));
    expect(r.status).toBe('failed');
    expect(r.events.at(-1)).toMatchObject({
      type: 'run.finished',
      reason: 'budget exceeded: spent 4000 of 3000 tokens',
    });
  });

  it("a rate limit narrows the provider's pool for a while instead of failing the task", async () => {
    let running = 0;
    let peakAfterLimit = 0;
    let limited = false;
    const behaviour: Behaviour = async (ctx) => {
      running++;
      if (limited) peakAfterLimit = Math.max(peakAfterLimit, running);
      await sleep(20);
      running--;
      if (ctx.task.id === 't0' && ctx.attempt === 1) {
        limited = true;
        return { ok: false, failure: { message: 'HTTP 429', transient: true, retryAfterMs: 10 } };
      }
      return { ok: true, result: {} };
    };
    const executor: Executor = {
      ...scripted({}),
      info: { requires: 'run', provider: 'acme' },
      run: async (ctx) => behaviour(ctx),
    };
    const ids = Array.from({ length: 8 }, (_, i) => `t${i}`);
    const p = compilePlan(
      {
        workers: 4,
        defaults: { executor: 'test' },
        tasks: ids.map((id, i) => ({ id, run: 'x', needs: i >= 4 ? [`t${i - 4}`] : [] })),
      },
      { executors: new Map([['test', { requires: 'run' as const, provider: 'acme' }]]) },
    );
    // Not declared: as wide as the run's workers, narrowed from them (4 → 2) after the 429.
    expect(p.graph.pools).toEqual([{ name: 'acme', capacity: UNDECLARED_PROVIDER_POOL }]);
    const events: RunEvent[] = [];
    const outcome = await runPlan({
      runId: 'r',
      plan: p,
      executors: new Map([['test', executor]]),
      baseDir: '/tmp',
      journal: (b) => void events.push(...b),
    });
    expect(outcome.status).toBe('succeeded');
    expect(events.filter((e) => e.type === 'task.retrying')).toHaveLength(1);
    expect(peakAfterLimit).toBeLessThanOrEqual(2);
  });

  it("a provider's pool the plan does not declare is as wide as the run's workers, not the plan's", async () => {
    let running = 0;
    let peak = 0;
    const executor: Executor = {
      ...scripted({}),
      info: { requires: 'run', provider: 'acme' },
      run: async () => {
        peak = Math.max(peak, ++running);
        await sleep(30);
        running--;
        return { ok: true, result: {} };
      },
    };
    const catalog = new Map([['test', { requires: 'run' as const, provider: 'acme' }]]);
    const ids = Array.from({ length: 8 }, (_, i) => `t${i}`);
    const p = compilePlan(
      { workers: 2, defaults: { executor: 'test' }, tasks: ids.map((id) => ({ id, run: 'x' })) },
      { executors: catalog },
    );
    const outcome = await runPlan({
      runId: 'r',
      plan: p,
      workers: 8, // -j 8
      executors: new Map([['test', executor]]),
      baseDir: '/tmp',
    });
    expect(outcome.status).toBe('succeeded');
    expect(peak).toBe(8);
  });

  it('a task with expands: true splices its sub-plan into the running graph; dependents wait for it', async () => {
    const executors = new Map([['test', { requires: 'run' as const }]]);
    const recompile = (spec: PlanSpec) => compilePlan(spec, { executors });
    const log: string[] = [];
    const fanOut: Behaviour = (ctx) =>
      ctx.attempt === 1
        ? { ok: true, result: { output: { tasks: [{ id: 'review-a', run: 'x', needs: ['missing'] }] } } } // invalid: routed back
        : {
            ok: true,
            result: {
              output: {
                tasks: [
                  { id: 'review-a', run: 'x', needs: ['scan'] },
                  { id: 'review-b', run: 'x', needs: ['scan'] },
                  { id: 'merge-reviews', run: 'x', needs: ['review-a', 'review-b'] },
                ],
              },
            },
          };
    const p = plan([
      { id: 'scan', expands: true },
      { id: 'summary', needs: ['scan'] },
    ]);
    const events: RunEvent[] = [];
    const outcome = await runPlan({
      runId: 'r',
      plan: p,
      executors: new Map([['test', scripted({ scan: fanOut }, log)]]),
      baseDir: '/tmp',
      recompile,
      journal: (b) => void events.push(...b),
    });
    expect(outcome.status).toBe('succeeded');
    expect(log).toEqual([
      'run scan#1',
      'run scan#2',
      'run review-a#1',
      'run review-b#1',
      'run merge-reviews#1',
      'run summary#1',
    ]);
    const retry = events.find((e) => e.type === 'task.retrying');
    // The user sees what is wrong, not just that something is.
    expect(retry).toMatchObject({
      task: 'scan',
      error: {
        code: 'WEFT_PLAN_INVALID',
        message:
          'its sub-plan is not valid: <plan> task "review-a" needs[0]: unknown task "missing" — fix: use the id of a task in this plan',
      },
    });
    expect(events.filter((e) => e.type === 'plan.expanded')).toMatchObject([
      { by: 'scan', tasks: [{ id: 'review-a' }, { id: 'review-b' }, { id: 'merge-reviews' }] },
    ]);
    // Replaying the journal gives the grown run.
    expect([...foldRun(events).tasks.keys()]).toEqual(['scan', 'summary', 'review-a', 'review-b', 'merge-reviews']);
  });

  it('follows a searched plan that keeps a worker idle on purpose, and ends when the plan says', async () => {
    // Every list schedule of this graph on 2 workers takes 7 s (see planned-dispatch.test.ts); 6 s
    // needs a worker left idle at 0 for `long`, which starts at 3 s beside `d`.
    const p = plan([
      { id: 'a', estimate: 1 },
      { id: 'long', estimate: 3 },
      { id: 'b', estimate: 2, needs: ['a'] },
      { id: 'c', estimate: 2, needs: ['a'] },
      { id: 'd', estimate: 2, needs: ['b', 'c'] },
    ]);
    const found = searchOrder(p.graph, 2);
    expect(found.plan).toBeDefined();
    const onClock = async (options: Partial<EngineOptions>) => {
      const clock = new VirtualClock();
      const takesItsEstimate: Executor = {
        name: 'test',
        version: '1',
        info: { requires: 'run' },
        run: (ctx) =>
          new Promise((resolve) => clock.setTimeout(() => resolve({ ok: true, result: {} }), ctx.task.estimateMs ?? 0)),
      };
      const { events, status } = await runOnClock(clock, { plan: p, executor: takesItsEstimate, ...options });
      const startedAt = (id: string) => events.find((e) => e.type === 'task.started' && e.task === id)?.at;
      return { status, end: events.at(-1)?.at, longAt: startedAt('long') };
    };
    expect(await onClock({ score: found.score, dispatchPlan: found.plan })).toEqual({
      status: 'succeeded',
      end: 6000,
      longAt: 3000,
    });
    // The same ready-queue order without the plan is a list schedule.
    expect(await onClock({ score: found.score })).toEqual({ status: 'succeeded', end: 7000, longAt: 0 });
  });

  it('a long chain of instant tasks still lets timers and I/O run while it goes', async () => {
    // Instant tasks are passed on without waiting for the event loop, but not for ever: a timer set
    // early in the run fires long before it ends (20k tasks take well over the engine's 10 ms).
    const n = 20_000;
    const p = plan(
      Array.from({ length: n }, (_, i) => ({ id: `t${i}`, ...(i === 0 ? {} : { needs: [`t${i - 1}`] }) })),
      { workers: 1 },
    );
    let done = 0;
    let doneWhenTimerFired: number | undefined;
    const instant: Executor = {
      name: 'test',
      version: '1',
      info: { requires: 'run' },
      run: async () => {
        if (++done === 100) setTimeout(() => (doneWhenTimerFired = done), 0);
        return { ok: true, result: {} };
      },
    };
    const outcome = await runPlan({ runId: 'r', plan: p, executors: new Map([['test', instant]]), baseDir: '/tmp' });
    expect(outcome.status).toBe('succeeded');
    expect(doneWhenTimerFired).toBeLessThan(n);
  });

  it('so do gates, decided as they are dispatched, and instant tasks whose every pass awaits the journal', async () => {
    // Gates end within the pass that starts them, and a journal's append resolves in a microtask:
    // in neither case does a completion wait for the event loop, which must still turn (Ctrl-C).
    const n = 20_000;
    const gates = compilePlan(
      {
        name: 't',
        workers: 1,
        tasks: Array.from({ length: n }, (_, i) =>
          i === 0
            ? { id: 't0', executor: 'test', run: 'x' }
            : { id: `t${i}`, gate: `tasks.t${i - 1}.succeeded`, needs: [`t${i - 1}`] },
        ),
      },
      { executors: new Map([['test', { requires: 'run' as const }]]) },
    );
    let started = 0;
    let startedWhenTimerFired: number | undefined;
    setTimeout(() => (startedWhenTimerFired = started), 0);
    const counted = (e: { type: string }): void => void (e.type === 'task.started' && started++);
    const instant: Executor = {
      name: 'test',
      version: '1',
      info: { requires: 'run' },
      run: async () => ({ ok: true, result: {} }),
    };
    const executors = new Map([['test', instant]]);
    const gated = await runPlan({ runId: 'r', plan: gates, executors, baseDir: '/tmp', onEvent: counted });
    expect(gated.status).toBe('succeeded');
    expect(startedWhenTimerFired).toBeLessThan(n);

    const chain = plan(
      Array.from({ length: n }, (_, i) => ({ id: `t${i}`, ...(i === 0 ? {} : { needs: [`t${i - 1}`] }) })),
      { workers: 4 },
    );
    started = 0;
    startedWhenTimerFired = undefined;
    setTimeout(() => (startedWhenTimerFired = started), 0);
    const journal = async (): Promise<void> => {};
    const journaled = await runPlan({ runId: 'r', plan: chain, executors, baseDir: '/tmp', journal, onEvent: counted });
    expect(journaled.status).toBe('succeeded');
    expect(startedWhenTimerFired).toBeLessThan(n);
  });
});
