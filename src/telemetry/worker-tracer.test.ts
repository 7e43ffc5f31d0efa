import { describe, expect, it } from 'vitest';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { createRunTracer } from './run-tracer.js';
import { createWorkerTracer } from './worker-tracer.js';

function setUp() {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  return { tracer: provider.getTracer('test'), spans: () => exporter.getFinishedSpans() };
}

const job = { runId: 'r', task: 'a', attempt: 1, executor: 'shell', jobId: 'r:a:1', queue: 'shell', workerId: 'w1' };

describe('createWorkerTracer', () => {
  it("continues the coordinator's attempt span from the trace context its job carries", () => {
    const { tracer, spans } = setUp();
    const run = createRunTracer(tracer);
    run.onEvent({ type: 'run.created', at: 1, runId: 'r', plan: 'p', workers: 1, mode: 'parallel', tasks: ['a'] });
    run.onEvent({ type: 'task.started', at: 2, task: 'a', attempt: 1, worker: 0 });
    const carrier = run.traceContext('a', 1);
    expect(carrier?.traceparent).toBe(run.traceparent('a', 1));
    const end = createWorkerTracer(tracer).startAttempt({ ...job, trace: carrier as Record<string, string> });
    end({ ok: false, failure: { message: 'exit 3 with key sk-1', exitCode: 3 } });
    run.onEvent({ type: 'task.succeeded', at: 3, task: 'a', attempt: 1, result: {} });
    expect(run.traceContext('a', 1)).toBeUndefined();
    const worker = spans().find((s) => s.name === 'weft.worker.attempt');
    const attempt = spans().find((s) => s.name === 'weft.attempt');
    expect(worker?.spanContext().traceId).toBe(attempt?.spanContext().traceId);
    expect(worker?.parentSpanContext?.spanId).toBe(attempt?.spanContext().spanId);
    expect(worker?.attributes).toMatchObject({
      'weft.task.id': 'a',
      'weft.attempt': 1,
      'weft.worker.id': 'w1',
      'messaging.destination.name': 'shell',
      'weft.attempt.outcome': 'failed',
      'process.exit.code': 3,
    });
  });

  it('masks the failure reason with the redactor it is given', () => {
    const { tracer, spans } = setUp();
    const end = createWorkerTracer(tracer).startAttempt({ ...job, redact: (s) => s.replaceAll('sk-1', '***') });
    end({ ok: false, failure: { message: 'exit 3 with key sk-1', exitCode: 3 } });
    expect(JSON.stringify(spans()[0]?.attributes)).not.toContain('sk-1');
    expect(spans()[0]?.status.message).toBe('exit 3 with key ***');
  });

  it('starts a trace of its own without a context, or with one that is not valid', () => {
    const { tracer, spans } = setUp();
    createWorkerTracer(tracer).startAttempt(job)({ ok: true, result: {} });
    createWorkerTracer(tracer).startAttempt({ ...job, trace: { traceparent: 'garbage' } })({ ok: true, result: {} });
    expect(spans().map((s) => s.parentSpanContext)).toEqual([undefined, undefined]);
    expect(spans()[0]?.attributes['weft.attempt.outcome']).toBe('succeeded');
  });
});
