import type { TaskFailure } from '../errors.js';
import type { ProgressEvent, RunMode, TaskResultData } from './events.js';
import type { TaskOutcome } from '../ports/executor.js';
import type { ResolvedTask } from '../plan/graph.js';
import type { PlanSpec, TaskSpec } from '../plan/plan-schema.js';
import type { Clock } from '../ports/clock.js';
import { emptyRunState, type RunState } from './run-state.js';
import { RunJournal } from './run-journal.js';
import { ProviderThrottles } from './provider-throttles.js';
import { Scheduler, type Assignment, type DispatchPlan, type Transition } from '../schedule/scheduler.js';
import type { CompiledPlan } from '../plan/compile.js';
import {
  announcer,
  resolveEngineOptions,
  type EngineNotice,
  type EngineOptions,
  type ResolvedEngineOptions,
  type RunOutcome,
} from './engine-options.js';
import { Running, type AttemptHost } from './attempt.js';
import { attemptEnded, type AttemptDecision } from './policies/attempt-ended.js';
import { TaskCounters } from './task-counters.js';
import { RunEnd } from './run-end.js';
import { dispatchAttempt, type DispatchHost } from './dispatch-attempt.js';
import { TaskProgress } from './task-progress.js';
import { RunSpend } from './run-spend.js';
import { whenGate, type WhenSources } from './policies/when.js';
import { checkResult, rejectedFailure } from './policies/result-check.js';
import { Approvals } from './approvals.js';
import type { Rejection } from './policies/expansion.js';
import { restoreRun } from './policies/resume.js';
import { CheckRouting } from './check-routing.js';
import type { Executor } from '../ports/executor.js';
import { StallWatch } from './stall-watch.js';
import { Pump } from './pump.js';
import { applyDecision, type Blocked, type Completion, type DecisionHost } from './apply-decision.js';
import { recordRunStart } from './run-start.js';
import { LoopRun } from './loop-run.js';
import { Preemptor, restorePreempted } from './preemptor.js';
import { resumesAfterPreemption } from './policies/preempt.js';

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
  private readonly counts: TaskCounters;
  private readonly spend: RunSpend;
  readonly redact: (text: string) => string;
  /** Checks (tasks with `verifies`) route their failures to the tasks that broke them. */
  private readonly checks = new CheckRouting(this);
  private readonly throttles: ProviderThrottles;
  /** The watchdog: attempts silent for their `stallAfter` are stopped as stalled. */
  private readonly stalls: StallWatch;
  /** Tasks with `approval: required` wait here for a person. */
  private readonly approvals: Approvals;
  private readonly preemptor: Preemptor; // a blocked P0 stops lower classes (`class:`)
  /** Feedback for the next attempt of a task (a merge conflict or failed check to fix). */
  readonly feedback = new Map<number, string>();
  private readonly workers: number;
  private readonly mode: RunMode;
  private readonly when: WhenSources;
  /** Runs the passes (one at a time, batched per turn of the event loop, woken by timers). */
  private readonly pumper: Pump;
  private readonly dispatcher: DispatchHost;
  /** Takes what running attempts report: shown, journaled, checked against their budget. */
  private readonly progressOf: TaskProgress;
  private readonly decisions: DecisionHost;
  /** Stops the run early, and finishes it once. */
  private readonly end: RunEnd;
  private readonly loop: LoopRun | undefined;
  private done!: (outcome: RunOutcome) => void;
  private fail!: (error: unknown) => void;
  constructor(readonly options: ResolvedEngineOptions) {
    this.pumper = new Pump(options.clock, {
      pass: () => this.pass(),
      pendingCompletions: () => this.completions.length,
      running: () => this.running.size,
      finished: () => this.sched.finished,
      finish: () => this.finishRun(),
      nextWakeAt: () => this.sched.nextWakeAt(),
      failed: (error) => {
        this.end.abortAll({ kind: 'cancelled', reason: 'internal error' });
        this.fail(error);
      },
    });
    this.clock = options.clock;
    this.graph = options.plan.graph;
    this.tasks = this.graph.tasks;
    this.mode = options.mode;
    this.workers = options.workers;
    this.counts = new TaskCounters(this.tasks.length);
    this.state = options.prior ?? emptyRunState();
    this.spec = options.plan.spec;
    this.spend = new RunSpend(options.budget, this.state, (reason) => this.end.stop('failed', reason, false));
    this.redact = options.redact;
    this.when = { vars: options.plan.vars, env: options.env, task: (id) => this.state.tasks.get(id) };
    this.notify = announcer(options.onEvent, options.bus);
    this.journal = new RunJournal(this.state, options.journal, this.notify, (e) => this.spend.recorded(e));
    const pump = () => void this.pumper.run();
    const { clock, state, journal, running } = this;
    const workspace = options.workspace;
    this.end = new RunEnd({
      clock,
      state,
      journal,
      running,
      sched: () => this.sched,
      pump,
      ...(workspace?.resultChanges === undefined ? {} : { resultChanges: workspace.resultChanges.bind(workspace) }),
    });
    this.throttles = new ProviderThrottles(
      this.clock,
      options.throttleCooldownMs,
      () => this.sched,
      pump,
      this.workers,
    );
    const host = { state: this.state, journal: this.journal, tasks: () => this.tasks, block: this.block, pump };
    this.approvals = new Approvals(host, this.clock, options.approvalPollMs, options.pollDecisions);
    const loop = options.plan.loop;
    this.loop =
      loop &&
      new LoopRun(loop, {
        ...host,
        sched: () => this.sched,
        when: this.when,
        restartCounts: (i) => this.counts.restart(i),
        stopped: () => this.end.stopReason && (this.spend.exhausted ? 'budget' : this.end.stopReason.status),
        reschedule: (reset) => this.reschedule(reset),
      });
    this.sched = this.newScheduler(options.score, options.dispatchPlan, options.surpriseScore);
    this.preemptor = new Preemptor(this.running, this.journal, this.workers, (i) => this.approvals.held(i));
    this.stalls = new StallWatch(this.clock, (i, attempt, silentMs) => this.stalled(i, attempt, silentMs));
    const { stalls, redact, notify, when } = this;
    const complete = (c: Completion) => void (this.completions.push(c), this.pumper.soon());
    const queues = (task: ResolvedTask) => options.executors.get(task.executor)?.info.queues === true;
    this.dispatcher = { clock, when, stalls, queues, attempts: this, complete };
    this.progressOf = new TaskProgress({
      clock,
      journal,
      stalls,
      running,
      redact,
      notify,
      tasks: () => this.tasks,
      pump,
    });
    const run = this; // eslint-disable-line @typescript-eslint/no-this-alias -- getters read the fields an expansion swaps
    this.decisions = {
      journal: this.journal,
      get sched() {
        return run.sched;
      },
      redact: this.redact,
      feedback: this.feedback,
      get fixes() {
        return run.counts.fixes;
      },
      get transient() {
        return run.counts.transient;
      },
      rateLimited: (task, ms) => this.throttles.rateLimited(options.executors.get(task.executor)?.info.provider, ms),
      release: (task, attempt) => void options.workspace?.release(task, attempt, 'failed').catch(() => undefined),
      stop: (status, reason) => this.end.stop(status, reason),
      get stopping() {
        return run.end.stopReason?.reason;
      },
    };
  }

  /** The watchdog found attempt `attempt` of task `i` silent: journal it, then stop it (it is retried as a failure). */
  private stalled(i: number, attempt: number, silentMs: number): void {
    const slot = this.running.get(i);
    if (slot?.attempt !== attempt) return;
    const task = this.tasks[i] as ResolvedTask;
    this.journal.recordTask(i, { type: 'task.stalled', at: this.clock.now(), task: task.id, attempt, silentMs });
    slot.abort({ kind: 'stalled', ms: silentMs });
    void this.pumper.run();
  }

  /** Swaps in a scheduler that adopts the current one's state (a loop's next iteration: `reset` pending again). */
  private reschedule(reset?: ReadonlySet<number>): void {
    const previous = this.sched;
    // `score` and `surpriseScore` were found for the plan as written: once an expansion grew the
    // graph they name none of its new tasks, and critical path orders it (as `grow` does).
    const fits = this.graph === this.options.plan.graph;
    this.sched = fits
      ? this.newScheduler(this.options.score, undefined, this.options.surpriseScore)
      : this.newScheduler();
    this.sched.adopt(previous, this.clock.now(), reset);
  }

  /** A scheduler for the current graph; `score` (and `surpriseScore`) only fit the graph they were found for. */
  private newScheduler(
    score?: ArrayLike<number>,
    plan?: DispatchPlan,
    surpriseScore?: () => ArrayLike<number>,
  ): Scheduler {
    const sequential = this.mode === 'sequential';
    return new Scheduler(this.graph, {
      workers: this.workers,
      ...(sequential ? { order: 'declaration' as const } : score === undefined ? {} : { score }),
      ...(sequential || plan === undefined ? {} : { plan }),
      ...(sequential || surpriseScore === undefined ? {} : { surpriseScore }),
      gate: (i) => this.loop?.gate(i) ?? whenGate(this.tasks[i] as ResolvedTask, this.when),
      onTransition: (t) => this.onTransition(t),
      held: (i) => this.approvals.held(i) || this.preemptor.holds(i, this.sched),
      ...(this.loop === undefined
        ? {}
        : { heldEdge: (from: number, to: number) => this.loop?.holds(from, to) === true }),
    });
  }

  execute(): Promise<RunOutcome> {
    return new Promise<RunOutcome>((resolve, reject) => {
      this.done = resolve;
      this.fail = reject;
      const now = this.clock.now();
      const prior = this.options.prior;
      recordRunStart(this.journal, this.options, this.tasks, now);
      this.journal.findRecords(this.tasks);
      if (prior !== undefined) this.restore(prior, now);
      this.loop?.begin(now);
      const signal = this.options.signal;
      if (signal !== undefined) {
        if (signal.aborted) this.end.stop('cancelled', 'interrupted before start');
        else
          signal.addEventListener(
            'abort',
            // The caller says why (which signal, a lost lease) by aborting with a string.
            () =>
              this.end.stop('cancelled', typeof signal.reason === 'string' ? signal.reason : 'interrupted (Ctrl-C)'),
            { once: true },
          );
      }
      this.sched.begin(now);
      void this.pumper.run();
    });
  }

  /** The iteration of the plan's loop task `i` runs in, when the loop repeats it (`WEFT_ITERATION`). */
  iterationOf(i: number): number | undefined {
    return this.loop?.iterationOf(i);
  }

  /** The loop's combined feedback for task `i`'s attempts in this iteration, if any. */
  loopFeedback(i: number): string | undefined {
    return this.loop?.feedbackOf(i);
  }

  counters(): TaskCounters {
    return this.counts;
  }

  runCheck(i: number, worker: number, slot: Running, executor: Executor): Promise<TaskOutcome> {
    return this.checks.run(i, worker, slot, executor);
  }

  /** Applies the resume policy: what an earlier life of this run finished is kept. */
  private restore(prior: RunState, now: number): void {
    const { tasks, needsDecision } = restoreRun(prior, this.graph, this.options.retryTasks, this.options.adopt);
    for (const r of tasks) {
      // Retries start afresh after a resume; attempt numbers go on.
      this.counts.resumed(r.task, r.attempts);
      restorePreempted(this.options, this.tasks[r.task] as ResolvedTask, r, this.feedback); // its note, its worktree
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
    this.journal.recordTransition(t, (this.tasks[t.task] as ResolvedTask).id, this.end.cancellingPending);
    if (t.to === 'ready') this.approvals.ready(t.task, t.at);
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
    this.loop?.settle(now);
    const assignments = this.end.stopReason === undefined ? this.sched.start(now) : [];
    for (const { task, worker } of assignments) {
      const attempt = this.counts.started(task);
      this.running.set(task, new Running(attempt));
      const t = this.tasks[task] as ResolvedTask;
      const queued = t.gate === undefined && this.dispatcher.queues(t) ? { queued: true as const } : {};
      this.journal.recordTask(task, { type: 'task.started', at: now, task: t.id, attempt, worker, ...queued });
    }
    if (this.end.stopReason === undefined && this.mode === 'parallel') this.preemptor.pass(now, this.graph, this.sched);
    if (assignments.length > 0 && assignments.every((a) => this.isGate(a.task)) && this.journal.hold(now)) {
      this.dispatchAll(assignments);
      return undefined;
    }
    const stored = this.journal.flush();
    if (stored === undefined) {
      this.dispatchAll(assignments);
      return undefined;
    }
    return stored.then(() => this.dispatchAll(assignments));
  }

  private isGate(i: number): boolean {
    return (this.tasks[i] as ResolvedTask).gate !== undefined;
  }

  private dispatchAll(assignments: readonly Assignment[]): void {
    for (const { task, worker } of assignments)
      dispatchAttempt(
        this.dispatcher,
        this.tasks[task] as ResolvedTask,
        task,
        worker,
        this.running.get(task) as Running,
      );
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
    const counts = this.counts.countsOf(i);
    const stopping = this.end.stopReason !== undefined;
    const resumable = resumesAfterPreemption(this.options.executors.get(task.executor)?.info);
    const ended = { task, attempt: c.attempt, failure, cause: c.cause, counts, stopping, resumable };
    this.apply(i, c, attemptEnded(ended, this.options), now);
  }

  /** A gate blocked, or a person rejected the task: it ends blocked and its dependents are skipped. */
  readonly block = (i: number, b: Blocked, now: number, attempt?: number): void => {
    const id = (this.tasks[i] as ResolvedTask).id;
    // A gate's reason quotes the values it read: a secret of the environment (env.TOKEN) among them is masked.
    const reason = this.redact(b.reason);
    const parts = b.parts === undefined ? {} : { parts: b.parts.map(this.redact) };
    const ran = attempt === undefined ? {} : { attempt };
    this.journal.recordTask(i, { type: 'task.blocked', at: now, task: id, ...ran, reason, ...parts });
    this.sched.finish(i, 'blocked', now, reason);
  };

  private apply(i: number, c: Completion, d: AttemptDecision, now: number): void {
    applyDecision(this.decisions, this.tasks[i] as ResolvedTask, i, c, d, now);
  }

  /** Weft's own checks of a successful result; an expansion grows the graph at once. */
  private check(task: ResolvedTask, result: TaskResultData): Rejection | undefined {
    const d = checkResult(task, result, this.spec, this.options);
    if (d.kind === 'grow') this.grow(task, d.spec, d.compiled, d.added);
    return d.kind === 'reject' ? d.rejection : undefined;
  }

  /** Splices an expansion in: journal it, then swap in the grown graph and a scheduler that adopts the old one's state. */
  private grow(by: ResolvedTask, spec: PlanSpec, compiled: CompiledPlan, added: readonly TaskSpec[]): void {
    const now = this.clock.now();
    this.journal.record({ type: 'plan.expanded', at: now, by: by.id, tasks: added });
    this.counts.widen(compiled.graph.tasks.length);
    const previous = this.sched;
    this.spec = spec;
    this.graph = compiled.graph;
    this.tasks = compiled.graph.tasks;
    this.sched = this.newScheduler();
    this.sched.adopt(previous, now);
    this.journal.findRecords(this.tasks);
  }

  progress(i: number, attempt: number, progress: ProgressEvent): void {
    this.progressOf.take(i, attempt, progress);
  }

  private async finishRun(): Promise<void> {
    const outcome = await this.end.finish();
    if (outcome === undefined) return;
    this.pumper.dispose();
    this.throttles.dispose();
    this.stalls.dispose();
    this.approvals.dispose();
    this.done(outcome);
  }
}
