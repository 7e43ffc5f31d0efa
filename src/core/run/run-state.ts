import type { TaskFailure } from '../errors.js';
import type { LoopOutcome, RunEvent, RunMode, RunStatus, TaskResultData, Usage } from './events.js';
import type { SkipCause, TaskState } from '../schedule/scheduler.js';

/** One attempt of a task, as the journal tells it. */
export interface AttemptRecord {
  readonly attempt: number;
  readonly worker: number;
  readonly startedAt: number;
  /** When its process really started and ended, where the executor said (else `startedAt`/`endedAt` are the best known). */
  processStartedAt?: number;
  processEndedAt?: number;
  endedAt?: number;
  outcome?: 'succeeded' | 'failed' | 'retrying' | 'cancelled' | 'interrupted' | 'blocked';
  error?: TaskFailure;
  usage?: Usage;
  sessionId?: string;
  /** Its output's score (`score:`), accepted or sent back. */
  score?: number;
  /** The P0 task it was stopped for (`task.preempted`): it ends `retrying`, and the task runs again. */
  preemptedBy?: string;
  /** The watchdog stopped it after this long without progress (`task.stalled`), ms. */
  stalledMs?: number;
  /** It was sent back to be fixed (see the `task.retrying` event): the next attempt is a fix, not a retry. */
  fix?: { readonly n: number; readonly of: number };
  /** A check's attempt whose failure went to these tasks to fix: the next attempt waited for them, not a retry. */
  waitsFor?: readonly string[];
}

/** A task's state, attempts and result, folded from its events. */
export interface TaskRecord {
  readonly id: string;
  state: TaskState;
  attempts: AttemptRecord[];
  result?: TaskResultData;
  reason?: string;
  skipCause?: SkipCause;
  readyAt?: number;
  endedAt?: number;
  /** Last agent session id seen, so a retry or resume can continue it. */
  sessionId?: string;
  /** A blocked gate's failing parts, with their values. */
  blockedBy?: readonly string[];
  /** Where its `approval: required` stands: waiting since when, or decided. */
  approval?: ApprovalRecord;
  /** How many `task.succeeded` events it has (a loop's iterations, a success a check later sent back). */
  successes?: number;
}

/** A task's approval, as the journal tells it. */
export interface ApprovalRecord {
  state: 'waiting' | 'approved' | 'rejected';
  /** When it began to wait. */
  since: number;
  decidedAt?: number;
  reason?: string;
  by?: string;
}

/** One iteration of the plan's loop, as the journal tells it. */
export interface IterationRecord {
  readonly iteration: number;
  readonly startedAt: number;
  /** Each repeated task's first attempt number in this iteration (earlier ones belong to earlier iterations); empty in the first. */
  readonly firstAttempts: Readonly<Record<string, number>>;
  endedAt?: number;
  outcome?: LoopOutcome;
  reasons?: readonly string[];
  durationMs?: number;
  costUsd?: number;
}

/** What a repeated task ended with in the iteration before the current one. */
export interface PreviousResult {
  readonly state: TaskState;
  readonly result?: TaskResultData;
  readonly reason?: string;
}

/** The plan's loop as the journal tells it: its iterations, and what the last repeated one left. */
export interface LoopRecord {
  readonly iterations: IterationRecord[];
  /** The repeated tasks' results in the iteration before the current one, by id (the feedback). */
  readonly previous: Map<string, PreviousResult>;
}

/** A run as its journal tells it: a fold over its events ({@link foldRun}). */
export interface RunState {
  runId: string;
  plan: string;
  workers: number;
  mode: RunMode;
  status: RunStatus;
  createdAt: number;
  finishedAt?: number;
  reason?: string;
  /** The result branch's changes against the run's base, as its last `run.finished` measured them. */
  files?: TaskResultData['files'];
  /** Tasks in declaration order (expansions appended). */
  readonly tasks: Map<string, TaskRecord>;
  readonly expansions: { by: string; tasks: readonly unknown[] }[];
  options: Readonly<Record<string, unknown>>;
  resumes: number;
  /**
   * When weft was stopped between two lives of the run: from the `run.finished` of a life that
   * ended cleanly (Ctrl-C, a failure, a budget) to the `run.resumed` of the next. After a crash the
   * moment the coordinator died is unknown, so that gap is not recorded.
   */
  readonly pauses: { readonly from: number; readonly to: number }[];
  /** The plan's `loop:`, once its first iteration began. */
  loop?: LoopRecord;
}

/** The state before any event: what `run.created` (or a journal's replay) starts from. */
export function emptyRunState(): RunState {
  return {
    runId: '',
    plan: '',
    workers: 0,
    mode: 'parallel',
    status: 'running',
    createdAt: 0,
    tasks: new Map(),
    expansions: [],
    options: {},
    resumes: 0,
    pauses: [],
  };
}

/** Events about one task. */
export type TaskEvent = Extract<RunEvent, { readonly task: string }>;

/** Task `id`'s record, made when an event first names it. */
export function taskRecord(state: RunState, id: string): TaskRecord {
  let r = state.tasks.get(id);
  if (r === undefined) {
    r = { id, state: 'pending', attempts: [] };
    state.tasks.set(id, r);
  }
  return r;
}

/** A task's attempt by number (a loop, not `find`: no closure per event). */
function attemptOf(r: TaskRecord, attempt: number): AttemptRecord | undefined {
  for (const a of r.attempts) if (a.attempt === attempt) return a;
  return undefined;
}

/** Ends an attempt; returns it (undefined for one the journal never saw start). */
function closeAttempt(
  r: TaskRecord,
  attempt: number,
  at: number,
  outcome: AttemptRecord['outcome'],
  error?: TaskFailure,
  ran?: { readonly processStartedAt?: number; readonly processEndedAt?: number },
): AttemptRecord | undefined {
  const a = attemptOf(r, attempt);
  if (a === undefined) return undefined;
  if (ran?.processStartedAt !== undefined) a.processStartedAt = ran.processStartedAt;
  if (ran?.processEndedAt !== undefined) a.processEndedAt = ran.processEndedAt;
  a.endedAt = at;
  a.outcome = outcome;
  if (error !== undefined) a.error = error;
  if (error?.score !== undefined) a.score = error.score;
  return a;
}

/** Applies one event to the state, in place. Run state is exactly the fold of its events. */
export function applyEvent(state: RunState, event: RunEvent): void {
  switch (event.type) {
    case 'run.created':
      Object.assign(state, {
        runId: event.runId,
        plan: event.plan,
        workers: event.workers,
        mode: event.mode,
        status: 'running',
        createdAt: event.at,
        options: event.options ?? {},
      });
      for (const id of event.tasks) taskRecord(state, id);
      return;
    case 'run.resumed':
      state.resumes++;
      state.status = 'running';
      if (state.finishedAt !== undefined && event.at > state.finishedAt)
        state.pauses.push({ from: state.finishedAt, to: event.at });
      delete state.finishedAt;
      delete state.reason; // why the last life ended; the next run.finished says why this one did
      // Whatever was running when the last coordinator died did not finish.
      for (const r of state.tasks.values()) {
        for (const a of r.attempts)
          if (a.endedAt === undefined) Object.assign(a, { endedAt: event.at, outcome: 'interrupted' });
        if (r.state === 'running' || r.state === 'ready' || r.state === 'retrying') r.state = 'pending';
      }
      return;
    case 'plan.expanded':
      state.expansions.push({ by: event.by, tasks: event.tasks });
      for (const t of event.tasks) {
        const id = (t as { id?: unknown }).id;
        if (typeof id === 'string') taskRecord(state, id);
      }
      return;
    case 'loop.iteration.started':
      startIteration(state, event);
      return;
    case 'loop.iteration.ended': {
      const it = state.loop?.iterations.find((i) => i.iteration === event.iteration);
      if (it === undefined) return;
      Object.assign(it, {
        endedAt: event.at,
        outcome: event.outcome,
        reasons: event.reasons,
        durationMs: event.durationMs,
        ...(event.costUsd === undefined ? {} : { costUsd: event.costUsd }),
      });
      return;
    }
    case 'run.finished':
      state.status = event.status;
      state.finishedAt = event.at;
      if (event.reason !== undefined) state.reason = event.reason;
      if (event.files !== undefined) state.files = event.files;
      return;
    default:
      // An event of a kind this version does not know and of no task (a journal written by a newer
      // weft, e.g. a loop's iterations) changes no task: it must not make one named "undefined".
      if (typeof (event as { task?: unknown }).task !== 'string') return;
      applyTaskEvent(taskRecord(state, event.task), event);
  }
}

/**
 * A loop's iteration begins. From the second on, its tasks start again: each record goes back to
 * pending (attempt numbers and the agent session go on), and what it ended with is kept as the
 * loop's `previous` — the next iteration's feedback.
 */
function startIteration(state: RunState, event: Extract<RunEvent, { type: 'loop.iteration.started' }>): void {
  const loop: LoopRecord = (state.loop ??= { iterations: [], previous: new Map() });
  const firstAttempts: Record<string, number> = {};
  if (event.tasks !== undefined) loop.previous.clear();
  for (const id of event.tasks ?? []) {
    const r = taskRecord(state, id);
    loop.previous.set(id, {
      state: r.state,
      ...(r.result === undefined ? {} : { result: r.result }),
      ...(r.reason === undefined ? {} : { reason: r.reason }),
    });
    firstAttempts[id] = r.attempts.reduce((m, a) => Math.max(m, a.attempt), 0) + 1;
    r.state = 'pending';
    for (const key of ['result', 'reason', 'skipCause', 'readyAt', 'endedAt', 'blockedBy', 'approval'] as const)
      delete r[key];
  }
  for (const r of state.tasks.values())
    firstAttempts[r.id] = r.attempts.reduce((m, a) => Math.max(m, a.attempt), 0) + 1;
  loop.iterations.push({ iteration: event.iteration, startedAt: event.at, firstAttempts });
}

/**
 * Applies an event of one task to that task's record, in place: what {@link applyEvent} does once
 * it has found the record by id (the engine, which knows its tasks by index, skips that lookup).
 */
export function applyTaskEvent(r: TaskRecord, event: TaskEvent): void {
  switch (event.type) {
    case 'task.ready': {
      r.state = 'ready';
      r.readyAt = event.at;
      // Ready again (a resume, a check's fix): why it last ended (cancelled by a Ctrl-C, failed) no
      // longer describes it — e.g. a task that waits for approval again after `weft resume`.
      delete r.reason;
      return;
    }
    case 'task.started': {
      r.state = 'running';
      delete r.reason; // a new attempt: why an earlier one failed or was cut off no longer describes the task
      const last = r.attempts.at(-1);
      if (last?.attempt === event.attempt && last.outcome === 'interrupted') {
        // A resumed coordinator adopted an attempt still running on a remote worker: the same
        // attempt, running since it first started, not a new one.
        const open = last as { endedAt?: number; outcome?: string };
        delete open.endedAt;
        delete open.outcome;
        return;
      }
      const a: AttemptRecord = { attempt: event.attempt, worker: event.worker, startedAt: event.at };
      // Most tasks run once: a one-slot array, where a push onto the empty one reserves 17 slots,
      // which for a large plan is megabytes that every young-generation GC copies.
      if (r.attempts.length === 0) r.attempts = [a];
      else r.attempts.push(a);
      return;
    }
    case 'task.output': {
      const a = attemptOf(r, event.attempt);
      if (event.sessionId !== undefined) {
        r.sessionId = event.sessionId;
        if (a !== undefined) a.sessionId = event.sessionId;
      }
      if (event.usage !== undefined && a !== undefined) a.usage = event.usage;
      return;
    }
    case 'task.succeeded': {
      r.state = 'succeeded';
      r.successes = (r.successes ?? 0) + 1;
      r.result = event.result;
      r.endedAt = event.at;
      if (event.result.sessionId !== undefined) r.sessionId = event.result.sessionId;
      const a = closeAttempt(r, event.attempt, event.at, 'succeeded', undefined, event);
      if (a !== undefined && event.result.usage !== undefined) a.usage = event.result.usage;
      if (a !== undefined && event.result.score !== undefined) a.score = event.result.score;
      return;
    }
    case 'task.retrying': {
      r.state = 'retrying';
      const a = closeAttempt(r, event.attempt, event.at, 'retrying', event.error, event);
      if (a !== undefined && event.fix !== undefined) a.fix = event.fix;
      if (a !== undefined && event.waitsFor !== undefined) a.waitsFor = event.waitsFor;
      return;
    }
    case 'task.failed': {
      r.state = 'failed';
      r.endedAt = event.at;
      r.reason = event.error.message;
      closeAttempt(r, event.attempt, event.at, 'failed', event.error, event);
      return;
    }
    case 'task.skipped': {
      r.state = 'skipped';
      r.reason = event.reason;
      r.skipCause = event.cause;
      r.endedAt = event.at;
      return;
    }
    case 'task.blocked': {
      r.state = 'blocked';
      r.reason = event.reason;
      r.endedAt = event.at;
      if (event.parts !== undefined) r.blockedBy = event.parts;
      if (event.attempt !== undefined) closeAttempt(r, event.attempt, event.at, 'blocked');
      return;
    }
    case 'approval.waiting': {
      // Waiting again after a resume keeps the first `since`.
      if (r.approval?.state !== 'waiting') r.approval = { state: 'waiting', since: event.at };
      return;
    }
    case 'approval.decided': {
      r.approval = {
        state: event.decision,
        since: r.approval?.since ?? event.at,
        decidedAt: event.at,
        ...(event.reason === undefined ? {} : { reason: event.reason }),
        ...(event.by === undefined ? {} : { by: event.by }),
      };
      return;
    }
    case 'task.preempted': {
      const a = attemptOf(r, event.attempt);
      if (a !== undefined) a.preemptedBy = event.by;
      return;
    }
    case 'task.stalled': {
      const a = attemptOf(r, event.attempt);
      if (a !== undefined) a.stalledMs = event.silentMs;
      return;
    }
    case 'task.cancelled': {
      r.state = 'cancelled';
      r.reason = event.reason;
      r.endedAt = event.at;
      if (event.attempt !== undefined) closeAttempt(r, event.attempt, event.at, 'cancelled');
      return;
    }
  }
}

/** Replays a journal into run state. */
export function foldRun(events: Iterable<RunEvent>): RunState {
  const state = emptyRunState();
  for (const e of events) applyEvent(state, e);
  return state;
}

/**
 * Whether task `id` may yet start another attempt after the one it ended with: the run goes on, the
 * plan's loop repeats it (`repeat`), and the loop's last iteration has not ended, or ended to repeat.
 * A log follower keeps following such a task into its next iteration's attempt.
 *
 * @example
 * mayRunAgain(state, 'code', ['code', 'review']) // → true while iteration 1 runs, false once it passed
 */
export function mayRunAgain(state: RunState, id: string, repeat: readonly string[]): boolean {
  if (state.status !== 'running' || !repeat.includes(id)) return false;
  const last = state.loop?.iterations.at(-1);
  return last?.outcome === undefined || last.outcome === 'repeat';
}

/**
 * The run as it stands at `now`: a copy whose attempts still running end at `now` (no outcome), so
 * that durations and makespan of a live run count the time so far. The state itself is not touched.
 */
export function stateAt(state: RunState, now: number): RunState {
  const tasks = new Map(
    [...state.tasks].map(([id, r]) => [
      id,
      r.attempts.some((a) => a.endedAt === undefined)
        ? {
            ...r,
            attempts: r.attempts.map((a) =>
              a.endedAt === undefined ? { ...a, endedAt: Math.max(now, a.startedAt) } : a,
            ),
          }
        : r,
    ]),
  );
  return { ...state, tasks };
}
