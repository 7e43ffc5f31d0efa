/**
 * weft as a library: build a plan in TypeScript (with function tasks), validate it, estimate it,
 * and run it with the same engine the CLI uses.
 *
 * @example
 * import { definePlan, runWeft } from 'weft';
 * const plan = definePlan({
 *   name: 'build',
 *   workers: 2,
 *   tasks: [
 *     { id: 'compile', run: ['tsc', '-p', '.'], estimate: '30s' },
 *     { id: 'count', needs: ['compile'], fn: async () => ({ files: 42 }) },
 *   ],
 * });
 * const { status, summary } = await runWeft(plan);
 */
import {
  ENGINE_DEFAULTS,
  RunBus,
  runPlan,
  type EngineNotice,
  type EngineOptions,
  type RunOutcome,
} from './core/run/engine.js';
import { checkHandlers, type RunHandlers } from './core/run/run-bus.js';
import { dispatchOrder } from './core/schedule/dispatch-order.js';
import { staticGate } from './core/run/policies/when.js';
import { endRun } from './core/ports/executor.js';
import type { RunSummary } from './core/run/metrics.js';
import { dependencyMap, summarize } from './core/run/metrics.js';
import type { PlanSpec, TaskSpec } from './core/plan/plan-schema.js';
import { estimate, type EstimateFigures } from './core/schedule/simulate.js';
import { compilePlan, type CompiledPlan } from './core/plan/compile.js';
import type { ResolvedTask } from './core/plan/graph.js';
import { catalogOf, defaultExecutors, type TaskFunction } from './executors/index.js';
import { checkingOutputs } from './workspace/outputs.js';
import { WeftError } from './core/errors.js';
import { checkOption } from './core/options.js';
import { resolve } from 'node:path';
import type { Tracer } from '@opentelemetry/api';
import { startTelemetry } from './telemetry/start-telemetry.js';
import type { RunTracer, RunTracerOptions } from './telemetry/run-tracer.js';
import { tracedTaskInfo } from './telemetry/task-info.js';

export { WeftError, PlanValidationError, formatPlanIssue, isWeftError } from './core/errors.js';
export type { PlanIssue, TaskFailure, WeftErrorCode, WeftErrorOptions } from './core/errors.js';
export { PlanSchema, TaskSchema, planJsonSchema, type PlanSpec, type TaskSpec } from './core/plan/plan-schema.js';
export { compilePlan, checkPlan, type CompiledPlan, type ExecutorInfo } from './core/plan/compile.js';
export { runPlan, ENGINE_DEFAULTS, type EngineOptions, type EngineNotice, type RunOutcome } from './core/run/engine.js';
export type { ProgressNotice } from './core/run/engine-options.js';
export {
  RunBus,
  replayEvents,
  RUN_EVENT_TYPES,
  type RunEventOf,
  type RunEventType,
  type RunHandlers,
  type RunListener,
} from './core/run/run-bus.js';
export { dispatchOrder, type DispatchOrder } from './core/schedule/dispatch-order.js';
export { Scheduler, type ReadyOrder, type TaskState } from './core/schedule/scheduler.js';
export { simulate, estimate, type EstimateFigures } from './core/schedule/simulate.js';
export { summarize, type RunSummary } from './core/run/metrics.js';
export { foldRun, type RunState } from './core/run/run-state.js';
export type { RunEvent, Usage, TaskResultData, TaskPlace } from './core/run/events.js';
export type { Executor, RunEnd, TaskContext, TaskOutcome } from './core/ports/executor.js';
export { systemClock, VirtualClock, type Clock } from './core/ports/clock.js';
export { parseDuration, formatDuration } from './core/plan/duration.js';
export { redactorOf, type Redactor } from './core/redact.js';
export { ShellExecutor, FnExecutor, defaultExecutors, type TaskFunction } from './executors/index.js';
export { loadPlanFile, parsePlanText } from './plan/load-plan.js';
export { listTemplates, loadTemplate, renderTemplate } from './plan/templates.js';
export { startTelemetry, telemetryConfig, type Telemetry, type TelemetryConfig } from './telemetry/start-telemetry.js';
export type { RunTracer, RunTracerOptions, TracedTaskInfo } from './telemetry/run-tracer.js';
export { traceparentOf, parseTraceparent } from './telemetry/traceparent.js';

/** A task in a TypeScript plan: a plan-file task, or one whose work is a function. */
export type TaskInput = TaskSpec | (Omit<TaskSpec, 'run' | 'prompt' | 'executor'> & { readonly fn: TaskFunction });

export interface PlanInput extends Omit<PlanSpec, 'tasks'> {
  readonly tasks: readonly TaskInput[];
}

/** A plan built in code: the plan data plus the functions its `fn` tasks run. */
export interface BuiltPlan {
  readonly spec: PlanSpec;
  readonly functions: ReadonlyMap<string, TaskFunction>;
}

/** Builds a plan in TypeScript. Function tasks become `executor: fn`. Validation happens in {@link compile}/{@link runWeft}. */
export function definePlan(input: PlanInput): BuiltPlan {
  const functions = new Map<string, TaskFunction>();
  const tasks = input.tasks.map((t): TaskSpec => {
    if (!('fn' in t)) return t;
    const { fn, ...rest } = t;
    functions.set(t.id, fn);
    return { ...rest, executor: 'fn' };
  });
  return { spec: { ...input, tasks }, functions };
}

/** Validates a built plan; throws a PlanValidationError listing every problem. */
export function compile(plan: BuiltPlan, vars?: Readonly<Record<string, string | number | boolean>>): CompiledPlan {
  return compilePlan(plan.spec, {
    executors: catalogOf(defaultExecutors({ functions: plan.functions })),
    ...(vars === undefined ? {} : { vars }),
  });
}

/**
 * Predicts makespan, sequential time, critical path and lower bound on a virtual clock (ms), as
 * `weft estimate` does: the same searched order and the same `when` gate (tasks assumed to succeed).
 */
export function estimatePlan(plan: BuiltPlan, workers?: number): EstimateFigures {
  const compiled = compile(plan);
  const m = workers ?? compiled.workers;
  if (!Number.isInteger(m) || m < 1) {
    throw new WeftError(
      'WEFT_USAGE',
      `estimatePlan: Expected \`workers\` to be a positive integer, got \`${typeof m === 'string' ? JSON.stringify(m) : String(m)}\``,
      {
        hint: "pass a whole number of workers, 1 or more (or leave it out for the plan's)",
      },
    );
  }
  const gate = staticGate(compiled, process.env);
  return estimate(compiled.graph, { workers: m, gate, ...dispatchOrder(compiled, m) });
}

export interface RunWeftOptions extends Partial<Omit<EngineOptions, 'plan' | 'executors'>> {
  readonly vars?: Readonly<Record<string, string | number | boolean>>;
  /**
   * OpenTelemetry: the application's `Tracer` to put the run's spans on (run → task → attempt), or
   * `false` for none. @default weft's own OTLP/HTTP exporter when `OTEL_EXPORTER_OTLP_ENDPOINT` (or
   * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set, flushed before `runWeft` returns; else none
   */
  readonly tracer?: Tracer | false;
  /**
   * Listeners by event type (`'task.succeeded'`, `'task.progress'`, `'*'` for all), subscribed to
   * the run's bus for the run's life. @example { 'task.failed': (e) => console.error(e.task, e.error.message) }
   */
  readonly on?: RunHandlers;
}

/** The run's spans for {@link runWeft}: on the given tracer, on weft's exporter, or none. */
async function libraryTracer(
  given: Tracer | false | undefined,
  options: RunTracerOptions,
): Promise<{ tracer: RunTracer; close(): Promise<void> } | undefined> {
  if (given === false) return undefined;
  if (given !== undefined) {
    const { createRunTracer } = await import('./telemetry/run-tracer.js');
    return { tracer: createRunTracer(given, options), close: async () => undefined };
  }
  const telemetry = await startTelemetry(process.env);
  return telemetry === undefined
    ? undefined
    : {
        tracer: telemetry.tracer(options),
        close: async () => {
          await telemetry.shutdown();
        },
      };
}

/**
 * Runs a plan built in code, in memory (no files unless `runDir` is given). It follows the order
 * `weft run` follows ({@link dispatchOrder}) unless `score` or `dispatchPlan` is given. As in
 * `weft run`, a task works in its `cwd` (relative to `baseDir`) unless `workdirFor` says otherwise,
 * and one that succeeds without a file it declared in `outputs` is sent back, then fails
 * (`WEFT_OUTPUT_MISSING`) naming it; with a `workspace`, isolated tasks' outputs are its to check.
 */
export async function runWeft(
  plan: BuiltPlan,
  options: RunWeftOptions = {},
): Promise<RunOutcome & { summary: RunSummary }> {
  checkLibraryOptions(options);
  const executors = defaultExecutors({ functions: plan.functions });
  const compiled = compilePlan(plan.spec, {
    executors: catalogOf(executors),
    ...(options.vars === undefined ? {} : { vars: options.vars }),
  });
  const { vars: _vars, tracer: _tracer, on, ...engine } = options;
  const bus = on === undefined ? options.bus : (options.bus ?? new RunBus());
  const unsubscribe = on === undefined ? undefined : bus?.onAll(on);
  const runId = options.runId ?? `lib-${Date.now().toString(36)}`;
  const mode = options.mode ?? ENGINE_DEFAULTS.mode;
  const workers = mode === 'sequential' ? 1 : (options.workers ?? compiled.workers);
  const given = options.score !== undefined || options.dispatchPlan !== undefined;
  // A bad `workers` is left to runPlan, which says what is wrong with it.
  const order = given || !Number.isInteger(workers) || workers < 1 ? {} : dispatchOrder(compiled, workers, mode);
  const { graph } = compiled;
  const spans = await libraryTracer(options.tracer, {
    taskInfo: tracedTaskInfo(graph, executors),
    ...(typeof options.redact === 'function' ? { redact: options.redact } : {}),
  });
  const own = options.onEvent;
  const onEvent =
    spans === undefined || (own !== undefined && typeof own !== 'function') // a bad one is runPlan's to refuse
      ? own
      : (e: EngineNotice): void => {
          if (typeof own === 'function') own(e);
          spans.tracer.onEvent(e);
        };
  let succeeded = false;
  let failure: unknown;
  try {
    const baseDir = options.baseDir ?? process.cwd();
    const workdirFor = options.workdirFor ?? ((task: ResolvedTask) => resolve(baseDir, task.cwd ?? '.'));
    const isolating = options.workspace !== undefined;
    // A `validateResult` that is not a function is left to runPlan, which says what is wrong with it.
    const ownCheck = options.validateResult;
    const checked = ownCheck === undefined || typeof ownCheck === 'function';
    const validateResult = checked ? checkingOutputs(ownCheck, { workdirFor, isolating }) : ownCheck;
    const place = { baseDir, workdirFor, validateResult };
    const live = { ...(bus === undefined ? {} : { bus }), ...(onEvent === undefined ? {} : { onEvent }) };
    const outcome = await runPlan({ runId, ...engine, ...live, ...place, ...order, plan: compiled, executors });
    succeeded = outcome.status === 'succeeded';
    return {
      ...outcome,
      summary: summarize(outcome.state, dependencyMap(compiled.graph.tasks), compiled.spec.contracts),
    };
  } catch (error) {
    failure = error;
    throw error;
  } finally {
    unsubscribe?.();
    await endRun(executors, { runId, succeeded });
    if (spans !== undefined) {
      spans.tracer.end(failure instanceof Error ? failure.message : undefined);
      await spans.close();
    }
  }
}

/** What runWeft itself takes (the engine's options are runPlan's to check), checked before anything runs. */
function checkLibraryOptions(options: RunWeftOptions): void {
  const check = (ok: boolean, field: string, expected: string, got: unknown): void =>
    checkOption('runWeft', ok, field, expected, got);
  check(typeof options === 'object' && options !== null, 'options', 'an object', options);
  const { tracer, on, vars, signal } = options;
  check(
    tracer === undefined || tracer === false || typeof tracer?.startSpan === 'function',
    'tracer',
    'an OpenTelemetry Tracer or false',
    tracer,
  );
  check(
    on === undefined ||
      (typeof on === 'object' && on !== null && Object.values(on).every((f) => typeof f === 'function')),
    'on',
    "an object of listeners by event type, e.g. { 'task.failed': (e) => … }",
    on,
  );
  // Its keys: a misspelt event type would never be heard.
  if (on !== undefined) checkHandlers(on);
  check(vars === undefined || (typeof vars === 'object' && vars !== null), 'vars', 'an object of values by name', vars);
  check(signal === undefined || signal instanceof AbortSignal, 'signal', 'an AbortSignal', signal);
}

/** A run started by {@link startWeft}: subscribe to its events, cancel it, await its end. */
export interface WeftRun {
  readonly runId: string;
  /** The run's bus. */
  readonly bus: RunBus;
  /** Subscribes to one event type (or `'*'`); returns a function that unsubscribes. */
  readonly on: RunBus['on'];
  /** Stops the run: running tasks are cancelled, and `done` resolves with status `cancelled`. */
  cancel(): void;
  /** The outcome, as {@link runWeft} returns it. */
  readonly done: Promise<RunOutcome & { summary: RunSummary }>;
}

/**
 * Starts a plan built in code and returns at once, so listeners can be subscribed before the
 * first event (the run begins on the next microtask).
 *
 * @example
 * const run = startWeft(plan);
 * run.on('task.succeeded', (e) => console.log(`${e.task} done`));
 * const { status } = await run.done;
 */
export function startWeft(plan: BuiltPlan, options: RunWeftOptions = {}): WeftRun {
  checkLibraryOptions(options);
  const bus = options.bus ?? new RunBus();
  const controller = new AbortController();
  const signal =
    options.signal === undefined ? controller.signal : AbortSignal.any([options.signal, controller.signal]);
  const runId = options.runId ?? `lib-${Date.now().toString(36)}`;
  const done = Promise.resolve().then(() => runWeft(plan, { ...options, runId, bus, signal }));
  return { runId, bus, on: bus.on.bind(bus), cancel: () => controller.abort('cancelled (run.cancel())'), done };
}
