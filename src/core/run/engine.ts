import type { TaskFailure } from '../errors.js';
import type { ProgressEvent, RunMode, TaskResultData, Usage } from './events.js';
import type { AbortCause, TaskOutcome } from '../ports/executor.js';
import type { ResolvedTask } from '../plan/graph.js';
import type { PlanSpec, TaskSpec } from '../plan/plan-schema.js';
import type { Clock } from '../ports/clock.js';
import { emptyRunState, type RunState } from './run-state.js';
import { RunJournal } from './run-journal.js';
import { ProviderThrottles } from './provider-throttles.js';
import { runEnded, type StopReason } from './policies/run-ended.js';
import { Scheduler, type Assignment, type DispatchPlan, type Transition } from '../schedule/scheduler.js';
import type { CompiledPlan } from '../plan/compile.js';
import {
  announcer,
  resolveEngineOptions,
  type EngineNotice,
  type EngineOptions,
  type ResolvedEngineOptions,
} from './engine-options.js';
import type { RunOutcome } from './engine-options.js';
import { runAttempt, Running, type AttemptHost } from './attempt.js';
import { attemptEnded, type AttemptCounts, type AttemptDecision } from './policies/attempt-ended.js';
import { taskBudgetExceeded } from './policies/budget.js';
import { RunSpend } from './run-spend.js';
import { whenGate, type WhenSources } from './policies/when.js';
import { gateEnded } from './policies/gate.js';
import { scoreOf, scoreRejection } from './policies/score.js';
import { Approvals } from './approvals.js';
import { expansionFor, type Rejection } from './policies/expansion.js';
import { restoreRun } from './policies/resume.js';
import { CheckRouting } from './check-routing.js';
import { redactResult } from '../redact.js';
import type { Executor } from '../ports/executor.js';
import { StallWatch } from './stall-watch.js';

export { ENGINE_DEFAULTS, resolveEngineOptions } from './engine-options.js';
export type { EngineNotice, EngineOptions, ProgressNotice, ResolvedEngineOptions } from './engine-options.js';
export {
  RunBus,
  replayEvents,
  type RunEventOf,
  type RunEventType,
  type RunHandlers,
  type RunListener,
} from './run-bus.js';
export type { RunOutcome } from './engine-options.js';

/** Why a task ends blocked: one line, and a gate's failing parts. */
interface Blocked {
  readonly reason: string;
  readonly parts?: readonly string[];
}

/** The longest the engine runs passes back to back without letting the event loop turn, ms. */
const TURN_MS = 10;

interface Completion {
  readonly task: number;
  readonly attempt: number;
  readonly outcome: TaskOutcome;
  readonly cause?: AbortCause;
  /** A gate that blocked (or an approval rejected): the task ends blocked. */
  readonly blocked?: Blocked;
}

/**
 * Runs a compiled plan: the scheduler decides, executors run, the journal records. One run at a
 * time per engine call; everything it does goes through the injected ports. What happens after an
 * event is decided by the policies in `./policies/` (pure functions of state); the loop applies it.
 *
 * @throws WeftError (`WEFT_USAGE`) when an option is not valid, naming it (see {@link ENGINE_DEFAULTS}).
 */
export async function runPlan(options: EngineOptions): Promise<RunOutcome> {
  return new Run(resolveEngineOptions(options)).execute();
}

class Run implements AttemptHost {
  private readonly clock: Clock;
  graph;
  private tasks: readonly ResolvedTask[];
  private sched: Scheduler;
  readonly state: RunState;
  readonly journal: RunJournal;
  /** Hands a notice to `onEvent` and the bus. */
  private readonly notify: ((event: EngineNotice) => void) | undefined;
  private completions: Completion[] = [];
  private spec: PlanSpec;
  private readonly running = new Map<number, Running>();
  private attempts: Int32Array;
  private transient: Int32Array;
  private fixes: Int32Array;
  /** Attempts made before a resume, which don't count against `retries`. */
  private resumedAt: Int32Array;
  private readonly spend: RunSpend;
  readonly redact: (text: string) => string;
  /** Checks (tasks with `verifies`) route their failures to the tasks that broke them. */
  private readonly checks = new CheckRouting(this);
  private readonly throttles: ProviderThrottles;
  /** The watchdog: attempts silent for their `stallAfter` are stopped as stalled. */
  private readonly stalls: StallWatch;
  /** Tasks with `approval: required` wait here for a person. */
  private readonly approvals: Approvals;
  /** Feedback for the next attempt of a task (a merge conflict or failed check to fix). */
  readonly feedback = new Map<number, string>();
  private readonly workers: number;
  private readonly mode: RunMode;
  private readonly when: WhenSources;
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
  private stopReason: StopReason | undefined;
  private done!: (outcome: RunOutcome) => void;
  private fail!: (error: unknown) => void;
  constructor(readonly options: ResolvedEngineOptions) {
    this.clock = options.clock;
    this.graph = options.plan.graph;
    this.tasks = this.graph.tasks;
    this.mode = options.mode;
    this.workers = options.workers;
    this.attempts = new Int32Array(this.tasks.length);
    this.transient = new Int32Array(this.tasks.length);
    this.fixes = new Int32Array(this.tasks.length);
    this.resumedAt = new Int32Array(this.tasks.length);
    this.state = options.prior ?? emptyRunState();
    this.spec = options.plan.spec;
    this.spend = new RunSpend(options.budget, this.state, (reason) => this.stop('failed', reason, false));
    this.redact = options.redact;
    this.when = { vars: options.plan.vars, env: options.env, task: (id) => this.state.tasks.get(id) };
    this.notify = announcer(options.onEvent, options.bus);
    this.journal = new RunJournal(this.state, options.journal, this.notify, (e) => this.spend.recorded(e));
    const pump = () => void this.pump();
    this.throttles = new ProviderThrottles(this.clock, options.throttleCooldownMs, () => this.sched, pump);
    const host = { state: this.state, journal: this.journal, tasks: () => this.tasks, block: this.block, pump };
    this.approvals = new Approvals(host, this.clock, options.approvalPollMs, options.pollDecisions);
    this.sched = this.newScheduler(options.score, options.dispatchPlan);
    this.stalls = new StallWatch(this.clock, (i, attempt, silentMs) => this.stalled(i, attempt, silentMs));
  }

  /** The watchdog found attempt `attempt` of task `i` silent: journal it, then stop it (it is retried as a failure). */
  private stalled(i: number, attempt: number, silentMs: number): void {
    const slot = this.running.get(i);
    if (slot?.attempt !== attempt) return;
    const task = this.tasks[i] as ResolvedTask;
    this.journal.recordTask(i, { type: 'task.stalled', at: this.clock.now(), task: task.id, attempt, silentMs });
    slot.abort({ kind: 'stalled', ms: silentMs });
    void this.pump();
  }

  /** A scheduler for the current graph; `score` only fits the graph it was searched for. */
  private newScheduler(score?: ArrayLike<number>, plan?: DispatchPlan): Scheduler {
    const sequential = this.mode === 'sequential';
    return new Scheduler(this.graph, {
      workers: this.workers,
      ...(sequential ? { order: 'declaration' as const } : score === undefined ? {} : { score }),
      ...(sequential || plan === undefined ? {} : { plan }),
      gate: (i) => whenGate(this.tasks[i] as ResolvedTask, this.when),
      onTransition: (t) => this.onTransition(t),
      held: (i) => this.approvals.held(i),
    });
  }

  execute(): Promise<RunOutcome> {
    return new Promise<RunOutcome>((resolve, reject) => {
      this.done = resolve;
      this.fail = reject;
      const now = this.clock.now();
      const prior = this.options.prior;
      if (prior === undefined) {
        const options = { failFast: this.options.failFast, ...this.options.runOptions };
        const tasks = this.tasks.map((t) => t.id);
        this.journal.record({
          type: 'run.created',
          at: now,
          runId: this.options.runId,
          plan: this.options.plan.name,
          workers: this.workers,
          mode: this.mode,
          tasks,
          options,
        });
        this.journal.findRecords(this.tasks);
      } else {
        this.journal.record({
          type: 'run.resumed',
          at: now,
          by: `pid:${typeof process === 'undefined' ? '?' : process.pid}`,
        });
        this.journal.findRecords(this.tasks);
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

  counters(): { attempts: Int32Array; fixes: Int32Array; transient: Int32Array } {
    return { attempts: this.attempts, fixes: this.fixes, transient: this.transient };
  }

  runCheck(i: number, worker: number, slot: Running, executor: Executor): Promise<TaskOutcome> {
    return this.checks.run(i, worker, slot, executor);
  }

  /** Applies the resume policy: what an earlier life of this run finished is kept. */
  private restore(prior: RunState, now: number): void {
    const { tasks, needsDecision } = restoreRun(prior, this.graph, this.options.retryTasks, this.options.adopt);
    for (const r of tasks) {
      // Retries start afresh after a resume; attempt numbers go on.
      this.attempts[r.task] = this.resumedAt[r.task] = r.attempts;
      if (r.succeeded) this.sched.restoreSucceeded(r.task);
    }
    // A blocked gate stays blocked: its decision is in the journal and is not made again.
    for (const r of tasks) if (r.blocked !== undefined) this.sched.finish(r.task, 'blocked', now, r.blocked);
    for (const d of needsDecision) {
      this.journal.recordTask(d.task, { type: 'task.failed', at: now, task: d.id, attempt: d.attempt, error: d.error });
      this.sched.finish(d.task, 'failed', now, d.error.message);
    }
  }

  private onTransition(t: Transition): void {
    const id = (this.tasks[t.task] as ResolvedTask).id;
    if (t.to === 'ready') {
      this.journal.recordTask(t.task, { type: 'task.ready', at: t.at, task: id });
      this.approvals.ready(t.task, t.at);
    } else if (t.to === 'skipped')
      this.journal.recordTask(t.task, {
        type: 'task.skipped',
        at: t.at,
        task: id,
        reason: t.reason ?? 'skipped',
        cause: t.cause ?? 'upstream',
      });
    else if (t.to === 'cancelled' && this.cancellingPending)
      this.journal.recordTask(t.task, { type: 'task.cancelled', at: t.at, task: id, reason: t.reason ?? 'cancelled' });
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
    // Before their checks end: what waits for those checks' verdict must see these tasks failed.
    for (const f of this.checks.takeFailed())
      if (this.sched.stateOf(f.task) === 'succeeded') this.sched.failSucceeded(f.task, now, f.reason);
    for (const c of completions) this.decide(c, now);
    this.approvals.settle(now);
    const assignments = this.stopReason === undefined ? this.sched.start(now) : [];
    for (const { task, worker } of assignments) {
      const attempt = (this.attempts[task] = (this.attempts[task] as number) + 1);
      this.running.set(task, new Running(attempt));
      this.journal.recordTask(task, {
        type: 'task.started',
        at: now,
        task: (this.tasks[task] as ResolvedTask).id,
        attempt,
        worker,
      });
    }
    const stored = this.journal.flush();
    if (stored === undefined) {
      this.dispatchAll(assignments);
      return undefined;
    }
    return stored.then(() => this.dispatchAll(assignments));
  }

  private dispatchAll(assignments: readonly Assignment[]): void {
    for (const { task, worker } of assignments) this.dispatch(task, worker);
  }

  /** Asks the attempt-ended policy what an outcome leads to, and applies it. */
  private decide(c: Completion, now: number): void {
    const i = c.task;
    const task = this.tasks[i] as ResolvedTask;
    this.running.delete(i);
    this.stalls.stop(i);
    if (c.blocked !== undefined && c.cause?.kind !== 'cancelled') return this.block(i, c.blocked, now, c.attempt);
    let failure: TaskFailure | undefined;
    if (c.cause?.kind !== 'cancelled') {
      const { outcome } = c;
      const rejected = outcome.ok ? this.check(task, outcome.result) : undefined;
      if (!outcome.ok) failure = outcome.failure;
      else if (rejected !== undefined) failure = rejectedFailure(rejected);
    }
    const counts: AttemptCounts = {
      fixes: this.fixes[i] as number,
      transient: this.transient[i] as number,
      resumedAt: this.resumedAt[i] as number,
    };
    const stopping = this.stopReason !== undefined;
    const ended = { task, attempt: c.attempt, failure, cause: c.cause, counts, stopping };
    this.apply(i, c, attemptEnded(ended, this.options), now);
  }

  /** A gate blocked, or a person rejected the task: it ends blocked and its dependents are skipped. */
  readonly block = (i: number, b: Blocked, now: number, attempt?: number): void => {
    const id = (this.tasks[i] as ResolvedTask).id;
    const parts = b.parts === undefined ? {} : { parts: b.parts };
    const ran = attempt === undefined ? {} : { attempt };
    this.journal.recordTask(i, { type: 'task.blocked', at: now, task: id, ...ran, reason: b.reason, ...parts });
    this.sched.finish(i, 'blocked', now, b.reason);
  };

  private apply(i: number, c: Completion, d: AttemptDecision, now: number): void {
    const task = this.tasks[i] as ResolvedTask;
    const base = { at: now, task: task.id, attempt: c.attempt };
    if (d.kind === 'cancel') {
      this.journal.recordTask(i, { type: 'task.cancelled', ...base, reason: d.reason });
      this.sched.finish(i, 'cancelled', now, d.reason);
      return;
    }
    // When the process really ran (the executor knows): durations count from there, not from the queue.
    const { startedAt, endedAt } = c.outcome;
    const at = {
      ...base,
      ...(startedAt === undefined ? {} : { processStartedAt: startedAt }),
      ...(endedAt === undefined ? {} : { processEndedAt: endedAt }),
    };
    if (d.kind === 'succeed') {
      const ran = (c.outcome as Extract<TaskOutcome, { ok: true }>).result;
      const score = scoreOf(task, ran);
      const result = score === undefined ? ran : { ...ran, score };
      this.journal.recordTask(i, { type: 'task.succeeded', ...at, result: redactResult(result, this.redact) });
      this.sched.finish(i, 'succeeded', now);
      return;
    }
    this.fixes[i] = d.counts.fixes;
    this.transient[i] = d.counts.transient;
    if (d.kind !== 'fix' && d.rateLimited !== undefined) {
      this.throttles.rateLimited(this.options.executors.get(task.executor)?.info.provider, d.rateLimited.retryAfterMs);
    }
    if (d.kind === 'fix') {
      this.feedback.set(i, d.feedback);
      this.journal.recordTask(i, { type: 'task.retrying', ...at, error: d.error, retryAt: now });
      this.sched.retryAt(i, now, now);
    } else if (d.kind === 'retry') {
      if (d.note !== undefined) this.feedback.set(i, d.note);
      const retryAt = now + d.delayMs;
      this.journal.recordTask(i, { type: 'task.retrying', ...at, error: d.error, retryAt });
      this.sched.retryAt(i, retryAt, now);
    } else {
      this.journal.recordTask(i, { type: 'task.failed', ...at, error: d.error });
      // Its worktree goes; its branch, which holds the unmerged work, stays for a person to look at.
      if (d.releaseWorkspace === true)
        void this.options.workspace?.release(task, c.attempt, 'failed').catch(() => undefined);
      this.sched.finish(i, 'failed', now, d.error.message);
      if (d.stopRun !== undefined) this.stop('failed', d.stopRun);
    }
  }

  /**
   * Weft's own checks of a successful result: the caller's `validateResult`, and for a task with
   * `expands: true`, that its sub-plan joins the plan validly — then the graph grows at once.
   */
  private check(task: ResolvedTask, result: TaskResultData): Rejection | undefined {
    const rejected = this.options.validateResult?.(task, result);
    if (typeof rejected === 'string')
      return { message: 'the result did not pass its check', code: 'WEFT_RESULT_INVALID', feedback: rejected };
    if (rejected !== undefined) return { code: 'WEFT_RESULT_INVALID', ...rejected };
    const low = scoreRejection(task, result);
    if (low !== undefined) return low;
    if (task.expands !== true) return undefined;
    const d = expansionFor(this.spec, task, result, this.options.recompile);
    if (d.kind === 'reject') return { message: d.message, code: d.code, feedback: d.feedback };
    this.grow(task, d.spec, d.compiled, d.added);
    return undefined;
  }

  /** Splices an expansion in: journal it, then swap in the grown graph and a scheduler that adopts the old one's state. */
  private grow(by: ResolvedTask, spec: PlanSpec, compiled: CompiledPlan, added: readonly TaskSpec[]): void {
    const now = this.clock.now();
    this.journal.record({ type: 'plan.expanded', at: now, by: by.id, tasks: added });
    const n = compiled.graph.tasks.length;
    const widen = (a: Int32Array): Int32Array => {
      const b = new Int32Array(n);
      b.set(a);
      return b;
    };
    this.attempts = widen(this.attempts);
    this.transient = widen(this.transient);
    this.fixes = widen(this.fixes);
    this.resumedAt = widen(this.resumedAt);
    const previous = this.sched;
    this.spec = spec;
    this.graph = compiled.graph;
    this.tasks = compiled.graph.tasks;
    this.sched = this.newScheduler();
    this.sched.adopt(previous, now);
    this.journal.findRecords(this.tasks);
  }

  /** A running task's usage passed its own budget: stop it (not retried). */
  private checkTaskBudget(i: number, attempt: number, usage: Usage): void {
    const over = taskBudgetExceeded((this.tasks[i] as ResolvedTask).budget, usage);
    const slot = this.running.get(i);
    if (over !== undefined && slot?.attempt === attempt)
      slot.abort({ kind: 'budget', reason: over } satisfies AbortCause);
  }

  private dispatch(i: number, worker: number): void {
    const slot = this.running.get(i) as Running;
    const task = this.tasks[i] as ResolvedTask;
    if (task.gate !== undefined) {
      // A gate runs nothing: it is decided now, from what the tasks it reads ended with.
      this.completions.push({ task: i, attempt: slot.attempt, ...gateEnded(task, this.when, this.clock.now()) });
      this.soon();
      return;
    }
    if (task.timeoutMs !== undefined) {
      const ms = task.timeoutMs;
      slot.timer = this.clock.setTimeout(() => slot.abort({ kind: 'timeout', ms }), ms);
    }
    this.stalls.watch(i, slot.attempt, task.stallAfterMs);
    void this.attempt(i, worker, slot);
  }

  /** One attempt, start to end; never throws: whatever happens becomes a completion. */
  private async attempt(i: number, worker: number, slot: Running): Promise<void> {
    let outcome: TaskOutcome;
    try {
      outcome = await runAttempt(this, i, worker, slot);
    } catch (error) {
      outcome = {
        ok: false,
        failure: { message: error instanceof Error ? error.message : String(error), code: 'WEFT_EXECUTOR' },
      };
    }
    if (slot.timer !== undefined) this.clock.clearTimeout(slot.timer);
    const { attempt } = slot; // read at the end: a check moves on to new attempts while it waits for fixes
    const reason = slot.aborted;
    this.completions.push(
      reason === undefined ? { task: i, attempt, outcome } : { task: i, attempt, outcome, cause: reason },
    );
    this.soon();
  }

  progress(i: number, attempt: number, progress: ProgressEvent): void {
    const id = (this.tasks[i] as ResolvedTask).id;
    const at = this.clock.now();
    this.stalls.progress(i, attempt);
    if (progress.kind === 'output') return; // a heartbeat for the watchdog, nothing to show
    // What an agent says or runs is shown live (and --json prints it): its secrets masked like the journal's.
    const shown = progress.message === undefined ? progress : { ...progress, message: this.redact(progress.message) };
    this.notify?.({ type: 'task.progress', at, task: id, attempt, progress: shown });
    if (progress.usage !== undefined) this.checkTaskBudget(i, attempt, progress.usage);
    if (progress.kind === 'session' || progress.kind === 'usage') {
      const session = progress.sessionId === undefined ? {} : { sessionId: progress.sessionId };
      this.journal.recordTask(i, {
        type: 'task.output',
        at,
        task: id,
        attempt,
        ...session,
        ...(progress.usage === undefined ? {} : { usage: progress.usage }),
      });
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
    this.wakeTimer = this.clock.setTimeout(
      () => {
        this.wakeTimer = undefined;
        this.wakeAt = Infinity;
        void this.pump();
      },
      Math.max(0, at - this.clock.now()),
    );
  }

  private async finishRun(): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    const { status, reason } = runEnded(this.state, this.stopReason);
    this.journal.record({
      type: 'run.finished',
      at: this.clock.now(),
      status,
      ...(reason === undefined ? {} : { reason }),
    });
    await this.journal.flush();
    if (this.wakeTimer !== undefined) this.clock.clearTimeout(this.wakeTimer);
    this.throttles.dispose();
    this.stalls.dispose();
    this.approvals.dispose();
    this.done({ status, state: this.state });
  }
}

function rejectedFailure(r: Rejection & { readonly score?: number }): TaskFailure {
  return { message: r.message, code: r.code, fix: r.feedback, ...(r.score === undefined ? {} : { score: r.score }) };
}
