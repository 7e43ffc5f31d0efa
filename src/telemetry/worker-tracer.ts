import { SpanKind, SpanStatusCode, type Attributes, type Tracer } from '@opentelemetry/api';
import type { TaskOutcome } from '../core/ports/executor.js';
import { failureAttributes, resultAttributes } from './span-attributes.js';
import { MAX_ATTRIBUTE_LENGTH } from './run-tracer.js';
import { extractContext, type TraceCarrier } from './trace-context.js';

/** One attempt a `weft worker` took from a queue, as the tracer needs it. */
export interface WorkerAttempt {
  readonly runId: string;
  readonly task: string;
  readonly attempt: number;
  readonly executor: string;
  /** The job's id (`run:task:attempt`). */
  readonly jobId: string;
  /** The queue it came from (`shell`, `claude@gpu`). */
  readonly queue: string;
  /** When the coordinator made it ready (epoch ms): the span says how long it waited to be taken. */
  readonly readyAt?: number;
  /** The coordinator's attempt span's context, sent with the job; without one the span starts its own trace. */
  readonly trace?: TraceCarrier;
  /** The worker's id in the worker list (`weft.worker.id`). */
  readonly workerId: string;
  /** Masks secrets in the failure reason (the worker's redactor for the task). @default no masking */
  readonly redact?: (text: string) => string;
}

/** Spans of the attempts a worker runs. */
export interface WorkerTracer {
  /**
   * Starts the `weft.worker.attempt` span (kind CONSUMER) of an attempt the worker took, as a child
   * of the coordinator's `weft.attempt` span when `a.trace` carries its context — so the worker's
   * span joins the run's trace. Returns what ends it with the attempt's outcome; never throws.
   */
  startAttempt(a: WorkerAttempt): (outcome: TaskOutcome) => void;
}

/**
 * Makes a {@link WorkerTracer} on an OpenTelemetry `Tracer` (`weft worker` uses its own OTLP
 * exporter, started from the same `OTEL_*` variables as a run's).
 *
 * @example
 * const end = tracer.startAttempt({ runId, task: 'build', attempt: 1, executor: 'shell', jobId, queue: 'shell', workerId, trace: job.data.trace });
 * end(await executor.run(ctx));
 */
export function createWorkerTracer(tracer: Tracer): WorkerTracer {
  return {
    startAttempt(a) {
      const redact = a.redact ?? ((value: string) => value);
      const text = (value: string): string => {
        const masked = redact(value);
        return masked.length > MAX_ATTRIBUTE_LENGTH ? `${masked.slice(0, MAX_ATTRIBUTE_LENGTH - 1)}…` : masked;
      };
      try {
        const now = Date.now();
        const attributes: Attributes = {
          'weft.run.id': a.runId,
          'weft.task.id': a.task,
          'weft.attempt': a.attempt,
          'weft.executor': a.executor,
          'weft.worker.id': a.workerId,
          'messaging.system': 'bullmq',
          'messaging.operation.type': 'process',
          'messaging.destination.name': a.queue,
          'messaging.message.id': a.jobId,
        };
        if (a.readyAt !== undefined) attributes['weft.dispatch.wait_ms'] = Math.max(0, now - a.readyAt);
        const span = tracer.startSpan(
          'weft.worker.attempt',
          { kind: SpanKind.CONSUMER, attributes },
          extractContext(a.trace),
        );
        return (outcome) => {
          try {
            if (outcome.ok) {
              span.setAttributes({ 'weft.attempt.outcome': 'succeeded', ...resultAttributes(outcome.result) });
              span.setStatus({ code: SpanStatusCode.OK });
            } else {
              span.setAttributes({
                'weft.attempt.outcome': 'failed',
                ...failureAttributes(outcome.failure, 'failed', text),
              });
              span.setStatus({ code: SpanStatusCode.ERROR, message: text(outcome.failure.message) });
            }
            span.end();
          } catch {
            // Telemetry must never fail an attempt.
          }
        };
      } catch {
        return () => undefined;
      }
    },
  };
}
