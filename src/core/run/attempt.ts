import { redactResult, type Redactor } from '../redact.js';
import type { ProgressEvent, TaskResultData } from './events.js';
import type { AbortCause, Executor, TaskContext, TaskOutcome } from '../ports/executor.js';
import type { Graph, ResolvedTask } from '../plan/graph.js';
import type { ResolvedEngineOptions } from './engine-options.js';
import type { RunState, TaskRecord } from './run-state.js';
import type { Workspace } from '../ports/workspace.js';
import { isCacheable, type TaskCache } from '../ports/cache.js';
import { verifyContracts } from './contract-check.js';
import { resumesAfterPreemption } from './policies/preempt.js';

/**
 * A running attempt. Its AbortController is made on first use: creating one costs more than a
 * no-op task, and most tasks are never aborted and never look at their signal.
 */
export class Running {
  /** Its timeout's timer, if it has one. */
  timer?: unknown;
  /**
   * Set while the attempt waits in a queue for a worker (an executor that `queues`): arms its
   * timeout and watchdog, at its first progress.
   */
  onStart?: () => void;
  private controller: AbortController | undefined;
  private cause: AbortCause | undefined;

  /** Which attempt it is; a check moves on to its next attempt while it waits for fixes. */
  constructor(public attempt: number) {}

  /** The signal the executor watches. */
  get signal(): AbortSignal {
    this.controller ??= new AbortController();
    if (this.cause !== undefined && !this.controller.signal.aborted) this.controller.abort(this.cause);
    return this.controller.signal;
  }

  /** Why it was aborted, if it was. */
  get aborted(): AbortCause | undefined {
    return this.cause;
  }

  /** Aborts it; the first cause wins. */
  abort(cause: AbortCause): void {
    if (this.cause !== undefined) return;
    this.cause = cause;
    this.controller?.abort(cause);
  }
}

/** What running one attempt needs from the run it belongs to. */
export interface AttemptHost {
  readonly options: ResolvedEngineOptions;
  /** The current graph (it grows when a task expands the plan). */
  readonly graph: Graph;
  readonly state: RunState;
  readonly journal: { readonly records: readonly (TaskRecord | undefined)[] };
  /** Feedback for a task's next attempt (a conflict or failed check to fix), taken once. */
  readonly feedback: Map<number, string>;
  /** The iteration of the plan's loop task `i` runs in, when the loop repeats it. */
  iterationOf?(i: number): number | undefined;
  /** The loop's combined feedback for task `i` in its current iteration, if any. */
  loopFeedback?(i: number): string | undefined;
  /** Runs an attempt of a check (a task with `verifies`; see check-attempt.ts). */
  runCheck?(i: number, worker: number, slot: Running, executor: Executor): Promise<TaskOutcome>;
  /** An executor's live report. */
  progress(i: number, attempt: number, progress: ProgressEvent): void;
}

/** The results of task `i`'s hard dependencies, by id. */
export function inputsOf(graph: Graph, state: RunState, i: number): Record<string, TaskResultData> {
  const inputs: Record<string, TaskResultData> = {};
  for (const d of graph.deps[i] ?? []) {
    const id = (graph.tasks[d] as ResolvedTask).id;
    const r = state.tasks.get(id)?.result;
    if (r !== undefined) inputs[id] = r;
  }
  return inputs;
}

/** What decides the dependencies' part of task `i`'s cache key, by id. */
function depKeysOf(graph: Graph, state: RunState, i: number): Record<string, string> {
  const keys: Record<string, string> = {};
  for (const d of [...(graph.deps[i] ?? []), ...(graph.softDeps[i] ?? [])]) {
    const id = (graph.tasks[d] as ResolvedTask).id;
    const r = state.tasks.get(id)?.result;
    const known = { state: state.tasks.get(id)?.state, exitCode: r?.exitCode, text: r?.text, output: r?.output };
    keys[id] = r?.cacheKey ?? JSON.stringify(known);
  }
  return keys;
}

/**
 * What task `i`'s uncached dependencies declare they write (`writes`, `outputs`), by id: such a
 * dependency ran again, and its result key (its exit code and text) says nothing of the files it
 * wrote, which the task may read. A cached one's key already decides the files it restores.
 */
function depWritesOf(graph: Graph, state: RunState, i: number): Record<string, readonly string[]> {
  const writes: Record<string, readonly string[]> = {};
  for (const d of [...(graph.deps[i] ?? []), ...(graph.softDeps[i] ?? [])]) {
    const dep = graph.tasks[d] as ResolvedTask;
    const globs = [...dep.writes, ...(dep.outputs ?? [])];
    if (globs.length > 0 && state.tasks.get(dep.id)?.result?.cacheKey === undefined) writes[dep.id] = globs;
  }
  return writes;
}

/**
 * What an executor gets for one attempt. A class rather than an object literal with getters and
 * closures, which costs several allocations per attempt: its lazy parts are prototype getters.
 */
export class AttemptContext implements TaskContext {
  declare readonly sessionId?: string;
  declare readonly feedback?: string;
  declare readonly iteration?: number;
  declare readonly trial?: string;
  declare readonly redact?: Redactor;
  readonly runId: string;
  readonly attempt: number;
  readonly runDir: string | undefined;
  readonly baseDir: string;
  // Hidden (#) so that an executor that logs or spreads its context sees only the context.
  readonly #host: AttemptHost;
  readonly #index: number;
  readonly #slot: Running;
  #inputs: Record<string, TaskResultData> | undefined;

  constructor(
    host: AttemptHost,
    index: number,
    slot: Running,
    readonly task: ResolvedTask,
    readonly worker: number,
    readonly workdir: string,
    feedback: string | undefined,
    trial?: string,
  ) {
    this.#host = host;
    this.#index = index;
    this.#slot = slot;
    const { options } = host;
    this.runId = options.runId;
    this.attempt = slot.attempt;
    this.runDir = options.runDir;
    this.baseDir = options.baseDir;
    const sessionId = host.journal.records[index]?.sessionId;
    // Absent rather than undefined, as executors have always seen them.
    if (sessionId !== undefined) (this as { sessionId?: string }).sessionId = sessionId;
    if (feedback !== undefined) (this as { feedback?: string }).feedback = feedback;
    if (trial !== undefined) (this as { trial?: string }).trial = trial;
    const iteration = host.iterationOf?.(index);
    if (iteration !== undefined) (this as { iteration?: number }).iteration = iteration;
    const redact = options.redact;
    if (redact !== undefined && 'secrets' in redact && redact.secrets.length > 0)
      (this as { redact?: Redactor }).redact = redact;
  }

  get signal(): AbortSignal {
    return this.#slot.signal;
  }

  /** Built on first use: most executors never read their dependencies' results. */
  get inputs(): Record<string, TaskResultData> {
    return (this.#inputs ??= inputsOf(this.#host.graph, this.#host.state, this.#index));
  }

  emit(progress: ProgressEvent): void {
    this.#host.progress(this.#index, this.attempt, progress);
  }
}

/**
 * Runs one attempt of task `i`: in its worktree when there is a workspace, through the cache when
 * there is one. Without a workspace this is not async, and neither is the cache step without a
 * cache: the caller then awaits the executor's own promise, not a chain of three.
 */
export function runAttempt(
  host: AttemptHost,
  i: number,
  worker: number,
  slot: Running,
): TaskOutcome | Promise<TaskOutcome> {
  const { options } = host;
  const task = host.graph.tasks[i] as ResolvedTask;
  const executor = options.executors.get(task.executor);
  if (executor === undefined) {
    return { ok: false, failure: { message: `no executor "${task.executor}" is available`, code: 'WEFT_EXECUTOR' } };
  }
  const routed = host.feedback.get(i);
  if (routed !== undefined) host.feedback.delete(i);
  // A fix's feedback is the more pressing; else, in a loop's later iteration, the loop's.
  const feedback = routed ?? host.loopFeedback?.(i);
  // A check runs on the merged result and routes its failures; it is not merged itself.
  if (task.verifies !== undefined && task.verifies.length > 0 && host.runCheck !== undefined)
    return host.runCheck(i, worker, slot, executor);
  const workspace = options.workspace;
  if (workspace !== undefined) return workIn(host, workspace, i, worker, slot, executor, feedback);
  const workdir = options.workdirFor?.(task) ?? options.baseDir;
  const ran = runCached(host, i, executor, new AttemptContext(host, i, slot, task, worker, workdir, feedback));
  return task.contracts === undefined ? ran : ran.then(checkedAgainstContracts(task));
}

/** A provider's successful outcome checked against its contracts (see contract-check.ts). */
function checkedAgainstContracts(task: ResolvedTask): (outcome: TaskOutcome) => TaskOutcome {
  return (outcome) => {
    if (!outcome.ok) return outcome;
    const verdict = verifyContracts(task, outcome.result);
    if (verdict === undefined) return outcome;
    if (verdict.ok) return { ...outcome, result: verdict.result };
    const { startedAt, endedAt } = outcome;
    return {
      ok: false,
      failure: verdict.failure,
      result: outcome.result,
      ...(startedAt === undefined ? {} : { startedAt }),
      ...(endedAt === undefined ? {} : { endedAt }),
    };
  };
}

/** An attempt in its own worktree: prepared first, its result merged before it counts. */
async function workIn(
  host: AttemptHost,
  workspace: Workspace,
  i: number,
  worker: number,
  slot: Running,
  executor: Executor,
  feedback: string | undefined,
): Promise<TaskOutcome> {
  const task = host.graph.tasks[i] as ResolvedTask;
  const { attempt } = slot;
  const workdir = await workspace.prepare(task, attempt, feedback !== undefined);
  const ran = await runCached(host, i, executor, new AttemptContext(host, i, slot, task, worker, workdir, feedback));
  // A provider's output is checked against its contracts before its work is merged.
  const outcome = task.contracts === undefined ? ran : checkedAgainstContracts(task)(ran);
  if (!outcome.ok || slot.aborted !== undefined) {
    const cause = slot.aborted;
    // A preempted agent's worktree is kept as it is: its next attempt resumes its session there.
    const paused = cause?.kind === 'preempted' && resumesAfterPreemption(executor.info);
    await workspace.release(task, attempt, paused ? 'retrying' : cause?.kind === 'cancelled' ? 'cancelled' : 'failed');
    return outcome;
  }
  // Merged before the success is recorded, so dependents start from a tree that holds it.
  const merged = await workspace.integrate(task, attempt, outcome.result);
  if (merged.ok) {
    const { files, where } = merged;
    if (files === undefined && where === undefined) return outcome;
    const result = {
      ...outcome.result,
      ...(files === undefined ? {} : { files }),
      ...(where === undefined ? {} : { where }),
    };
    return { ...outcome, result };
  }
  const { startedAt, endedAt } = outcome;
  return {
    ok: false,
    failure: { message: merged.message, code: merged.code, fix: merged.feedback },
    result: outcome.result,
    ...(startedAt === undefined ? {} : { startedAt }),
    ...(endedAt === undefined ? {} : { endedAt }),
  };
}

/** Runs the attempt, or restores it from the cache when nothing that decides its result changed. */
function runCached(host: AttemptHost, i: number, executor: Executor, ctx: TaskContext): Promise<TaskOutcome> {
  const cache = host.options.cache;
  // A routed-back fix must run: its feedback is not part of the cache key.
  if (cache === undefined || !isCacheable(ctx.task) || ctx.feedback !== undefined) return executor.run(ctx);
  return runThroughCache(host, cache, i, executor, ctx);
}

async function runThroughCache(
  host: AttemptHost,
  cache: TaskCache,
  i: number,
  executor: Executor,
  ctx: TaskContext,
): Promise<TaskOutcome> {
  const { task, attempt } = ctx;
  const { graph, state } = host;
  const probe = await cache.probe(
    task,
    executor,
    depKeysOf(graph, state, i),
    ctx.workdir,
    depWritesOf(graph, state, i),
  );
  host.progress(i, attempt, { kind: 'status', message: `cache ${probe.explain}` });
  if (probe.hit !== undefined) {
    await cache.restore(probe, task, ctx.workdir);
    return { ok: true, result: { ...probe.hit, cached: true, cacheKey: probe.key } };
  }
  const outcome = await executor.run(ctx);
  if (!outcome.ok) return outcome;
  // The cache is kept in the journal's store: what the task wrote of a secret is masked there as in the journal.
  await cache.save(probe, task, redactResult(outcome.result, host.options.redact), ctx.workdir);
  return { ...outcome, result: { ...outcome.result, cacheKey: probe.key } };
}
