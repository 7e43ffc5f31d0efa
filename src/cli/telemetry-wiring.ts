import type { CompiledPlan } from '../core/plan/compile.js';
import type { EngineNotice } from '../core/run/engine-options.js';
import { startTelemetry } from '../telemetry/start-telemetry.js';
import { exitWhenDone } from './exit-when-done.js';
import type { Executor } from '../core/ports/executor.js';
import { tracedTaskInfo } from '../telemetry/task-info.js';

/** A run's telemetry as the CLI wires it: an event subscriber, and the end that flushes the spans. */
export interface RunTelemetry {
  /** The tracer's subscriber: subscribe it to the run's bus. */
  readonly onEvent: (event: EngineNotice) => void;
  /** A running attempt's trace context (W3C headers), which `--dispatch` sends to the worker. */
  traceContext(task: string, attempt: number): Readonly<Record<string, string>> | undefined;
  /** Ends any span still open (`failure` says why) and sends every span; never throws. */
  close(failure?: unknown): Promise<void>;
}

/**
 * Spans for this run when `OTEL_EXPORTER_OTLP_ENDPOINT` (or `…_TRACES_ENDPOINT`) is set; without
 * one, `undefined`, and no OpenTelemetry module is loaded.
 *
 * @throws WeftError when an endpoint or header variable is malformed (before anything runs).
 */
export async function openRunTelemetry(
  compiled: CompiledPlan,
  redact: (text: string) => string,
  planFile: string,
  /** The run's executors: a task without `model` is traced with the one its executor uses. */
  executors?: ReadonlyMap<string, Executor>,
): Promise<RunTelemetry | undefined> {
  const telemetry = await startTelemetry(process.env);
  if (telemetry === undefined) return undefined;
  const taskInfo = tracedTaskInfo(compiled.graph, executors);
  const tracer = telemetry.tracer({ taskInfo, redact, runAttributes: { 'weft.plan.file': redact(planFile) } });
  return {
    onEvent: (event) => tracer.onEvent(event),
    traceContext: (task, attempt) => tracer.traceContext(task, attempt),
    close: async (failure) => {
      if (failure !== undefined)
        tracer.end(failure instanceof Error ? `${failure.name}: ${failure.message}` : String(failure));
      else tracer.end();
      if ((await telemetry.shutdown()) === 'gave up') exitWhenDone();
    },
  };
}
