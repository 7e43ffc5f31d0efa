import { spawn } from 'node:child_process';
import type { Writable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { killGroupOnAbort, killProcessGroup } from './process-group.js';

export interface SpawnLinesOptions {
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  /** Aborting kills the process group (SIGTERM, then SIGKILL after `killGraceMs`). */
  readonly signal: AbortSignal;
  /** Called for every complete stdout line, in order, without the newline. */
  readonly onLine: (line: string) => void;
  /** Called for every complete stderr line (notices some CLIs print there, e.g. their own retries). */
  readonly onStderrLine?: (line: string) => void;
  /** Raw stdout / stderr are copied here as they arrive (the attempt's log files); left open. */
  readonly stdoutLog?: Writable;
  readonly stderrLog?: Writable;
  /** @default 3000 */
  readonly killGraceMs?: number;
  /** Bytes of stderr kept for the failure message. @default 4000 */
  readonly stderrTailBytes?: number;
  /**
   * After the process exits, how long a grandchild may keep stdout open before the group is
   * killed (an agent's background command must not hold the attempt open). @default 2000
   */
  readonly exitGraceMs?: number;
}

/** How a line-streaming process ended. Never thrown: a failed spawn is `spawnError`. */
export interface LineProcessExit {
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Set when the binary could not be started (`ENOENT`: not installed). */
  readonly spawnError?: NodeJS.ErrnoException;
  readonly stderrTail: string;
  readonly durationMs: number;
}

/**
 * Runs `file args…` without a shell, stdin closed, in its own process group, and hands stdout to
 * `onLine` line by line until EOF (Codex aborts its turn when stdout closes early, so it is always
 * read to the end). stderr is kept apart. Whatever the process started is killed once it ends.
 */
export function spawnLines(
  file: string,
  args: readonly string[],
  options: SpawnLinesOptions,
): Promise<LineProcessExit> {
  const started = Date.now();
  const tailBytes = options.stderrTailBytes ?? 4000;
  return new Promise<LineProcessExit>((resolve) => {
    const child = spawn(file, args as string[], {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const stopKilling = killGroupOnAbort(child, options.signal, options.killGraceMs ?? 3000);

    const stdout = lineSplitter(options.onLine);
    child.stdout.on('data', (chunk: Buffer) => {
      options.stdoutLog?.write(chunk);
      stdout.write(chunk);
    });
    child.stdout.on('end', () => stdout.end());

    let stderrTail = '';
    const stderr = options.onStderrLine === undefined ? undefined : lineSplitter(options.onStderrLine);
    child.stderr.on('data', (chunk: Buffer) => {
      options.stderrLog?.write(chunk);
      stderrTail = (stderrTail + chunk.toString('utf8')).slice(-tailBytes);
      stderr?.write(chunk);
    });
    child.stderr.on('end', () => stderr?.end());

    let exitTimer: NodeJS.Timeout | undefined;
    child.on('exit', () => {
      exitTimer = setTimeout(() => killProcessGroup(child, 'SIGKILL'), options.exitGraceMs ?? 2000);
      exitTimer.unref();
    });
    let spawnError: NodeJS.ErrnoException | undefined;
    child.on('error', (error: NodeJS.ErrnoException) => {
      spawnError = error;
    });
    child.on('close', (exitCode, signal) => {
      stopKilling();
      if (exitTimer !== undefined) clearTimeout(exitTimer);
      // Nothing the process started may outlive it.
      killProcessGroup(child, 'SIGKILL');
      resolve({
        exitCode,
        signal,
        ...(spawnError === undefined ? {} : { spawnError }),
        stderrTail: stderrTail.trimEnd(),
        durationMs: Date.now() - started,
      });
    });
  });
}

/** Feeds complete lines (without `\n` or `\r\n`) to `onLine`; `end()` flushes a last unterminated one. */
function lineSplitter(onLine: (line: string) => void): { write(chunk: Buffer): void; end(): void } {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  const feed = (text: string): void => {
    pending += text;
    let newline = pending.indexOf('\n');
    while (newline >= 0) {
      const line = pending.slice(0, newline).replace(/\r$/, '');
      pending = pending.slice(newline + 1);
      onLine(line);
      newline = pending.indexOf('\n');
    }
  };
  return {
    write: (chunk) => feed(decoder.write(chunk)),
    end() {
      feed(decoder.end());
      if (pending !== '') onLine(pending.replace(/\r$/, ''));
      pending = '';
    },
  };
}
