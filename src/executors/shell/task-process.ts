import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import type { AttemptLogPaths } from '../process/log-files.js';
import { killGroupOnAbort, killProcessGroup } from '../process/process-group.js';
import type { HelperExit } from '../process/spawn-helper.js';

/** How a task's process ended: an exit code or signal, or `error` when it never ran. */
export interface ProcessEnd {
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly error?: string;
  /** stderr kept in memory or a scratch file, for tasks without log files. */
  readonly stderrTail?: string;
  /** When the process was forked and reaped (epoch ms); absent when it never was. */
  readonly startedAt?: number;
  readonly endedAt?: number | undefined;
}

/** A spawn helper's report of a task's process as a {@link ProcessEnd}; `file` and `cwd` name what failed to start. */
export function helperEnd(exit: HelperExit, file: string, cwd: string): ProcessEnd {
  const tail = {
    ...(exit.stderrTail === undefined ? {} : { stderrTail: exit.stderrTail }),
    ...(exit.startedAt === undefined ? {} : { startedAt: exit.startedAt, endedAt: exit.endedAt }),
  };
  switch (exit.kind) {
    case 'exited':
      return { exitCode: exit.code, signal: null, ...tail };
    case 'signaled':
      return { exitCode: null, signal: exit.signal, ...tail };
    case 'not-found':
      return { exitCode: null, signal: null, error: `command not found: ${file}` };
    case 'no-cwd':
      return { exitCode: null, signal: null, error: `working directory ${cwd} does not exist` };
    case 'no-log-file':
      return { exitCode: null, signal: null, error: `could not start ${file}: cannot open its log files` };
    case 'helper-died':
      return {
        exitCode: null,
        signal: null,
        error: `the spawn helper running it died (${exit.detail}); its process group was killed`,
      };
  }
}

/** Where and how {@link spawnTask} runs a task's process, and where its output goes (no log files: stderr is kept in memory). */
export interface SpawnTaskOptions {
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  readonly logs: AttemptLogPaths | undefined;
  readonly signal: AbortSignal;
  readonly killGraceMs: number;
  readonly tailBytes: number;
}

/** The fallback without a spawn helper: Node forks the task itself. */
export function spawnTask(argv: readonly string[], o: SpawnTaskOptions): Promise<ProcessEnd> {
  const [file, ...args] = argv as [string, ...string[]];
  const fds: number[] = [];
  let stdio: ['ignore', number | 'ignore', number | 'pipe'];
  if (o.logs !== undefined) {
    fds.push(openSync(o.logs.stdout, 'w'), openSync(o.logs.stderr, 'w'));
    stdio = ['ignore', fds[0] as number, fds[1] as number];
  } else stdio = ['ignore', 'ignore', 'pipe'];
  return new Promise<ProcessEnd>((resolve) => {
    const child = spawn(file, args, { cwd: o.cwd, env: o.env, stdio, detached: true });
    const startedAt = Date.now(); // spawn() returns once the process is forked
    for (const fd of fds) closeSync(fd);
    let stderrMem = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderrMem = (stderrMem + chunk.toString()).slice(-o.tailBytes);
    });
    const stopKilling = killGroupOnAbort(child, o.signal, o.killGraceMs);
    let spawnError: NodeJS.ErrnoException | undefined;
    child.on('error', (error: NodeJS.ErrnoException) => {
      spawnError = error;
    });
    // Nothing a task started may outlive it; and what it left behind holding its stderr pipe would
    // hold off 'close' until it ended.
    child.on('exit', () => killProcessGroup(child, 'SIGKILL'));
    child.on('close', (code, signal) => {
      stopKilling();
      if (spawnError !== undefined)
        resolve({
          exitCode: null,
          signal: null,
          error:
            spawnError.code === 'ENOENT'
              ? `command not found: ${file}`
              : `could not start ${file}: ${spawnError.message}`,
        });
      else resolve({ exitCode: code, signal, stderrTail: stderrMem.trimEnd(), startedAt, endedAt: Date.now() });
    });
  });
}
