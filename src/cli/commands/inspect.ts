import { stallLine } from '../../core/run/stalls.js';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { formatDuration } from '../../core/plan/duration.js';
import { WeftError } from '../../core/errors.js';
import { TERMINAL_STATES } from '../../core/schedule/scheduler.js';
import { TASK_ID_PATTERN } from '../../core/plan/plan-schema.js';
import { readRange } from '../../report/index.js';
import { EXIT } from '../exit-codes.js';
import { formatSummary, painter, stateMark } from '../format.js';
import { openJournal, readRun, resolveRunId } from '../journal.js';
import { logOffsets } from '../../executors/process/scrub-file.js';
import { runDirOf } from '../run-files.js';
import { runViewRedactor } from '../secrets.js';
import { ControlStripper, stripControl } from '../../core/control-stripper.js';
import { wire } from '../wiring.js';
import type { Store } from '../../core/ports/store.js';
import { mayRunAgain, type RunState } from '../../core/run/run-state.js';
import type { TaskSummary } from '../../core/run/metrics.js';
import {
  driven,
  loopRepeatOf,
  readPlanJson,
  REPORT_FORMATS,
  runReport,
  runStatus,
  taskLogFile,
  type ReportFormat,
} from '../run-views.js';

interface Common {
  readonly dir?: string;
  readonly json?: boolean;
}

async function withStore<T>(dir: string | undefined, fn: (store: Store, projectDir: string) => Promise<T>): Promise<T> {
  const { projectDir, config } = wire(dir);
  const store = await openJournal(projectDir, config, { create: false });
  try {
    return await fn(store, projectDir);
  } finally {
    await store.close();
  }
}

/** `weft runs`: every run in the journal, newest first. */
export async function runsCommand(opts: Common): Promise<number> {
  return withStore(opts.dir, async (store) => {
    const runs = await store.listRuns();
    if (opts.json === true) process.stdout.write(`${JSON.stringify(runs)}\n`);
    else if (runs.length === 0) process.stdout.write('no runs yet — start one with `weft run <plan>`\n');
    else {
      process.stdout.write(
        `${'RUN'.padEnd(22)} ${'PLAN'.padEnd(20)} ${'STATUS'.padEnd(12)} TASKS  STARTED                 LAST EVENT\n`,
      );
      let orphans = 0;
      for (const r of runs) {
        const orphaned = r.status === 'running' && !(await driven(store, r.id));
        if (orphaned) orphans++;
        process.stdout.write(
          `${r.id.padEnd(22)} ${stripControl(r.plan).slice(0, 20).padEnd(20)} ${(orphaned ? 'interrupted*' : r.status).padEnd(12)} ${String(r.tasks).padStart(5)}  ${new Date(r.createdAt).toISOString().padEnd(23)} +${formatDuration(r.lastEventAt - r.createdAt)}\n`,
        );
      }
      if (orphans > 0) process.stdout.write(`* ${ORPHANED}\n`);
    }
    return EXIT.ok;
  });
}

const ORPHANED =
  'the journal says running, but no coordinator drives it (killed or crashed); `weft resume` continues it';

/** `weft status [run]`: where a run stands, task by task. */
export async function statusCommand(given: string | undefined, opts: Common): Promise<number> {
  return withStore(opts.dir, async (store, projectDir) => {
    const runId = await resolveRunId(store, given);
    const { summary, driven: live, runDir } = await runStatus(store, projectDir, runId);
    if (opts.json === true) {
      process.stdout.write(`${JSON.stringify(live === undefined ? summary : { ...summary, driven: live })}\n`);
      return EXIT.ok;
    }
    const c = painter();
    process.stdout.write(`${formatSummary(summary, runDir)}\n`);
    if (live === false) process.stdout.write(`  ${c.yellow('interrupted')}  ${ORPHANED}\n`);
    process.stdout.write('\n');
    for (const t of summary.tasks) {
      const mark = stateMark(t.state);
      process.stdout.write(
        `  ${mark} ${t.id.padEnd(24)} ${t.state.padEnd(10)} ${t.attempts > 0 ? `${formatDuration(t.durationMs).padStart(7)}  ${t.attempts} attempt${t.attempts === 1 ? '' : 's'}` : ''}${rowReason(t, c)}${t.iteration === undefined ? '' : c.dim(`  ${iterationNote(t.state, t.iteration)}`)}\n`,
      );
      for (const stall of t.stalls ?? []) process.stdout.write(`      ${c.yellow(stallLine(stall))}\n`);
    }
    return EXIT.ok;
  });
}

/** Why a task stands where it does, for its status row: a ready task may be held for a person. */
function rowReason(t: TaskSummary, c: ReturnType<typeof painter>): string {
  if (t.state === 'ready' && t.approval?.state === 'waiting') return `  ${c.yellow('waits for approval')}`;
  return t.reason === undefined ? '' : c.dim(`  ${stripControl(t.reason)}`);
}

/**
 * Where a repeated task stands in the loop's current iteration, and how it ended in the one before:
 * `not yet in iteration 2; iteration 1: blocked — tasks.code.output.score = 3 < 6`.
 */
function iterationNote(state: string, it: NonNullable<TaskSummary['iteration']>): string {
  const before = `iteration ${it.current - 1}: ${it.before.state}${it.before.reason === undefined ? '' : ` — ${stripControl(it.before.reason)}`}`;
  return `${state === 'pending' ? 'not yet in' : 'in'} iteration ${it.current}; ${before}`;
}

const LOG_CHUNK = 1 << 20;

/** stdout's reader went away (`weft logs … | head -1`): not a failure, the rest is just not wanted. */
class StdoutClosed extends Error {}

/** Writes to stdout, waiting while its buffer is full. @throws StdoutClosed once the reader has gone */
function writeOut(text: string): Promise<void> {
  // After an EPIPE the stream is destroyed: a write would neither fail nor ever drain.
  if (process.stdout.destroyed) return Promise.reject(new StdoutClosed());
  if (process.stdout.write(text)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const done = (error?: NodeJS.ErrnoException): void => {
      process.stdout.off('drain', done).off('error', done);
      if (error === undefined) resolve();
      else reject(error.code === 'EPIPE' ? new StdoutClosed(error.message, { cause: error }) : error);
    };
    process.stdout.on('drain', done).on('error', done);
  });
}

/** `weft logs <run> <task> [-f]`: a task's output; -f follows it until the task ends. */
export async function logsCommand(
  given: string,
  task: string,
  opts: Common & { follow?: boolean; attempt?: number; stderr?: boolean },
): Promise<number> {
  if (!TASK_ID_PATTERN.test(task)) throw new WeftError('WEFT_USAGE', `"${task}" is not a task id`);
  const shown = withStore(opts.dir, async (store, projectDir) => {
    const runId = await resolveRunId(store, given);
    const ref = {
      runId,
      task,
      stream: opts.stderr === true ? ('stderr' as const) : ('stdout' as const),
      ...(opts.attempt === undefined ? {} : { attempt: opts.attempt }),
    };
    let { file, attempt } = await taskLogFile(store, projectDir, ref);
    const read = await readRun(store, runId);
    let { state } = read;
    let offset = 0;
    // Secrets of this environment and of the plan's `env` are masked too (the executors mask the run's
    // own in the files once an attempt ends); text that may be the start of one waits for the next read.
    const redact = runViewRedactor(process.env, read.events[0]);
    const hold = Math.max(0, ...redact.secrets.map((s) => s.length - 1));
    let held = '';
    let decoder = new StringDecoder('utf8'); // a read may end inside a character
    // A task's output must not drive the user's terminal (an OSC 52 clipboard write, cursor moves).
    let strip = new ControlStripper();
    const show = async (piece: string, final: boolean): Promise<void> => {
      const text = redact(held + strip.push(piece) + (final ? strip.end() : ''));
      const cut = final || redact.secrets.length === 0 ? text.length : Math.max(0, text.length - hold);
      held = text.slice(cut);
      if (cut > 0) await writeOut(text.slice(0, cut));
    };
    // Only what is new, a chunk at a time, as fast as stdout takes it: a log may be far larger than memory should hold.
    // `offset` counts the log as written; once the attempt ends the file is scrubbed shorter (see logOffsets).
    const pump = async (final = false): Promise<void> => {
      const size = existsSync(file) ? statSync(file).size : 0;
      const offsets = logOffsets(file, size);
      for (let at = offsets.toFile(offset); at < size;) {
        const bytes = readRange(file, at, Math.min(size, at + LOG_CHUNK));
        if (bytes.length === 0) break;
        at += bytes.length;
        offset = offsets.toRaw(at);
        await show(decoder.write(bytes), false);
      }
      if (final) await show(decoder.end(), true);
    };
    await pump(opts.follow !== true);
    if (opts.follow !== true) {
      const answer = existsSync(file) || opts.stderr === true ? undefined : answerOf(state, task);
      if (answer !== undefined) {
        process.stderr.write(`weft: ${task} left no log here (an API task writes none); this is its answer\n`);
        await show(`${answer.endsWith('\n') ? answer : `${answer}\n`}`, true);
      } else if (!existsSync(file))
        process.stderr.write(`weft: ${noLog(state, task, attempt, opts.stderr === true ? 'stderr' : 'stdout')}\n`);
      else if (offset === 0 && opts.stderr !== true) {
        // A failed command often says why only on stderr: an empty answer must not look like "nothing happened".
        const other = file.replace(/\.stdout\.log$/, '.stderr.log');
        const bytes = existsSync(other) ? statSync(other).size : 0;
        if (bytes > 0)
          process.stderr.write(
            `weft: ${task} printed nothing on stdout; --stderr shows its ${bytes} bytes of stderr\n`,
          );
      }
      return EXIT.ok;
    }
    // Following the task (no --attempt): a retry's or the loop's next iteration's attempt goes on where
    // the one before it ended, under a line (on stderr) naming it; the loop's tasks are followed while it may repeat them.
    const repeat = opts.attempt === undefined ? loopRepeatOf(readPlanJson(runDirOf(projectDir, runId))) : [];
    const latest = (): number => state.tasks.get(task)?.attempts.at(-1)?.attempt ?? attempt;
    const next = async (): Promise<void> => {
      await pump(true);
      ({ file, attempt } = await taskLogFile(store, projectDir, { ...ref, attempt: attempt + 1 }));
      offset = 0;
      decoder = new StringDecoder('utf8');
      strip = new ControlStripper();
      process.stderr.write(`── attempt ${attempt} ──\n`);
    };
    const ended = (): boolean => {
      const r = state.tasks.get(task);
      if (r === undefined) return false;
      // The attempt asked for: once it has ended (a later one writes elsewhere).
      if (opts.attempt !== undefined)
        return (
          r.attempts.some((a) => a.attempt === attempt && a.endedAt !== undefined) ||
          (TERMINAL_STATES.has(r.state) && latest() === attempt)
        );
      return TERMINAL_STATES.has(r.state) && latest() === attempt && !mayRunAgain(state, task, repeat);
    };
    while (!ended() && state.status === 'running') {
      await new Promise((r) => setTimeout(r, 250));
      await pump();
      ({ state } = await readRun(store, runId));
      if (opts.attempt === undefined && latest() > attempt) {
        await next();
        continue;
      }
      // No coordinator (read again: one that just finished released its lease after journaling the end).
      if (
        state.status === 'running' &&
        !ended() &&
        !(await driven(store, runId)) &&
        (await readRun(store, runId)).state.status === 'running'
      ) {
        await pump(true);
        process.stderr.write(`weft: stopped following: ${ORPHANED}\n`);
        return EXIT.ok;
      }
    }
    // The run ended while this follower was behind: the attempts after the one it showed, in order.
    while (opts.attempt === undefined && latest() > attempt) await next();
    await pump(true);
    return EXIT.ok;
  });
  // The reader went away (`| head -1`): it has what it wanted; nothing is wrong.
  return shown.catch((error: unknown) => {
    if (error instanceof StdoutClosed) return EXIT.ok;
    throw error;
  });
}

/** `weft report <run> [--format json|md|html] [-o file]`. */
export async function reportCommand(
  given: string | undefined,
  opts: Common & { format?: string; output?: string },
): Promise<number> {
  // `--json --format md` printed Markdown: the two flags disagree, and neither wins quietly.
  if (opts.json === true && opts.format !== undefined && opts.format !== 'json')
    throw new WeftError('WEFT_USAGE', `--json asks for --format json, but --format says "${opts.format}"`, {
      hint: 'give one of them',
    });
  const format = opts.format ?? (opts.json === true ? 'json' : 'html');
  if (!(REPORT_FORMATS as readonly string[]).includes(format))
    throw new WeftError('WEFT_USAGE', `--format expects json, md or html, got "${format}"`, {
      hint: 'e.g. --format md; without --format the report is html',
    });
  return withStore(opts.dir, async (store, projectDir) => {
    const runId = await resolveRunId(store, given);
    const text = await runReport(store, projectDir, runId, format as ReportFormat);
    const runDir = runDirOf(projectDir, runId);
    const output = opts.output ?? (format === 'html' ? join(runDir, 'report.html') : undefined);
    if (output === undefined) process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
    else {
      if (opts.output === undefined) mkdirSync(runDir, { recursive: true }); // a run folder someone removed
      writeReport(output, text);
      process.stdout.write(`${output}\n`);
    }
    return EXIT.ok;
  });
}

/** Writes a report file; a path that cannot take one (no such folder, a folder) is the user's to fix. */
function writeReport(output: string, text: string): void {
  try {
    writeFileSync(output, text);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such folder' : code === 'EISDIR' ? 'it is a folder' : (error as Error).message;
    throw new WeftError('WEFT_USAGE', `cannot write the report to ${output}: ${why}`, {
      hint: '-o takes a file path in a folder that exists',
    });
  }
}

/** Why a task's attempt has no log file to show: not yet, never started, or kept elsewhere. */
/** What an API task answered (it writes no log): its text, else its structured output as JSON. */
function answerOf(state: RunState, task: string): string | undefined {
  const result = state.tasks.get(task)?.result;
  if (result?.cached === true) return undefined;
  if (result?.text !== undefined && result.text !== '') return result.text;
  return result?.output === undefined ? undefined : JSON.stringify(result.output, null, 2);
}

function noLog(state: RunState, task: string, attempt: number, stream: 'stdout' | 'stderr'): string {
  const r = state.tasks.get(task);
  if (r === undefined || !TERMINAL_STATES.has(r.state)) return `no ${stream} log for ${task} attempt ${attempt} yet`;
  if (r.attempts.length === 0) return `${task} never started (it was ${r.state}): it has no log`;
  if (r.result?.cached === true) return `${task} took its result from the cache (nothing ran): it has no log`;
  return `${task} attempt ${attempt} left no ${stream} log here: a gate runs nothing, and a task a remote worker (weft worker) ran keeps its logs on that worker, under .weft/worker/`;
}
