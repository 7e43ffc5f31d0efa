import { describe, expect, it } from 'vitest';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { createRunTracer } from './run-tracer.js';
import { parseTraceparent, traceparentOf } from './traceparent.js';
import type { EngineNotice } from '../core/run/engine-options.js';

function setUp(redact?: (s: string) => string) {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const tracer = createRunTracer(provider.getTracer('test'), {
    taskInfo: (id) => (id === 'a' ? { executor: 'claude', model: 'sonnet' } : { executor: 'shell' }),
    ...(redact === undefined ? {} : { redact }),
  });
  const spans = (): ReadableSpan[] => exporter.getFinishedSpans();
  return { tracer, spans };
}

const parentOf = (s: ReadableSpan): string | undefined => s.parentSpanContext?.spanId;

describe('createRunTracer', () => {
  it('makes run → task → attempt spans with the events’ times, usage, exit codes and reasons', () => {
    const { tracer, spans } = setUp();
    const events: EngineNotice[] = [
      { type: 'run.created', at: 1000, runId: 'r1', plan: 'p', workers: 2, mode: 'parallel', tasks: ['a', 'b'] },
      { type: 'task.ready', at: 1001, task: 'a' },
      { type: 'task.started', at: 1002, task: 'a', attempt: 1, worker: 0 },
      {
        type: 'task.retrying',
        at: 1010,
        task: 'a',
        attempt: 1,
        retryAt: 1100,
        error: { message: 'exit 1', exitCode: 1 },
      },
      { type: 'task.started', at: 1100, task: 'a', attempt: 2, worker: 1 },
      {
        type: 'task.output',
        at: 1150,
        task: 'a',
        attempt: 2,
        usage: { inputTokens: 10, outputTokens: 5, costUsd: 0.01, model: 'sonnet-4' },
      },
      {
        type: 'task.retrying',
        at: 1200,
        task: 'a',
        attempt: 2,
        retryAt: 1200,
        // As the engine journals a fix: the event says so, the error carries no `fix` hint of its own.
        error: { message: 'merge conflict in a.txt', code: 'WEFT_MERGE_CONFLICT' },
        fix: { n: 1, of: 2 },
      },
      { type: 'task.started', at: 1300, task: 'a', attempt: 3, worker: 1 },
      { type: 'task.succeeded', at: 1400, task: 'a', attempt: 3, result: { exitCode: 0 } },
      { type: 'task.skipped', at: 1401, task: 'b', reason: 'condition false', cause: 'condition' },
      { type: 'run.finished', at: 1500, status: 'succeeded' },
    ];
    for (const e of events) tracer.onEvent(e);
    const all = spans();
    const run = all.find((s) => s.name === 'weft.run');
    const taskA = all.find((s) => s.name === 'weft.task' && s.attributes['weft.task.id'] === 'a');
    const taskB = all.find((s) => s.name === 'weft.task' && s.attributes['weft.task.id'] === 'b');
    const attempts = all
      .filter((s) => s.name === 'weft.attempt')
      .sort((x, y) => Number(x.attributes['weft.attempt']) - Number(y.attributes['weft.attempt']));
    expect(run && taskA && taskB).toBeTruthy();
    expect(new Set(all.map((s) => s.spanContext().traceId)).size).toBe(1);
    expect(parentOf(run as ReadableSpan)).toBeUndefined();
    expect(parentOf(taskA as ReadableSpan)).toBe(run?.spanContext().spanId);
    expect(parentOf(taskB as ReadableSpan)).toBe(run?.spanContext().spanId);
    expect(attempts.map(parentOf)).toEqual([1, 2, 3].map(() => taskA?.spanContext().spanId));
    expect(run?.attributes).toMatchObject({
      'weft.run.id': 'r1',
      'weft.run.status': 'succeeded',
      'weft.run.workers': 2,
    });
    expect(run?.startTime).toEqual([1, 0]);
    expect(run?.endTime).toEqual([1, 500_000_000]);
    expect(taskA?.attributes).toMatchObject({
      'weft.executor': 'claude',
      'gen_ai.request.model': 'sonnet',
      'weft.task.outcome': 'succeeded',
    });
    expect(attempts[0]?.attributes).toMatchObject({
      'weft.worker.slot': 0,
      'weft.attempt.outcome': 'retrying',
      'weft.retry.reason': 'exit 1',
      'process.exit.code': 1,
    });
    expect(attempts[1]?.attributes).toMatchObject({
      'weft.worker.slot': 1,
      'weft.attempt.outcome': 'sent back to fix',
      'weft.fix.reason': 'merge conflict in a.txt',
      'error.type': 'WEFT_MERGE_CONFLICT',
      'gen_ai.usage.input_tokens': 10,
      'gen_ai.usage.output_tokens': 5,
      'weft.cost.usd': 0.01,
      'gen_ai.response.model': 'sonnet-4',
    });
    expect(attempts[2]?.attributes).toMatchObject({ 'weft.attempt.outcome': 'succeeded', 'process.exit.code': 0 });
    expect(taskA?.events.map((e) => e.name)).toEqual(['weft.retry', 'weft.fix']);
    expect(taskB?.attributes).toMatchObject({ 'weft.task.outcome': 'skipped', 'weft.skip.cause': 'condition' });
  });

  it('traces a check whose failure went to the task that broke it as waiting for that fix, not as a retry', () => {
    const { tracer, spans } = setUp();
    const events: EngineNotice[] = [
      { type: 'run.created', at: 0, runId: 'r', plan: 'p', workers: 1, mode: 'parallel', tasks: ['b'] },
      { type: 'task.started', at: 1, task: 'b', attempt: 1, worker: 0 },
      {
        type: 'task.retrying',
        at: 10,
        task: 'b',
        attempt: 1,
        retryAt: 10,
        error: { message: 'check b: broken by a', exitCode: 1 },
        waitsFor: ['a'],
      },
      { type: 'task.started', at: 20, task: 'b', attempt: 2, worker: 0 },
      { type: 'task.succeeded', at: 30, task: 'b', attempt: 2, result: { exitCode: 0 } },
      { type: 'run.finished', at: 30, status: 'succeeded' },
    ];
    for (const e of events) tracer.onEvent(e);
    const all = spans();
    const first = all.find((s) => s.name === 'weft.attempt' && s.attributes['weft.attempt'] === 1);
    expect(first?.attributes).toMatchObject({
      'weft.attempt.outcome': 'waits for the fix',
      'weft.failure.reason': 'check b: broken by a',
    });
    expect(first?.attributes['weft.retry.reason']).toBeUndefined();
    const task = all.find((s) => s.name === 'weft.task');
    expect(task?.events.map((e) => [e.name, e.attributes])).toEqual([
      ['weft.waits', { 'weft.attempt': 1, 'weft.waits.for': ['a'], 'weft.failure.reason': 'check b: broken by a' }],
    ]);
  });

  it("records each loop iteration's end on the run span, and a task's attempts of iteration 2 under a task span again", () => {
    const { tracer, spans } = setUp();
    const events: EngineNotice[] = [
      { type: 'run.created', at: 0, runId: 'r', plan: 'p', workers: 1, mode: 'parallel', tasks: ['a'] },
      { type: 'loop.iteration.started', at: 0, iteration: 1 },
      { type: 'task.ready', at: 0, task: 'a' },
      { type: 'task.started', at: 1, task: 'a', attempt: 1, worker: 0 },
      { type: 'task.succeeded', at: 10, task: 'a', attempt: 1, result: {} },
      {
        type: 'loop.iteration.ended',
        at: 10,
        iteration: 1,
        outcome: 'repeat',
        reasons: ['until: tasks.a.output.ok = false'],
        durationMs: 10,
        costUsd: 0.5,
      },
      { type: 'loop.iteration.started', at: 10, iteration: 2, tasks: ['a'] },
      { type: 'task.ready', at: 10, task: 'a' },
      { type: 'task.started', at: 11, task: 'a', attempt: 2, worker: 0 },
      { type: 'task.succeeded', at: 20, task: 'a', attempt: 2, result: {} },
      { type: 'loop.iteration.ended', at: 20, iteration: 2, outcome: 'passed', reasons: [], durationMs: 10 },
      { type: 'run.finished', at: 20, status: 'succeeded' },
    ];
    for (const e of events) tracer.onEvent(e);
    const run = spans().find((s) => s.name === 'weft.run');
    expect(run?.events.map((e) => e.attributes)).toEqual([
      {
        'weft.loop.iteration': 1,
        'weft.loop.outcome': 'repeat',
        'weft.loop.duration_ms': 10,
        'weft.reason': 'until: tasks.a.output.ok = false',
        'weft.cost.usd': 0.5,
      },
      { 'weft.loop.iteration': 2, 'weft.loop.outcome': 'passed', 'weft.loop.duration_ms': 10 },
    ]);
    const attempts = spans().filter((s) => s.name === 'weft.attempt');
    expect(attempts).toHaveLength(2);
    for (const a of attempts) expect(parentOf(a)).toBeDefined();
  });

  it('keeps a verified task that a check sends back after it succeeded under one task span, with the retry event', () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const tracer = createRunTracer(provider.getTracer('test'), {
      taskInfo: (id) => (id === 'backend' ? { executor: 'shell', reopenable: true } : { executor: 'shell' }),
    });
    const broken = { message: 'check build: broken by backend', code: 'WEFT_CHECK_FAILED' as const };
    const events: EngineNotice[] = [
      { type: 'run.created', at: 0, runId: 'r', plan: 'p', workers: 1, mode: 'parallel', tasks: ['backend', 'build'] },
      { type: 'task.ready', at: 0, task: 'backend' },
      { type: 'task.started', at: 1, task: 'backend', attempt: 1, worker: 0 },
      { type: 'task.succeeded', at: 10, task: 'backend', attempt: 1, result: {} },
      { type: 'task.started', at: 11, task: 'build', attempt: 1, worker: 0 },
      { type: 'task.retrying', at: 20, task: 'build', attempt: 1, retryAt: 20, error: broken },
      { type: 'task.retrying', at: 20, task: 'backend', attempt: 1, retryAt: 20, error: broken },
      { type: 'task.started', at: 21, task: 'backend', attempt: 2, worker: 0 },
      { type: 'task.succeeded', at: 30, task: 'backend', attempt: 2, result: {} },
      { type: 'task.started', at: 31, task: 'build', attempt: 2, worker: 0 },
      { type: 'task.succeeded', at: 40, task: 'build', attempt: 2, result: {} },
      { type: 'run.finished', at: 41, status: 'succeeded' },
    ];
    for (const e of events) tracer.onEvent(e);
    const all = exporter.getFinishedSpans();
    const backend = all.filter((s) => s.name === 'weft.task' && s.attributes['weft.task.id'] === 'backend');
    expect(backend).toHaveLength(1);
    const span = backend[0] as ReadableSpan;
    expect(span.attributes).toMatchObject({ 'weft.task.outcome': 'succeeded', 'weft.task.attempts': 2 });
    expect(span.endTime).toEqual([0, 30_000_000]);
    expect(span.events.map((e) => [e.name, e.attributes?.['weft.retry.reason']])).toEqual([
      ['weft.retry', 'check build: broken by backend'],
    ]);
    const attempts = all.filter((s) => s.name === 'weft.attempt' && s.attributes['weft.task.id'] === 'backend');
    expect(attempts.map((a) => parentOf(a))).toEqual([span.spanContext().spanId, span.spanContext().spanId]);
  });

  it('records a preemption as an event of the task; the stopped attempt is no error', () => {
    const { tracer, spans } = setUp();
    const events: EngineNotice[] = [
      { type: 'run.created', at: 1000, runId: 'r1', plan: 'p', workers: 1, mode: 'parallel', tasks: ['b'] },
      { type: 'task.started', at: 1002, task: 'b', attempt: 1, worker: 0 },
      { type: 'task.preempted', at: 1100, task: 'b', attempt: 1, by: 'hotfix', byClass: 'P0' },
      {
        type: 'task.retrying',
        at: 1110,
        task: 'b',
        attempt: 1,
        retryAt: 1110,
        error: { message: 'preempted by hotfix', code: 'WEFT_PREEMPTED' },
      },
      { type: 'task.started', at: 1200, task: 'b', attempt: 2, worker: 0 },
      { type: 'task.succeeded', at: 1300, task: 'b', attempt: 2, result: { exitCode: 0 } },
      { type: 'run.finished', at: 1400, status: 'succeeded' },
    ];
    for (const e of events) tracer.onEvent(e);
    const attempt1 = spans().find((s) => s.name === 'weft.attempt' && s.attributes['weft.attempt'] === 1);
    expect(attempt1?.attributes['weft.attempt.outcome']).toBe('preempted');
    expect(attempt1?.status.code).toBe(0); // UNSET
    const task = spans().find((s) => s.name === 'weft.task');
    expect(task?.events.map((x) => [x.name, x.attributes?.['weft.preempted.by']])).toEqual([
      ['weft.preempted', 'hotfix'],
    ]);
    expect(task?.status.code).toBe(1); // OK
  });

  it('gives each running attempt a traceparent a worker can continue, and none once it ended', () => {
    const { tracer, spans } = setUp();
    tracer.onEvent({ type: 'run.created', at: 1, runId: 'r', plan: 'p', workers: 1, mode: 'parallel', tasks: ['a'] });
    tracer.onEvent({ type: 'task.started', at: 2, task: 'a', attempt: 1, worker: 0 });
    const header = tracer.traceparent('a', 1) as string;
    expect(header).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(tracer.traceparent('a', 2)).toBeUndefined();
    tracer.onEvent({ type: 'task.succeeded', at: 3, task: 'a', attempt: 1, result: {} });
    expect(tracer.traceparent('a', 1)).toBeUndefined();
    const attempt = spans().find((s) => s.name === 'weft.attempt');
    expect(parseTraceparent(header)).toMatchObject({
      traceId: attempt?.spanContext().traceId,
      spanId: attempt?.spanContext().spanId,
      isRemote: true,
    });
  });

  it('ends what a run left open (an error, a second Ctrl-C) as unfinished', () => {
    const { tracer, spans } = setUp();
    tracer.onEvent({ type: 'run.created', at: 1, runId: 'r', plan: 'p', workers: 1, mode: 'parallel', tasks: ['a'] });
    tracer.onEvent({ type: 'task.started', at: 2, task: 'a', attempt: 1, worker: 0 });
    tracer.end('Error: disk full', 5);
    expect(spans().map((s) => [s.name, s.status.code])).toEqual([
      ['weft.attempt', 2],
      ['weft.task', 0],
      ['weft.run', 2],
    ]);
    expect(spans().find((s) => s.name === 'weft.run')?.status.message).toBe('Error: disk full');
  });

  it('masks secrets and cuts long text in attributes', () => {
    const { tracer, spans } = setUp((s) => s.split('sk-secret-1234').join('***'));
    tracer.onEvent({ type: 'run.created', at: 1, runId: 'r', plan: 'p', workers: 1, mode: 'parallel', tasks: ['a'] });
    tracer.onEvent({ type: 'task.started', at: 2, task: 'a', attempt: 1, worker: 0 });
    const message = `curl failed with key sk-secret-1234 ${'x'.repeat(2000)}`;
    tracer.onEvent({
      type: 'task.failed',
      at: 3,
      task: 'a',
      attempt: 1,
      error: { message, stderrTail: 'sk-secret-1234' },
    });
    tracer.onEvent({ type: 'run.finished', at: 4, status: 'failed', reason: 'a failed' });
    const text = JSON.stringify(spans().map((s) => [s.attributes, s.status, s.events]));
    expect(text).not.toContain('sk-secret-1234');
    expect(text).toContain('curl failed with key ***');
    const attempt = spans().find((s) => s.name === 'weft.attempt');
    expect(String(attempt?.attributes['weft.failure.reason']).length).toBeLessThanOrEqual(500);
  });

  it('never throws into the engine', () => {
    const { tracer } = setUp();
    expect(() => tracer.onEvent({ type: 'task.started' } as unknown as EngineNotice)).not.toThrow();
  });
});

describe('traceparent', () => {
  it('writes and reads the W3C header', () => {
    const ctx = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 1 };
    expect(traceparentOf(ctx)).toBe('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
    expect(parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')).toEqual({
      ...ctx,
      isRemote: true,
    });
    expect(parseTraceparent('00-00000000000000000000000000000000-00f067aa0ba902b7-01')).toBeUndefined();
    expect(parseTraceparent('garbage')).toBeUndefined();
  });
});
