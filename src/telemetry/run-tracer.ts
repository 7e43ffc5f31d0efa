import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type HrTime,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import type { EngineNotice } from '../core/run/engine-options.js';
import type { Usage } from '../core/run/events.js';
import type { TaskFailure } from '../core/errors.js';
import { failureAttributes, resultAttributes, SENT_BACK, usageAttributes, WAITS_FOR_FIX } from './span-attributes.js';
import { traceparentOf } from './traceparent.js';
import { injectSpan, type TraceCarrier } from './trace-context.js';

/** What the tracer knows of a task before it runs: its executor and model (from the compiled plan). */
export interface TracedTaskInfo {
  readonly executor?: string;
  readonly model?: string;
  readonly title?: string;
  /**
   * A check verifies it, so it may be sent back a fix after it succeeded: its `weft.task` span
   * then stays open until the run ends (ended at its last success), so the fix's attempt and its
   * `weft.retry` event are under the same span. (A loop's next iteration gets a task span of its own.)
   */
  readonly reopenable?: boolean;
}

/** Options of {@link createRunTracer}. */
export interface RunTracerOptions {
  /** The run's executor and model by task id; a task it does not know (an expansion's) gets neither. */
  readonly taskInfo?: (task: string) => TracedTaskInfo | undefined;
  /**
   * Masks secrets in every string attribute (the run's redactor). Error messages reach the spans
   * through it; stderr, output and prompts never do. @default no masking
   */
  readonly redact?: (text: string) => string;
  /** Attributes put on the run span (e.g. `weft.plan.file`). */
  readonly runAttributes?: Attributes;
}

/**
 * A subscriber of the engine's events that turns them into spans: one `weft.run` span, a
 * `weft.task` span per task under it, and a `weft.attempt` span per attempt under its task. Each
 * span takes the event's own time (`at`), so it may be subscribed late in the chain.
 */
export interface RunTracer {
  /** Feed it every engine event; it never throws. */
  readonly onEvent: (event: EngineNotice) => void;
  /**
   * The W3C `traceparent` of an attempt that started (`00-<trace>-<span>-01`): what a remote worker
   * continues the trace with (its spans become children of the attempt). `undefined` once the
   * attempt has ended, or for an attempt not seen.
   */
  traceparent(task: string, attempt: number): string | undefined;
  /**
   * The trace context of an attempt that started, as W3C headers (the OpenTelemetry propagator's
   * `traceparent`, `tracestate`): what `--dispatch` sends with the attempt's job, so the worker's
   * span is a child of the attempt and one trace covers the run. `undefined` as for {@link traceparent}.
   */
  traceContext(task: string, attempt: number): TraceCarrier | undefined;
  /** The run span's `traceparent`, once the run started. */
  runTraceparent(): string | undefined;
  /**
   * Ends every span still open (a run that stopped without `run.finished`: an error, a second
   * Ctrl-C) with status ERROR and `reason`, at `at` ms. @default reason 'the run ended without finishing'
   */
  end(reason?: string, at?: number): void;
}

/** Longest string put in an attribute; a longer one is cut, with "…". */
export const MAX_ATTRIBUTE_LENGTH = 500;

interface AttemptState {
  readonly span: Span;
  usage?: Usage;
}

/**
 * Makes a {@link RunTracer} on an OpenTelemetry `Tracer` (weft's own OTLP exporter, see
 * `startTelemetry`, or one of the application's).
 *
 * @example
 * const tracer = createRunTracer(provider.getTracer('weft'), { taskInfo: (id) => info.get(id) });
 * await runPlan({ ...options, onEvent: (e) => { display(e); tracer.onEvent(e); } });
 */
export function createRunTracer(tracer: Tracer, options: RunTracerOptions = {}): RunTracer {
  const redact = options.redact ?? ((text: string) => text);
  const text = (value: string): string => {
    const masked = redact(value);
    return masked.length > MAX_ATTRIBUTE_LENGTH ? `${masked.slice(0, MAX_ATTRIBUTE_LENGTH - 1)}…` : masked;
  };
  let run: Span | undefined;
  const tasks = new Map<string, Span>();
  /** Reopenable tasks that succeeded, their spans held open: when, and on which attempt. */
  const succeeded = new Map<string, { readonly at: number; readonly attempt: number }>();
  const attempts = new Map<string, AttemptState>();
  const key = (task: string, attempt: number): string => `${task}\u0000${attempt}`;

  const startRun = (at: number, attributes: Attributes): Span => {
    run ??= tracer.startSpan(
      'weft.run',
      { kind: SpanKind.INTERNAL, startTime: hr(at), attributes: { ...options.runAttributes, ...attributes } },
      ROOT_CONTEXT,
    );
    return run;
  };
  const startTask = (task: string, at: number): Span => {
    const open = tasks.get(task);
    if (open !== undefined) return open;
    const info = options.taskInfo?.(task);
    const attributes: Attributes = { 'weft.task.id': task };
    if (info?.executor !== undefined) attributes['weft.executor'] = info.executor;
    if (info?.model !== undefined) attributes['gen_ai.request.model'] = info.model;
    if (info?.title !== undefined && info.title !== task) attributes['weft.task.title'] = text(info.title);
    const span = tracer.startSpan(
      'weft.task',
      { startTime: hr(at), attributes },
      trace.setSpan(ROOT_CONTEXT, startRun(at, {})),
    );
    tasks.set(task, span);
    return span;
  };
  const endTask = (task: string, at: number, ok: boolean, attributes: Attributes, message?: string): void => {
    const span = tasks.get(task) ?? startTask(task, at);
    span.setAttributes(attributes);
    span.setStatus(
      ok
        ? { code: SpanStatusCode.OK }
        : { code: SpanStatusCode.ERROR, ...(message === undefined ? {} : { message: text(message) }) },
    );
    span.end(hr(at));
    tasks.delete(task);
    succeeded.delete(task);
  };
  const endAttempt = (
    task: string,
    attempt: number,
    at: number,
    outcome: string,
    attributes: Attributes,
    error?: TaskFailure,
  ): void => {
    const state = attempts.get(key(task, attempt));
    if (state === undefined) return;
    attempts.delete(key(task, attempt));
    const { span } = state;
    span.setAttributes({ 'weft.attempt.outcome': outcome, ...usageAttributes(state.usage), ...attributes });
    if (error !== undefined) span.setAttributes(failureAttributes(error, outcome, text));
    // A preempted attempt did nothing wrong: its status stays unset.
    if (outcome !== 'preempted')
      span.setStatus(
        outcome === 'succeeded'
          ? { code: SpanStatusCode.OK }
          : { code: SpanStatusCode.ERROR, ...(error === undefined ? {} : { message: text(error.message) }) },
      );
    span.end(hr(at));
  };

  const handle = (e: EngineNotice): void => {
    switch (e.type) {
      case 'run.created':
        startRun(e.at, {
          'weft.run.id': e.runId,
          'weft.plan.name': text(e.plan),
          'weft.run.workers': e.workers,
          'weft.run.mode': e.mode,
          'weft.run.tasks': e.tasks.length,
        });
        return;
      case 'run.resumed':
        startRun(e.at, { 'weft.run.resumed': true });
        return;
      case 'task.ready':
        startTask(e.task, e.at);
        return;
      case 'task.started': {
        succeeded.delete(e.task); // it runs again: its span goes on
        const parent = startTask(e.task, e.at);
        const span = tracer.startSpan(
          'weft.attempt',
          {
            startTime: hr(e.at),
            attributes: { 'weft.task.id': e.task, 'weft.attempt': e.attempt, 'weft.worker.slot': e.worker },
          },
          trace.setSpan(ROOT_CONTEXT, parent),
        );
        const info = options.taskInfo?.(e.task);
        if (info?.executor !== undefined) span.setAttribute('weft.executor', info.executor);
        attempts.set(key(e.task, e.attempt), { span });
        return;
      }
      case 'task.output': {
        const state = attempts.get(key(e.task, e.attempt));
        if (state !== undefined && e.usage !== undefined) state.usage = e.usage;
        return;
      }
      case 'task.progress': {
        const state = attempts.get(key(e.task, e.attempt));
        if (state !== undefined && e.progress.usage !== undefined) state.usage = e.progress.usage;
        return;
      }
      case 'task.succeeded':
        endAttempt(e.task, e.attempt, e.at, 'succeeded', resultAttributes(e.result));
        if (options.taskInfo?.(e.task)?.reopenable === true) {
          startTask(e.task, e.at);
          succeeded.set(e.task, { at: e.at, attempt: e.attempt });
          return;
        }
        endTask(e.task, e.at, true, { 'weft.task.outcome': 'succeeded', 'weft.task.attempts': e.attempt });
        return;
      case 'task.preempted':
        tasks
          .get(e.task)
          ?.addEvent('weft.preempted', { 'weft.attempt': e.attempt, 'weft.preempted.by': e.by }, hr(e.at));
        return;
      case 'task.retrying': {
        if (e.error.code === 'WEFT_PREEMPTED') return endAttempt(e.task, e.attempt, e.at, 'preempted', {});
        if (e.waitsFor !== undefined) {
          // A check that failed on the merged work: its failure went to the tasks that broke it; not a retry.
          endAttempt(e.task, e.attempt, e.at, WAITS_FOR_FIX, {}, e.error);
          tasks.get(e.task)?.addEvent(
            'weft.waits',
            {
              'weft.attempt': e.attempt,
              'weft.waits.for': [...e.waitsFor],
              'weft.failure.reason': text(e.error.message),
            },
            hr(e.at),
          );
          return;
        }
        const why = e.fix !== undefined ? 'fix' : 'retry';
        endAttempt(e.task, e.attempt, e.at, why === 'fix' ? SENT_BACK : 'retrying', {}, e.error);
        tasks
          .get(e.task)
          ?.addEvent(
            why === 'fix' ? 'weft.fix' : 'weft.retry',
            { 'weft.attempt': e.attempt, [`weft.${why}.reason`]: text(e.error.message) },
            hr(e.at),
          );
        return;
      }
      case 'task.failed':
        endAttempt(e.task, e.attempt, e.at, 'failed', {}, e.error);
        endTask(
          e.task,
          e.at,
          false,
          { 'weft.task.outcome': 'failed', 'weft.task.attempts': e.attempt },
          e.error.message,
        );
        return;
      case 'task.cancelled':
        if (e.attempt !== undefined) endAttempt(e.task, e.attempt, e.at, 'cancelled', {});
        endTask(e.task, e.at, false, { 'weft.task.outcome': 'cancelled', 'weft.reason': text(e.reason) }, e.reason);
        return;
      case 'task.skipped':
        endTask(
          e.task,
          e.at,
          true,
          { 'weft.task.outcome': 'skipped', 'weft.reason': text(e.reason), 'weft.skip.cause': e.cause },
          undefined,
        );
        return;
      case 'plan.expanded':
        run?.addEvent('weft.plan.expanded', { 'weft.task.id': e.by, 'weft.plan.added': e.tasks.length }, hr(e.at));
        return;
      case 'loop.iteration.ended':
        run?.addEvent(
          'weft.loop.iteration',
          {
            'weft.loop.iteration': e.iteration,
            'weft.loop.outcome': e.outcome,
            'weft.loop.duration_ms': e.durationMs,
            ...(e.reasons.length === 0 ? {} : { 'weft.reason': text(e.reasons.join('; ')) }),
            ...(e.costUsd === undefined ? {} : { 'weft.cost.usd': e.costUsd }),
          },
          hr(e.at),
        );
        return;
      case 'run.finished': {
        const span = startRun(e.at, {});
        closeOpen(e.at, e.reason ?? `the run ${e.status}`);
        span.setAttribute('weft.run.status', e.status);
        if (e.reason !== undefined) span.setAttribute('weft.reason', text(e.reason));
        span.setStatus(
          e.status === 'succeeded'
            ? { code: SpanStatusCode.OK }
            : { code: SpanStatusCode.ERROR, message: text(e.reason ?? `the run ${e.status}`) },
        );
        span.end(hr(e.at));
        run = undefined;
        return;
      }
    }
  };

  /** Attempts and tasks the run left open end with it. */
  const closeOpen = (at: number, reason: string): void => {
    for (const [k, state] of attempts) {
      state.span.setAttributes({ 'weft.attempt.outcome': 'unfinished', ...usageAttributes(state.usage) });
      state.span.setStatus({ code: SpanStatusCode.ERROR, message: text(reason) });
      state.span.end(hr(at));
      attempts.delete(k);
    }
    for (const [id, done] of succeeded) {
      endTask(id, done.at, true, { 'weft.task.outcome': 'succeeded', 'weft.task.attempts': done.attempt });
    }
    for (const [id, span] of tasks) {
      span.setAttribute('weft.task.outcome', 'unfinished');
      span.end(hr(at));
      tasks.delete(id);
    }
  };

  return {
    onEvent(event) {
      try {
        handle(event);
      } catch {
        // Telemetry must never stop a run.
      }
    },
    traceparent(task, attempt) {
      const state = attempts.get(key(task, attempt));
      return state === undefined ? undefined : traceparentOf(state.span.spanContext());
    },
    traceContext(task, attempt) {
      const state = attempts.get(key(task, attempt));
      return state === undefined ? undefined : injectSpan(state.span);
    },
    runTraceparent() {
      return run === undefined ? undefined : traceparentOf(run.spanContext());
    },
    end(reason = 'the run ended without finishing', at = Date.now()) {
      closeOpen(at, reason);
      if (run === undefined) return;
      run.setStatus({ code: SpanStatusCode.ERROR, message: text(reason) });
      run.setAttribute('weft.run.status', 'unfinished');
      run.end(hr(at));
      run = undefined;
    },
  };
}

/**
 * An event's time as the SDK's [seconds, nanoseconds]: a plain number under the process's start
 * would be read as `performance.now()` time (and a virtual clock's small numbers are such).
 */
function hr(at: number): HrTime {
  const seconds = Math.floor(at / 1000);
  return [seconds, Math.round((at - seconds * 1000) * 1e6)];
}
