import { execa } from 'execa';

/** A merge check that did not pass: which command, how it ended, the end of what it printed. */
export interface CheckFailure {
  readonly argv: readonly string[];
  readonly exitCode: number | undefined;
  readonly timedOut: boolean;
  readonly outputTail: string;
}

export interface RunChecksOptions {
  readonly cwd: string;
  /** @default 600000 (10 minutes) per check */
  readonly timeoutMs?: number;
  /** Extra environment (on top of `process.env`). */
  readonly env?: Readonly<Record<string, string>>;
  /** @default 4000 */
  readonly tailChars?: number;
}

/**
 * Runs the checks one after another (argv, no shell) and stops at the first that fails.
 * @returns `undefined` when all passed.
 */
export async function runChecks(checks: readonly (readonly string[])[], options: RunChecksOptions): Promise<CheckFailure | undefined> {
  for (const argv of checks) {
    const [file, ...args] = argv;
    if (file === undefined) continue;
    const r = await execa(file, args, {
      cwd: options.cwd,
      env: { ...options.env },
      reject: false,
      all: true,
      stdin: 'ignore',
      timeout: options.timeoutMs ?? 600_000,
      forceKillAfterDelay: 3000,
    });
    if (r.exitCode === 0 && !r.failed) continue;
    const all = String(r.all ?? '').trimEnd();
    const output = r.exitCode === undefined && !r.timedOut ? `${all}\n${r.shortMessage}`.trim() : all;
    const max = options.tailChars ?? 4000;
    return { argv, exitCode: r.exitCode, timedOut: r.timedOut, outputTail: output.length > max ? `…${output.slice(-max)}` : output };
  }
  return undefined;
}

/** A check as the user wrote it, for messages: `npm test`, `node -e "…"`. */
export function formatArgv(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a))).join(' ');
}
