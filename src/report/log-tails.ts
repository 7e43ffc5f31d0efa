import { closeSync, existsSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { TASK_ID_PATTERN } from '../core/plan/plan-schema.js';
import type { RunState } from '../core/run/run-state.js';
import type { LogTail } from './report-input.js';

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

/** Bytes [from, to) of a file (fewer if it is shorter), without reading the rest. */
export function readRange(path: string, from: number, to: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(Math.max(0, to - from));
    return buffer.subarray(0, readSync(fd, buffer, 0, buffer.length, from));
  } finally {
    closeSync(fd);
  }
}

/** Reads the last `lines` lines of a file, or '' when it does not exist. */
export function readTail(path: string, lines: number): string {
  if (!existsSync(path)) return '';
  const size = statSync(path).size;
  const start = Math.max(0, size - TAIL_BYTES);
  let text = readRange(path, start, size).toString('utf8');
  // Started mid-file: the first line (and maybe a character) is cut, so drop it.
  if (start > 0) text = text.slice(text.indexOf('\n') + 1);
  return tailLines(text, lines);
}

/**
 * The tails of each task's latest attempt logs (tasks/<id>/<attempt>.stdout.log|stderr.log), with
 * `redact` applied (executors mask secrets in the files; this also covers files left by older versions).
 */
export function readLogTails(
  runDir: string,
  state: RunState,
  {
    lines = 40,
    redact = (t: string) => t,
  }: { readonly lines?: number; readonly redact?: (text: string) => string } = {},
): Record<string, LogTail> {
  const tails: Record<string, LogTail> = {};
  // One listing rather than a look per task: most tasks of a large plan (gates, tasks not run) have no folder.
  const folders = new Set(existsSync(join(runDir, 'tasks')) ? readdirSync(join(runDir, 'tasks')) : []);
  for (const r of state.tasks.values()) {
    // Ids name folders; never follow one that could leave the run folder.
    if (!folders.has(r.id) || !TASK_ID_PATTERN.test(r.id) || r.attempts.length === 0) continue;
    const attempt = Math.max(...r.attempts.map((a) => a.attempt));
    const base = join(runDir, 'tasks', r.id, String(attempt));
    const stdout = redact(readTail(`${base}.stdout.log`, lines));
    const stderr = redact(readTail(`${base}.stderr.log`, lines));
    if (stdout !== '' || stderr !== '') tails[r.id] = { attempt, stdout, stderr };
  }
  return tails;
}
