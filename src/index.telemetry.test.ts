import { describe, expect, it } from 'vitest';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { definePlan, runWeft } from './index.js';

describe('runWeft({ tracer })', () => {
  it("puts the run's spans on the application's tracer: run → task → attempt", async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const plan = definePlan({
      name: 'lib',
      tasks: [
        { id: 'a', fn: async () => ({ n: 1 }) },
        { id: 'b', needs: ['a'], fn: async () => ({ n: 2 }) },
      ],
    });
    const { status } = await runWeft(plan, { tracer: provider.getTracer('app') });
    expect(status).toBe('succeeded');
    const spans = exporter.getFinishedSpans();
    const run = spans.find((s) => s.name === 'weft.run');
    const tasks = spans.filter((s) => s.name === 'weft.task');
    const attempts = spans.filter((s) => s.name === 'weft.attempt');
    expect(tasks.map((t) => t.parentSpanContext?.spanId)).toEqual([
      run?.spanContext().spanId,
      run?.spanContext().spanId,
    ]);
    expect(attempts).toHaveLength(2);
    for (const a of attempts) {
      const parent = tasks.find((t) => t.attributes['weft.task.id'] === a.attributes['weft.task.id']);
      expect(a.parentSpanContext?.spanId).toBe(parent?.spanContext().spanId);
      expect(a.attributes['weft.executor']).toBe('fn');
    }
  });

  it('tracer: false sends nothing, and a bad onEvent is still refused by runPlan', async () => {
    const plan = definePlan({ tasks: [{ id: 'a', fn: async () => ({}) }] });
    expect((await runWeft(plan, { tracer: false })).status).toBe('succeeded');
    await expect(runWeft(plan, { onEvent: 'x' as never })).rejects.toThrow(/onEvent/);
  });
});
