import type { TaskFailure } from '../core/errors.js';
import type { Usage } from '../core/run/events.js';
import type { RunSummary } from '../core/run/metrics.js';
import type { Stall } from '../core/run/stalls.js';
import { stallsById } from './stall-lines.js';
import type { ReportInput, ReportTask } from './report-input.js';
import { reportModel, type AttemptOutcome, type ChangeTotals, type UsageTotals } from './report-model.js';

export interface JsonAttempt {
  readonly attempt: number;
  readonly worker: number;
  readonly startedAt: string;
  readonly endedAt: string | null;
  readonly durationMs: number;
  readonly outcome: AttemptOutcome;
  readonly error: TaskFailure | null;
  readonly usage: Usage | null;
  /** Its output's score (`score:`), kept or sent back below `minScore`. */
  readonly score: number | null;
  /** The P0 task it was stopped for (`class:`); it ran again. */
  readonly preemptedBy: string | null;
}

export interface JsonTask extends ReportTask {
  readonly state: string;
  readonly critical: boolean;
  readonly worker: number | null;
  readonly durationMs: number;
  readonly exitCode: number | null;
  readonly reason: string | null;
  readonly skipCause: string | null;
  /** A blocked gate's failing parts, each with the values it read. */
  readonly blockedBy: readonly string[] | null;
  /** Its `approval: required`: waiting since when, or who decided what (ISO times). */
  readonly approval: {
    readonly state: string;
    readonly since: string;
    readonly decidedAt: string | null;
    readonly by: string | null;
    readonly reason: string | null;
  } | null;
  readonly usage: UsageTotals | null;
  readonly files: { readonly changed: number; readonly added: number; readonly removed: number } | null;
  readonly attempts: readonly JsonAttempt[];
  /** Attempts the watchdog stopped (`stallAfter`) and what came of each (empty when none stalled). */
  readonly stalls: readonly Stall[];
  /** A check that failed, then passed when run again on the same tree: how its failed run ended; else null. */
  readonly flaky: string | null;
}

/** The machine-readable report: the plan, every metric, and each task's attempts. */
export interface JsonReport {
  readonly format: 'weft-report';
  readonly version: 1;
  readonly generatedAt: string;
  readonly run: {
    readonly id: string;
    readonly plan: string;
    readonly status: RunSummary['status'];
    readonly reason: string | null;
    readonly mode: RunSummary['mode'];
    readonly workers: number;
    readonly createdAt: string;
    readonly finishedAt: string | null;
    readonly resumes: number;
  };
  readonly plan: { readonly name: string; readonly tasks: readonly ReportTask[] };
  readonly summary: {
    readonly counts: RunSummary['counts'];
    readonly successRate: number;
    readonly makespanMs: number;
    readonly pausedMs: number;
    readonly taskTimeMs: number;
    readonly handlingMs: number;
    readonly speedup: number;
    readonly utilisation: number;
    readonly criticalPath: readonly string[];
    /** With a `loop:`: each step's iteration (null: a task the loop does not repeat). */
    readonly criticalPathIterations?: readonly (number | null)[];
    readonly criticalPathMs: number;
    readonly workersUsed: readonly number[];
    readonly tasksPerWorker: Readonly<Record<string, number>>;
    readonly busyPerWorkerMs: Readonly<Record<string, number>>;
    readonly retries: number;
    /** Attempts that were fixes, sent back to their task (a conflict, a failed check…): not retries. */
    readonly fixes: number;
    /** Attempts stopped for a P0 task (`class:`). */
    readonly preemptions: number;
    readonly usage: UsageTotals;
    /** null when every task ran in place: weft did not see what they changed. */
    readonly changes: ChangeTotals | null;
    /** Each of the plan's contracts with its verdict (empty when it has none). */
    readonly contracts: NonNullable<RunSummary['contracts']>;
    /** Each iteration of the plan's loop: outcome, reasons, time, cost (empty when it has none). */
    readonly loop: NonNullable<RunSummary['loop']>;
  };
  readonly tasks: readonly JsonTask[];
}

const isoOrNull = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());

/** Builds the JSON report object (see {@link renderJson} for the text). */
export function buildJsonReport(input: ReportInput): JsonReport {
  const { summary: s, state } = input;
  const model = reportModel(input);
  const stalls = stallsById(s);
  return {
    format: 'weft-report',
    version: 1,
    generatedAt: new Date(input.generatedAt).toISOString(),
    run: {
      id: s.runId,
      plan: s.plan,
      status: s.status,
      reason: s.reason ?? null,
      mode: s.mode,
      workers: s.workers,
      createdAt: new Date(state.createdAt).toISOString(),
      finishedAt: isoOrNull(state.finishedAt),
      resumes: s.resumes,
    },
    plan: {
      name: s.plan,
      tasks: input.tasks.map(({ id, title, needs, after, executor }) => ({ id, title, needs, after, executor })),
    },
    summary: {
      counts: s.counts,
      successRate: s.successRate,
      makespanMs: s.makespanMs,
      pausedMs: s.pausedMs,
      taskTimeMs: s.taskTimeMs,
      handlingMs: s.handlingMs,
      speedup: s.speedup,
      utilisation: s.utilisation,
      criticalPath: s.criticalPath,
      ...(s.criticalPathIterations === undefined ? {} : { criticalPathIterations: s.criticalPathIterations }),
      criticalPathMs: s.criticalPathMs,
      workersUsed: model.workersUsed,
      tasksPerWorker: s.tasksPerWorker,
      busyPerWorkerMs: s.busyPerWorkerMs,
      retries: s.retries,
      fixes: s.fixes,
      preemptions: s.preemptions,
      usage: model.usage,
      changes: model.changes,
      contracts: s.contracts ?? [],
      loop: s.loop ?? [],
    },
    tasks: model.rows.map((r) => ({
      id: r.id,
      title: r.title,
      needs: r.needs,
      after: r.after,
      executor: r.executor,
      state: r.state,
      critical: r.critical,
      worker: r.worker ?? null,
      durationMs: r.durationMs,
      exitCode: r.exitCode ?? null,
      reason: r.reason ?? null,
      skipCause: r.skipCause ?? null,
      blockedBy: r.blockedBy ?? null,
      approval:
        r.approval === undefined
          ? null
          : {
              state: r.approval.state,
              since: new Date(r.approval.since).toISOString(),
              decidedAt: isoOrNull(r.approval.decidedAt),
              by: r.approval.by ?? null,
              reason: r.approval.reason ?? null,
            },
      usage: r.usage ?? null,
      files: r.files ?? null,
      flaky: r.flaky ?? null,
      attempts: r.attempts.map((a) => ({
        attempt: a.attempt,
        worker: a.worker,
        startedAt: new Date(a.startedAt).toISOString(),
        endedAt: isoOrNull(a.endedAt),
        durationMs: a.durationMs,
        outcome: a.outcome,
        error: a.error ?? null,
        usage: a.usage ?? null,
        score: a.score ?? null,
        preemptedBy: a.preemptedBy ?? null,
      })),
      stalls: stalls.get(r.id) ?? [],
    })),
  };
}

/** The JSON report as text (pretty-printed, newline-terminated). */
export function renderJson(input: ReportInput): string {
  return `${JSON.stringify(buildJsonReport(input), null, 2)}\n`;
}
