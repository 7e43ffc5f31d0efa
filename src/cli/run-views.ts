import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { WeftError } from '../core/errors.js';
import { dependencyMap, summarize, type RunSummary } from '../core/run/metrics.js';
import { stateAt, type RunState } from '../core/run/run-state.js';
import type { RunEvent } from '../core/run/events.js';
import { contractRefsOf } from '../core/run/contract-verdicts.js';
import type { Store } from '../core/ports/store.js';
import { TASK_ID_PATTERN } from '../core/plan/plan-schema.js';
import { stripControl } from '../core/control-stripper.js';
import {
  buildReportInput,
  planTasksOf,
  readLogTails,
  readRange,
  renderHtml,
  renderJson,
  renderMarkdown,
} from '../report/index.js';
import { coordinatorOf, readRun, unknownTask } from './journal.js';
import { runDirOf } from './run-files.js';
import { runViewRedactor } from './secrets.js';

/*
 * What a run looks like from outside — its status, a task's log, its report — as values, for the
 * commands that print them (`weft status`, `weft logs`, `weft report`) and for `weft mcp`, which
 * answers them as tool results.
 */

/** The dependencies written in a run's plan.json, for `summarize`. */
export function depsOf(planJson: unknown): Map<string, string[]> {
  // As the run waited: with what checks verify, gates read and contracts' providers.
  return dependencyMap(planTasksOf(planJson));
}

/** The tasks a run's `loop:` repeats, from its plan.json (none without a loop). */
export function loopRepeatOf(planJson: unknown): readonly string[] {
  const repeat = (planJson as { plan?: { loop?: { repeat?: unknown } } } | undefined)?.plan?.loop?.repeat;
  return Array.isArray(repeat) ? repeat.filter((t): t is string => typeof t === 'string') : [];
}

/** A run's plan.json (what it ran), or undefined for a run without its folder. */
export function readPlanJson(runDir: string): unknown {
  const file = join(runDir, 'plan.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as unknown) : undefined;
}

/** Whether a live coordinator holds the run's lease. */
export async function driven(store: Store, runId: string): Promise<boolean> {
  const who = await coordinatorOf(store, runId);
  return who !== undefined && who !== 'dead';
}

/** Where a run stands. */
export interface RunStatusView {
  readonly summary: RunSummary;
  /** A running run: whether a live coordinator drives it (false: killed or crashed; `weft resume` continues it). */
  readonly driven?: boolean;
  readonly runDir: string;
}

/** A run's journal read whole: its events and their fold. */
type ReadJournal = () => Promise<{ readonly events: readonly RunEvent[]; readonly state: RunState }>;

/**
 * The run's summary from its journal; a live run's running tasks count their time so far.
 * @param read how to read the journal (a caller that keeps it, e.g. `JournalCache`, passes its own). @default the whole journal from the store
 */
export async function runStatus(
  store: Store,
  projectDir: string,
  runId: string,
  read: ReadJournal = () => readRun(store, runId),
): Promise<RunStatusView> {
  const { state } = await read();
  const runDir = runDirOf(projectDir, runId);
  const live = state.status === 'running' && (await driven(store, runId));
  // A live run: what is running counts its time so far.
  const planJson = readPlanJson(runDir);
  const contracts = contractRefsOf((planJson as { plan?: unknown } | undefined)?.plan);
  const summary = summarize(live ? stateAt(state, Date.now()) : state, depsOf(planJson), contracts);
  return state.status === 'running' ? { summary, driven: live, runDir } : { summary, runDir };
}

/** The formats `weft report` writes. */
export const REPORT_FORMATS = ['json', 'md', 'html'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

/**
 * The run's report as text (JSON, Markdown or self-contained HTML), secrets of this environment masked in the log tails.
 * @param read as for {@link runStatus}
 */
export async function runReport(
  store: Store,
  projectDir: string,
  runId: string,
  format: ReportFormat,
  read: ReadJournal = () => readRun(store, runId),
): Promise<string> {
  const { events, state } = await read();
  const runDir = runDirOf(projectDir, runId);
  // A live run: what is running counts its time so far, as in `weft status`.
  const live = state.status === 'running' && (await driven(store, runId));
  const input = buildReportInput(
    events,
    readPlanJson(runDir),
    existsSync(runDir) ? readLogTails(runDir, state, { redact: runViewRedactor(process.env, events[0]) }) : {},
    { state: live ? stateAt(state, Date.now()) : state },
  );
  if (format === 'json') return renderJson(input); // JSON escapes control characters itself
  // A task's output, title or reason must not drive the terminal the report is printed on.
  return stripControl(format === 'md' ? renderMarkdown(input) : renderHtml(input));
}

/** Which log of which attempt of a task. */
export interface TaskLogRef {
  readonly runId: string;
  readonly task: string;
  /** @default the latest attempt */
  readonly attempt?: number;
  readonly stream: 'stdout' | 'stderr';
}

/**
 * Where a task's log is, after checking the run has that task.
 * @param read as for {@link runStatus}
 */
export async function taskLogFile(
  store: Store,
  projectDir: string,
  ref: TaskLogRef,
  read: ReadJournal = () => readRun(store, ref.runId),
): Promise<{ file: string; attempt: number }> {
  if (!TASK_ID_PATTERN.test(ref.task)) throw new WeftError('WEFT_USAGE', `"${ref.task}" is not a task id`);
  const { state } = await read();
  const record = state.tasks.get(ref.task);
  if (record === undefined)
    throw unknownTask(
      `run ${ref.runId} has no task "${ref.task}"`,
      ref.task,
      state.tasks.keys(),
      `\`weft status ${ref.runId}\` lists its tasks`,
    );
  const made = record.attempts.at(-1)?.attempt ?? 0;
  if (ref.attempt !== undefined && ref.attempt > made && state.status !== 'running')
    throw new WeftError(
      'WEFT_USAGE',
      `task "${ref.task}" of run ${ref.runId} made ${made} attempt(s), not ${ref.attempt}`,
      {
        hint: 'leave out --attempt for the last one',
      },
    );
  const attempt = ref.attempt ?? (made === 0 ? 1 : made);
  const file = join(runDirOf(projectDir, ref.runId), 'tasks', ref.task, `${attempt}.${ref.stream}.log`);
  return { file, attempt };
}

/** A task's log tail as text. */
export interface TaskLogView {
  readonly attempt: number;
  readonly text: string;
  /** The log's size in bytes. */
  readonly bytes: number;
  /** Whether the start of the log was left out (it is longer than asked for). */
  readonly truncated: boolean;
  /** False when the attempt has written no such log (yet). */
  readonly exists: boolean;
}

/**
 * The last `maxBytes` of a task's log, secrets of this environment and of the plan's `env` masked and terminal control
 * sequences removed (the text goes to another program, which may show it on a terminal).
 * @param read as for {@link runStatus}
 */
export async function taskLog(
  store: Store,
  projectDir: string,
  ref: TaskLogRef,
  maxBytes: number,
  read: ReadJournal = () => readRun(store, ref.runId),
): Promise<TaskLogView> {
  const view = await read();
  const { file, attempt } = await taskLogFile(store, projectDir, ref, () => Promise.resolve(view));
  if (!existsSync(file)) return { attempt, text: '', bytes: 0, truncated: false, exists: false };
  const size = statSync(file).size;
  const start = Math.max(0, size - maxBytes);
  let text = readRange(file, start, size).toString('utf8');
  if (start > 0) {
    // A cut first line goes, unless it is all there is (one long line, e.g. JSON): its end is the
    // log's end. A character cut in two is dropped either way.
    const newline = text.indexOf('\n');
    text = newline >= 0 && newline < text.length - 1 ? text.slice(newline + 1) : text.replace(/^\uFFFD+/, '');
  }
  return {
    attempt,
    text: runViewRedactor(process.env, view.events[0])(stripControl(text)),
    bytes: size,
    truncated: start > 0,
    exists: true,
  };
}
