/** Spawns a real agent CLI the way an executor should: argv only, stdin closed, own cwd, bounded. */
import { spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** The pinned devDependency binaries. */
export const CLI_BINS = {
  claude: join(REPO_ROOT, 'node_modules', '.bin', 'claude'),
  codex: join(REPO_ROOT, 'node_modules', '.bin', 'codex'),
  gemini: join(REPO_ROOT, 'node_modules', '.bin', 'gemini'),
} as const;

/** What a CLI run left behind. */
export interface CliRun {
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly timedOut: boolean;
  readonly durationMs: number;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout lines that parsed as JSON objects, in order (JSONL / stream-json output). */
  readonly events: readonly Record<string, unknown>[];
}

export interface RunCliOptions {
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  /** Kill the process group after this long. @default 60_000 */
  readonly timeoutMs?: number;
}

/**
 * Runs `bin args…` to completion and collects its output. Never throws for a failing CLI: the
 * exit code, signal and output are the result.
 */
export function runCli(bin: string, args: readonly string[], options: RunCliOptions): Promise<CliRun> {
  const started = Date.now();
  // Own process group, so a timeout also ends what the CLI spawned (Codex's sandboxed shells).
  const child = spawn(bin, args, {
    cwd: options.cwd,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (b: Buffer) => out.push(b));
  child.stderr.on('data', (b: Buffer) => err.push(b));
  let timedOut = false;
  const killGroup = (signal: NodeJS.Signals): void => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, signal);
    } catch {
      // Already gone.
    }
  };
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup('SIGTERM');
    setTimeout(() => killGroup('SIGKILL'), 2_000).unref();
  }, options.timeoutMs ?? 60_000);
  return new Promise((resolvePromise, reject) => {
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (exitCode, signal) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(out).toString('utf8');
      resolvePromise({
        exitCode,
        signal,
        timedOut,
        durationMs: Date.now() - started,
        stdout,
        stderr: Buffer.concat(err).toString('utf8'),
        events: parseJsonLines(stdout),
      });
    });
  });
}

/** The lines of `text` that are JSON objects. */
export function parseJsonLines(text: string): Record<string, unknown>[] {
  const events: Record<string, unknown>[] = [];
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (!trimmed.startsWith('{')) continue;
    try {
      events.push(JSON.parse(trimmed) as Record<string, unknown>);
    } catch {
      // Not JSON after all (a log line): skip.
    }
  }
  return events;
}
