import {
  defaultTextMapGetter,
  defaultTextMapSetter,
  ROOT_CONTEXT,
  trace,
  type Context,
  type Span,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';

/**
 * A trace context as it travels between processes: the W3C headers (`traceparent`, and
 * `tracestate` when there is one) as plain strings, e.g. in a dispatched job's data.
 */
export type TraceCarrier = Readonly<Record<string, string>>;

/**
 * The W3C propagator, used directly rather than through the global `propagation` API: weft sets
 * up no global OpenTelemetry state (an application embedding weft may have its own).
 */
const w3c = new W3CTraceContextPropagator();

/**
 * The carrier of `span`'s context: what a remote process continues the trace with.
 *
 * @example injectSpan(attemptSpan) // { traceparent: '00-4bf9…4736-00f0…02b7-01' }
 */
export function injectSpan(span: Span): TraceCarrier {
  const carrier: Record<string, string> = {};
  w3c.inject(trace.setSpan(ROOT_CONTEXT, span), carrier, defaultTextMapSetter);
  return carrier;
}

/**
 * The context a span started under `carrier` is a child of (the remote span, `isRemote: true`);
 * the root context when the carrier holds no valid `traceparent`, so a worker's span then starts
 * a trace of its own.
 */
export function extractContext(carrier: TraceCarrier | undefined): Context {
  if (carrier === undefined) return ROOT_CONTEXT;
  return w3c.extract(ROOT_CONTEXT, carrier, defaultTextMapGetter);
}
