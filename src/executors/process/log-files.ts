import { closeSync, mkdirSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { attemptStem } from '../../core/ports/executor.js';

/**
 * Where one attempt leaves its traces: `<runDir>/tasks/<task>/<attempt>.stdout.log|stderr.log`
 * (what `weft logs` reads). No pid file: `weft resume` finds a dead coordinator's task processes by
 * the WEFT_RUN_ID, WEFT_TASK_ID and WEFT_ATTEMPT in their env (src/cli/orphans.ts).
 */
export interface AttemptLogPaths {
  readonly dir: string;
  readonly stdout: string;
  readonly stderr: string;
}

export function attemptLogPaths(runDir: string, taskId: string, attempt: number, trial?: string): AttemptLogPaths {
  const dir = join(runDir, 'tasks', taskId);
  const stem = attemptStem(attempt, trial);
  return {
    dir,
    stdout: join(dir, `${stem}.stdout.log`),
    stderr: join(dir, `${stem}.stderr.log`),
  };
}

/**
 * Creates the attempt's folder. A plain mkdir is one system call (~20 µs); `recursive` costs
 * twice that on every task, so it is only the fallback for a run dir without `tasks/` yet.
 * @returns whether it was made now (so no earlier attempt left anything in it).
 */
export function makeAttemptDir(paths: AttemptLogPaths): boolean {
  try {
    mkdirSync(paths.dir);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return mkdirSync(paths.dir, { recursive: true }) !== undefined;
    if (code !== 'EEXIST') throw error;
    return false;
  }
}

/**
 * The last `bytes` of a file as text, trailing whitespace trimmed; `''` when missing or empty.
 * Synchronous on purpose: a few kB read at once cost less than the promise and thread-pool hops of
 * the async calls, and a helper's scratch file must be read before its next task overwrites it.
 */
export function tailFile(path: string, bytes: number): string {
  const size = statSync(path, { throwIfNoEntry: false })?.size ?? 0;
  if (size === 0) return '';
  const fd = openSync(path, 'r');
  try {
    const length = Math.min(size, bytes);
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, size - length);
    return buffer.toString('utf8').trimEnd();
  } finally {
    closeSync(fd);
  }
}
