import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { WeftError } from '../core/errors.js';
import type { RunEvent } from '../core/events.js';
import { TASK_ID_PATTERN } from '../core/plan-schema.js';
import type { RunState } from '../core/run-state.js';
import { buildReportInput, type LogTail, type ReportInput } from './report-input.js';

export interface LoadReportOptions {
  /** Lines kept from the end of each log. @default 40 */
  readonly tailLines?: number;
  /** @default Date.now() */
  readonly generatedAt?: number;
}

/** Bytes read from the end of a log: enough for the tail, without reading a huge log whole. */
const TAIL_BYTES = 64 * 1024;
/** Characters kept of a tail, in case its lines are very long (minified JSON, progress bars). */
const TAIL_CHARS = 16 * 1024;

/** The last `n` lines of `text` (a trailing newline does not count as an empty last line). */
export function tailLines(text: string, n: number): string {
  const lines = text.replace(/\r?\n$/, '').split(/\r?\n/);
  const kept = lines.slice(-Math.max(0, n)).join('\n');
  return kept.length > TAIL_CHARS ? `…${kept.slice(-TAIL_CHARS)}` : kept;
}

/** Reads the last `lines` lines of a file, or '' when it does not exist. */
export function readTail(path: string, lines: number): string {
  if (!existsSync(path)) return '';
  const size = statSync(path).size;
  const start = Math.max(0, size - TAIL_BYTES);
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(size - start);
    readSync(fd, buf, 0, buf.length, start);
    let text = buf.toString('utf8');
    // Started mid-file: the first line (and maybe a character) is cut, so drop it.
    if (start > 0) text = text.slice(text.indexOf('\n') + 1);
    return tailLines(text, lines);
  } finally {
    closeSync(fd);
  }
}

/**
 * Parses events.jsonl. A torn last line (the process died mid-write) is ignored, as replay does;
 * a bad line anywhere else is an error naming the file and line.
 */
export function parseEventsJsonl(text: string, file = 'events.jsonl'): RunEvent[] {
  const lines = text.split('\n');
  const events: RunEvent[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      events.push(JSON.parse(line) as RunEvent);
    } catch (error) {
      const isLast = lines.slice(i + 1).every((l) => l.trim() === '');
      if (!isLast) throw new WeftError('WEFT_STORE', `${file}:${i + 1}: not a JSON event`, { cause: error, hint: 'the journal is damaged; restore it or delete the bad line' });
    }
  });
  return events;
}

/** The tails of each task's latest attempt logs (tasks/<id>/<attempt>.stdout.log|stderr.log). */
export function readLogTails(runDir: string, state: RunState, lines = 40): Record<string, LogTail> {
  const tails: Record<string, LogTail> = {};
  for (const r of state.tasks.values()) {
    // Ids name folders; never follow one that could leave the run folder.
    if (!TASK_ID_PATTERN.test(r.id) || r.attempts.length === 0) continue;
    const attempt = Math.max(...r.attempts.map((a) => a.attempt));
    const base = join(runDir, 'tasks', r.id, String(attempt));
    const stdout = readTail(`${base}.stdout.log`, lines);
    const stderr = readTail(`${base}.stderr.log`, lines);
    if (stdout !== '' || stderr !== '') tails[r.id] = { attempt, stdout, stderr };
  }
  return tails;
}

/**
 * Reads a run folder (`.weft/runs/<id>/`): plan.json, events.jsonl and the task logs, into the
 * input every renderer takes. A missing plan.json still gives a report (tasks from the journal).
 *
 * @example
 * writeFileSync(join(runDir, 'report.html'), renderHtml(loadReportInput(runDir)));
 */
export function loadReportInput(runDir: string, options: LoadReportOptions = {}): ReportInput {
  const journal = join(runDir, 'events.jsonl');
  if (!existsSync(journal)) {
    throw new WeftError('WEFT_RUN_NOT_FOUND', `no run journal at ${journal}`, { hint: 'pass a run folder, e.g. .weft/runs/<run id>' });
  }
  const events = parseEventsJsonl(readFileSync(journal, 'utf8'), journal);
  const planPath = join(runDir, 'plan.json');
  let plan: unknown;
  if (existsSync(planPath)) {
    try {
      plan = JSON.parse(readFileSync(planPath, 'utf8'));
    } catch (error) {
      throw new WeftError('WEFT_STORE', `${planPath}: not valid JSON`, { cause: error });
    }
  }
  const generatedAt = options.generatedAt ?? Date.now();
  // The tails depend on which attempt came last, so they are read after the fold.
  const probe = buildReportInput(events, plan, {}, { generatedAt });
  const tails = readLogTails(runDir, probe.state, options.tailLines ?? 40);
  return { ...probe, logTails: tails };
}
