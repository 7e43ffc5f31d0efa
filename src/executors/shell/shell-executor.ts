import { spawn } from 'node:child_process';
import { mkdirSync, openSync, closeSync, existsSync, writeFileSync } from 'node:fs';
import type { AbortCause, Executor, TaskContext, TaskOutcome } from '../../core/executor.js';
import type { TaskSpec } from '../../core/plan-schema.js';
import { attemptLogPaths, tailFile } from '../process/log-files.js';
import { killGroupOnAbort, killProcessGroup } from '../process/process-group.js';
import { parseCommand } from './command.js';

export interface ShellExecutorOptions {
  /** How long a task may take to exit after SIGTERM before SIGKILL. @default 3000 */
  readonly killGraceMs?: number;
  /** Bytes of stderr kept in the failure for the report. @default 2000 */
  readonly tailBytes?: number;
  /** Base environment. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * Runs a task's command as argv without a shell (unless `shell: true`), in its own process group,
 * so a timeout or Ctrl-C kills everything it started. Output goes to per-attempt log files.
 */
export class ShellExecutor implements Executor {
  readonly name = 'shell';
  readonly version = '1';
  readonly info = {
    requires: 'run' as const,
    check(task: TaskSpec) {
      if (task.run === undefined || task.shell === true) return [];
      const parsed = parseCommand(task.run);
      return 'error' in parsed ? [{ field: 'run', message: `command ${parsed.error}`, fix: 'set shell: true, or write run as an argv list' }] : [];
    },
  };

  constructor(private readonly options: ShellExecutorOptions = {}) {}

  async run(ctx: TaskContext): Promise<TaskOutcome> {
    const { task } = ctx;
    const run = task.run ?? [];
    let file: string;
    let args: readonly string[];
    if (task.shell === true) {
      file = '/bin/sh';
      args = ['-c', typeof run === 'string' ? run : run.join(' ')];
    } else {
      const parsed = parseCommand(run);
      if ('error' in parsed) return { ok: false, failure: { message: `command ${parsed.error}; set shell: true or write run as an argv list` } };
      [file, ...args] = parsed.argv as [string, ...string[]];
    }
    if (!existsSync(ctx.workdir)) return { ok: false, failure: { message: `working directory ${ctx.workdir} does not exist` } };

    const logs = ctx.runDir === undefined ? undefined : attemptLogPaths(ctx.runDir, task.id, ctx.attempt);
    let stdoutPath: string | undefined;
    let stderrPath: string | undefined;
    let stdio: ['ignore', number | 'ignore', number | 'pipe'];
    const fds: number[] = [];
    if (logs !== undefined) {
      mkdirSync(logs.dir, { recursive: true });
      stdoutPath = logs.stdout;
      stderrPath = logs.stderr;
      fds.push(openSync(stdoutPath, 'w'), openSync(stderrPath, 'w'));
      stdio = ['ignore', fds[0] as number, fds[1] as number];
    } else stdio = ['ignore', 'ignore', 'pipe'];

    const env = { ...(this.options.env ?? process.env), ...task.env, WEFT_RUN_ID: ctx.runId, WEFT_TASK_ID: task.id, WEFT_ATTEMPT: String(ctx.attempt), WEFT_WORKER: String(ctx.worker) };
    const started = Date.now();
    return new Promise<TaskOutcome>((resolve) => {
      const child = spawn(file, args as string[], { cwd: ctx.workdir, env, stdio, detached: true });
      for (const fd of fds) closeSync(fd);
      // If weft itself dies, `weft resume` finds the process group by this file and stops it.
      if (logs !== undefined && child.pid !== undefined) writeFileSync(logs.pid, String(child.pid));
      let stderrMem = '';
      child.stderr?.on('data', (chunk: Buffer) => {
        stderrMem = (stderrMem + chunk.toString()).slice(-(this.options.tailBytes ?? 2000));
      });
      const stopKilling = killGroupOnAbort(child, ctx.signal, this.options.killGraceMs ?? 3000);

      let spawnError: NodeJS.ErrnoException | undefined;
      child.on('error', (error: NodeJS.ErrnoException) => {
        spawnError = error;
      });
      child.on('close', (code, signal) => {
        stopKilling();
        // Nothing a task started may outlive it.
        killProcessGroup(child, 'SIGKILL');
        const durationMs = Date.now() - started;
        void (async () => {
          const stdoutTail = stdoutPath === undefined ? '' : await tailFile(stdoutPath, 4000);
          const result = { exitCode: code, signal, ...(stdoutTail === '' ? {} : { text: stdoutTail }) };
          if (spawnError !== undefined) {
            const message = spawnError.code === 'ENOENT' ? `command not found: ${file}` : `could not start ${file}: ${spawnError.message}`;
            resolve({ ok: false, failure: { message, exitCode: null, signal: null } });
            return;
          }
          if (code === 0) {
            resolve({ ok: true, result });
            return;
          }
          const stderrTail = stderrPath === undefined ? stderrMem : await tailFile(stderrPath, this.options.tailBytes ?? 2000);
          const aborted = ctx.signal.aborted ? (ctx.signal.reason as AbortCause) : undefined;
          const message = aborted?.kind === 'timeout' ? `timed out after ${aborted.ms / 1000}s` : signal !== null ? `killed by ${signal}` : `exited with code ${code}`;
          resolve({ ok: false, failure: { message: `${message} after ${(durationMs / 1000).toFixed(1)}s`, exitCode: code, signal, timedOut: aborted?.kind === 'timeout', ...(stderrTail === '' ? {} : { stderrTail }) }, result });
        })();
      });
    });
  }
}
