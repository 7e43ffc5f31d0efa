import type { Redactor } from '../redact.js';
import { type Clock, systemClock } from '../ports/clock.js';
import { evaluateCondition, type Value } from '../plan/condition.js';
import type { TaskFailure } from '../errors.js';
import type { ProgressEvent, RunEvent, RunMode, RunStatus, TaskResultData, Usage } from './events.js';
import type { AbortCause, Executor, TaskContext, TaskOutcome } from '../ports/executor.js';
import type { ResolvedTask } from '../plan/graph.js';
import type { BudgetSpec, PlanSpec, TaskSpec } from '../plan/plan-schema.js';
import { expansionOf, spliceExpansion } from '../plan/expansion.js';
import { PlanValidationError, formatPlanIssue, type PlanIssue } from '../errors.js';
import type { Workspace } from '../ports/workspace.js';
import { isCacheable, type TaskCache } from '../ports/cache.js';
import { applyEvent, applyTaskEvent, emptyRunState, taskRecord, type RunState, type TaskEvent, type TaskRecord } from './run-state.js';
import { type Assignment, Scheduler, type DispatchPlan, type Transition } from '../schedule/scheduler.js';
import type { CompiledPlan } from '../plan/compile.js';

/** The longest the engine runs passes back to back without letting the event loop turn, ms. */
const TURN_MS = 10;

/** A live-only event: what an executor reports while a task runs. Not journaled. */
export interface ProgressNotice {
  readonly type: 'task.progress';
  readonly at: number;
  readonly task: string;
  readonly attempt: number;
  readonly progress: ProgressEvent;
}

export type EngineNotice = RunEvent | ProgressNotice;

export interface EngineOptions {
  readonly runId: string;
  readonly plan: CompiledPlan;
  readonly executors: ReadonlyMap<string, Executor>;
  /** Folder the plan's relative paths resolve against. */
  readonly baseDir: string;
  /** Folder of this run's files (logs); `undefined` keeps nothing on disk. */
  readonly runDir?: string;
  /** Where a task works. @default baseDir */
  readonly workdirFor?: (task: ResolvedTask) => string;
  /** The budget M. @default plan.workers */
  readonly workers?: number;
  /** `sequential`: one task at a time, in declaration order. @default 'parallel' */
  readonly mode?: RunMode;
  /** Stop starting tasks (and cancel running ones) after the first failure. @default false */
  readonly failFast?: boolean;
  /** Ctrl-C: aborting it cancels running tasks and stops the run. */
  readonly signal?: AbortSignal;
  readonly clock?: Clock;
  /** Jitter source for retry backoff. @default Math.random */
  readonly random?: () => number;
  /** Environment visible to `when` conditions as `env.NAME`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Ready-queue priorities (larger first), e.g. from `searchOrder`. @default critical path */
  readonly score?: ArrayLike<number>;
  /** A schedule to follow while the run goes as planned (`searchOrder`'s `plan`); see `DispatchPlan`. */
  readonly dispatchPlan?: DispatchPlan;
  /**
   * Durable journal: every batch of events is handed here, and awaited, *before* it takes effect
   * (a task starts only once its `task.started` is stored).
   */
  readonly journal?: (events: readonly RunEvent[]) => void | Promise<void>;
  /** Live view of every event and progress notice (terminal, dashboard). */
  readonly onEvent?: (event: EngineNotice) => void;
  /** State replayed from the journal of an interrupted run: its succeeded tasks are kept. */
  readonly prior?: RunState;
  /** Recorded in `run.created` so a resume can rebuild the run (plan, vars, folders). */
  readonly runOptions?: Readonly<Record<string, unknown>>;
  /** On resume: tasks with `resume: never` that a person checked and wants run again. */
  readonly retryTasks?: ReadonlySet<string>;
  /**
   * Checks a successful attempt's result; a returned string is feedback, and the task is sent back
   * to fix it (same session), up to `fixAttempts`.
   */
  readonly validateResult?: (task: ResolvedTask, result: TaskResultData) => string | undefined;
  /** Compiles a plan grown by a task with `expands: true`; throws PlanValidationError when it is not valid. */
  readonly recompile?: (spec: PlanSpec) => CompiledPlan;
  /**
   * Masks secrets in text that reaches the journal. A {@link Redactor} (which lists its secrets)
   * is also handed to executors, which mask their log files with it.
   */
  readonly redact?: Redactor | ((text: string) => string);
  /** Skips tasks whose inputs did not change (see `isCacheable`); without it nothing is cached. */
  readonly cache?: TaskCache;
  /** Worktrees and the merge queue; without it every task works in `workdirFor(task)`. */
  readonly workspace?: Workspace;
  /** Run budget; @default the plan's `budget` */
  readonly budget?: BudgetSpec;
  /** How long a provider's pool stays narrowed after a rate limit. @default 60000 */
  readonly throttleCooldownMs?: number;
  /** Retries a transient (rate-limit) failure at most this often without counting it. @default 20 */
  readonly maxTransientRetries?: number;
}

export interface RunOutcome {
  readonly status: Exclude<RunStatus, 'running'>;
  readonly state: RunState;
}

interface Completion {
  readonly task: number;
  readonly attempt: number;
  readonly outcome: TaskOutcome;
  readonly cause?: AbortCause;
  /** A task with `expands: true` produced this grown plan. */
  readonly expansion?: { readonly spec: PlanSpec; readonly compiled: CompiledPlan; readonly added: readonly TaskSpec[] };
}

/**
 * A running attempt. Its AbortController is made on first use: creating one costs more than a
 * no-op task, and most tasks are never aborted and never look at their signal.
 */
class Running {
  timer?: unknown;
  private controller: AbortController | undefined;
  private cause: AbortCause | undefined;

  constructor(readonly attempt: number) {}

  get signal(): AbortSignal {
    this.controller ??= new AbortController();
    if (this.cause !== undefined && !this.controller.signal.aborted) this.controller.abort(this.cause);
    return this.controller.signal;
  }

  /** Why it was aborted, if it was. */
  get aborted(): AbortCause | undefined {
    return this.cause;
  }

  abort(cause: AbortCause): void {
    if (this.cause !== undefined) return;
    this.cause = cause;
    this.controller?.abort(cause);
  }
}

/**
 * What an executor gets for one attempt. A class rather than an object literal with getters and
 * closures, which costs several allocations per attempt: its lazy parts are prototype getters.
 */
class AttemptContext implements TaskContext {
  declare readonly sessionId?: string;
  declare readonly feedback?: string;
  declare readonly redact?: Redactor;
  readonly runId: string;
  readonly attempt: number;
  readonly runDir: string | undefined;
  readonly baseDir: string;
  // Hidden (#) so that an executor that logs or spreads its context sees only the context.
  readonly #run: Run;
  readonly #index: number;
  readonly #slot: Running;
  #inputs: Record<string, TaskResultData> | undefined;

  constructor(run: Run, index: number, slot: Running, readonly task: ResolvedTask, readonly worker: number, readonly workdir: string, sessionId: string | undefined, feedback: string | undefined) {
    this.#run = run;
    this.#index = index;
    this.#slot = slot;
    this.runId = run.options.runId;
    this.attempt = slot.attempt;
    this.runDir = run.options.runDir;
    this.baseDir = run.options.baseDir;
    // Absent rather than undefined, as executors have always seen them.
    if (sessionId !== undefined) (this as { sessionId?: string }).sessionId = sessionId;
    if (feedback !== undefined) (this as { feedback?: string }).feedback = feedback;
    const redact = run.options.redact;
    if (redact !== undefined && 'secrets' in redact && redact.secrets.length > 0) (this as { redact?: Redactor }).redact = redact;
  }

  get signal(): AbortSignal {
    return this.#slot.signal;
  }

  /** Built on first use: most executors never read their dependencies' results. */
  get inputs(): Record<string, TaskResultData> {
    return (this.#inputs ??= this.#run.inputsOf(this.#index));
  }

  emit(progress: ProgressEvent): void {
    this.#run.progress(this.#index, this.attempt, progress);
  }
}

/**
 * Runs a compiled plan: the scheduler decides, executors run, the journal records. One run at a
 * time per engine call; everything it does goes through the injected ports.
 */
export async function runPlan(options: EngineOptions): Promise<RunOutcome> {
  return new Run(options).execute();
}

class Run {
  private readonly clock: Clock;
  private graph;
  private tasks: readonly ResolvedTask[];
  private sched: Scheduler;
  private readonly state: RunState;
  /**
   * Each task's record in `state`, by task index, found once per plan: the engine folds its own
   * events into them without looking each one up by id. Undefined until the journal names the task.
   */
  private records: (TaskRecord | undefined)[] = [];
  private readonly pending: RunEvent[] = [];
  private completions: Completion[] = [];
  private spec: PlanSpec;
  private readonly running = new Map<number, Running>();
  private attempts: Int32Array;
  private transient: Int32Array;
  private fixes: Int32Array;
  /** Attempts made before a resume, which don't count against `retries`. */
  private resumedAt: Int32Array;
  private readonly spent = { usd: 0, tokens: 0 };
  private readonly budget: BudgetSpec | undefined;
  private readonly redact: (text: string) => string;
  private readonly throttled = new Map<string, { original: number; timer: unknown }>();
  /** Feedback for the next attempt of a task (a merge conflict or failed check to fix). */
  private readonly feedback = new Map<number, string>();
  private readonly workers: number;
  private readonly mode: RunMode;
  private pumping = false;
  private pumpScheduled = false;
  /** When a deferred pass last ran, that is, when the event loop last had a turn. */
  private turnAt = -Infinity;
  private finished = false;
  /** Set while the scheduler cancels tasks that never started; those get their event here. */
  private cancellingPending = false;
  private again = false;
  private wakeTimer: unknown;
  private wakeAt = Infinity;
  private stopReason: { status: 'cancelled' | 'failed'; reason: string } | undefined;
  private done!: (outcome: RunOutcome) => void;
  private fail!: (error: unknown) => void;

  constructor(readonly options: EngineOptions) {
    this.clock = options.clock ?? systemClock;
    this.graph = options.plan.graph;
    this.tasks = this.graph.tasks;
    this.mode = options.mode ?? 'parallel';
    this.workers = this.mode === 'sequential' ? 1 : (options.workers ?? options.plan.workers);
    this.attempts = new Int32Array(this.tasks.length);
    this.transient = new Int32Array(this.tasks.length);
    this.fixes = new Int32Array(this.tasks.length);
    this.resumedAt = new Int32Array(this.tasks.length);
    this.state = options.prior ?? emptyRunState();
    this.spec = options.plan.spec;
    this.budget = options.budget ?? options.plan.spec.budget;
    this.redact = options.redact ?? ((s: string) => s);
    this.sched = this.newScheduler(options.score, options.dispatchPlan);
  }

  /** A scheduler for the current graph; `score` only fits the graph it was searched for. */
  private newScheduler(score?: ArrayLike<number>, plan?: DispatchPlan): Scheduler {
    return new Scheduler(this.graph, {
      workers: this.workers,
      ...(this.mode === 'sequential' ? { order: 'declaration' as const } : score === undefined ? {} : { score }),
      ...(this.mode === 'sequential' || plan === undefined ? {} : { plan }),
      gate: (i) => this.gate(i),
      onTransition: (t) => this.onTransition(t),
    });
  }

  execute(): Promise<RunOutcome> {
    return new Promise<RunOutcome>((resolve, reject) => {
      this.done = resolve;
      this.fail = reject;
      const now = this.clock.now();
      const prior = this.options.prior;
      if (prior === undefined) {
        this.record({ type: 'run.created', at: now, runId: this.options.runId, plan: this.options.plan.name, workers: this.workers, mode: this.mode, tasks: this.tasks.map((t) => t.id), options: { failFast: this.options.failFast ?? false, ...this.options.runOptions } });
        this.findRecords();
      } else {
        this.record({ type: 'run.resumed', at: now, by: `pid:${typeof process === 'undefined' ? '?' : process.pid}` });
        this.findRecords();
        this.restore(prior, now);
      }
      const signal = this.options.signal;
      if (signal !== undefined) {
        if (signal.aborted) this.stop('cancelled', 'interrupted before start');
        else signal.addEventListener('abort', () => this.stop('cancelled', 'interrupted (Ctrl-C)'), { once: true });
      }
      this.sched.begin(now);
      void this.pump();
    });
  }

  /** Keeps what an earlier life of this run finished; everything else runs again. */
  private restore(prior: RunState, now: number): void {
    for (const r of prior.tasks.values()) {
      const i = this.graph.index.get(r.id);
      if (i === undefined) continue;
      this.attempts[i] = r.attempts.reduce((m, a) => Math.max(m, a.attempt), 0);
      // Retries start afresh after a resume; attempt numbers go on.
      this.resumedAt[i] = this.attempts[i] as number;
      if (r.state === 'succeeded') this.sched.restoreSucceeded(i);
    }
    // A task with side effects that was cut off mid-run waits for a person instead of re-running.
    for (const r of prior.tasks.values()) {
      const i = this.graph.index.get(r.id);
      const last = r.attempts.at(-1);
      // Cut off in this resume, or in an earlier one that already asked for a decision.
      const undecided = last?.outcome === 'interrupted' || last?.error?.code === 'WEFT_NEEDS_DECISION';
      if (i === undefined || this.tasks[i]?.resume !== 'never' || !undecided || r.state === 'succeeded' || this.options.retryTasks?.has(r.id) === true) continue;
      const error: TaskFailure = { message: 'was running when weft stopped and has resume: never; check its side effects, then run it again with `weft resume --retry ' + r.id + '`', code: 'WEFT_NEEDS_DECISION' };
      this.recordTask(i, { type: 'task.failed', at: now, task: r.id, attempt: last.attempt, error });
      this.sched.finish(i, 'failed', now, error.message);
    }
  }

  private gate(i: number): string | undefined {
    const task = this.tasks[i] as ResolvedTask;
    if (task.when === undefined) return undefined;
    const resolve = (path: readonly string[]): Value => {
      const [root, name, field] = path;
      if (root === 'vars') return this.options.plan.vars[name ?? ''];
      if (root === 'env') return this.options.env?.[name ?? ''];
      const r = this.state.tasks.get(name ?? '');
      if (r === undefined) return undefined;
      switch (field ?? 'status') {
        case 'status':
          return r.state;
        case 'succeeded':
        case 'failed':
        case 'skipped':
        case 'cancelled':
          return r.state === field;
        case 'exitCode':
          return r.result?.exitCode ?? null;
        case 'text':
          return r.result?.text;
        case 'output': {
          const out = r.result?.output;
          return typeof out === 'object' && out !== null ? JSON.stringify(out) : (out as Value);
        }
        default:
          return undefined;
      }
    };
    return evaluateCondition(task.when, resolve) ? undefined : `condition \`${task.whenSource}\` is false`;
  }

  private onTransition(t: Transition): void {
    const id = (this.tasks[t.task] as ResolvedTask).id;
    if (t.to === 'ready') this.recordTask(t.task, { type: 'task.ready', at: t.at, task: id });
    else if (t.to === 'skipped') this.recordTask(t.task, { type: 'task.skipped', at: t.at, task: id, reason: t.reason ?? 'skipped', cause: t.cause ?? 'upstream' });
    else if (t.to === 'cancelled' && this.cancellingPending) this.recordTask(t.task, { type: 'task.cancelled', at: t.at, task: id, reason: t.reason ?? 'cancelled' });
  }

  /** An event happens: the in-memory state moves now; the journal gets it at the next flush. */
  private record(event: RunEvent): void {
    applyEvent(this.state, event);
    this.recorded(event);
  }

  /** {@link record} for an event of task `i`, folded into its record found by index. */
  private recordTask(i: number, event: TaskEvent): void {
    applyTaskEvent((this.records[i] ??= taskRecord(this.state, event.task)), event);
    this.recorded(event);
  }

  private findRecords(): void {
    this.records = this.tasks.map((t) => this.state.tasks.get(t.id));
  }

  private recorded(event: RunEvent): void {
    this.pending.push(event);
    // Without a budget, what was spent decides nothing.
    if (this.budget !== undefined && (event.type === 'task.succeeded' || event.type === 'task.failed' || event.type === 'task.retrying')) this.account(this.budget, event.task, event.attempt);
  }

  /**
   * One journal append per scheduling pass; nothing it describes has started before it is stored.
   * A promise only when the journal's append is one: without a journal a pass costs no promise.
   */
  private flush(): Promise<void> | undefined {
    if (this.pending.length === 0) return undefined;
    const batch = this.pending.splice(0);
    const written = this.options.journal?.(batch);
    if (written === undefined) {
      this.announce(batch);
      return undefined;
    }
    return written.then(() => this.announce(batch));
  }

  private announce(batch: readonly RunEvent[]): void {
    const onEvent = this.options.onEvent;
    if (onEvent !== undefined) for (const e of batch) onEvent(e);
  }

  /**
   * Completions of short tasks arrive one promise-hop apart; waiting for the current turn of the
   * event loop to end lets one scheduling pass (and one journal append) take them all. Once every
   * running attempt has ended there is nothing left to wait for (a chain, M = 1, or all M tasks
   * done at once) and the pass runs now, unless the event loop has had no turn for
   * {@link TURN_MS}: timers, I/O and Ctrl-C must not wait behind a long run of instant tasks.
   */
  private soon(): void {
    if (this.completions.length === this.running.size && this.clock.now() - this.turnAt < TURN_MS) {
      void this.pump();
      return;
    }
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    this.clock.defer(this.deferredPump);
  }

  private readonly deferredPump = (): void => {
    this.pumpScheduled = false;
    this.turnAt = this.clock.now();
    void this.pump();
  };

  private async pump(): Promise<void> {
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.again = false;
        const stored = this.pass();
        if (stored !== undefined) await stored;
      } while (this.again || this.completions.length > 0);
      if (this.sched.finished && this.running.size === 0) await this.finishRun();
      else this.armWakeTimer();
    } catch (error) {
      this.abortAll({ kind: 'cancelled', reason: 'internal error' });
      this.fail(error);
    } finally {
      this.pumping = false;
    }
  }

  /**
   * One scheduling pass: record what finished, let the scheduler release and start what it can,
   * store all of it in one append, then start the processes. Returns the append while it is
   * being stored (a journal that writes asynchronously), else undefined: the pass is done.
   */
  private pass(): Promise<void> | undefined {
    const now = this.clock.now();
    const completions = this.completions;
    this.completions = [];
    for (const c of completions) this.decide(c, now);
    const assignments = this.stopReason === undefined ? this.sched.start(now) : [];
    for (const { task, worker } of assignments) {
      const attempt = (this.attempts[task] = (this.attempts[task] as number) + 1);
      this.running.set(task, new Running(attempt));
      this.recordTask(task, { type: 'task.started', at: now, task: (this.tasks[task] as ResolvedTask).id, attempt, worker });
    }
    const stored = this.flush();
    if (stored === undefined) {
      this.dispatchAll(assignments);
      return undefined;
    }
    return stored.then(() => this.dispatchAll(assignments));
  }

  private dispatchAll(assignments: readonly Assignment[]): void {
    for (const { task, worker } of assignments) this.dispatch(task, worker);
  }

  /** Records an attempt's outcome as its event and tells the scheduler; the next flush stores both. */
  private decide(c: Completion, now: number): void {
    const task = this.tasks[c.task] as ResolvedTask;
    const { cause } = c;
    let outcome = c.outcome;
    // When the process really started (the executor knows): durations count from there, not from the queue.
    const ran = { ...(outcome.startedAt === undefined ? {} : { processStartedAt: outcome.startedAt }), ...(outcome.endedAt === undefined ? {} : { processEndedAt: outcome.endedAt }) };
    this.running.delete(c.task);
    const redact = this.redact;
    if (cause?.kind === 'cancelled') {
      this.recordTask(c.task, { type: 'task.cancelled', at: now, task: task.id, reason: cause.reason, attempt: c.attempt });
      this.sched.finish(c.task, 'cancelled', now, cause.reason);
      return;
    }
    if (outcome.ok) {
      const rejected = this.check(task, outcome.result);
      if (rejected === undefined) {
        this.recordTask(c.task, { type: 'task.succeeded', at: now, task: task.id, attempt: c.attempt, result: redactResult(outcome.result, redact), ...ran });
        this.sched.finish(c.task, 'succeeded', now);
        return;
      }
      outcome = { ok: false, failure: { message: rejected.message, code: rejected.code, fix: rejected.feedback }, result: outcome.result };
    }
    if (outcome.failure.fix !== undefined && this.stopReason === undefined) {
      // A merge conflict or failed check goes back to the task that caused it, with the details.
      if ((this.fixes[c.task] as number) < (task.fixAttempts ?? 2)) {
        this.fixes[c.task] = (this.fixes[c.task] as number) + 1;
        this.feedback.set(c.task, outcome.failure.fix);
        this.transient[c.task] = (this.transient[c.task] as number) + 1; // a fix is not a retry
        const { fix: _fix, ...error } = outcome.failure;
        this.recordTask(c.task, { type: 'task.retrying', at: now, task: task.id, attempt: c.attempt, error: { ...error, message: redact(error.message) }, retryAt: now, ...ran });
        this.sched.retryAt(c.task, now, now);
        return;
      }
      const error: TaskFailure = { message: redact(`${outcome.failure.message} (after ${task.fixAttempts ?? 2} fix attempts)`), ...(outcome.failure.code === undefined ? {} : { code: outcome.failure.code }) };
      this.recordTask(c.task, { type: 'task.failed', at: now, task: task.id, attempt: c.attempt, error, ...ran });
      // Its worktree goes; its branch, which holds the unmerged work, stays for a person to look at.
      void this.options.workspace?.release(task, c.attempt, 'failed').catch(() => undefined);
      this.sched.finish(c.task, 'failed', now, error.message);
      return;
    }
    if (cause?.kind === 'budget') {
      const error: TaskFailure = { message: cause.reason, code: 'WEFT_BUDGET_EXCEEDED' };
      this.recordTask(c.task, { type: 'task.failed', at: now, task: task.id, attempt: c.attempt, error });
      this.sched.finish(c.task, 'failed', now, error.message);
      return;
    }
    const base = cause?.kind === 'timeout' ? { ...outcome.failure, timedOut: true, message: `timed out after ${cause.ms / 1000}s` } : outcome.failure;
    const failure: TaskFailure = { ...base, message: redact(base.message), ...(base.stderrTail === undefined ? {} : { stderrTail: redact(base.stderrTail) }) };
    const transient = failure.transient === true && (this.transient[c.task] as number) < (this.options.maxTransientRetries ?? 20);
    if (failure.transient === true) this.throttle(task, failure.retryAfterMs);
    if (transient) this.transient[c.task] = (this.transient[c.task] as number) + 1;
    const counted = c.attempt - (this.resumedAt[c.task] as number) - (this.transient[c.task] as number);
    if (this.stopReason === undefined && (transient || counted <= task.retries)) {
      const delay = Math.max(failure.retryAfterMs ?? 0, this.backoff(task, transient ? this.transient[c.task] as number : counted));
      const retryAt = now + delay;
      this.recordTask(c.task, { type: 'task.retrying', at: now, task: task.id, attempt: c.attempt, error: failure, retryAt, ...ran });
      this.sched.retryAt(c.task, retryAt, now);
      return;
    }
    this.recordTask(c.task, { type: 'task.failed', at: now, task: task.id, attempt: c.attempt, error: failure, ...ran });
    this.sched.finish(c.task, 'failed', now, failure.message);
    if (this.options.failFast === true) this.stop('failed', `fail-fast: task "${task.id}" failed`);
  }

  /**
   * Weft's own checks of a successful result: the caller's `validateResult`, and for a task with
   * `expands: true`, that its sub-plan joins the plan validly — then the graph grows at once.
   */
  private check(task: ResolvedTask, result: TaskResultData): { message: string; code: string; feedback: string } | undefined {
    const feedback = this.options.validateResult?.(task, result);
    if (feedback !== undefined) return { message: 'the result did not pass its check', code: 'WEFT_RESULT_INVALID', feedback };
    if (task.expands !== true) return undefined;
    const added = expansionOf(result.output, result.text);
    if (added === undefined || this.options.recompile === undefined) {
      return { message: 'an expanding task must output a sub-plan', code: 'WEFT_PLAN_INVALID', feedback: 'Your output must be JSON of the form {"tasks": [{"id": …, "title": …, "prompt" or "run": …, "needs": […]}]}.' };
    }
    const spec = spliceExpansion(this.spec, task.id, added as TaskSpec[]);
    let compiled: CompiledPlan;
    try {
      compiled = this.options.recompile(spec);
    } catch (error) {
      if (!(error instanceof PlanValidationError)) throw error;
      const lines = error.issues.map(formatPlanIssue).join('\n');
      const first = formatPlanIssue(error.issues[0] as PlanIssue);
      const more = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more)` : '';
      return { message: `its sub-plan is not valid: ${first}${more}`, code: 'WEFT_PLAN_INVALID', feedback: `The tasks you returned cannot be added to the plan:\n${lines}\nReturn the whole corrected list.` };
    }
    this.grow(task, spec, compiled, added);
    return undefined;
  }

  /** Splices an expansion in: journal it, then swap in the grown graph and a scheduler that adopts the old one's state. */
  private grow(by: ResolvedTask, spec: PlanSpec, compiled: CompiledPlan, added: readonly unknown[]): void {
    const now = this.clock.now();
    this.record({ type: 'plan.expanded', at: now, by: by.id, tasks: added });
    const n = compiled.graph.tasks.length;
    const widen = (a: Int32Array): Int32Array => {
      const b = new Int32Array(n);
      b.set(a);
      return b;
    };
    [this.attempts, this.transient, this.fixes, this.resumedAt] = [widen(this.attempts), widen(this.transient), widen(this.fixes), widen(this.resumedAt)];
    const previous = this.sched;
    this.spec = spec;
    this.graph = compiled.graph;
    this.tasks = compiled.graph.tasks;
    this.sched = this.newScheduler();
    this.sched.adopt(previous, now);
    this.findRecords();
  }

  /**
   * A provider said "slow down" (429, overload, usage limit): halve its pool for a while, so the
   * other tasks waiting on it don't all hit the same wall.
   */
  private throttle(task: ResolvedTask, retryAfterMs: number | undefined): void {
    const provider = this.options.executors.get(task.executor)?.info.provider;
    const capacity = provider === undefined ? undefined : this.sched.poolCapacity(provider);
    if (provider === undefined || capacity === undefined) return;
    const original = this.throttled.get(provider)?.original ?? capacity;
    const previous = this.throttled.get(provider)?.timer;
    if (previous !== undefined) this.clock.clearTimeout(previous);
    this.sched.setPoolCapacity(provider, Math.max(1, Math.floor(capacity / 2)));
    const cooldown = Math.max(this.options.throttleCooldownMs ?? 60_000, 2 * (retryAfterMs ?? 0));
    const timer = this.clock.setTimeout(() => {
      this.throttled.delete(provider);
      this.sched.setPoolCapacity(provider, original);
      void this.pump();
    }, cooldown);
    this.throttled.set(provider, { original, timer });
  }

  /** Adds an ended attempt's usage to the run's spend; past the budget, nothing new starts. */
  private account(budget: BudgetSpec, id: string, attempt: number): void {
    const usage = this.state.tasks.get(id)?.attempts.find((a) => a.attempt === attempt)?.usage;
    if (usage === undefined) return;
    this.spent.usd += usage.costUsd ?? 0;
    this.spent.tokens += (usage.inputTokens ?? 0) + (usage.outputTokens ?? 0);
    const over = budget.usd !== undefined && this.spent.usd >= budget.usd ? `$${this.spent.usd.toFixed(4)} of $${budget.usd}` : budget.tokens !== undefined && this.spent.tokens >= budget.tokens ? `${this.spent.tokens} of ${budget.tokens} tokens` : undefined;
    // Running tasks finish; what has not started is cancelled with the reason.
    if (over !== undefined) this.stop('failed', `budget exceeded: spent ${over}`, false);
  }

  /** A running task's usage passed its own budget: stop it (not retried). */
  private checkTaskBudget(i: number, attempt: number, usage: Usage): void {
    const budget = (this.tasks[i] as ResolvedTask).budget;
    if (budget === undefined) return;
    const tokens = (usage.inputTokens ?? 0) + (usage.outputTokens ?? 0);
    const over = budget.usd !== undefined && (usage.costUsd ?? 0) > budget.usd ? `$${usage.costUsd} > $${budget.usd}` : budget.tokens !== undefined && tokens > budget.tokens ? `${tokens} > ${budget.tokens} tokens` : undefined;
    const slot = this.running.get(i);
    if (over !== undefined && slot?.attempt === attempt) slot.abort({ kind: 'budget', reason: `task budget exceeded: ${over}` } satisfies AbortCause);
  }

  private backoff(task: ResolvedTask, n: number): number {
    const { initialMs, factor, maxMs, jitter } = task.backoff;
    const base = Math.min(maxMs, initialMs * factor ** Math.max(0, n - 1));
    return Math.round(jitter ? base * (0.5 + (this.options.random ?? Math.random)()) : base);
  }

  private dispatch(i: number, worker: number): void {
    const slot = this.running.get(i) as Running;
    const task = this.tasks[i] as ResolvedTask;
    if (task.timeoutMs !== undefined) {
      const ms = task.timeoutMs;
      slot.timer = this.clock.setTimeout(() => slot.abort({ kind: 'timeout', ms }), ms);
    }
    void this.attempt(i, worker, slot);
  }

  /** One attempt, start to end; never throws: whatever happens becomes a completion. */
  private async attempt(i: number, worker: number, slot: Running): Promise<void> {
    const { attempt } = slot;
    let outcome: TaskOutcome;
    try {
      outcome = await this.work(i, worker, slot);
    } catch (error) {
      outcome = { ok: false, failure: { message: error instanceof Error ? error.message : String(error), code: 'WEFT_EXECUTOR' } };
    }
    if (slot.timer !== undefined) this.clock.clearTimeout(slot.timer);
    const reason = slot.aborted;
    this.completions.push(reason === undefined ? { task: i, attempt, outcome } : { task: i, attempt, outcome, cause: reason });
    this.soon();
  }

  /**
   * Without a workspace this is not async, and neither is `runCached` without a cache: `attempt`
   * then awaits the executor's own promise, not a chain of three.
   */
  private work(i: number, worker: number, slot: Running): TaskOutcome | Promise<TaskOutcome> {
    const task = this.tasks[i] as ResolvedTask;
    const executor = this.options.executors.get(task.executor);
    if (executor === undefined) return { ok: false, failure: { message: `no executor "${task.executor}" is available`, code: 'WEFT_EXECUTOR' } };
    const feedback = this.feedback.get(i);
    if (feedback !== undefined) this.feedback.delete(i);
    const workspace = this.options.workspace;
    if (workspace !== undefined) return this.workIn(workspace, i, worker, slot, executor, feedback);
    return this.runCached(i, executor, this.context(i, worker, slot, this.options.workdirFor?.(task) ?? this.options.baseDir, feedback));
  }

  /** An attempt in its own worktree: prepared first, its result merged before it counts. */
  private async workIn(workspace: Workspace, i: number, worker: number, slot: Running, executor: Executor, feedback: string | undefined): Promise<TaskOutcome> {
    const task = this.tasks[i] as ResolvedTask;
    const { attempt } = slot;
    const workdir = await workspace.prepare(task, attempt, feedback !== undefined);
    const outcome = await this.runCached(i, executor, this.context(i, worker, slot, workdir, feedback));
    if (!outcome.ok || slot.aborted !== undefined) {
      const cause = slot.aborted;
      await workspace.release(task, attempt, cause === undefined || cause.kind !== 'cancelled' ? 'failed' : 'cancelled');
      return outcome;
    }
    // Merged before the success is recorded, so dependents start from a tree that holds it.
    const merged = await workspace.integrate(task, attempt, outcome.result);
    if (merged.ok) return { ...outcome, result: merged.files === undefined ? outcome.result : { ...outcome.result, files: merged.files } };
    return { ok: false, failure: { message: merged.message, code: merged.code, fix: merged.feedback }, result: outcome.result, ...(outcome.startedAt === undefined ? {} : { startedAt: outcome.startedAt }), ...(outcome.endedAt === undefined ? {} : { endedAt: outcome.endedAt }) };
  }

  private context(i: number, worker: number, slot: Running, workdir: string, feedback: string | undefined): TaskContext {
    const task = this.tasks[i] as ResolvedTask;
    return new AttemptContext(this, i, slot, task, worker, workdir, this.records[i]?.sessionId, feedback);
  }

  /** The results of task `i`'s hard dependencies, by id. */
  inputsOf(i: number): Record<string, TaskResultData> {
    const inputs: Record<string, TaskResultData> = {};
    for (const d of this.graph.deps[i] ?? []) {
      const id = (this.tasks[d] as ResolvedTask).id;
      const r = this.state.tasks.get(id)?.result;
      if (r !== undefined) inputs[id] = r;
    }
    return inputs;
  }

  /** Runs the attempt, or restores it from the cache when nothing that decides its result changed. */
  private runCached(i: number, executor: Executor, ctx: TaskContext): Promise<TaskOutcome> {
    const cache = this.options.cache;
    if (cache === undefined || !isCacheable(ctx.task)) return executor.run(ctx);
    return this.runThroughCache(cache, i, executor, ctx);
  }

  private async runThroughCache(cache: TaskCache, i: number, executor: Executor, ctx: TaskContext): Promise<TaskOutcome> {
    const { task, attempt } = ctx;
    const depKeys: Record<string, string> = {};
    for (const d of [...(this.graph.deps[i] ?? []), ...(this.graph.softDeps[i] ?? [])]) {
      const id = (this.tasks[d] as ResolvedTask).id;
      const r = this.state.tasks.get(id)?.result;
      depKeys[id] = r?.cacheKey ?? JSON.stringify({ state: this.state.tasks.get(id)?.state, exitCode: r?.exitCode, text: r?.text, output: r?.output });
    }
    const probe = await cache.probe(task, executor, depKeys, ctx.workdir);
    this.progress(i, attempt, { kind: 'status', message: `cache ${probe.explain}` });
    if (probe.hit !== undefined) {
      await cache.restore(probe, task, ctx.workdir);
      return { ok: true, result: { ...probe.hit, cached: true, cacheKey: probe.key } };
    }
    const outcome = await executor.run(ctx);
    if (!outcome.ok) return outcome;
    await cache.save(probe, task, outcome.result, ctx.workdir);
    return { ...outcome, result: { ...outcome.result, cacheKey: probe.key } };
  }

  progress(i: number, attempt: number, progress: ProgressEvent): void {
    const id = (this.tasks[i] as ResolvedTask).id;
    const at = this.clock.now();
    // What an agent says or runs is shown live (and --json prints it): its secrets masked like the journal's.
    const shown = progress.message === undefined ? progress : { ...progress, message: this.redact(progress.message) };
    this.options.onEvent?.({ type: 'task.progress', at, task: id, attempt, progress: shown });
    if (progress.usage !== undefined) this.checkTaskBudget(i, attempt, progress.usage);
    if (progress.kind === 'session' || progress.kind === 'usage') {
      this.recordTask(i, { type: 'task.output', at, task: id, attempt, ...(progress.sessionId === undefined ? {} : { sessionId: progress.sessionId }), ...(progress.usage === undefined ? {} : { usage: progress.usage }) });
      void this.pump();
    }
  }

  private stop(status: 'cancelled' | 'failed', reason: string, abortRunning = true): void {
    if (this.stopReason !== undefined) return;
    this.stopReason = { status, reason };
    this.cancellingPending = true;
    this.sched.cancelPending(reason, this.clock.now());
    this.cancellingPending = false;
    if (abortRunning) this.abortAll({ kind: 'cancelled', reason });
    void this.pump();
  }

  private abortAll(cause: AbortCause): void {
    for (const r of this.running.values()) r.abort(cause);
  }

  private armWakeTimer(): void {
    const at = this.sched.nextWakeAt();
    if (at === undefined || at >= this.wakeAt) return;
    if (this.wakeTimer !== undefined) this.clock.clearTimeout(this.wakeTimer);
    this.wakeAt = at;
    this.wakeTimer = this.clock.setTimeout(() => {
      this.wakeTimer = undefined;
      this.wakeAt = Infinity;
      void this.pump();
    }, Math.max(0, at - this.clock.now()));
  }

  private async finishRun(): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    let status: Exclude<RunStatus, 'running'> = 'succeeded';
    let reason: string | undefined;
    if (this.stopReason !== undefined) ({ status, reason } = this.stopReason);
    else {
      const failed = [...this.state.tasks.values()].filter((r) => r.state === 'failed' || r.state === 'cancelled' || (r.state === 'skipped' && r.skipCause === 'upstream'));
      if (failed.length > 0) {
        status = 'failed';
        reason = `${failed.filter((r) => r.state === 'failed').length} task(s) failed`;
      }
    }
    this.record({ type: 'run.finished', at: this.clock.now(), status, ...(reason === undefined ? {} : { reason }) });
    await this.flush();
    if (this.wakeTimer !== undefined) this.clock.clearTimeout(this.wakeTimer);
    for (const t of this.throttled.values()) this.clock.clearTimeout(t.timer);
    this.done({ status, state: this.state });
  }
}

function redactResult(result: TaskResultData, redact: (s: string) => string): TaskResultData {
  return result.text === undefined ? result : { ...result, text: redact(result.text) };
}
