import type { TaskFailure } from '../core/errors.js';
import type { TaskResultData, Usage } from '../core/run/events.js';
import type { ApprovalRecord, AttemptRecord, TaskRecord } from '../core/run/run-state.js';
import type { LogTail, ReportInput } from './report-input.js';
import { attemptRunMs, retriesByTask } from '../core/run/metrics.js';

/** How an attempt ended; `running` when the journal never saw it end. */
export type AttemptOutcome = NonNullable<AttemptRecord['outcome']> | 'running';
export const ATTEMPT_OUTCOMES: readonly AttemptOutcome[] = [
  'succeeded',
  'failed',
  'retrying',
  'cancelled',
  'interrupted',
  'blocked',
  'running',
];

export interface UsageTotals {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  /** What the priced usage cost; usage of a model with no price adds nothing here (see `unpriced`). */
  costUsd: number;
  /** Models whose tokens have no price (not in `pricing:`): the cost leaves them out. Absent when none. */
  unpriced?: string[];
}

/** Files changed and lines added/removed, as a git diff --shortstat counts them. */
export interface ChangeTotals {
  filesChanged: number;
  linesAdded: number;
  linesRemoved: number;
}

export interface AttemptRow {
  readonly attempt: number;
  readonly worker: number;
  readonly startedAt: number;
  /** Unset while (or if) the journal never saw the attempt end. */
  readonly endedAt?: number;
  /** Where a chart should end the bar: `endedAt`, or the run's last known moment. */
  readonly drawEnd: number;
  readonly durationMs: number;
  readonly outcome: AttemptOutcome;
  readonly error?: TaskFailure;
  readonly usage?: Usage;
  /** Its output's score (`score:`), kept or sent back. */
  readonly score?: number;
  /** The P0 task it was stopped for (`class:`). */
  readonly preemptedBy?: string;
}

/** One task with everything the renderers show about it. */
export interface TaskRow {
  readonly id: string;
  readonly title: string;
  readonly executor: string;
  readonly needs: readonly string[];
  readonly after: readonly string[];
  readonly state: TaskRecord['state'];
  readonly reason?: string;
  readonly skipCause?: TaskRecord['skipCause'];
  readonly attempts: readonly AttemptRow[];
  /** Running time summed over attempts, ms (as `summarize` counts it). */
  readonly durationMs: number;
  /** Worker of the latest attempt. */
  readonly worker?: number;
  readonly exitCode?: number | null;
  readonly usage?: UsageTotals;
  readonly files?: NonNullable<TaskResultData['files']>;
  /** The failure of the latest attempt that failed. */
  readonly error?: TaskFailure;
  /** On the bottleneck chain. */
  readonly critical: boolean;
  /** Its retries, as the summary counts them (a loop's new iteration is not one). */
  readonly retries: number;
  /** A blocked gate's failing parts, with the values they read. */
  readonly blockedBy?: readonly string[];
  /** Its `approval: required`: waiting, or who decided what. */
  readonly approval?: ApprovalRecord;
  readonly log?: LogTail;
  /** A check that failed, then passed when run again on the same tree: how its failed run ended. */
  readonly flaky?: string;
}

/** The run's model: rows per task plus the run-wide figures the summary does not hold. */
export interface ReportModel {
  readonly rows: readonly TaskRow[];
  /** First attempt start (or the run's creation when nothing started), ms since the epoch. */
  readonly origin: number;
  /** The last moment the journal knows of, ms since the epoch. */
  readonly end: number;
  /** Workers that ran at least one attempt, ascending. */
  readonly workersUsed: readonly number[];
  readonly usage: UsageTotals;
  /** What the run changed, as the summary has it; null when every task ran in place (not measured). */
  readonly changes: ChangeTotals | null;
  /** Consecutive pairs on the bottleneck chain, `from→to`. */
  readonly criticalEdges: ReadonlySet<string>;
  /** When weft was stopped between lives of the run, within [origin, end], in order. */
  readonly pauses: readonly { readonly from: number; readonly to: number }[];
}

/** Run time at `t`: ms since the model's origin, the pauses (weft stopped between lives of the run) left out. */
export function sinceStart(model: Pick<ReportModel, 'origin' | 'pauses'>, t: number): number {
  return model.pauses.reduce((shown, p) => shown - Math.max(0, Math.min(t, p.to) - p.from), t - model.origin);
}

export const edgeKey = (from: string, to: string): string => `${from}\u2192${to}`;

/**
 * Up to this many tasks a report shows every one: in its task table, its logs and (HTML) its task
 * graph. A larger run's report stays one that opens (a 100,000-task run's was 146 MB of HTML): no
 * graph, and the table and logs show this many tasks, chosen by {@link shownRows}.
 */
export const FULL_REPORT_TASKS = 2000;

const FAILED = new Set<string>(['failed', 'blocked']);

/**
 * The rows a report's task table and logs show: every row when there are at most `limit`, else
 * `limit` of them — failed and blocked tasks first, then the critical path, then the longest —
 * in the plan's order.
 */
export function shownRows(rows: readonly TaskRow[], limit = FULL_REPORT_TASKS): readonly TaskRow[] {
  if (rows.length <= limit) return rows;
  const rank = (r: TaskRow): number => (FAILED.has(r.state) ? 0 : r.critical ? 1 : 2);
  const order = rows.map((r, i) => i);
  order.sort((a, b) => {
    const ra = rows[a] as TaskRow;
    const rb = rows[b] as TaskRow;
    return rank(ra) - rank(rb) || rb.durationMs - ra.durationMs || a - b;
  });
  return order
    .slice(0, limit)
    .sort((a, b) => a - b)
    .map((i) => rows[i] as TaskRow);
}

/** What a report says when it shows only some tasks ({@link shownRows}); '' when it shows all. */
export function shownNote(total: number, shown: number): string {
  if (shown >= total) return '';
  return `${shown.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} tasks shown: failed and blocked ones first, then the critical path, then the longest. \`weft report --format json\` lists every task.`;
}

const zeroUsage = (): UsageTotals => ({
  inputTokens: 0,
  outputTokens: 0,
  cacheReadTokens: 0,
  cacheWriteTokens: 0,
  costUsd: 0,
});

function addUsage(into: UsageTotals, u: Usage): void {
  into.inputTokens += u.inputTokens ?? 0;
  into.outputTokens += u.outputTokens ?? 0;
  into.cacheReadTokens += u.cacheReadTokens ?? 0;
  into.cacheWriteTokens += u.cacheWriteTokens ?? 0;
  into.costUsd += u.costUsd ?? 0;
  const tokens = (u.inputTokens ?? 0) + (u.outputTokens ?? 0);
  if (u.costUsd === undefined && tokens > 0) addUnpriced(into, [u.model ?? 'a model']);
}

function addTotals(into: UsageTotals, u: UsageTotals): void {
  addUsage(into, u); // its costUsd is a number: nothing unpriced from here
  addUnpriced(into, u.unpriced ?? []);
}

/** Names models whose tokens have no price, each once. */
function addUnpriced(into: UsageTotals, models: readonly string[]): void {
  for (const model of models) if (!(into.unpriced ??= []).includes(model)) into.unpriced.push(model);
}

function lastMoment(input: ReportInput): number {
  const { state } = input;
  let end = Math.max(state.createdAt, state.finishedAt ?? -Infinity);
  for (const r of state.tasks.values()) {
    end = Math.max(end, r.endedAt ?? -Infinity, r.readyAt ?? -Infinity);
    for (const a of r.attempts) end = Math.max(end, a.startedAt, a.endedAt ?? -Infinity);
  }
  return end;
}

/** Derives what every renderer shows, so JSON, Markdown and HTML always agree. */
export function reportModel(input: ReportInput): ReportModel {
  const { state, summary } = input;
  const end = lastMoment(input);
  const critical = new Set(summary.criticalPath);
  const criticalEdges = new Set(
    summary.criticalPath.slice(1).map((id, i) => edgeKey(summary.criticalPath[i] as string, id)),
  );
  const usage = zeroUsage();
  const workers = new Set<number>();
  let origin = Infinity;
  const retries = retriesByTask(state);
  const rows = input.tasks.map((t): TaskRow => {
    const r = state.tasks.get(t.id);
    let taskUsage: UsageTotals | undefined;
    let error: TaskFailure | undefined;
    let durationMs = 0;
    const attempts = (r?.attempts ?? []).map((a): AttemptRow => {
      workers.add(a.worker);
      origin = Math.min(origin, a.startedAt);
      // The attempt's own time (its process's life), as the summary and `weft status` count it.
      const ran = attemptRunMs(a);
      durationMs += ran;
      if (a.usage !== undefined) addUsage((taskUsage ??= zeroUsage()), a.usage);
      if (a.error !== undefined) error = a.error;
      return {
        attempt: a.attempt,
        worker: a.worker,
        startedAt: a.startedAt,
        ...(a.endedAt === undefined ? {} : { endedAt: a.endedAt }),
        drawEnd: a.endedAt ?? end,
        durationMs: ran,
        outcome: a.outcome ?? 'running',
        ...(a.error === undefined ? {} : { error: a.error }),
        ...(a.usage === undefined ? {} : { usage: a.usage }),
        ...(a.score === undefined ? {} : { score: a.score }),
        ...(a.preemptedBy === undefined ? {} : { preemptedBy: a.preemptedBy }),
      };
    });
    if (taskUsage !== undefined) addTotals(usage, taskUsage);
    const files = r?.result?.files;
    const log = input.logTails[t.id];
    // A failed task's exit code is its last attempt's (as the summary has it).
    const exitCode = r?.result?.exitCode ?? r?.attempts.at(-1)?.error?.exitCode;
    return {
      ...t,
      state: r?.state ?? 'pending',
      ...(r?.reason === undefined ? {} : { reason: r.reason }),
      ...(r?.skipCause === undefined ? {} : { skipCause: r.skipCause }),
      attempts,
      durationMs,
      ...(attempts.length === 0 ? {} : { worker: (attempts.at(-1) as AttemptRow).worker }),
      ...(exitCode === undefined ? {} : { exitCode }),
      ...(taskUsage === undefined ? {} : { usage: taskUsage }),
      ...(files === undefined ? {} : { files }),
      ...(error === undefined ? {} : { error }),
      critical: critical.has(t.id),
      retries: retries.get(t.id) ?? 0,
      ...(r?.blockedBy === undefined ? {} : { blockedBy: r.blockedBy }),
      ...(r?.approval === undefined ? {} : { approval: r.approval }),
      ...(log === undefined ? {} : { log }),
      ...(r?.result?.flaky === undefined || r.state !== 'succeeded' ? {} : { flaky: r.result.flaky }),
    };
  });
  if (!Number.isFinite(origin)) origin = state.createdAt;
  const last = Math.max(end, origin);
  const pauses = state.pauses
    .map((p) => ({ from: Math.max(p.from, origin), to: Math.min(p.to, last) }))
    .filter((p) => p.to > p.from);
  return {
    rows,
    origin,
    end: last,
    workersUsed: [...workers].sort((a, b) => a - b),
    usage,
    changes:
      summary.files === undefined
        ? null
        : { filesChanged: summary.files.changed, linesAdded: summary.files.added, linesRemoved: summary.files.removed },
    criticalEdges,
    pauses,
  };
}
