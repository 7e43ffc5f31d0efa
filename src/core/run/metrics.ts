import type { LoopOutcome, TaskPlace, Usage } from './events.js';
import type { ApprovalRecord, AttemptRecord, RunState, TaskRecord } from './run-state.js';
import { stallsOf, type Stall } from './stalls.js';
import { contractVerdicts, type ContractRef, type ContractVerdict } from './contract-verdicts.js';
import { criticalChain, pausedWithin } from './critical-path.js';

/** One task in a run's summary. */
export interface TaskSummary {
  readonly id: string;
  readonly state: TaskRecord['state'];
  readonly attempts: number;
  readonly worker?: number;
  readonly startedAt?: number;
  readonly endedAt?: number;
  /** Time spent running, summed over attempts, ms. */
  readonly durationMs: number;
  readonly reason?: string;
  readonly exitCode?: number | null;
  readonly usage?: Usage;
  /** What the task's merge changed (git's numstat of the merge): worktree tasks only. */
  readonly files?: FilesChanged;
  /** Where its successful attempt ran (`in place`, `worktree`, `merged result @<sha>`), with a workspace. */
  readonly where?: TaskPlace;
  /** A blocked gate's failing parts, each with the values it read. */
  readonly blockedBy?: readonly string[];
  /** Its attempts' scores (`score:`), in order: those sent back below `minScore`, then the one kept. */
  readonly scores?: readonly number[];
  /** Its `approval: required`: waiting since when, or who decided what. */
  readonly approval?: ApprovalRecord;
  /** The P0 tasks its attempts were stopped for (`class:`), one per preempted attempt, in order. */
  readonly preemptedBy?: readonly string[];
  /** Attempts the watchdog stopped (`stallAfter`) and what came of each; absent when none stalled. */
  readonly stalls?: readonly Stall[];
  /** A check that failed, then passed when run again on the same tree: how its failed run ended (see TaskResultData.flaky). */
  readonly flaky?: string;
  /**
   * A task the plan's loop repeats that has not ended in the current iteration (from the second
   * on): which iteration that is, and how the task ended in the one before (a gate's verdict).
   */
  readonly iteration?: {
    readonly current: number;
    readonly before: { readonly state: TaskRecord['state']; readonly reason?: string };
  };
}

/** Files changed and lines added and removed, as `git diff --numstat` counts them. */
export interface FilesChanged {
  readonly changed: number;
  readonly added: number;
  readonly removed: number;
}

/** What a run did: counts, times, speed-up, critical path, spend (`weft run`'s summary, `summary.json`). */
export interface RunSummary {
  readonly runId: string;
  readonly plan: string;
  readonly status: RunState['status'];
  readonly mode: RunState['mode'];
  readonly workers: number;
  readonly reason?: string;
  /** `running`: running or waiting to retry; `pending`: not started (or not yet again). */
  readonly counts: {
    readonly total: number;
    readonly succeeded: number;
    readonly failed: number;
    readonly skipped: number;
    readonly cancelled: number;
    /** Gates that blocked and tasks a person rejected. */
    readonly blocked: number;
    readonly running: number;
    readonly pending: number;
  };
  readonly successRate: number;
  /** First start to last end, ms, less the time weft was stopped between lives of the run (`pausedMs`). */
  readonly makespanMs: number;
  /** Time between first start and last end when weft was stopped (a Ctrl-C or failure, then `weft resume`), ms. */
  readonly pausedMs: number;
  /** Summed time of every attempt, ms. */
  readonly taskTimeMs: number;
  /**
   * Summed time attempts spent in weft's hands outside their processes, ms: a worktree made, the
   * work committed and merged, outputs checked (under `--dispatch`, the queue too). Part of the
   * makespan, not of {@link taskTimeMs}.
   */
  readonly handlingMs: number;
  /** taskTime ÷ makespan: how many tasks ran at once on average. */
  readonly speedup: number;
  /** taskTime ÷ (workers × makespan). */
  readonly utilisation: number;
  /**
   * The chain of tasks that decided when the run ended (each waited on the one before), over the
   * whole run: with a `loop:`, a repeated task is on it once per iteration it held the run up in.
   */
  readonly criticalPath: readonly string[];
  /** With a `loop:`: the iteration of each step of `criticalPath` (null: a task the loop does not repeat). */
  readonly criticalPathIterations?: readonly (number | null)[];
  readonly criticalPathMs: number;
  readonly tasksPerWorker: Readonly<Record<string, number>>;
  readonly busyPerWorkerMs: Readonly<Record<string, number>>;
  /** Attempts that followed a failed attempt of the same task; re-runs after a Ctrl-C, a crash or a preemption, and fixes, are not counted. */
  readonly retries: number;
  /** Attempts that were fixes: sent back to their task after a merge conflict, a failed check, missing outputs… */
  readonly fixes: number;
  /** Attempts stopped for a P0 task (`class:`); each ran again. */
  readonly preemptions: number;
  readonly usage: { readonly inputTokens: number; readonly outputTokens: number; readonly costUsd: number };
  readonly resumes: number;
  /**
   * What the run changed: the result branch against the run's base, as `weft apply` would bring
   * it (a file two tasks changed counts once; a journal from before that was measured: the tasks'
   * `files` summed). Present when a task worked in a worktree, absent when every task ran in place
   * (weft did not see what they changed).
   */
  readonly files?: FilesChanged;
  /** Each of the plan's `contracts` with its verdict; absent when the plan has none. */
  readonly contracts?: readonly ContractVerdict[];
  /** The iterations of the plan's `loop:`, in order; absent when it has none. */
  readonly loop?: readonly IterationSummary[];
  readonly tasks: readonly TaskSummary[];
}

/** One iteration of a loop: how it ended, why it did not pass, its time and cost (no outcome while it runs). */
export interface IterationSummary {
  readonly iteration: number;
  readonly outcome?: LoopOutcome;
  readonly reasons: readonly string[];
  readonly durationMs?: number;
  readonly costUsd?: number;
}

/** A repeated task not yet ended in the loop's current iteration: which one, and how it ended in the one before. */
function iterationField(state: RunState, r: TaskRecord): Pick<TaskSummary, 'iteration'> {
  const before = state.loop?.previous.get(r.id);
  const current = state.loop?.iterations.at(-1)?.iteration;
  if (before === undefined || current === undefined || !['pending', 'running', 'retrying'].includes(r.state)) return {};
  return {
    iteration: {
      current,
      before: { state: before.state, ...(before.reason === undefined ? {} : { reason: before.reason }) },
    },
  };
}

/** A task's stalls (none: no field). */
function stallsField(attempts: readonly AttemptRecord[]): { stalls?: Stall[] } {
  const stalls = stallsOf(attempts);
  return stalls.length === 0 ? {} : { stalls };
}

/** The scores of a task's attempts, in order (none: no field). */
function scoresOf(attempts: readonly AttemptRecord[]): { scores?: number[] } {
  const scores = attempts.flatMap((a) => (a.score === undefined ? [] : [a.score]));
  return scores.length === 0 ? {} : { scores };
}

/**
 * Attempts after one that failed; not fixes (after one sent back to be fixed, counted by
 * {@link fixesOf}), nor a check's attempt after it waited for the fixes of the tasks it blamed, nor
 * those that only re-run work a Ctrl-C, a crash or a preemption cut off, nor the first of a loop's
 * iteration (`fresh`: those attempt numbers).
 */
export function retriesOf(
  attempts: readonly {
    readonly attempt?: number;
    readonly outcome?: string;
    readonly preemptedBy?: string;
    readonly fix?: unknown;
    readonly waitsFor?: unknown;
  }[],
  fresh?: ReadonlySet<number>,
): number {
  let n = 0;
  for (let k = 1; k < attempts.length; k++) {
    const before = attempts[k - 1];
    const attempt = attempts[k]?.attempt;
    if (
      before?.fix === undefined &&
      before?.waitsFor === undefined &&
      before?.outcome !== 'cancelled' &&
      before?.outcome !== 'interrupted' &&
      before?.preemptedBy === undefined &&
      (attempt === undefined || fresh?.has(attempt) !== true)
    )
      n++;
  }
  return n;
}

/** Attempts that were fixes: each follows one sent back to be fixed. */
export function fixesOf(attempts: readonly { readonly fix?: unknown }[]): number {
  let n = 0;
  for (let k = 1; k < attempts.length; k++) if (attempts[k - 1]?.fix !== undefined) n++;
  return n;
}

const exitCodeOf = (code: number | null | undefined): { exitCode?: number | null } =>
  code === undefined ? {} : { exitCode: code };

/**
 * A task's attempts that began afresh: a loop's iteration (`iterations`), or the first after a
 * resume of a run that had ended — a person asked for it again, weft did not retry it.
 */
function freshStarts(
  attempts: readonly AttemptRecord[],
  iterations: ReadonlySet<number> | undefined,
  pauses: RunState['pauses'],
): ReadonlySet<number> | undefined {
  if (pauses.length === 0) return iterations;
  const fresh = new Set(iterations);
  for (let k = 1; k < attempts.length; k++) {
    const ended = attempts[k - 1]?.endedAt;
    const started = attempts[k]?.startedAt;
    if (ended !== undefined && started !== undefined && pauses.some((p) => p.from >= ended && p.to <= started))
      fresh.add(attempts[k]?.attempt as number);
  }
  return fresh;
}

/**
 * Each task's retries, as the summary counts them: a new attempt after one that failed, not one a
 * loop's iteration, a preemption, a cancel or a stop of weft began.
 */
export function retriesByTask(state: RunState): Map<string, number> {
  const fresh = iterationStarts(state);
  return new Map(
    [...state.tasks.values()].map((r) => [
      r.id,
      retriesOf(r.attempts, freshStarts(r.attempts, fresh.get(r.id), state.pauses)),
    ]),
  );
}

/** Each task's attempts that began a loop's iteration, by task id. */
function iterationStarts(state: RunState): Map<string, Set<number>> {
  const starts = new Map<string, Set<number>>();
  for (const it of state.loop?.iterations ?? [])
    for (const [id, n] of Object.entries(it.firstAttempts)) starts.set(id, (starts.get(id) ?? new Set()).add(n));
  return starts;
}

/** The P0 tasks a task's attempts were stopped for (none: no field). */
function preemptedByOf(attempts: readonly AttemptRecord[]): { preemptedBy?: string[] } {
  const by = attempts.flatMap((a) => (a.preemptedBy === undefined ? [] : [a.preemptedBy]));
  return by.length === 0 ? {} : { preemptedBy: by };
}

/** Each task's dependencies (needs and after), as `summarize` and the reports want them. */
export function dependencyMap(
  tasks: readonly { readonly id: string; readonly needs?: readonly string[]; readonly after?: readonly string[] }[],
): Map<string, string[]> {
  return new Map(tasks.map((t) => [t.id, [...(t.needs ?? []), ...(t.after ?? [])]]));
}

/**
 * Everything a report needs, computed from the folded journal. `deps` gives each task's
 * dependencies (needs and after) so the bottleneck chain can be traced; `contracts`, the plan's
 * contracts, get their verdicts.
 */
export function summarize(
  state: RunState,
  deps: ReadonlyMap<string, readonly string[]>,
  contracts: readonly ContractRef[] = [],
): RunSummary {
  const records = [...state.tasks.values()];
  const counts = {
    total: records.length,
    succeeded: 0,
    failed: 0,
    skipped: 0,
    cancelled: 0,
    blocked: 0,
    running: 0,
    pending: 0,
  };
  let first = Infinity;
  let last = -Infinity;
  let taskTimeMs = 0;
  let handlingMs = 0;
  let retries = 0;
  let fixes = 0;
  let preemptions = 0;
  const usage = { inputTokens: 0, outputTokens: 0, costUsd: 0 };
  let files: { changed: number; added: number; removed: number } | undefined;
  const tasksPerWorker: Record<string, number> = {};
  const busyPerWorkerMs: Record<string, number> = {};
  const tasks: TaskSummary[] = [];
  const retriesOfTask = retriesByTask(state);
  for (const r of records) {
    if (
      r.state === 'succeeded' ||
      r.state === 'failed' ||
      r.state === 'skipped' ||
      r.state === 'cancelled' ||
      r.state === 'blocked'
    )
      counts[r.state]++;
    else if (r.state === 'running' || r.state === 'retrying') counts.running++;
    else counts.pending++;
    let duration = 0;
    let taskUsage: { inputTokens: number; outputTokens: number; costUsd: number } | undefined;
    for (const a of r.attempts) {
      const end = a.endedAt ?? a.startedAt;
      const ran = attemptRunMs(a);
      duration += ran;
      handlingMs += end - a.startedAt - ran;
      first = Math.min(first, a.startedAt);
      last = Math.max(last, end);
      const w = String(a.worker);
      tasksPerWorker[w] = (tasksPerWorker[w] ?? 0) + 1;
      busyPerWorkerMs[w] = (busyPerWorkerMs[w] ?? 0) + ran;
      if (a.usage !== undefined) {
        taskUsage ??= { inputTokens: 0, outputTokens: 0, costUsd: 0 };
        taskUsage.inputTokens += a.usage.inputTokens ?? 0;
        taskUsage.outputTokens += a.usage.outputTokens ?? 0;
        taskUsage.costUsd += a.usage.costUsd ?? 0;
      }
    }
    retries += retriesOfTask.get(r.id) ?? 0;
    fixes += fixesOf(r.attempts);
    const preempted = preemptedByOf(r.attempts);
    preemptions += preempted.preemptedBy?.length ?? 0;
    taskTimeMs += duration;
    if (taskUsage !== undefined) {
      usage.inputTokens += taskUsage.inputTokens;
      usage.outputTokens += taskUsage.outputTokens;
      usage.costUsd += taskUsage.costUsd;
    }
    const taskFiles = r.result?.files;
    if (taskFiles !== undefined) {
      files ??= { changed: 0, added: 0, removed: 0 };
      files.changed += taskFiles.changed;
      files.added += taskFiles.added;
      files.removed += taskFiles.removed;
    }
    const firstAttempt = r.attempts[0];
    const lastAttempt = r.attempts.at(-1);
    tasks.push({
      id: r.id,
      state: r.state,
      attempts: r.attempts.length,
      ...(lastAttempt === undefined
        ? {}
        : { worker: lastAttempt.worker, startedAt: firstAttempt?.startedAt, endedAt: lastAttempt.endedAt }),
      durationMs: duration,
      ...(r.reason === undefined ? {} : { reason: r.reason }),
      // A failed task's is its last attempt's, as the reports show it.
      ...exitCodeOf(r.result?.exitCode ?? lastAttempt?.error?.exitCode),
      ...(taskUsage === undefined ? {} : { usage: taskUsage }),
      ...(taskFiles === undefined
        ? {}
        : { files: { changed: taskFiles.changed, added: taskFiles.added, removed: taskFiles.removed } }),
      ...(r.result?.where === undefined ? {} : { where: r.result.where }),
      ...(r.result?.flaky === undefined || r.state !== 'succeeded' ? {} : { flaky: r.result.flaky }),
      ...(r.blockedBy === undefined ? {} : { blockedBy: r.blockedBy }),
      ...scoresOf(r.attempts),
      ...(r.approval === undefined ? {} : { approval: { ...r.approval } }),
      ...preempted,
      ...stallsField(r.attempts),
      ...iterationField(state, r),
    });
  }
  // The result branch's own diff where the run measured it: tasks that changed one file count it once,
  // and a run whose worktree tasks all failed merged none (a journal from before that: the tasks' sum).
  if (state.files !== undefined) files = { ...state.files };
  // Time weft was stopped between lives of the run is nobody's makespan.
  const pausedMs = Number.isFinite(first) ? pausedWithin(state, first, last) : 0;
  const makespanMs = Number.isFinite(first) ? last - first - pausedMs : 0;
  const workers = state.workers || 1;
  const chain = criticalChain(state, deps);
  return {
    runId: state.runId,
    plan: state.plan,
    status: state.status,
    mode: state.mode,
    workers,
    ...(state.reason === undefined ? {} : { reason: state.reason }),
    counts,
    successRate: counts.total === 0 ? 1 : counts.succeeded / counts.total,
    makespanMs,
    pausedMs,
    taskTimeMs,
    handlingMs,
    speedup: makespanMs > 0 ? taskTimeMs / makespanMs : 1,
    utilisation: makespanMs > 0 ? taskTimeMs / (workers * makespanMs) : 0,
    criticalPath: chain.path,
    ...(state.loop === undefined ? {} : { criticalPathIterations: chain.iterations }),
    criticalPathMs: chain.ms,
    tasksPerWorker,
    busyPerWorkerMs,
    retries,
    fixes,
    preemptions,
    usage,
    resumes: state.resumes,
    ...(files === undefined ? {} : { files }),
    ...(contracts.length === 0 ? {} : { contracts: contractVerdicts(state, contracts) }),
    ...(state.loop === undefined
      ? {}
      : {
          loop: state.loop.iterations.map((it) => ({
            iteration: it.iteration,
            reasons: it.reasons ?? [],
            ...(it.outcome === undefined ? {} : { outcome: it.outcome }),
            ...(it.durationMs === undefined ? {} : { durationMs: it.durationMs }),
            ...(it.costUsd === undefined ? {} : { costUsd: it.costUsd }),
          })),
        }),
    tasks,
  };
}

/**
 * An attempt's own time, ms: its process's life where the executor knows it (clamped to the
 * attempt's span), not the wait to be forked or reaped; else from `task.started` to its end.
 */
export function attemptRunMs(
  a: Pick<AttemptRecord, 'startedAt' | 'endedAt' | 'processStartedAt' | 'processEndedAt'>,
): number {
  const end = a.endedAt ?? a.startedAt;
  const from = Math.min(end, Math.max(a.startedAt, a.processStartedAt ?? a.startedAt));
  return Math.max(from, Math.min(end, a.processEndedAt ?? end)) - from;
}
